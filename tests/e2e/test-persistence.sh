#!/usr/bin/env bash
# persistence: votes survive `down` + `up` (the db-data volume); `down -v` removes the project's
# containers, networks and volumes, and a fresh `up` starts from zero votes.
TEST_NAME=persistence
. "$(dirname "$0")/lib.sh"

e2e_up
for i in 1 2 3 4 5; do
    voter_visit "$E2E_TMP/voter$i"
    if [ "$i" -le 3 ]; then voter_vote "$E2E_TMP/voter$i" a; else voter_vote "$E2E_TMP/voter$i" b; fi
done
wait_results 60 3 2

# down keeps the db-data volume (and the images: the next up builds nothing).
e2e_down
e2e_up
wait_results 30 3 2

e2e_down -v
e2e_up
wait_results 30 0 0
e2e_down -v
log "ok"
