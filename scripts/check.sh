#!/usr/bin/env bash
# `make check` after set-up: every test stage in turn, each to the end even when an earlier one
# failed, then one line for CI that adds them all up:
#   test-unit      unit tests (plain build)
#   sanitize-test  unit and integration tests under ASan+UBSan (build-san/)
#   valgrind-test  unit tests, then integration tests and the ccompose they run, under valgrind
#                  (the plain build's integration run: it fails wherever a plain run would, so
#                  `make test`'s plain integration half is not run again)
#   fuzz-smoke     each fuzz target briefly
#   test-e2e       the voting app end to end with this build's ccompose
#   test-podman    the integration tests and the voting app end to end against Podman's API
#                  service (scripts/test-podman.sh, docs/podman.md)
# Each stage prints its own "N passed, N failed"; a stage that fails without one counts as one
# failure. Under the stages' counts, what failed: each stage's "failed: ..." lines.
# CHECK_STAGES (space-separated) runs a subset.
# Usage: scripts/check.sh [MAKE]
set -uo pipefail
# shellcheck source=scripts/counted.sh
. "$(dirname "$0")/counted.sh"
make=${1:-make}
stages=${CHECK_STAGES:-test-unit sanitize-test valgrind-test fuzz-smoke test-e2e test-podman}
total_passed=0 total_failed=0 report=() whys=()
for stage in $stages; do
    log=$(mktemp)
    start=$SECONDS
    $make --no-print-directory "$stage" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        p=${line%% passed*}
        f=${line#*passed, }
        f=${f%% failed}
    elif [ "$stage" = fuzz-smoke ] && [ $rc -eq 0 ]; then
        # run-fuzz.sh: "N fuzz targets ran Ss each, no crash"
        p=$(sed -n 's/^\([0-9]*\) fuzz targets ran.*no crash$/\1/p' "$log" | tail -n 1)
        p=${p:-1}
        f=0
    else
        p=0
        f=0
    fi
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
    # What failed, from the stage's own "failed: " lines (scripts/run-tests.sh, counted.sh).
    n=0
    while IFS= read -r line; do
        whys+=("$stage: $line")
        n=$((n + 1))
    done < <(counted_whys "$log")
    [ "$f" -gt 0 ] && [ $n -eq 0 ] && whys+=("$stage: failed (exit $rc); its log above says how")
    rm -f "$log"
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    report+=("$(printf '%-14s %4d passed, %d failed  (%ds)' "$stage" "$p" "$f" $((SECONDS - start)))")
done
echo
echo "check:"
printf '  %s\n' "${report[@]}"
if [ ${#whys[@]} -gt 0 ]; then
    echo
    printf '%s\n' "${whys[@]}" | cut -c1-400
fi
echo
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
