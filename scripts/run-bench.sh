#!/usr/bin/env bash
# Runs every benchmark, bench/NAME/run, each in its own process with its own time limit, and ends
# with the line CI reads: "N passed, N failed". A benchmark passes when it exits 0: it measured
# what it could and every check it makes held (a side it had to skip says so in its output).
# Usage: scripts/run-bench.sh [NAME ...]    Environment: BENCH_TIMEOUT (seconds, default 1800),
# plus what each benchmark reads (bench/README.md).
set -uo pipefail
cd "$(dirname "$0")/.."
limit=${BENCH_TIMEOUT:-1800}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for run in bench/*/run; do
        [ -x "$run" ] && names+=("$(basename "$(dirname "$run")")")
    done
fi

# shellcheck source=scripts/counted.sh
. scripts/counted.sh
for name in "${names[@]}"; do
    echo "== bench $name"
    counted_run "bench $name" "$limit" "bench/$name/run"
done
counted_summary
