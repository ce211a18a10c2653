#!/usr/bin/env bash
# Runs every fuzz target built under BUILD (BUILD/fuzz-NAME, from tests/fuzz/fuzz-NAME.c) for
# SECONDS each, one after the other, and fails if any of them crashes.
# Usage: scripts/run-fuzz.sh [BUILD] [SECONDS] [FILTER]   (FILTER: a substring of NAME)
#
# Each run starts from a fresh scratch copy of tests/fuzz/corpus/NAME/ in BUILD/run/NAME, so the
# inputs libFuzzer finds never land in the repository; crash, leak and timeout inputs are written
# to BUILD/artifacts/NAME/. tests/fuzz/NAME.dict, when present, is passed as a dictionary.
set -uo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
filter=${3:-${FUZZ:-}}

targets=()
while IFS= read -r f; do targets+=("$f"); done < <(find "$build" -maxdepth 1 -type f -name 'fuzz-*' -perm -u+x 2>/dev/null | sort)
if [ ${#targets[@]} -eq 0 ]; then
    echo "no fuzz targets in $build (build them with: make fuzz-build)" >&2
    exit 1
fi

crashed=() ran=0
for bin in "${targets[@]}"; do
    name=${bin##*/fuzz-}
    [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
    work=$build/run/$name
    artifacts=$build/artifacts/$name
    log=$build/run/$name.log
    rm -rf "$work"
    mkdir -p "$work" "$artifacts"
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp -R "tests/fuzz/corpus/$name/." "$work/"
    else
        echo "warning: no seeds in tests/fuzz/corpus/$name, starting from nothing"
    fi
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$artifacts/")
    [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")

    echo "== $name: ${seconds}s from $(find "$work" -type f | wc -l) seeds"
    # libFuzzer stops itself at max_total_time; the outer limit only catches a wedged process.
    timeout --kill-after=10 $((seconds + 120)) "$bin" "${args[@]}" "$work" >"$log" 2>&1
    rc=$?
    ran=$((ran + 1))
    grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed 's/^/   /'
    echo "   corpus grew to $(find "$work" -type f | wc -l) inputs (in $work, not kept)"
    if [ $rc -ne 0 ]; then
        tail -n 40 "$log"
        # The input itself, so that a crash seen only in CI's log can be replayed elsewhere
        # (base64 -d > FILE; BUILD/fuzz-NAME FILE).
        for a in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
            [ -f "$a" ] || continue
            echo "   ${a##*/} (base64):"
            base64 -w 100 "$a" | head -n 40 | sed 's/^/   /'
        done
        crashed+=("$name (exit $rc): inputs in $artifacts/, log $log")
    fi
done

echo
if [ ${#crashed[@]} -gt 0 ]; then
    echo "crashed fuzz targets:"
    printf '  %s\n' "${crashed[@]}"
    exit 1
fi
echo "$ran fuzz targets ran ${seconds}s each, no crash"
