# shellcheck shell=bash
# The voting app's stack under a compose command: up, wait, down, cleanup and a build cache, in
# one place for the end-to-end tests (tests/e2e/lib.sh, run.sh) and the benchmark
# (bench/voting-app/run). Sourced, sets no traps and no shell options; callers own those.
#
# A compose command only ever gets what docker-compose 1.29 and ccompose both take:
#   -f FILE -p NAME up -d [--wait]      --wait unless it is docker-compose 1.x (see stack_waits)
#   -f FILE -p NAME down [-v] [--rmi local] [--remove-orphans]
#   -f FILE -p NAME ps | logs
# Everything else (restarting a container, the seed) goes to the engine through the docker CLI.
#
# Environment:
#   COMPOSE          compose command, word-split: "docker-compose", "build/ccompose", ...
#   COMPOSE_WAIT     1: pass --wait to up; 0: poll health here instead (default: 0 for
#                    docker-compose, 1 otherwise)
#   BUILD_NETWORK    network of build containers (default: 'default', or 'host' when the engine's
#                    default bridge interface is missing on this machine)
#   CCOMPOSE_TEST_ENGINE  docker (the default: DOCKER_HOST or the default socket) or podman
#                    (DOCKER_HOST defaults to the socket scripts/podman.sh serves), as for the
#                    integration tests (scripts/run-tests.sh). The compose command and the docker
#                    CLI here both talk to it: Podman serves the Docker API the CLI speaks.

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_FILE=$STACK_ROOT/examples/voting-app/compose.yaml
STACK_DIR=$STACK_ROOT/examples/voting-app
# Containers the tests run next to a project themselves (the seed) carry this label, not
# Compose's, so that no compose command takes them for its own.
STACK_OWN_LABEL=org.ccompose.e2e.project
WORKER_BUILD_LABEL=org.ccompose.example.stage=voting-worker-build
STACK_ENGINE=${CCOMPOSE_TEST_ENGINE:-docker}
case $STACK_ENGINE in
docker) ;;
podman) export DOCKER_HOST=${DOCKER_HOST:-unix://${CCOMPOSE_PODMAN_SOCK:-/run/ccompose-podman.sock}} ;;
*)
    echo "stack.sh: CCOMPOSE_TEST_ENGINE=$STACK_ENGINE: say docker or podman" >&2
    return 2
    ;;
esac

stack_build_network() {
    local bridge
    if [ -z "${BUILD_NETWORK:-}" ]; then
        BUILD_NETWORK=default
        bridge=$(docker network inspect bridge \
            --format '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null || true)
        if [ -n "$bridge" ] && [ ! -e "/sys/class/net/$bridge" ]; then
            BUILD_NETWORK=host
        fi
    fi
    export BUILD_NETWORK
}

# Succeeds when `up` should be given --wait: docker-compose 1.x has no such flag.
stack_waits() {
    local first
    case ${COMPOSE_WAIT:-} in
    1) return 0 ;;
    0) return 1 ;;
    esac
    read -r first _ <<<"$COMPOSE"
    [ "$(basename "$first")" != docker-compose ]
}

# The compose command on PROJECT (first argument) with the example's file. COMPOSE is split on
# purpose ("docker compose").
stack_dc() {
    local project=$1
    shift
    # shellcheck disable=SC2086
    $COMPOSE -f "$STACK_FILE" -p "$project" "$@"
}

# IDs of PROJECT's containers (running or not), all or of one service, by Compose's labels.
stack_containers() {
    local filters=(--filter "label=com.docker.compose.project=$1")
    [ -n "${2:-}" ] && filters+=(--filter "label=com.docker.compose.service=$2")
    docker ps -aq "${filters[@]}"
}

# Succeeds when PROJECT has containers and every one of them runs and, if it has a health check,
# is healthy. Prints the ones that are not to stdout otherwise.
stack_healthy() {
    local ids bad
    ids=$(stack_containers "$1")
    [ -n "$ids" ] || return 1
    # shellcheck disable=SC2086
    bad=$(docker inspect --format \
        '{{.Name}} {{.State.Status}}{{if .State.Health}} {{.State.Health.Status}}{{end}}' $ids \
        2>/dev/null | grep -vE '^[^ ]+ running( healthy)?$')
    [ -z "$bad" ] && return 0
    printf '%s\n' "$bad"
    return 1
}

# stack_wait_healthy PROJECT SECONDS [INTERVAL]: polls stack_healthy (every INTERVAL seconds,
# default 0.5) until it holds; fails naming what was not healthy when SECONDS pass.
stack_wait_healthy() {
    local project=$1 secs=$2 interval=${3:-0.5} deadline last
    deadline=$(($(date +%s) + secs))
    until last=$(stack_healthy "$project"); do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "not healthy after ${secs}s: ${last:-no containers}" | tr '\n' ' ' >&2
            echo >&2
            return 1
        fi
        sleep "$interval"
    done
}

