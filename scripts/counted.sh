# shellcheck shell=bash
# Runs things one by one, each in its own process with a time limit, and counts them for the line
# CI reads at the end: "N passed, N failed". Sourced by tests/e2e/run.sh and scripts/run-bench.sh.
#   counted_run LABEL SECONDS COMMAND...   runs COMMAND under `timeout`, prints its outcome
#   counted_add LOG [LABEL]                adds the last such line of LOG, a run of something
#                                          that counts its own (none there: one failure), and
#                                          keeps its "failed: " lines (counted_whys LOG)
#   counted_summary                        prints the line; fails if anything failed
# Each failure also gets a line "failed: LABEL (exit N): WHY" just before the count, WHY being the
# last "FAIL: ..." line it printed (tests/e2e/lib.sh) or else its last lines, so that the tail of
# a long log (all CI shows) says what failed; scripts/check.sh gathers them under its own summary.
COUNTED_PASSED=0
COUNTED_FAILED=0
COUNTED_WHY=()

counted_run() {
    local label=$1 limit=$2 start=$SECONDS rc=0 out why
    shift 2
    out=$(mktemp)
    if [ -x "$1" ]; then
        timeout --kill-after=60 "$limit" "$@" 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
    else
        echo "!! $label: no executable $1" | tee "$out"
        rc=2
    fi
    [ $rc -eq 124 ] && echo "!! $label timed out after ${limit}s" | tee -a "$out"
    if [ $rc -eq 0 ]; then
        COUNTED_PASSED=$((COUNTED_PASSED + 1))
    else
        COUNTED_FAILED=$((COUNTED_FAILED + 1))
        why=$(grep -o 'FAIL: .*' "$out" | tail -n 1 | cut -c1-300)
        [ -n "$why" ] || why=$(grep -v -e '^$' -e 'teardown (test exit status' -e ' FAIL in [0-9]*s$' "$out" |
            tail -n 2 | cut -c1-200 | tr '\n' ' ')
        COUNTED_WHY+=("failed: $label (exit $rc): $why")
    fi
    rm -f "$out"
    echo "== $label: $([ $rc -eq 0 ] && echo passed || echo "failed (exit $rc)") in $((SECONDS - start))s"
    return 0
}

counted_add() {
    local line p=0 f=1 why
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
    if [ -n "$line" ]; then
        p=${line%% passed*}
        f=${line#*passed, }
        f=${f%% failed}
    else
        COUNTED_WHY+=("failed: ${2:-a run} ended without its count")
    fi
    COUNTED_PASSED=$((COUNTED_PASSED + p))
    COUNTED_FAILED=$((COUNTED_FAILED + f))
    while IFS= read -r why; do COUNTED_WHY+=("$why"); done < <(counted_whys "$1")
}

# The "failed: " lines just above LOG's last count: a run repeats all of its failures there.
counted_whys() {
    tac "$1" | awk '/^[0-9]+ passed, [0-9]+ failed$/ && !seen { seen = 1; next }
                    seen && /^failed: / { print; next }
                    seen { exit }' | tac
}

counted_summary() {
    echo
    [ ${#COUNTED_WHY[@]} -eq 0 ] || printf '%s\n' "${COUNTED_WHY[@]}"
    echo "$COUNTED_PASSED passed, $COUNTED_FAILED failed"
    [ "$COUNTED_FAILED" -eq 0 ]
}
