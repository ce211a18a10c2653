#!/bin/sh
# The harness of docs/harness.md: start what the tests need, wait until it is ready, run the
# tests in a one-off container, show the logs when they fail, and always take everything down.
set -u
CCOMPOSE=${CCOMPOSE:-ccompose}
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-harness-$$}"
cd "$(dirname "$0")"

cleanup() { "$CCOMPOSE" down -v -t 0 >/dev/null 2>&1; }
trap cleanup EXIT INT TERM

"$CCOMPOSE" --progress plain up -d --wait db || { "$CCOMPOSE" logs; exit 1; }

status=0
# A check inside the running service, with no terminal (-T): its exit code is ours.
"$CCOMPOSE" exec -T db test -f /tmp/ready || status=$?
# The tests themselves, fed a fixture on stdin; --rm leaves nothing behind.
if [ "$status" -eq 0 ]; then
    echo fixture | "$CCOMPOSE" run --rm -T tests || status=$?
fi
if [ "$status" -ne 0 ]; then
    echo "tests failed ($status); logs:" >&2
    "$CCOMPOSE" logs --no-color >&2
fi
exit "$status"
