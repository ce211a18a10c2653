# shellcheck shell=bash
# Shared by the voting-app end-to-end tests (sourced, not run). Each test brings the stack up
# under its own project, asserts, and always tears everything down, images included.
#
# Environment:
#   COMPOSE        compose command, word-split (default: docker-compose; later build/ccompose)
#   PROJECT        project name, unique per run (default: vt-<test>-<pid>)
#   VOTE_PORT, RESULT_PORT  loopback ports to publish on (default: free ones)
#   BUILD_NETWORK  network for build containers (default: 'default', or 'host' when the
#                  engine's default bridge interface is missing on this machine)
#   E2E_ARTIFACTS  where logs go (default: tests/artifacts/e2e/<project>)
set -euo pipefail

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$E2E_ROOT"
COMPOSE=${COMPOSE:-docker-compose}
TEST_NAME=${TEST_NAME:?set TEST_NAME before sourcing lib.sh}
PROJECT=${PROJECT:-vt-$TEST_NAME-$$}
COMPOSE_FILE_PATH=examples/voting-app/compose.yaml
E2E_ARTIFACTS=${E2E_ARTIFACTS:-$E2E_ROOT/tests/artifacts/e2e/$PROJECT}
E2E_TMP=$(mktemp -d)
mkdir -p "$E2E_ARTIFACTS"

log() {
    printf '[%s %s] %s\n' "$TEST_NAME" "$(date +%T)" "$*"
}

