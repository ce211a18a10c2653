"""seed: casts SEED_VOTES_A votes for a and SEED_VOTES_B for b through the vote front-end.

Each vote comes from a distinct voter: a GET / obtains the voter's own `voter_id` cookie, then a
POST / with that cookie votes. Both requests are retried (capped backoff, bounded by
SEED_RETRY_SECONDS) on connection errors and 5xx; retrying the POST with the same cookie is safe
because one voter counts once. Exits 0 only if every voter's vote was acknowledged.
"""

import concurrent.futures
import http.client
import os
import random
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie

HOST = os.getenv("VOTE_HOST", "vote")
PORT = int(os.getenv("VOTE_PORT", "8080"))
VOTES = {"a": int(os.getenv("SEED_VOTES_A", "2000")), "b": int(os.getenv("SEED_VOTES_B", "1000"))}
CONCURRENCY = int(os.getenv("SEED_CONCURRENCY", "16"))
RETRY_SECONDS = float(os.getenv("SEED_RETRY_SECONDS", "120"))


class Voter:
    def __init__(self):
        self.conn = None
        self.retries = 0

    def request(self, method, path, body=None, headers=None):
        """One request; returns (status, headers, body) or raises OSError/HTTPException."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            return resp.status, resp.headers, resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise

    def retrying(self, what, fn):
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.05
        while True:
            try:
                result = fn()
                if result is not None:
                    return result
                err = "server error"
            except (OSError, http.client.HTTPException) as exc:
                err = str(exc) or type(exc).__name__
            if time.monotonic() + delay > deadline:
                raise RuntimeError(f"{what}: gave up after {RETRY_SECONDS:.0f}s: {err}")
            self.retries += 1
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def cast(self, choice):
        def get_cookie():
            status, headers, _ = self.request("GET", "/")
            if status >= 500:
                return None
            if status != 200:
                raise RuntimeError(f"GET / answered {status}")
            cookie = SimpleCookie(headers.get("Set-Cookie", ""))
            if "voter_id" not in cookie:
                raise RuntimeError("GET / set no voter_id cookie")
            return cookie["voter_id"].value

        voter_id = self.retrying("GET /", get_cookie)
        body = urllib.parse.urlencode({"vote": choice})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"voter_id={voter_id}",
        }

        def post():
            status, _, page = self.request("POST", "/", body, headers)
            if status >= 500:
                return None
            if status != 200 or f'data-vote="{choice}"'.encode() not in page:
                raise RuntimeError(f"POST / answered {status} without marking '{choice}'")
            return True

        self.retrying("POST /", post)
        self.conn.close()
        self.conn = None
        return voter_id


def main():
    choices = ["a"] * VOTES["a"] + ["b"] * VOTES["b"]
    # Mixed, so that any prefix of the run has both; seeded, so runs are alike.
    random.Random(0).shuffle(choices)
    start = time.monotonic()
    voters, retries, failures = set(), 0, 0

    def one(choice):
        v = Voter()
        try:
            return v.cast(choice), v.retries, None
        except RuntimeError as exc:
            return None, v.retries, exc

    with concurrent.futures.ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for i, (voter_id, tries, exc) in enumerate(pool.map(one, choices), 1):
            retries += tries
            if exc is not None:
                failures += 1
                print(f"seed: voter {i} failed: {exc}", flush=True)
            else:
                voters.add(voter_id)
            if i % 500 == 0:
                print(f"seed: {i}/{len(choices)} voters done", flush=True)

    elapsed = time.monotonic() - start
    print(
        f"seed: {len(voters)} distinct voters voted (a={VOTES['a']}, b={VOTES['b']} requested) "
        f"in {elapsed:.1f}s with {retries} retries, {failures} failed",
        flush=True,
    )
    return 0 if failures == 0 and len(voters) == len(choices) else 1


if __name__ == "__main__":
    sys.exit(main())
