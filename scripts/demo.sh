#!/usr/bin/env bash
# `make demo`: brings the example stack up with ccompose and says what runs and where to look.
# Uses examples/voting-app/compose.yaml when it exists, else examples/hello/compose.yaml:
#   BINARY -f FILE up -d --wait     everything started and healthy
#   BINARY -f FILE ps               what runs
# then prints the URLs of the ports published on the host. Stop it with: BINARY -f FILE down
# Usage: scripts/demo.sh BINARY
set -euo pipefail
say() { echo "demo: $*" >&2; }
[ $# -eq 1 ] || { echo "usage: scripts/demo.sh BINARY" >&2; exit 2; }
bin=$1
cd "$(dirname "$0")/.."
[[ $bin == /* ]] || bin=$PWD/$bin
[ -x "$bin" ] || { say "'$1' is not an executable: run make first"; exit 2; }

file=examples/voting-app/compose.yaml
[ -f "$file" ] || file=examples/hello/compose.yaml

say "$bin -f $file up -d --wait"
rc=0
"$bin" -f "$file" up -d --wait || rc=$?
if [ $rc -ne 0 ]; then
    say "'up' failed (exit $rc); the messages above are ccompose's"
    exit $rc
fi
"$bin" -f "$file" ps

# The host side of every published port, from the engine: the containers of this project (named,
# as docker compose does, by COMPOSE_PROJECT_NAME or the compose file's directory).
project=${COMPOSE_PROJECT_NAME:-$(basename "$(dirname "$file")")}
urls=$(docker ps --filter "label=com.docker.compose.project=$project" \
    --format '{{.Label "com.docker.compose.service"}} {{.Ports}}' |
    grep -oE '^[^ ]+|[0-9.]+:[0-9]+->' | awk '
        !/->$/ { service = $0; next }
        { sub(/->$/, ""); sub(/^0\.0\.0\.0:/, "127.0.0.1:"); printf "  %-10s http://%s/\n", service, $0 }')
echo
if [ -n "$urls" ]; then
    echo "Open:"
    echo "$urls"
else
    echo "No ports are published on the host."
fi
echo
echo "Stop it with: $1 -f $file down"
