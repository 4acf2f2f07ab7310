#!/usr/bin/env bash
# fetch-assets.sh — install the pinned GraphiQL browser bundles (package-lock.json)
# with `npm ci` and copy exactly the files the page needs into graphiql/dist/,
# which graphiql.go embeds so GraphiQL works with no internet access.
#
# Layout: dist/<package>@<version>/<path inside the package>, i.e. the same
# relative paths a CDN such as jsDelivr uses, so the page can load either.
#
# Idempotent: dist/.lockhash records the sha256 of package-lock.json; when it
# matches and every file is present, nothing is done. FORCE=1 re-fetches.
#
# Keep FILES in sync with the `assets` list in graphiql.go (the Go tests check
# that every listed asset is present in dist/ and matches its SRI hash).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dist="$here/dist"
lock="$here/package-lock.json"

# package|path inside the package
FILES=(
  "react|umd/react.production.min.js"
  "react|LICENSE"
  "react-dom|umd/react-dom.production.min.js"
  "react-dom|LICENSE"
  "graphiql|graphiql.min.js"
  "graphiql|graphiql.min.css"
  "graphiql|LICENSE"
  "graphql-ws|umd/graphql-ws.min.js"
  "graphql-ws|LICENSE.md"
)

log() { printf 'fetch-assets: %s\n' "$*"; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# version_of PKG: the version package-lock.json pins for node_modules/PKG.
version_of() {
  node -e '
    const lock = require(process.argv[1]);
    const p = lock.packages && lock.packages["node_modules/" + process.argv[2]];
    if (!p || !p.version) { console.error("package-lock.json pins no " + process.argv[2]); process.exit(1); }
    process.stdout.write(p.version);
  ' "$lock" "$1"
}

for tool in node npm sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || {
    log "error: '$tool' not found; install Node.js 20+ with npm (e.g. apt-get install -y nodejs npm)" >&2
    exit 1
  }
done

want_hash="$(sha256 "$lock")"

up_to_date() {
  [ "${FORCE:-0}" != 1 ] || return 1
  [ -f "$dist/.lockhash" ] || return 1
  [ "$(cat "$dist/.lockhash")" = "$want_hash" ] || return 1
  local entry pkg path
  for entry in "${FILES[@]}"; do
    pkg="${entry%%|*}" path="${entry#*|}"
    [ -s "$dist/$pkg@$(version_of "$pkg")/$path" ] || return 1
  done
}

if up_to_date; then
  log "dist/ already matches package-lock.json (sha256 ${want_hash:0:12}); nothing to do"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/graphiql-assets.XXXXXX")"
trap 'rm -rf "$work"' EXIT

log "installing pinned packages: npm ci in $work"
cp "$here/package.json" "$lock" "$work/"
# --ignore-scripts: we only copy prebuilt files, no package needs to run code.
(cd "$work" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)

stage="$work/dist"
mkdir -p "$stage"
for entry in "${FILES[@]}"; do
  pkg="${entry%%|*}" path="${entry#*|}"
  version="$(version_of "$pkg")"
  installed="$(node -p 'require(process.argv[1]).version' "$work/node_modules/$pkg/package.json")"
  if [ "$installed" != "$version" ]; then
    log "error: npm installed $pkg@$installed but package-lock.json pins $version" >&2
    exit 1
  fi
  src="$work/node_modules/$pkg/$path"
  dst="$stage/$pkg@$version/$path"
  [ -f "$src" ] || { log "error: $pkg@$version has no $path" >&2; exit 1; }
  mkdir -p "$(dirname "$dst")"
  cp "$src" "$dst"
  log "copied $pkg@$version/$path ($(wc -c <"$src" | tr -d ' ') bytes)"
done
printf '%s\n' "$want_hash" >"$stage/.lockhash"

# Replace everything in dist/ except the committed .gitkeep.
mkdir -p "$dist"
find "$dist" -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
cp -R "$stage/." "$dist/"
[ -f "$dist/.gitkeep" ] || : >"$dist/.gitkeep"
log "wrote $dist (lock sha256 ${want_hash:0:12})"
