#!/usr/bin/env bash
# voting-http: 60 voters with their own cookies vote (40 a, 20 b), then 10 of the a-voters
# switch to b; /api/results must show exactly a=30 b=30 total=60. Also checks the pages, bad
# input, and that the result page's event stream pushes a new count live.
TEST_NAME=voting-http
. "$(dirname "$0")/lib.sh"

e2e_up

page=$(curl -fsS "$VOTE_URL/")
grep -q 'Cats' <<<"$page" && grep -q 'Dogs' <<<"$page" || fail "vote page lacks the two options"
grep -q 'class="chosen"' <<<"$page" && fail "a fresh visitor's page marks a choice"
code=$(curl -sS -o /dev/null -w '%{http_code}' --data 'vote=c' "$VOTE_URL/")
[ "$code" = 400 ] || fail "vote=c answered $code, want 400"

log "60 voters vote: 40 for a, 20 for b"
for i in $(seq 1 60); do
    voter_visit "$E2E_TMP/voter$i"
    if [ "$i" -le 40 ]; then voter_vote "$E2E_TMP/voter$i" a; else voter_vote "$E2E_TMP/voter$i" b; fi
done
ids=$(for i in $(seq 1 60); do voter_id "$E2E_TMP/voter$i"; done | sort -u | wc -l)
[ "$ids" -eq 60 ] || fail "voters got $ids distinct voter ids, want 60"
wait_results 60 40 20

log "10 a-voters change their vote to b"
for i in $(seq 1 10); do
    before=$(voter_id "$E2E_TMP/voter$i")
    voter_vote "$E2E_TMP/voter$i" b
    [ "$(voter_id "$E2E_TMP/voter$i")" = "$before" ] || fail "voter $i's cookie changed on revote"
done
wait_results 60 30 30

# Nothing may be stuck or rejected in Redis once the counts are right.
[ "$(redis_cli LLEN votes)" = 0 ] || fail "'votes' is not empty"
[ "$(redis_cli LLEN votes:processing)" = 0 ] || fail "'votes:processing' is not empty"
[ "$(redis_cli LLEN votes:dead)" = 0 ] || fail "'votes:dead' is not empty"

page=$(curl -fsS "$RESULT_URL/")
grep -q 'EventSource' <<<"$page" && grep -q 'Cats' <<<"$page" || fail "result page is incomplete"

log "the event stream pushes a new vote live"
curl -sSN --max-time 30 "$RESULT_URL/events" >"$E2E_TMP/events" 2>/dev/null &
events_pid=$!
wait_for 10 "the first event" grep -q '"total":60' "$E2E_TMP/events"
voter_visit "$E2E_TMP/voter61"
voter_vote "$E2E_TMP/voter61" a
wait_for 20 "an event with the 61st vote" grep -q '"counts":{"a":31,"b":30},"total":61' \
    "$E2E_TMP/events"
kill "$events_pid" 2>/dev/null || true
wait "$events_pid" 2>/dev/null || true
wait_results 20 31 30

# Straight into Redis: a vote older than voter 1's stored one (b) must not win, and an item that
# is not a vote must be set aside in 'votes:dead' without blocking the queue.
log "an older vote and a malformed item go through the queue"
voter1=$(voter_id "$E2E_TMP/voter1")
redis_cli RPUSH votes "{\"voter_id\": \"$voter1\", \"vote\": \"a\", \"time\": \"2000-01-01T00:00:00+00:00\"}" \
    'not a vote' >/dev/null
voter_visit "$E2E_TMP/voter62"
voter_vote "$E2E_TMP/voter62" b
wait_results 20 31 31
wait_for 20 "the malformed item in 'votes:dead'" eval '[ "$(redis_cli LLEN votes:dead)" = 1 ]'
[ "$(redis_cli LINDEX votes:dead 0)" = 'not a vote' ] || fail "'votes:dead' holds the wrong item"
[ "$(redis_cli LLEN votes:processing)" = 0 ] || fail "'votes:processing' is not empty"

# The database password is a secret: read from /run/secrets/db_password, in no container's
# environment or labels and not in `config`.
log "the database password stays out of environments and config"
password=$(head -n1 "$STACK_ROOT/examples/voting-app/db_password.txt")
[ -n "$password" ] || fail "examples/voting-app/db_password.txt is empty"
for s in db worker result; do
    id=$(service_container "$s")
    docker inspect -f '{{json .Config.Env}} {{json .Config.Labels}}' "$id" | grep -qF -- "$password" &&
        fail "the password is in $s's environment or labels"
    docker inspect -f '{{json .Config.Env}}' "$id" | grep -q 'POSTGRES_PASSWORD_FILE=/run/secrets/db_password' ||
        fail "$s does not read the password from /run/secrets/db_password"
done
dc config | grep -qF -- "$password" && fail "config prints the password"
log "ok"
