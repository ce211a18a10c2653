#!/usr/bin/env bash
# persistence: votes cast just before the whole stack is stopped (some maybe still queued in
# Redis) are all counted once it is started again; votes survive `down` + `up` (the db-data
# volume); `down -v` removes the project's containers, networks and volumes, and a fresh `up`
# starts from zero votes.
TEST_NAME=persistence
. "$(dirname "$0")/lib.sh"

e2e_up
for i in 1 2 3 4 5; do
    voter_visit "$E2E_TMP/voter$i"
    if [ "$i" -le 3 ]; then voter_vote "$E2E_TMP/voter$i" a; else voter_vote "$E2E_TMP/voter$i" b; fi
done
wait_results 60 3 2

# stop + start with votes in flight: Redis keeps its queue in its append-only file (fsync'd on
# every write), the worker replays what it had taken, so nothing is lost on the way.
for i in 6 7 8 9; do
    voter_visit "$E2E_TMP/voter$i"
    voter_vote "$E2E_TMP/voter$i" a
done
log "stop, with $(results_total) of 9 votes counted"
dc stop >>"$E2E_ARTIFACTS/stop.log" 2>&1 || fail "stop failed"
running=$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" | wc -l)
[ "$running" = 0 ] || fail "stop left $running container(s) running"
dc start >>"$E2E_ARTIFACTS/stop.log" 2>&1 || fail "start failed"
wait_for 90 "the vote and result pages to answer after start" pages_answer
wait_results 90 7 2

# down keeps the db-data volume (and the images: the next up builds nothing).
e2e_down
e2e_up
wait_results 30 7 2

e2e_down -v
e2e_up
wait_results 30 0 0
e2e_down -v
log "ok"
