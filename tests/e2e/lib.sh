# shellcheck shell=bash
# Shared by the voting-app end-to-end tests (sourced, not run). Each test brings the stack up
# under its own project, asserts, and always tears everything down, images included. How the
# stack goes up and down, with docker-compose or ccompose, is tests/e2e/stack.sh.
#
# Environment:
#   COMPOSE        compose command, word-split (default: docker-compose; make test-e2e passes
#                  build/ccompose); see stack.sh for COMPOSE_WAIT and BUILD_NETWORK
#   PROJECT        project name, unique per run (default: vt-<test>-<pid>)
#   VOTE_PORT, RESULT_PORT  loopback ports to publish on (default: free ones)
#   E2E_ARTIFACTS  where logs and screenshots go (default: tests/artifacts/e2e/<project>)
set -euo pipefail

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$E2E_ROOT"
# shellcheck source=tests/e2e/stack.sh
. "$E2E_ROOT/tests/e2e/stack.sh"
export COMPOSE=${COMPOSE:-docker-compose}
TEST_NAME=${TEST_NAME:?set TEST_NAME before sourcing lib.sh}
PROJECT=${PROJECT:-vt-$TEST_NAME-$$}
E2E_ARTIFACTS=${E2E_ARTIFACTS:-$E2E_ROOT/tests/artifacts/e2e/$PROJECT}
E2E_TMP=$(mktemp -d)
mkdir -p "$E2E_ARTIFACTS"
stack_worker_build_leftovers >"$E2E_TMP/build-leftovers-before"

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
stack_build_network
VOTE_URL=http://127.0.0.1:$VOTE_PORT
RESULT_URL=http://127.0.0.1:$RESULT_PORT

# The compose command on this test's project.
dc() {
    stack_dc "$PROJECT" "$@"
}

service_containers() {
    stack_containers "$PROJECT" "$1"
}

service_container() {
    local ids
    ids=$(service_containers "$1")
    [ "$(printf '%s\n' "$ids" | grep -c .)" -eq 1 ] || fail "expected one '$1' container, got: $ids"
    printf '%s\n' "$ids"
}

project_leftovers() {
    stack_leftovers "$PROJECT"
}

# Service logs into the artifacts, each line with the engine's time stamp (the services print
# none, and a stall is only seen in the times): through the compose command, or from the engine
# when the compose command cannot (the stack may be half made).
save_logs() {
    local id name
    dc logs --no-color -t >"$E2E_ARTIFACTS/services.log" 2>&1 && return 0
    : >"$E2E_ARTIFACTS/services.log"
    for id in $(stack_containers "$PROJECT"); do
        name=$(docker inspect --format '{{.Name}}' "$id")
        docker logs -t "$id" 2>&1 | sed "s|^|${name#/}  | " >>"$E2E_ARTIFACTS/services.log"
    done
}

teardown() {
    local rc=$? id
    trap - EXIT INT TERM
    log "teardown (test exit status $rc), logs in $E2E_ARTIFACTS"
    save_logs || true
    # Our own containers (the seed) sit on the project's network: they go first.
    for id in $(docker ps -aq --filter "label=$STACK_OWN_LABEL=$PROJECT"); do
        docker rm -f -v "$id" >/dev/null 2>&1 || true
    done
    dc down -v --rmi local --remove-orphans >>"$E2E_ARTIFACTS/down.log" 2>&1 ||
        log "down failed, see down.log"
    # Whatever a broken compose command left behind, by this project's names and labels only.
    stack_purge "$PROJECT" "$E2E_TMP/build-leftovers-before"
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

# Podman without systemd runs no health check by itself, and ccompose runs them only while it
# waits (docs/podman.md): for a container the test restarted, it runs the check here first, as
# `podman healthcheck run` does (the libpod endpoint; the status is read from inspect as on Docker).
container_health() {
    if [ "$STACK_ENGINE" = podman ]; then
        curl -fsS --max-time 15 -o /dev/null --unix-socket "${DOCKER_HOST#unix://}" \
            "http://podman/v4.0.0/libpod/containers/$1/healthcheck" 2>/dev/null || true
    fi
    docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null
}

pages_answer() {
    curl -fsS -o /dev/null --max-time 3 "$VOTE_URL/healthz" 2>/dev/null &&
        curl -fsS -o /dev/null --max-time 3 "$RESULT_URL/healthz" 2>/dev/null
}

# Brings the stack up (the compose command builds the images it lacks), waits until every
# container is healthy and both pages answer on loopback.
e2e_up() {
    log "up -d$(stack_waits && echo ' --wait') (project $PROJECT, vote :$VOTE_PORT, result :$RESULT_PORT)"
    if ! stack_up "$PROJECT" "$E2E_ARTIFACTS/up.log"; then
        tail -n 40 "$E2E_ARTIFACTS/up.log"
        fail "up failed or the stack did not become healthy"
    fi
    wait_for 30 "the vote and result pages to answer on loopback" pages_answer
    log "stack healthy"
}

# e2e_down [-v]: down (keeping or removing volumes), then checks no container or network
# of the project is left, and the db-data volume only without -v.
e2e_down() {
    local c n v want=1
    log "down $*"
    dc down "$@" >>"$E2E_ARTIFACTS/down.log" 2>&1 || fail "down $* failed"
    [ "${1:-}" = -v ] && want=0
    read -r c n v <<<"$(project_leftovers)"
    [ "$c $n" = "0 0" ] || fail "down $* left $c container(s) and $n network(s)"
    [ "$v" = "$want" ] || fail "down $* left $v volume(s), want $want"
}

# Restarts a service's container through the engine, as `compose restart` does.
restart_service() {
    log "restart $1 (total $(results_total))"
    docker restart "$(service_container "$1")" >/dev/null || fail "restart $1 failed"
}

# seed_start: builds the seed image (the example's seed/ directory) and runs it as a one-off on
# the project's front-tier network, where 'vote' resolves; sets SEED to the container's id. It
# runs beside the project rather than through the compose file's seed profile so that any compose
# command will do; the image and the environment are the profile's.
seed_start() {
    local net image=$PROJECT-e2e-seed
    net=$(stack_network "$PROJECT" front-tier)
    [ -n "$net" ] || fail "no front-tier network in project $PROJECT"
    DOCKER_BUILDKIT=0 docker build --network "$BUILD_NETWORK" -t "$image" "$STACK_DIR/seed" \
        >>"$E2E_ARTIFACTS/seed-build.log" 2>&1 || fail "building the seed failed, see seed-build.log"
    # shellcheck disable=SC2034 # SEED is for the caller
    SEED=$(docker run -d --name "$PROJECT-e2e-seed" --label "$STACK_OWN_LABEL=$PROJECT" \
        --network "$net" -e VOTE_HOST=vote -e VOTE_PORT=8080 \
        -e SEED_VOTES_A="${SEED_VOTES_A:-2000}" -e SEED_VOTES_B="${SEED_VOTES_B:-1000}" \
        -e SEED_CONCURRENCY="${SEED_CONCURRENCY:-16}" "$image") || fail "the seed did not start"
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
