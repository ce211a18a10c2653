# shellcheck shell=bash
# Runs things one by one, each in its own process with a time limit, and counts them for the line
# CI reads at the end: "N passed, N failed". Sourced by tests/e2e/run.sh and scripts/run-bench.sh.
#   counted_run LABEL SECONDS COMMAND...   runs COMMAND under `timeout`, prints its outcome
#   counted_add LOG                        adds the last such line of LOG, a run of something
#                                          that counts its own (none there: one failure)
#   counted_summary                        prints the line; fails if anything failed
COUNTED_PASSED=0
COUNTED_FAILED=0

counted_run() {
    local label=$1 limit=$2 start=$SECONDS rc=0
    shift 2
    if [ -x "$1" ]; then
        timeout --kill-after=60 "$limit" "$@" || rc=$?
    else
        echo "!! $label: no executable $1"
        rc=2
    fi
    [ $rc -eq 124 ] && echo "!! $label timed out after ${limit}s"
    if [ $rc -eq 0 ]; then
        COUNTED_PASSED=$((COUNTED_PASSED + 1))
    else
        COUNTED_FAILED=$((COUNTED_FAILED + 1))
    fi
    echo "== $label: $([ $rc -eq 0 ] && echo passed || echo "failed (exit $rc)") in $((SECONDS - start))s"
    return 0
}

counted_add() {
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed}
    COUNTED_PASSED=$((COUNTED_PASSED + ${p:-0}))
    COUNTED_FAILED=$((COUNTED_FAILED + ${f:-1}))
}

counted_summary() {
    echo
    echo "$COUNTED_PASSED passed, $COUNTED_FAILED failed"
    [ "$COUNTED_FAILED" -eq 0 ]
}
