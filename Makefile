# Livestorm GraphQL gateway — developer tasks.
#
#   make assets    fetch GraphiQL's pinned browser bundles into graphiql/dist/ (embedded)
#   make clients   install the pinned Node client libraries of clients/ (npm ci, once)
#   make build     assets, then bin/livestorm-gateway
#   make run       build, then run the gateway (demo mode without LIVESTORM_API_TOKEN)
#   make sim       run the Livestorm API simulator alone
#   make clients   install the pinned Node client libraries (clients/, npm ci)
#   make test      every test, with the race detector, as CI runs it (installs
#                  redis-server first if it is missing: the Redis tier is tested
#                  against a real one, never skipped; the client conformance suite of
#                  clients/ and the examples/bff module included)
#   make generate  go generate ./... (gqlgen, dataloaders; genqlient in examples/bff)
#   make lint      gofmt check and go vet
#   make ci        what CI runs (.ci/run)

GO ?= go
BIN = bin/livestorm-gateway

.PHONY: all assets clients build run sim test redis-server generate lint ci

all: build

assets:
	./graphiql/fetch-assets.sh

# npm ci only when clients/node_modules is missing or older than the lockfile.
clients: clients/node_modules/.package-lock.json

clients/node_modules/.package-lock.json: clients/package.json clients/package-lock.json
	cd clients && npm ci --no-audit --no-fund
	@touch $@

build: assets
	$(GO) build -o $(BIN) .

run: build
	./$(BIN)

sim:
	$(GO) run ./cmd/livestorm-sim

# REQUIRE_REDIS=1 turns the Redis tests' "redis-server not installed" skip into a failure.
# examples/bff is a Go module of its own (a BFF with a genqlient client): ./... does not
# reach it, so it is vetted and tested here too.
test: assets clients redis-server
	REQUIRE_REDIS=1 $(GO) test -race -count=1 ./...
	cd examples/bff && $(GO) vet ./... && $(GO) test -race -count=1 ./...

# redis-server (Debian package) for the tests of the Redis tier; each test starts its own
# on a free loopback port.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (apt-get)"; \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }

generate:
	$(GO) generate ./...
	cd examples/bff && $(GO) generate ./...

lint:
	@files="$$(git ls-files --cached --others --exclude-standard '*.go')"; \
	unformatted="$$([ -z "$$files" ] || gofmt -l $$files)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd examples/bff && $(GO) vet ./...

ci:
	bash .ci/run
