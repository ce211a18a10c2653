#!/usr/bin/env bash
# `make valgrind-test`: memory errors and leaks under valgrind, on top of the ASan+UBSan stage
# (valgrind also sees uninitialised reads, which ASan does not, and runs the plain -O2 binary):
#   1. every unit test program under valgrind;
#   2. every integration test program (tests/integration, tests/swarm) under valgrind
#      (tests/valgrind/run), each running ccompose under valgrind too (tests/valgrind/ccompose
#      stands in for CCOMPOSE_BIN).
# `make check` runs this stage in place of the plain integration run: whatever fails plainly
# fails here too, and the integration tests spend most of their time waiting on the engine, so
# valgrind costs them little (README, "Reliability", has the figures).
# Any invalid access, use of uninitialised memory, bad free or leak (definitely or indirectly lost)
# fails: valgrind exits 99, and every non-empty log of a ccompose run counts as one failure, so a
# test that does not look at ccompose's exit code still fails. Suppressions, for the libraries'
# own leaks only: tests/valgrind/valgrind.supp.
#
# valgrind runs its program on one core, so CCOMPOSE_TEST_JOBS (default: the number of cores)
# programs run at once. Timing assertions scale their upper bounds by CCOMPOSE_TEST_SLOWDOWN
# (default here 4), and each program's time limit is CCOMPOSE_TEST_TIMEOUT (default here 1800 s).
# VALGRIND_INTEGRATION: substrings of the integration programs' paths separated by blanks, "all"
# (the default) or "none"; VALGRIND_UNIT=no leaves the unit tests out.
# Ends with the line CI reads: N passed, N failed.
# Usage: scripts/valgrind-test.sh [BUILD]
set -uo pipefail
build=${1:-build}
subset=${VALGRIND_INTEGRATION:-all}
if ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed (make setup installs it)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
export CCOMPOSE_TEST_SLOWDOWN=${CCOMPOSE_TEST_SLOWDOWN:-4}
export CCOMPOSE_TEST_TIMEOUT=${CCOMPOSE_TEST_TIMEOUT:-1800}
CCOMPOSE_TEST_JOBS=${CCOMPOSE_TEST_JOBS:-$(nproc)}
export CCOMPOSE_TEST_JOBS

# shellcheck source=scripts/counted.sh
. "$(dirname "$0")/counted.sh"

log=$(mktemp)
logs=$(mktemp -d)
trap 'rm -rf "$log" "$logs"' EXIT

if [ "${VALGRIND_UNIT:-yes}" != no ]; then
    start=$SECONDS
    echo "== unit tests under valgrind"
    CCOMPOSE_TEST_WRAP=$PWD/tests/valgrind/run scripts/run-tests.sh --unit "$build" | tee "$log"
    counted_add "$log" "the unit tests under valgrind"
    echo "   unit tests: $((SECONDS - start))s"
fi

start=$SECONDS
filters=()
case $subset in
all) filters=("") ;;
none) ;;
*) read -ra filters <<<"$subset" ;;
esac
for f in "${filters[@]+"${filters[@]}"}"; do
    echo "== integration tests ${f:-(all)} and ccompose under valgrind"
    CCOMPOSE_TEST_WRAP=$PWD/tests/valgrind/run CCOMPOSE_BIN=$PWD/tests/valgrind/ccompose \
        CCOMPOSE_VALGRIND_BIN=$PWD/$build/ccompose CCOMPOSE_VALGRIND_LOGS=$logs \
        scripts/run-tests.sh --integration "$build" "$f" | tee "$log"
    counted_add "$log" "the integration tests under valgrind"
done
runs=$(find "$logs" -name 'ccompose.*.log' | wc -l)
bad=0
for l in "$logs"/ccompose.*.log; do
    [ -s "$l" ] || continue
    bad=$((bad + 1))
    echo "!! valgrind found errors in a ccompose run ($l):"
    cat "$l"
done
COUNTED_FAILED=$((COUNTED_FAILED + bad))
[ $bad -eq 0 ] || COUNTED_WHY+=("failed: valgrind found errors in $bad ccompose runs (printed above, after '!! valgrind found errors')")
echo "   integration tests: $((SECONDS - start))s, $runs ccompose runs under valgrind, $bad with errors"
counted_summary
