#!/usr/bin/env bash
# Runs every test binary under BUILD (unit tests, then integration tests), each in its own process
# with its own time limit, adds up cmocka's counts and ends with the line CI reads:
#   N passed, N failed
# Usage: scripts/run-tests.sh [--unit|--integration] [BUILD] [FILTER]
# FILTER (a substring of the binary's path) runs only matching binaries.
# CCOMPOSE_TEST_WRAP, when set, is a command (words split on blanks) each test binary runs under,
# e.g. valgrind with its options (scripts/valgrind-test.sh).
set -uo pipefail
which=all
case "${1:-}" in
--unit) which=unit; shift ;;
--integration) which=integration; shift ;;
esac
build=${1:-build}
filter=${2:-${TESTS:-}}
per_test_timeout=${CCOMPOSE_TEST_TIMEOUT:-900}

bins=()
if [ "$which" != integration ]; then
    while IFS= read -r f; do bins+=("$f"); done < <(find "$build/tests/unit" -type f -name 'test-*' -perm -u+x 2>/dev/null | sort)
fi
if [ "$which" != unit ]; then
    while IFS= read -r f; do bins+=("$f"); done < <(find "$build/tests/integration" "$build/tests/swarm" -type f -name 'test-*' -perm -u+x 2>/dev/null | sort)
fi

passed=0 failed=0 broken=()
export CCOMPOSE_BIN=${CCOMPOSE_BIN:-$PWD/$build/ccompose}
for bin in "${bins[@]}"; do
    [ -n "$filter" ] && [[ "$bin" != *"$filter"* ]] && continue
    out=$(mktemp)
    echo "== $bin"
    # Swarm tests get a private single-node swarm of their own, made and removed around them.
    wrap=()
    [[ "$bin" == */tests/swarm/* ]] && wrap=(tests/swarm/private-swarm.sh)
    # shellcheck disable=SC2206 # the wrapper's words are meant to split
    [ -n "${CCOMPOSE_TEST_WRAP:-}" ] && wrap+=(${CCOMPOSE_TEST_WRAP})
    timeout --kill-after=10 "$per_test_timeout" "${wrap[@]}" "$bin" >"$out" 2>&1
    rc=$?
    cat "$out"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        # Crashed, timed out or a sanitizer stopped it before cmocka could count: one failure.
        [ $rc -eq 124 ] && echo "!! $bin timed out after ${per_test_timeout}s"
        failed=$((failed + 1))
    fi
    [ $rc -ne 0 ] && broken+=("$bin (exit $rc)")
    rm -f "$out"
done

if [ ${#broken[@]} -gt 0 ]; then
    echo
    echo "failing test programs:"
    printf '  %s\n' "${broken[@]}"
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
