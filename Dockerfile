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

# 3. Runtime: static binary on distroless, as a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/livestorm-gateway /livestorm-gateway
USER nonroot:nonroot
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/livestorm-gateway"]
