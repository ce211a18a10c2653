#!/usr/bin/env bash
# Runs the voting-app end-to-end tests against a compose command, each in its own process,
# project (vt-<test>-<pid>) and time limit, and ends with the line CI reads: "N passed, N failed".
# Usage: COMPOSE="docker-compose" tests/e2e/run.sh [voting-http|no-vote-lost|persistence|browser|swarm-stack ...]
#
# CCOMPOSE_TEST_ENGINE=podman runs them against Podman's API service (scripts/podman.sh), as for
# the integration tests: see stack.sh. swarm-stack is left out there: Podman has no swarm mode,
# and that test deploys to a private dockerd's swarm, so on Podman it would only test Docker again.
#
# First the example's images are built once, in parallel, as vt-cache-<pid>-<service> (see
# stack_cache_build in stack.sh), so that each test's own build under its project comes from the
# layer cache in seconds. They are removed at the end unless E2E_KEEP_IMAGES=1 (the next run's
# builds then start warm too); E2E_CACHE=0 skips them and every test builds on its own.
set -uo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
limit=${E2E_TIMEOUT:-900}
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(voting-http no-vote-lost persistence browser swarm-stack)

# A relative path to the compose command is taken from here; the tests run from the root.
export COMPOSE=${COMPOSE:-docker-compose}
read -r first rest <<<"$COMPOSE"
if [[ $first == */* && $first != /* ]]; then
    COMPOSE="$PWD/$first${rest:+ $rest}"
fi
read -r first _ <<<"$COMPOSE"
if ! command -v "$first" >/dev/null; then
    echo "run.sh: compose command '$first' not found (COMPOSE=$COMPOSE); build it with make" >&2
    echo
    echo "0 passed, ${#tests[@]} failed"
    exit 1
fi

# shellcheck source=tests/e2e/stack.sh
. "$dir/stack.sh" || exit 2
if [ "$STACK_ENGINE" = podman ]; then
    echo "engine: podman ($DOCKER_HOST)"
    kept=()
    for t in "${tests[@]}"; do
        if [ "$t" = swarm-stack ]; then
            echo "== swarm-stack: skipped on podman: Podman has no swarm mode (the test deploys to a private dockerd's swarm)"
        else
            kept+=("$t")
        fi
    done
    tests=("${kept[@]}")
fi
cache=vt-cache-$$
artifacts=${E2E_ARTIFACTS_ROOT:-$STACK_ROOT/tests/artifacts/e2e}/$cache
remove_cache() {
    if [ "${E2E_CACHE:-1}" = 1 ] && [ "${E2E_KEEP_IMAGES:-0}" != 1 ]; then
        stack_cache_remove "$cache"
    fi
}
trap remove_cache EXIT
trap 'exit 130' INT TERM
if [ "${E2E_CACHE:-1}" = 1 ] && [ ${#tests[@]} -gt 0 ]; then
    start=$SECONDS
    echo "== building the example's images as $cache-* (logs in $artifacts)"
    if ! stack_cache_build "$cache" "$artifacts"; then
        echo "!! building the images failed; each test builds on its own"
    fi
    echo "== images built in $((SECONDS - start))s"
fi

# shellcheck source=scripts/counted.sh
. "$STACK_ROOT/scripts/counted.sh"
for t in "${tests[@]}"; do
    echo "== $t (COMPOSE=$COMPOSE)"
    PROJECT="vt-$t-$$" counted_run "$t" "$limit" "$dir/test-$t.sh"
done
counted_summary
