#!/usr/bin/env bash
# Checks examples/hello/compose.yaml is a valid, working compose file by running it with Debian's
# docker-compose 1.29 (the reference ccompose is compared against): up -d under a unique project
# name on free ports, the pages answer (web's CGI reaches api by its service name), then down -v.
# Everything it made is removed even on failure. Usage: tests/setup/test-hello-example.sh
set -euo pipefail
cd "$(dirname "$0")/../../examples/hello"
project=hello-check-$$
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }
ok() { echo "ok: $*"; }
cleanup() { docker-compose -p "$project" down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export WEB_PORT=$(free_port) API_PORT=$(free_port)

docker-compose -p "$project" config -q && ok "docker-compose config accepts it" || fail "config"
if docker-compose -p "$project" up -d; then ok "up -d (web started after api was healthy)"; else fail "up -d"; fi

# up -d returns once web is started; httpd needs a moment to listen. Bounded: 10 s.
get() { curl -fsS --max-time 3 "$1" 2>&1; }
deadline=$((SECONDS + 10))
until page=$(get "http://127.0.0.1:$WEB_PORT/") || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
[[ $page == *"hello from the web service"* ]] && ok "web answers on 127.0.0.1:$WEB_PORT" ||
    fail "web page: $page"
cgi=$(get "http://127.0.0.1:$WEB_PORT/cgi-bin/api") || true
[[ $cgi == *"web asked api ("*") and got: hello from the api service"* ]] && ok "web reaches api by name" ||
    fail "cgi: $cgi"
msg=$(get "http://127.0.0.1:$API_PORT/message.txt") || true
[ "$msg" = "hello from the api service" ] && ok "api answers on 127.0.0.1:$API_PORT" || fail "api: $msg"
health=$(docker inspect -f '{{.State.Health.Status}}' "$(docker-compose -p "$project" ps -q api)" 2>&1) || true
[ "$health" = healthy ] && ok "api is healthy" || fail "api health: $health"
policy=$(docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$(docker-compose -p "$project" ps -q web)" 2>&1) || true
[ "$policy" = unless-stopped ] && ok "web restarts unless-stopped" || fail "web restart policy: $policy"

docker-compose -p "$project" down -v && ok "down -v" || fail "down -v"
left=$(docker ps -aq --filter "label=com.docker.compose.project=$project"; docker network ls -q --filter "label=com.docker.compose.project=$project")
[ -z "$left" ] && ok "nothing left behind" || fail "left behind: $left"

[ $failed -eq 0 ] && echo "hello example: all passed" || echo "hello example: FAILED"
exit $failed
