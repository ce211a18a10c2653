#!/usr/bin/env bash
# `make test-podman`: against Podman's API service (scripts/podman.sh starts it if need be;
# docs/podman.md), first the integration tests, then the voting app end to end (tests/e2e/run.sh
# with this build's ccompose; swarm-stack is left out, Podman has no swarm mode). Both run to the
# end whatever the other did, and the line CI reads adds them up: N passed, N failed.
#   CCOMPOSE_TEST_TIMEOUT   each integration program's time limit (default here 300 s)
#   CCOMPOSE_PODMAN_E2E     0: the integration tests only
#   E2E_TESTS               the end-to-end tests to run, blank-separated (default: all of them)
# Usage: scripts/test-podman.sh [BUILD]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${1:-build}
# shellcheck source=scripts/counted.sh
. scripts/counted.sh
export CCOMPOSE_TEST_ENGINE=podman
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! scripts/podman.sh; then
    echo "Podman's API service is not available (scripts/podman.sh failed above)"
    echo
    echo "0 passed, 1 failed"
    exit 1
fi

start=$SECONDS
echo "== integration tests on podman"
CCOMPOSE_TEST_TIMEOUT=${CCOMPOSE_TEST_TIMEOUT:-300} scripts/run-tests.sh --integration "$build" |
    tee "$log"
counted_add "$log" "the integration tests on podman"
echo "   integration tests on podman: $((SECONDS - start))s"

if [ "${CCOMPOSE_PODMAN_E2E:-1}" != 0 ]; then
    start=$SECONDS
    echo "== the voting app end to end on podman"
    read -ra e2e <<<"${E2E_TESTS:-}"
    COMPOSE=$build/ccompose tests/e2e/run.sh "${e2e[@]+"${e2e[@]}"}" | tee "$log"
    counted_add "$log" "the voting app on podman"
    echo "   end to end on podman: $((SECONDS - start))s"
fi

counted_summary
