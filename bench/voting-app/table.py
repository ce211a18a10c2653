#!/usr/bin/env python3
"""Prints bench/voting-app/run's results.tsv (side, metric, value per line) as a table: the
median of each metric per side (with the lowest and highest when there are several runs) and
the ratio of the medians, ccompose / docker-compose.
Usage: table.py RESULTS.tsv RUNS VOTES CONCURRENCY PROBES"""

import statistics
import sys

SIDES = ("ccompose", "docker-compose")
METRICS = [
    ("up_cold_s", "up, cold (s)"),
    ("up_warm_s", "up, warm (s)"),
    ("down_s", "down -v (s)"),
    ("up_cold_rss_mib", "peak RSS, up cold (MiB)"),
    ("up_warm_rss_mib", "peak RSS, up warm (MiB)"),
    ("down_rss_mib", "peak RSS, down (MiB)"),
    ("votes_per_s", "votes/s accepted (app)"),
    ("latency_p50_ms", "vote to result, p50 (ms)"),
    ("latency_p99_ms", "vote to result, p99 (ms)"),
    ("drain_s", "queue drained after load (s)"),
]


def main():
    path, runs, votes, concurrency, probes = sys.argv[1:6]
    values, status = {}, {}
    with open(path) as f:
        for line in f:
            side, metric, value = line.rstrip("\n").split("\t")
            if metric in ("ok", "skipped", "failed"):
                status[side] = metric + (f": {value}" if value else "")
            else:
                values.setdefault((side, metric), []).append(float(value))

    print(f"voting app: medians of {runs} run(s) per side; load: {votes} votes from "
          f"{concurrency} connections, {probes} latency probes")
    print(f"{'':31} {'ccompose':>22} {'docker-compose':>22} {'cc / dc':>8}")
    for metric, label in METRICS:
        medians, text = [], []
        for side in SIDES:
            v = values.get((side, metric))
            medians.append(statistics.median(v) if v else None)
            if not v:
                text.append("-")
            elif len(v) == 1:
                text.append(f"{v[0]:.2f}")
            else:
                text.append(f"{statistics.median(v):.2f} ({min(v):.1f}-{max(v):.1f})")
        ratio = f"{medians[0] / medians[1]:.2f}" if None not in medians and medians[1] else "-"
        print(f"{label:31} {text[0]:>22} {text[1]:>22} {ratio:>8}")
    for side in SIDES:
        print(f"{side}: {status.get(side, 'not run')}")


if __name__ == "__main__":
    main()
