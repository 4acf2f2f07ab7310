#!/busybox/sh
# Entrypoint of the gateway in deploy/docker-compose.yml. With LIVESTORM_API_TOKEN set (a
# real workspace) or forwarded credentials it starts the gateway as is; otherwise it waits
# for the standalone simulator to write its tokens (TOKENS_FILE, default
# /shared/tokens.json) and uses the first workspace's.
set -eu
if [ -z "${LIVESTORM_API_TOKEN:-}" ] && [ "${LIVESTORM_FORWARD_AUTH:-}" != "true" ]; then
	f="${TOKENS_FILE:-/shared/tokens.json}"
	i=0
	while [ ! -s "$f" ]; do
		i=$((i + 1))
		if [ "$i" -gt 60 ]; then
			echo "compose-entrypoint: no $f after 60 s: is the simulator service running?" >&2
			exit 1
		fi
		sleep 1
	done
	LIVESTORM_API_TOKEN="$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' "$f" | head -n 1)"
	if [ -z "$LIVESTORM_API_TOKEN" ]; then
		echo "compose-entrypoint: no token in $f" >&2
		exit 1
	fi
	export LIVESTORM_API_TOKEN
fi
exec /livestorm-gateway