# stack_up PROJECT LOG: `up -d` (with --wait where it exists) with its output appended to LOG,
# then waits until every container is running and healthy. Images missing under the project's
# names are built by the compose command itself.
stack_up() {
    local project=$1 log=$2 args=(up -d)
    stack_build_network
    stack_waits && args+=(--wait)
    stack_dc "$project" "${args[@]}" >>"$log" 2>&1 || return 1
    stack_wait_healthy "$project" 300
}

# Counts PROJECT's containers, networks and volumes (by Compose's label): "c n v".
stack_leftovers() {
    local label="label=com.docker.compose.project=$1"
    printf '%s %s %s\n' "$(docker ps -aq --filter "$label" | grep -c . || true)" \
        "$(docker network ls -q --filter "$label" | grep -c . || true)" \
        "$(docker volume ls -q --filter "$label" | grep -c . || true)"
}

# Project network for a network key of the file (front-tier, back-tier), by Compose's labels.
stack_network() {
    docker network ls -q --filter "label=com.docker.compose.project=$1" \
        --filter "label=com.docker.compose.network=$2" | head -n 1
}

# IDs of the worker's build-stage images that nothing tags, which the classic builder leaves.
stack_worker_build_leftovers() {
    docker images -q --no-trunc --filter dangling=true --filter "label=$WORKER_BUILD_LABEL" | sort
}

# stack_remove_resources PROJECT: removes what is left of PROJECT after (or instead of) `down`,
# images aside: containers we ran next to it, then Compose-labelled containers, networks and
# volumes.
stack_remove_resources() {
    local project=$1 id
    for id in $(docker ps -aq --filter "label=$STACK_OWN_LABEL=$project"); do
        docker rm -f -v "$id" >/dev/null 2>&1 || true
    done
    for id in $(stack_containers "$project"); do
        docker rm -f -v "$id" >/dev/null 2>&1 || true
    done
    for id in $(docker network ls -q --filter "label=com.docker.compose.project=$project"); do
        docker network rm "$id" >/dev/null 2>&1 || true
    done
    for id in $(docker volume ls -q --filter "label=com.docker.compose.project=$project"); do
        docker volume rm "$id" >/dev/null 2>&1 || true
    done
}

# stack_purge PROJECT [BEFORE]: stack_remove_resources, then the images named after PROJECT
# (docker-compose 1.x '<project>_<service>', Compose v2 and ccompose '<project>-<service>') and
# the worker's build-stage leftovers whose IDs are not in the file BEFORE (taken with
# stack_worker_build_leftovers at the start), so nobody else's are touched.
stack_purge() {
    local project=$1 before=${2:-}
    stack_remove_resources "$project"
    docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^${project}[-_]" |
        xargs -r docker rmi -f >/dev/null 2>&1 || true
    if [ -n "$before" ]; then
        stack_worker_build_leftovers | comm -13 "$before" - |
            xargs -r docker rmi >/dev/null 2>&1 || true
    fi
}

# stack_cache_build PREFIX LOGDIR: builds every image of the example with the classic builder
# (the one docker-compose 1.29 and ccompose use through the API) as PREFIX-<service>, and the
# worker's build stage as PREFIX-worker-build, in parallel. Later builds of the same Dockerfiles
# under any project then come from the layer cache in seconds, and tagging the build stage keeps
# it from becoming an anonymous image a test removes. Logs in LOGDIR/build-<service>.log.
stack_cache_build() {
    local prefix=$1 logdir=$2 dir svc pids=() names=() i rc=0
    stack_build_network
    mkdir -p "$logdir"
    for dir in "$STACK_DIR"/*/; do
        svc=$(basename "$dir")
        [ -f "$dir/Dockerfile" ] || continue
        (
            export DOCKER_BUILDKIT=0
            if [ "$svc" = worker ]; then
                docker build --network "$BUILD_NETWORK" --target build -t "$prefix-worker-build" \
                    "$dir" || exit 1
            fi
            docker build --network "$BUILD_NETWORK" -t "$prefix-$svc" "$dir"
        ) >"$logdir/build-$svc.log" 2>&1 &
        pids+=($!)
        names+=("$svc")
    done
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}"; then
            echo "building ${names[$i]} failed; last lines of $logdir/build-${names[$i]}.log:" >&2
            tail -n 15 "$logdir/build-${names[$i]}.log" | sed 's/^/    /' >&2
            rc=1
        fi
    done
    return $rc
}

# Removes the PREFIX-* images stack_cache_build made (layers other images use stay).
stack_cache_remove() {
    docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^$1-[a-z-]+:latest$" |
        xargs -r docker rmi >/dev/null 2>&1 || true
}