fail() {
    log "FAIL: $*"
    exit 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

export VOTE_PORT=${VOTE_PORT:-$(free_port)}
export RESULT_PORT=${RESULT_PORT:-$(free_port)}
if [ -z "${BUILD_NETWORK:-}" ]; then
    BUILD_NETWORK=default
    bridge=$(docker network inspect bridge \
        --format '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null || true)
    if [ -n "$bridge" ] && [ ! -e "/sys/class/net/$bridge" ]; then
        BUILD_NETWORK=host
    fi
fi
export BUILD_NETWORK
VOTE_URL=http://127.0.0.1:$VOTE_PORT
RESULT_URL=http://127.0.0.1:$RESULT_PORT

# The compose command on this test's project. COMPOSE is split on purpose ("docker compose").
dc() {
    # shellcheck disable=SC2086
    $COMPOSE -p "$PROJECT" -f "$COMPOSE_FILE_PATH" "$@"
}

# IDs of the project's containers for a service (running or not), by the compose labels.
service_containers() {
    docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=$1"
}

service_container() {
    local ids
    ids=$(service_containers "$1")
    [ "$(printf '%s\n' "$ids" | grep -c .)" -eq 1 ] || fail "expected one '$1' container, got: $ids"
    printf '%s\n' "$ids"
}

# Counts the project's containers, networks and volumes (by label): "c n v".
project_leftovers() {
    local label="label=com.docker.compose.project=$PROJECT"
    printf '%s %s %s\n' "$(docker ps -aq --filter "$label" | grep -c . || true)" \
        "$(docker network ls -q --filter "$label" | grep -c . || true)" \
        "$(docker volume ls -q --filter "$label" | grep -c . || true)"
}

teardown() {
    local rc=$? id
    trap - EXIT INT TERM
    log "teardown (test exit status $rc), logs in $E2E_ARTIFACTS"
    dc --profile seed logs --no-color >"$E2E_ARTIFACTS/services.log" 2>&1 || true
    dc --profile seed down -v --rmi local --remove-orphans >"$E2E_ARTIFACTS/down.log" 2>&1 ||
        log "down failed, see down.log"
    # Images named after the project (docker-compose 1.x uses '_', Compose v2 '-').
    docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^${PROJECT}[-_]" |
        xargs -r docker rmi -f >/dev/null 2>&1 || true
    # The worker's build stage, which the classic builder leaves as an untagged image.
    docker images -q --filter dangling=true \
        --filter label=org.ccompose.example.stage=voting-worker-build |
        xargs -r docker rmi >/dev/null 2>&1 || true
    # Anything a broken compose command left behind, by this project's label only.
    for id in $(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"); do
        docker rm -f -v "$id" >/dev/null 2>&1 || true
    done
    for id in $(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT"); do
        docker network rm "$id" >/dev/null 2>&1 || true
    done
    for id in $(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT"); do
        docker volume rm "$id" >/dev/null 2>&1 || true
    done
    rm -rf "$E2E_TMP"
    log "$([ $rc -eq 0 ] && echo PASS || echo FAIL) in ${SECONDS}s"
    exit $rc
}
trap teardown EXIT
trap 'exit 130' INT TERM

# Polls cmd (a shell function or command) every half second until it succeeds or secs pass.
wait_for() {
    local secs=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@"; do
        [ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for $what"
        sleep 0.5
    done
}

container_health() {
    docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null
}

stack_healthy() {
    curl -fsS -o /dev/null --max-time 3 "$VOTE_URL/healthz" 2>/dev/null &&
        curl -fsS -o /dev/null --max-time 3 "$RESULT_URL/healthz" 2>/dev/null &&
        [ "$(container_health "$(service_containers worker)")" = healthy ]
}

# Brings the stack up (building unless told --no-build) and waits until it answers.
stack_up() {
    local build=--build
    [ "${1:-}" = --no-build ] && build=
    log "up -d $build (project $PROJECT, vote :$VOTE_PORT, result :$RESULT_PORT)"
    # shellcheck disable=SC2086
    if ! dc up -d $build >>"$E2E_ARTIFACTS/up.log" 2>&1; then
        tail -n 40 "$E2E_ARTIFACTS/up.log"
        fail "up failed"
    fi
    wait_for 300 "vote, result and worker to be healthy" stack_healthy
    log "stack healthy"
}

results_json() {
    curl -fsS --max-time 5 "$RESULT_URL/api/results"
}

# Succeeds when /api/results is exactly the expected document; keeps the last one seen.
results_are() {
    local got
    got=$(results_json 2>/dev/null) || return 1
    printf '%s\n' "$got" >"$E2E_TMP/last-results"
    python3 - "$got" "$1" "$2" "${OPTION_A:-Cats}" "${OPTION_B:-Dogs}" <<'PY'
import json, sys
got, a, b, oa, ob = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
want = {"options": {"a": oa, "b": ob}, "counts": {"a": a, "b": b}, "total": a + b}
sys.exit(0 if got == want and list(got) == ["options", "counts", "total"] else 1)
PY
}

wait_results() {
    local secs=$1 a=$2 b=$3
    if ! wait_for_quiet "$secs" results_are "$a" "$b"; then
        fail "/api/results never became a=$a b=$b total=$((a + b)) in ${secs}s;" \
            "last: $(cat "$E2E_TMP/last-results" 2>/dev/null)"
    fi
    log "results: $(cat "$E2E_TMP/last-results")"
}

wait_for_quiet() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.5
    done
}

# Current total votes in /api/results, or -1 while it does not answer.
results_total() {
    results_json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])' ||
        echo -1
}

# A voter is a cookie jar. voter_visit JAR: GET / and check it got a voter_id cookie.
voter_visit() {
    local code
    code=$(curl -sS -o /dev/null -w '%{http_code}' -c "$1" -b "$1" "$VOTE_URL/")
    [ "$code" = 200 ] || fail "GET / answered $code"
    voter_id "$1" >/dev/null
}

voter_id() {
    local id
    id=$(awk '$6 == "voter_id" { print $7 }' "$1")
    [[ "$id" =~ ^[0-9a-f]{32}$ ]] || fail "no valid voter_id cookie in $1: '$id'"
    printf '%s\n' "$id"
}

# voter_vote JAR a|b: POST the vote and check the page marks that option as chosen.
voter_vote() {
    local page=$E2E_TMP/page code
    code=$(curl -sS -o "$page" -w '%{http_code}' -c "$1" -b "$1" --data "vote=$2" "$VOTE_URL/")
    [ "$code" = 200 ] || fail "POST vote=$2 answered $code"
    grep -q "data-vote=\"$2\"" "$page" || fail "the page after voting $2 does not mark it chosen"
    grep -q "<button name=\"vote\" value=\"$2\" class=\"chosen\"" "$page" ||
        fail "the button for $2 is not marked chosen"
}

redis_cli() {
    docker exec "$(service_container redis)" redis-cli "$@"
}
