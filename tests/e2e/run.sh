#!/usr/bin/env bash
# Runs the voting-app end-to-end tests against a compose command, each in its own process,
# project and time limit, and ends with the line CI reads: "N passed, N failed".
# Usage: COMPOSE="docker-compose" tests/e2e/run.sh [voting-http|no-vote-lost|persistence ...]
set -uo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
limit=${E2E_TIMEOUT:-900}
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(voting-http no-vote-lost persistence)

passed=0 failed=0
for t in "${tests[@]}"; do
    start=$SECONDS
    echo "== $t (COMPOSE=${COMPOSE:-docker-compose})"
    PROJECT="vt-$t-$$" timeout --kill-after=60 "$limit" "$dir/test-$t.sh"
    rc=$?
    [ $rc -eq 124 ] && echo "!! $t timed out after ${limit}s"
    if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    echo "== $t: $([ $rc -eq 0 ] && echo passed || echo "failed (exit $rc)") in $((SECONDS - start))s"
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
