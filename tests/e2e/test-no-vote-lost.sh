#!/usr/bin/env bash
# no-vote-lost: the seed profile casts 3,000 votes (2,000 a, 1,000 b) from distinct voters while
# the worker is SIGKILLed twice and redis and db are restarted once each; in the end exactly
# 3,000 votes are counted, nothing is left in Redis, and the worker replayed after each restart.
TEST_NAME=no-vote-lost
. "$(dirname "$0")/lib.sh"
# Fewer concurrent voters stretch the run so the disruptions land while it is going on.
export SEED_VOTES_A=2000 SEED_VOTES_B=1000 SEED_CONCURRENCY=${SEED_CONCURRENCY:-8}

stack_up
worker=$(service_container worker)

log "seed: building and starting"
dc --profile seed up -d --build seed >>"$E2E_ARTIFACTS/up.log" 2>&1 || fail "seed did not start"
seed=$(service_container seed)

seed_state() {
    docker inspect --format '{{.State.Status}}' "$seed"
}

total_at_least() {
    [ "$(results_total)" -ge "$1" ]
}

worker_restarted() {
    [ "$(docker inspect --format '{{.State.Running}} {{.RestartCount}}' "$worker")" = "true $1" ]
}

kill_worker() {
    local restarts
    restarts=$(docker inspect --format '{{.RestartCount}}' "$worker")
    log "SIGKILL worker (total $(results_total), seed $(seed_state))"
    docker kill -s KILL "$worker" >/dev/null
    wait_for 60 "the restart policy to bring the worker back" worker_restarted $((restarts + 1))
    log "worker running again, restart count $((restarts + 1))"
}

restart_service() {
    log "restart $1 (total $(results_total), seed $(seed_state))"
    dc restart "$1" >>"$E2E_ARTIFACTS/restart.log" 2>&1 || fail "restart $1 failed"
}

wait_for 120 "the first 150 votes" total_at_least 150
kill_worker
wait_for 120 "500 votes" total_at_least 500
restart_service redis
wait_for 120 "900 votes" total_at_least 900
kill_worker
wait_for 120 "1300 votes" total_at_least 1300
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

docker logs "$worker" >"$E2E_ARTIFACTS/worker.log" 2>&1
log "worker log: $E2E_ARTIFACTS/worker.log; its restarts and replays:"
grep -E 'starting|replay done|replayed|connection lost|unreachable' "$E2E_ARTIFACTS/worker.log" |
    sed 's/^/    /' | head -n 60
starts=$(grep -c '^worker: starting' "$E2E_ARTIFACTS/worker.log" || true)
replays=$(grep -c '^worker: replay done' "$E2E_ARTIFACTS/worker.log" || true)
# One start per run (first + two kills), one replay per (re)connection: at least one each after
# the redis and db restarts.
[ "$starts" -eq 3 ] || fail "worker started $starts times, want 3"
[ "$replays" -ge 5 ] || fail "worker replayed its processing list $replays times, want >= 5"
log "ok"
