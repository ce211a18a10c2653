#!/usr/bin/env python3
"""Load for the voting app: how many votes per second the stack accepts, and how long a vote
takes from its POST to its count in /api/results. Python standard library only.

1. Latency: PROBES votes one after the other, each from a new voter (no cookie); after each
   POST, /api/results is polled until the total has grown by one. Median and 99th percentile.
2. Throughput: VOTES votes from CONCURRENCY keep-alive connections, each vote a new voter,
   a and b alternating. Accepted votes (200) per second of wall time.
3. Every accepted vote must be counted: waits until /api/results shows the total it should
   (the worker drains Redis into PostgreSQL) and reports how long that took after the last POST.

Prints one JSON object on stdout; exits 1 if a vote was refused or a count never appeared.
Usage: load.py --vote URL --result URL [--votes N] [--concurrency N] [--probes N]
"""

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse

DRAIN_SECONDS = 120


class Client:
    """One keep-alive HTTP connection that reconnects after an error."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None

    def request(self, method, path, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise

    def vote(self, choice):
        # No Cookie header: the vote front-end makes every such POST a new voter.
        status, _ = self.request("POST", "/", body=f"vote={choice}")
        return status

    def total(self):
        status, body = self.request("GET", "/api/results")
        if status != 200:
            raise RuntimeError(f"/api/results answered {status}")
        return json.loads(body)["total"]


def wait_total(client, want, deadline):
    """Polls until /api/results shows `want` votes; returns whether it did before `deadline`."""
    while True:
        try:
            if client.total() >= want:
                return True
        except (OSError, http.client.HTTPException, RuntimeError):
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def latency(vote_url, result_url, probes, base):
    voter, reader = Client(vote_url), Client(result_url)
    samples = []
    for i in range(probes):
        start = time.monotonic()
        status = voter.vote("ab"[i % 2])
        if status != 200:
            raise RuntimeError(f"probe vote answered {status}")
        if not wait_total(reader, base + i + 1, start + 30):
            raise RuntimeError(f"probe vote {i + 1} was not counted within 30 s")
        samples.append((time.monotonic() - start) * 1000)
    return samples


def throughput(vote_url, votes, concurrency):
    lock = threading.Lock()
    state = {"next": 0, "accepted": 0, "refused": 0, "errors": 0}

    def run():
        client = Client(vote_url)
        while True:
            with lock:
                i = state["next"]
                if i >= votes:
                    return
                state["next"] = i + 1
            try:
                status = client.vote("ab"[i % 2])
                key = "accepted" if status == 200 else "refused"
            except (OSError, http.client.HTTPException):
                key = "errors"
            with lock:
                state[key] += 1

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return state, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vote", required=True, help="vote front-end URL")
    ap.add_argument("--result", required=True, help="result front-end URL")
    ap.add_argument("--votes", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--probes", type=int, default=200)
    args = ap.parse_args()

    reader = Client(args.result)
    base = reader.total()
    samples = latency(args.vote, args.result, args.probes, base)
    state, seconds = throughput(args.vote, args.votes, args.concurrency)
    want = base + args.probes + state["accepted"]
    drain_start = time.monotonic()
    counted = wait_total(reader, want, drain_start + DRAIN_SECONDS)
    drain = time.monotonic() - drain_start
    final = reader.total()
    out = {
        "votes": args.votes,
        "concurrency": args.concurrency,
        "accepted": state["accepted"],
        "refused": state["refused"],
        "errors": state["errors"],
        "seconds": round(seconds, 3),
        "votes_per_s": round(state["accepted"] / seconds, 1),
        "drain_s": round(drain, 3),
        "probes": args.probes,
        "latency_p50_ms": round(statistics.median(samples), 1),
        "latency_p99_ms": round(percentile(samples, 99), 1),
        "counted": final - base,
        "expected": want - base,
    }
    print(json.dumps(out))
    ok = counted and final == want and state["accepted"] == args.votes
    if not ok:
        print(f"load.py: {state['refused']} refused, {state['errors']} failed, counted "
              f"{final - base} of {want - base}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
