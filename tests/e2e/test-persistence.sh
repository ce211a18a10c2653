#!/usr/bin/env bash
# persistence: votes survive `down` + `up` (the db-data volume); `down -v` removes the project's
# containers, networks and volumes, and a fresh `up` starts from zero votes.
TEST_NAME=persistence
. "$(dirname "$0")/lib.sh"

stack_up
for i in 1 2 3 4 5; do
    voter_visit "$E2E_TMP/voter$i"
    if [ "$i" -le 3 ]; then voter_vote "$E2E_TMP/voter$i" a; else voter_vote "$E2E_TMP/voter$i" b; fi
done
wait_results 60 3 2

log "down (keeping volumes)"
dc down >>"$E2E_ARTIFACTS/down.log" 2>&1 || fail "down failed"
read -r c n v <<<"$(project_leftovers)"
[ "$c $n" = "0 0" ] || fail "down left $c container(s) and $n network(s)"
[ "$v" = 1 ] || fail "down removed the db-data volume (volumes left: $v)"

stack_up --no-build
wait_results 30 3 2

log "down -v"
dc down -v >>"$E2E_ARTIFACTS/down.log" 2>&1 || fail "down -v failed"
read -r c n v <<<"$(project_leftovers)"
[ "$c $n $v" = "0 0 0" ] || fail "down -v left $c container(s), $n network(s), $v volume(s)"

stack_up --no-build
wait_results 30 0 0
dc down -v >>"$E2E_ARTIFACTS/down.log" 2>&1 || fail "down -v failed"
read -r c n v <<<"$(project_leftovers)"
[ "$c $n $v" = "0 0 0" ] || fail "down -v left $c container(s), $n network(s), $v volume(s)"
log "ok"
