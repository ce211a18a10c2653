#!/usr/bin/env bash
# `make valgrind-test`: memory errors and leaks under valgrind, on top of the ASan+UBSan stage
# (valgrind also sees uninitialised reads, which ASan does not, and runs the plain -O2 binary).
#   1. every unit test binary under valgrind;
#   2. integration tests with ccompose itself under valgrind (tests/valgrind/ccompose stands in for
#      CCOMPOSE_BIN); the test programs run natively.
# Any invalid access, use of uninitialised memory, bad free or leak (definitely or indirectly lost)
# fails: valgrind exits 99, and every non-empty log of a ccompose run counts as one failure, so a
# test that does not look at ccompose's exit code still fails. Suppressions, for the libraries'
# own leaks only: tests/valgrind/valgrind.supp.
#
# Which integration tests: VALGRIND_INTEGRATION, substrings of the binaries' paths separated by
# blanks, or "all". The default is a subset chosen to reach each part of ccompose within CI's time
# (README, "Reliability", says why not all of them): loading and config output, the error
# catalogue's hostile files, missing engine and refusals (docs/errors.md), the lifecycle commands
# against the engine, exec's hijacked stream. Left out: test-cli-help (its completion test runs
# ccompose hundreds of times, over 15 minutes under valgrind) and tests asserting timings that
# valgrind's slowdown breaks (test-cli-converge).
# Ends with the line CI reads: N passed, N failed.
# Usage: scripts/valgrind-test.sh [BUILD]
set -uo pipefail
build=${1:-build}
subset=${VALGRIND_INTEGRATION:-test-cli-config test-cli-errors test-cli-lifecycle test-cli-exec}
supp=$PWD/tests/valgrind/valgrind.supp
if ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed (make setup installs it)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0 failed=0
add_counts() { # the "N passed, N failed" line of a run-tests.sh log
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed}
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-1}))
}

log=$(mktemp)
logs=$(mktemp -d)
trap 'rm -rf "$log" "$logs"' EXIT

start=$SECONDS
echo "== unit tests under valgrind"
CCOMPOSE_TEST_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --suppressions=$supp" \
    scripts/run-tests.sh --unit "$build" | tee "$log"
add_counts "$log"
echo "   unit tests: $((SECONDS - start))s"

start=$SECONDS
filters=()
if [ "$subset" = all ]; then
    filters=("")
else
    read -ra filters <<<"$subset"
fi
for f in "${filters[@]}"; do
    echo "== integration tests ${f:-(all)} with ccompose under valgrind"
    CCOMPOSE_BIN=$PWD/tests/valgrind/ccompose CCOMPOSE_VALGRIND_BIN=$PWD/$build/ccompose \
        CCOMPOSE_VALGRIND_LOGS=$logs scripts/run-tests.sh --integration "$build" "$f" | tee "$log"
    add_counts "$log"
done
runs=$(find "$logs" -name 'ccompose.*.log' | wc -l)
bad=0
for l in "$logs"/ccompose.*.log; do
    [ -s "$l" ] || continue
    bad=$((bad + 1))
    echo "!! valgrind found errors in a ccompose run ($l):"
    cat "$l"
done
failed=$((failed + bad))
echo "   integration tests: $((SECONDS - start))s, $runs ccompose runs under valgrind, $bad with errors"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
