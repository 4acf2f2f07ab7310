# Livestorm GraphQL gateway. The stages mirror `make build`:
# `make assets` (graphiql/fetch-assets.sh), then `go build`.

# 1. GraphiQL's pinned browser bundles (graphiql/package-lock.json) -> graphiql/dist/
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY graphiql/package.json graphiql/package-lock.json graphiql/fetch-assets.sh graphiql/
RUN ./graphiql/fetch-assets.sh

# 2. The gateway binary, with the assets embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=assets /src/graphiql/dist/ graphiql/dist/
RUN test -s graphiql/dist/.lockhash
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags='-s -w' -o /out/livestorm-gateway .

# The standalone simulator and a compose flavour of the gateway, for
# deploy/docker-compose.yml (`docker build --target simulator`, `--target gateway-compose`).
FROM build AS simulator-build
RUN go build -trimpath -ldflags='-s -w' -o /out/livestorm-sim ./cmd/livestorm-sim && mkdir -p /out/shared

FROM gcr.io/distroless/static-debian12:nonroot AS simulator
COPY --from=simulator-build /out/livestorm-sim /livestorm-sim
# The compose file shares the simulator's tokens with the gateways through a volume here.
COPY --from=simulator-build --chown=65532:65532 /out/shared /shared
USER nonroot:nonroot
EXPOSE 9000
ENTRYPOINT ["/livestorm-sim"]

# The gateway with busybox, whose entrypoint reads the simulator's token from the shared
# volume when no LIVESTORM_API_TOKEN is given (deploy/compose-entrypoint.sh).
FROM gcr.io/distroless/static-debian12:debug-nonroot AS gateway-compose
COPY --from=build /out/livestorm-gateway /livestorm-gateway
COPY --from=simulator-build --chown=65532:65532 /out/shared /shared
COPY deploy/compose-entrypoint.sh /compose-entrypoint.sh
USER nonroot:nonroot
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/busybox/sh", "/compose-entrypoint.sh"]

# 3. Runtime (the default target): static binary on distroless, as a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/livestorm-gateway /livestorm-gateway
USER nonroot:nonroot
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/livestorm-gateway"]
