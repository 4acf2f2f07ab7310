# Livestorm GraphQL gateway — developer tasks.
#
#   make assets    fetch GraphiQL's pinned browser bundles into graphiql/dist/ (embedded)
#   make build     assets, then bin/livestorm-gateway
#   make run       build, then run the gateway (demo mode without LIVESTORM_API_TOKEN)
#   make sim       run the Livestorm API simulator alone
#   make clients   install the pinned Node client libraries (clients/, npm ci)
#   make test      every test, with the race detector, as CI runs it
#   make generate  go generate ./... (gqlgen, dataloaders)
#   make lint      gofmt check and go vet
#   make ci        what CI runs (.ci/run)

GO ?= go
BIN = bin/livestorm-gateway

.PHONY: all assets clients build run sim test generate lint ci

all: build

assets:
	./graphiql/fetch-assets.sh

build: assets
	$(GO) build -o $(BIN) .

run: build
	./$(BIN)

sim:
	$(GO) run ./cmd/livestorm-sim

# The client conformance tests drive the real JavaScript clients in clients/.
clients:
	cd clients && npm ci --no-audit --no-fund

test: assets clients
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
