# Livestorm GraphQL gateway — developer tasks.
#
#   make assets    fetch GraphiQL's pinned browser bundles into graphiql/dist/ (embedded)
#   make build     assets, then bin/livestorm-gateway
#   make run       build, then run the gateway (demo mode without LIVESTORM_API_TOKEN)
#   make sim       run the Livestorm API simulator alone
#   make test      every test, as CI runs it (starts a throwaway redis-server if installed)
#   make generate  go generate ./... (gqlgen, dataloaders)
#   make lint      gofmt check and go vet
#   make ci        what CI runs (.ci/run)

GO ?= go
BIN = bin/livestorm-gateway

# The throwaway Redis of `make test`: tests that need Redis read REDIS_TEST_URL.
REDIS_TEST_PORT = 6390
REDIS_TEST_PIDFILE = $${TMPDIR:-/tmp}/livestorm-gateway-test-redis-$(REDIS_TEST_PORT).pid

.PHONY: all assets build run sim test generate lint ci

all: build

assets:
	./graphiql/fetch-assets.sh

build: assets
	$(GO) build -o $(BIN) .

run: build
	./$(BIN)

sim:
	$(GO) run ./cmd/livestorm-sim

# Starts redis-server on 127.0.0.1:$(REDIS_TEST_PORT) when it is installed and
# REDIS_TEST_URL is not already set, and stops it again however the tests end.
test: assets
	@set -e; \
	if [ -z "$${REDIS_TEST_URL:-}" ] && command -v redis-cli >/dev/null 2>&1 && \
		redis-cli -p $(REDIS_TEST_PORT) ping >/dev/null 2>&1; then \
		echo "make test: using the redis-server already answering on 127.0.0.1:$(REDIS_TEST_PORT)"; \
		REDIS_TEST_URL=redis://127.0.0.1:$(REDIS_TEST_PORT)/0; export REDIS_TEST_URL; \
	elif [ -z "$${REDIS_TEST_URL:-}" ] && command -v redis-server >/dev/null 2>&1; then \
		pidfile="$(REDIS_TEST_PIDFILE)"; \
		rm -f "$$pidfile"; \
		echo "make test: starting redis-server on 127.0.0.1:$(REDIS_TEST_PORT)"; \
		redis-server --port $(REDIS_TEST_PORT) --bind 127.0.0.1 --save '' --appendonly no \
			--daemonize yes --pidfile "$$pidfile" --dir "$${TMPDIR:-/tmp}"; \
		stop_redis() { \
			pid="$$(cat "$$pidfile" 2>/dev/null || true)"; \
			[ -n "$$pid" ] || return 0; \
			echo "make test: stopping redis-server (pid $$pid)"; \
			kill "$$pid" 2>/dev/null || return 0; \
			n=0; while kill -0 "$$pid" 2>/dev/null && [ $$n -lt 50 ]; do n=$$((n + 1)); sleep 0.1; done; \
		}; \
		trap stop_redis EXIT; trap "exit 130" INT TERM; \
		i=0; \
		until [ -s "$$pidfile" ] && { ! command -v redis-cli >/dev/null 2>&1 || redis-cli -p $(REDIS_TEST_PORT) ping >/dev/null 2>&1; }; do \
			i=$$((i + 1)); \
			if [ $$i -gt 50 ]; then echo "make test: redis-server did not start on port $(REDIS_TEST_PORT)" >&2; exit 1; fi; \
			sleep 0.1; \
		done; \
		REDIS_TEST_URL=redis://127.0.0.1:$(REDIS_TEST_PORT)/0; export REDIS_TEST_URL; \
	elif [ -z "$${REDIS_TEST_URL:-}" ]; then \
		echo "make test: redis-server not installed; tests that need Redis will skip"; \
	fi; \
	echo "make test: $(GO) test -race -count=1 ./... (REDIS_TEST_URL=$${REDIS_TEST_URL:-})"; \
	$(GO) test -race -count=1 ./...

generate:
	$(GO) generate ./...

lint:
	@files="$$(git ls-files --cached --others --exclude-standard '*.go')"; \
	unformatted="$$([ -z "$$files" ] || gofmt -l $$files)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

ci:
	bash .ci/run
