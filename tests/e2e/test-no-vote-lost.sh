#!/usr/bin/env bash
# no-vote-lost: the seed (the compose file's seed service, run beside the project) casts 3,000
# votes (2,000 a, 1,000 b) from distinct voters while the worker is SIGKILLed twice (once through
# the API, once from the host) and the redis and db containers are restarted once each; in the
# end exactly 3,000 votes are counted, nothing is left in Redis, and the worker replayed after
# each restart.
TEST_NAME=no-vote-lost
. "$(dirname "$0")/lib.sh"
# Fewer concurrent voters stretch the run so the disruptions land while it is going on.
export SEED_VOTES_A=2000 SEED_VOTES_B=1000 SEED_CONCURRENCY=${SEED_CONCURRENCY:-4}

e2e_up
worker=$(service_container worker)

log "seed: building and starting"
seed_start
seed=$SEED

seed_state() {
    docker inspect --format '{{.State.Status}}' "$seed"
}

total_at_least() {
    [ "$(results_total)" -ge "$1" ]
}

replays() {
    docker logs "$worker" 2>&1 | grep -c '^worker: replay done' || true
}

# Each disruption waits for the worker's replay after it, so that two disruptions never fold into
# one reconnection (under load a restarted worker may still be connecting when the next comes).
replays_at_least() {
    [ "$(replays)" -ge "$1" ]
}

worker_running_with() {
    [ "$(docker inspect --format '{{.State.Running}} {{.RestartCount}}' "$worker")" = "$1" ]
}

# `docker kill -s KILL`: the engine takes it as a stop it was asked for and applies no restart
# policy (moby cancels the restart manager on a SIGKILL through the API), so the test starts the
# worker again itself.
kill_worker_by_api() {
    local restarts
    restarts=$(docker inspect --format '{{.RestartCount}}' "$worker")
    log "docker kill -s KILL worker (total $(results_total), seed $(seed_state))"
    docker kill -s KILL "$worker" >/dev/null
    wait_for 30 "the worker to stop" worker_running_with "false $restarts"
    docker start "$worker" >/dev/null || fail "start worker failed"
    wait_for 30 "the worker to run again" worker_running_with "true $restarts"
    log "worker running again"
}

# A crash the engine did not ask for: SIGKILL to the worker's process from the host. The restart
# policy (on-failure) must bring it back by itself.
crash_worker() {
    local restarts pid
    restarts=$(docker inspect --format '{{.RestartCount}}' "$worker")
    pid=$(docker inspect --format '{{.State.Pid}}' "$worker")
    [ "$pid" -gt 0 ] || fail "worker has no process"
    log "kill -KILL worker process $pid (total $(results_total), seed $(seed_state))"
    kill -KILL "$pid"
    wait_for 60 "the restart policy to bring the worker back" \
        worker_running_with "true $((restarts + 1))"
    log "worker restarted by the engine, restart count $((restarts + 1))"
}

wait_for 120 "the first 100 votes" total_at_least 100
kill_worker_by_api
wait_for 60 "the worker's replay after the kill" replays_at_least 2
wait_for 120 "400 votes" total_at_least 400
restart_service redis
wait_for 60 "the worker's replay after the redis restart" replays_at_least 3
wait_for 120 "700 votes" total_at_least 700
crash_worker
wait_for 60 "the worker's replay after the crash" replays_at_least 4
wait_for 120 "1000 votes" total_at_least 1000
restart_service db

status=$(docker wait "$seed")
docker logs "$seed" >"$E2E_ARTIFACTS/seed.log" 2>&1
tail -n 1 "$E2E_ARTIFACTS/seed.log"
[ "$status" = 0 ] || fail "seed exited $status"
grep -q '^seed: 3000 distinct voters voted' "$E2E_ARTIFACTS/seed.log" ||
    fail "seed did not report 3000 distinct voters"

wait_results 180 2000 1000
[ "$(redis_cli LLEN votes)" = 0 ] || fail "'votes' is not empty"
[ "$(redis_cli LLEN votes:processing)" = 0 ] || fail "'votes:processing' is not empty"
[ "$(redis_cli LLEN votes:dead)" = 0 ] || fail "'votes:dead' is not empty"

# One replay per (re)connection: the first start, the two kills, and the reconnections after the
# redis and db restarts (the worker notices a database restart even while idle).
wait_for 60 "the worker to be healthy" eval '[ "$(container_health "$worker")" = healthy ]'
wait_for 30 "five replays of the processing list" eval '[ "$(replays)" -ge 5 ]'
docker logs "$worker" >"$E2E_ARTIFACTS/worker.log" 2>&1
log "worker log: $E2E_ARTIFACTS/worker.log; its restarts and replays:"
grep -E 'starting|replay|connection lost|unreachable' "$E2E_ARTIFACTS/worker.log" |
    sed 's/^/    /' | head -n 60
starts=$(grep -c '^worker: starting' "$E2E_ARTIFACTS/worker.log" || true)
[ "$starts" -eq 3 ] || fail "worker started $starts times, want 3 (first start and two kills)"
log "ok"
