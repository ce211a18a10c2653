#!/usr/bin/env bash
# swarm-stack: the voting app as a swarm stack with `ccompose stack` (docs/stack.md, issue 9).
#
# On the shared engine, `ccompose build` builds the example's images under the names
# examples/voting-app/compose.swarm.yaml gives them (VOTING_IMAGE_PREFIX=<project>, so the
# teardown's purge of "<project>-*" images removes them; with the e2e cache built by run.sh the
# builds come from the layer cache). Then the same script runs again (--inner) inside
# tests/swarm/private-swarm.sh: a private single-node swarm on a second dockerd, into which the
# images are loaded, and which is removed with everything in it afterwards, whatever happens.
# There, it deploys the stack with vote and worker at 2 replicas and checks:
#   - the vote page answers through a published port, on each replica, and votes reach the
#     result API (through redis, the worker and db);
#   - a changed environment variable (OPTION_A) rolls through vote's tasks one at a time
#     (update_config parallelism 1): the second new task is created only after the first runs,
#     and a vote task runs at every moment of the update;
#   - scaling vote to 3 by a new deploy; a killed worker container is replaced by swarm and the
#     worker goes on moving votes;
#   - `stack rm` leaves no service, task, container, network or secret.
#
# Why host-mode ports and dnsrr: swarm's ingress routing mesh and its virtual IPs are IPVS in the
# kernel, and this machine's kernel has none (CONFIG_IP_VS unset; measured, see docs/stack.md): an
# ingress port is allocated but refuses connections, a VIP times out. (The private dockerd also
# runs without iptables, which the mesh needs as well, so that the host's tables, shared with the
# shared engine, stay untouched.) This test's own override publishes vote's and result's port 8080
# in host mode without a fixed published port: the engine gives each task its own port (through
# docker-proxy, which needs neither), read back from the task's PortStatus. compose.swarm.yaml
# itself keeps ingress ports; tests/swarm/test-cli-stack.c checks what swarm makes of them.
TEST_NAME=swarm-stack
# Not on Podman (run.sh leaves it out there): Podman has no swarm mode, and the stack goes to a
# private dockerd's swarm, so with Podman as the shared engine it would only test Docker again.
if [ "${CCOMPOSE_TEST_ENGINE:-docker}" = podman ]; then
    echo "swarm-stack: does not apply to podman: Podman has no swarm mode" >&2
    exit 2
fi
. "$(dirname "$0")/lib.sh"

# The compose command must be ccompose: docker-compose has no `stack`.
CC=
read -r first _ <<<"$COMPOSE"
if [ "$(basename "$first")" = ccompose ]; then
    CC=$first
elif [ -x "$E2E_ROOT/build/ccompose" ]; then
    CC=$E2E_ROOT/build/ccompose
fi
export VOTING_IMAGE_PREFIX=$PROJECT
SERVICES=(vote redis worker db result)
SWARM_FILES=(-c "$STACK_DIR/compose.yaml" -c "$STACK_DIR/compose.swarm.yaml" -c "$E2E_TMP/ports.yaml")

if [ "${1:-}" != --inner ]; then
    if [ -z "$CC" ]; then
        log "skipped: needs ccompose (COMPOSE=$COMPOSE), docker-compose has no stack command"
        exit 0
    fi
    log "building ${SERVICES[*]} as $PROJECT-* (logs in $E2E_ARTIFACTS/build.log)"
    "$CC" -p "$PROJECT" -f "$STACK_DIR/compose.yaml" -f "$STACK_DIR/compose.swarm.yaml" build \
        "${SERVICES[@]}" >"$E2E_ARTIFACTS/build.log" 2>&1 ||
        { tail -n 30 "$E2E_ARTIFACTS/build.log"; fail "ccompose build failed"; }
    images=()
    for s in "${SERVICES[@]}"; do images+=("$PROJECT-$s:latest"); done
    log "running the stack test in a private swarm"
    CCOMPOSE_SWARM_IMAGES="${images[*]}" PROJECT=$PROJECT E2E_ARTIFACTS=$E2E_ARTIFACTS \
        "$E2E_ROOT/tests/swarm/private-swarm.sh" "$0" --inner ||
        fail "the stack test in the private swarm failed"
    log "ok"
    exit 0
fi

# --- inside the private swarm (DOCKER_HOST points at it) ---
STACK=$PROJECT
SOCK=${DOCKER_HOST#unix://}
# Nothing of lib.sh's compose teardown applies here; the private swarm goes with everything in it.
teardown() {
    local rc=$? s
    trap - EXIT INT TERM
    if [ $rc -ne 0 ]; then
        log "inner teardown (exit status $rc): task list and service logs in $E2E_ARTIFACTS"
        "$CC" stack ps "$STACK" >"$E2E_ARTIFACTS/stack-ps.txt" 2>&1 || true
        for s in "${SERVICES[@]}"; do
            docker service logs --timestamps "${STACK}_$s" >"$E2E_ARTIFACTS/service-$s.log" 2>&1 || true
        done
    fi
    rm -rf "$E2E_TMP"
    exit $rc
}

# dnsrr: service names resolve to the tasks' own addresses. Swarm's virtual IPs are load-balanced
# by IPVS with marks set by iptables in each container's namespace, which a dockerd without
# iptables does not do: a connection to a virtual IP times out there (measured).
# Health checks: swarm stops an unhealthy task and, during an update, pauses the update when a new
# task ends early; on this shared machine (load 25 on 2 cores measured) a check can fail for a
# while without anything being wrong, so the test allows 20 failures in a row instead of 3-10.
cat >"$E2E_TMP/ports.yaml" <<'EOF'
x-dnsrr: &dnsrr
  endpoint_mode: dnsrr
x-patient: &patient
  retries: 20
services:
  vote:
    ports: !override
      - target: 8080
        mode: host
    deploy: *dnsrr
    healthcheck: *patient
  result:
    ports: !override
      - target: 8080
        mode: host
    deploy: *dnsrr
    healthcheck: *patient
  redis:
    deploy: *dnsrr
    healthcheck: *patient
  worker:
    deploy: *dnsrr
    healthcheck: *patient
  db:
    deploy: *dnsrr
    healthcheck: *patient
EOF

api() {
    curl -fsS --max-time 10 --unix-socket "$SOCK" "http://localhost/v1.41$1"
}

# tasks SERVICE: one line per task of STACK_SERVICE:
#   id state desired-state created-at state-timestamp host-port container-id OPTION_A
tasks() {
    api "/tasks?filters=$(python3 -c 'import json, sys, urllib.parse
print(urllib.parse.quote(json.dumps({"service": [sys.argv[1]]})))' "${STACK}_$1")" |
        python3 -c 'import json, sys
for t in json.load(sys.stdin):
    st = t["Status"]
    ports = (st.get("PortStatus") or {}).get("Ports") or [{}]
    env = dict(e.split("=", 1) for e in t["Spec"]["ContainerSpec"].get("Env") or [])
    print(t["ID"], st["State"], t["DesiredState"], t["CreatedAt"], st["Timestamp"],
          ports[0].get("PublishedPort", "-"), (st.get("ContainerStatus") or {}).get("ContainerID", "-")[:12],
          env.get("OPTION_A", "-"))'
}

running() {
    tasks "$1" | awk '$2 == "running"'
}

running_count() {
    running "$1" | grep -c . || true
}

# deploy: the stack with the files above (the environment picks replicas and OPTION_A).
deploy() {
    log "stack deploy"
    "$CC" stack deploy --resolve-image never --wait --wait-timeout 300 "${SWARM_FILES[@]}" \
        "$STACK" >>"$E2E_ARTIFACTS/deploy.log" 2>&1 ||
        { tail -n 30 "$E2E_ARTIFACTS/deploy.log"; fail "stack deploy failed"; }
}

use_ports() {
    VOTE_URL=http://127.0.0.1:$(running vote | awk 'NR == 1 { print $6 }')
    RESULT_URL=http://127.0.0.1:$(running result | awk 'NR == 1 { print $6 }')
    wait_for 60 "the vote ($VOTE_URL) and result ($RESULT_URL) pages to answer" pages_answer
}

# 1. Deploy, with vote and worker at 2 replicas.
[ -e /proc/net/ip_vs ] ||
    log "the vote page through an ingress port is not checked: this kernel has no IPVS, which swarm's routing mesh needs"
deploy
grep -q "depends_on: not supported in swarm mode" "$E2E_ARTIFACTS/deploy.log" ||
    fail "the deploy did not warn that depends_on is not supported"
for s in vote worker; do
    [ "$(running_count $s)" -eq 2 ] || fail "$s runs $(running_count $s) tasks, want 2"
done
"$CC" stack services "$STACK" >"$E2E_TMP/services"
for s in vote worker; do
    grep -Eq "^[a-z0-9]+ +${STACK}_$s +replicated +2/2 " "$E2E_TMP/services" ||
        fail "stack services does not show ${STACK}_$s at 2/2: $(cat "$E2E_TMP/services")"
done

# 2. Every vote replica answers through its published port; votes reach the result API.
use_ports
n=0
for port in $(running vote | awk '{ print $6 }'); do
    n=$((n + 1))
    VOTE_URL=http://127.0.0.1:$port
    voter_visit "$E2E_TMP/voter$n"
    if [ $n -eq 1 ]; then voter_vote "$E2E_TMP/voter$n" a; else voter_vote "$E2E_TMP/voter$n" b; fi
done
[ $n -eq 2 ] || fail "voted through $n vote replicas, want 2"
wait_results 90 1 1

# 3. A changed environment variable rolls through vote's tasks one at a time.
old_ids=$(running vote | awk '{ print $1 }' | sort)
OPTION_A=Ferrets deploy >/dev/null &
deploying=$!
min_running=9 mixed=0
while kill -0 $deploying 2>/dev/null; do
    running vote >"$E2E_TMP/sample" || true
    r=$(grep -c . "$E2E_TMP/sample" || true)
    [ "$r" -lt "$min_running" ] && min_running=$r
    grep -q ' Cats$' "$E2E_TMP/sample" && grep -q ' Ferrets$' "$E2E_TMP/sample" && mixed=1
    sleep 0.3
done
wait $deploying || fail "the deploy with OPTION_A=Ferrets failed"
export OPTION_A=Ferrets
running vote >"$E2E_TMP/after"
if [ "$(grep -c ' Ferrets$' "$E2E_TMP/after")" -ne 2 ] || grep -q ' Cats$' "$E2E_TMP/after"; then
    fail "vote does not run 2 new tasks after the update: $(cat "$E2E_TMP/after")"
fi
[ -z "$(comm -12 <(echo "$old_ids") <(awk '{ print $1 }' "$E2E_TMP/after" | sort))" ] ||
    fail "an old vote task still runs after the update"
[ "$min_running" -ge 1 ] || fail "no vote task ran at some moment of the rolling update"
[ $mixed -eq 1 ] || fail "never saw an old and a new vote task running together"
# Created one by one: the second new task only after the first was running (parallelism 1).
# (Whole seconds: update_config's delay of 2 s lies between the two.)
sort -k4 "$E2E_TMP/after" | awk 'NR == 1 { ran = substr($5, 1, 19) } NR == 2 { created = substr($4, 1, 19) }
    END { exit !(created > ran) }' ||
    fail "the second new vote task was created before the first ran: $(cat "$E2E_TMP/after")"
log "rolling update: one task at a time, at least $min_running vote task(s) running throughout"
use_ports
curl -fsS --max-time 5 "$VOTE_URL/" | grep -q Ferrets || fail "the vote page does not show Ferrets"
wait_results 60 1 1

# 4. Scale vote to 3 by deploying with another replica count.
VOTE_REPLICAS=3 deploy
[ "$(running_count vote)" -eq 3 ] || fail "vote runs $(running_count vote) tasks, want 3"
for port in $(running vote | awk '{ print $6 }'); do
    curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$port/healthz" ||
        fail "the vote replica on port $port does not answer"
done

# 5. A killed worker container is replaced by swarm, and votes still get through.
read -r victim _ _ _ _ _ cid _ < <(running worker | head -n 1)
log "killing worker task $victim (container $cid)"
docker kill "$cid" >/dev/null || fail "docker kill $cid failed"
replaced() {
    [ "$(running_count worker)" -eq 2 ] && ! running worker | grep -q "^$victim "
}
wait_for 120 "swarm to replace the killed worker task" replaced
tasks worker | grep -Eq "^$victim (failed|shutdown|complete) " ||
    fail "the killed worker task is not shown as ended: $(tasks worker)"
VOTE_URL=http://127.0.0.1:$(running vote | awk 'NR == 1 { print $6 }')
voter_visit "$E2E_TMP/voter9"
voter_vote "$E2E_TMP/voter9" a
wait_results 90 2 1

# 6. stack rm leaves nothing of the stack but the named volume (as docker's, see docs/stack.md).
log "stack rm"
"$CC" stack rm "$STACK" >>"$E2E_ARTIFACTS/rm.log" 2>&1 || fail "stack rm failed"
ns="label=com.docker.stack.namespace=$STACK"
# The tasks are gone when stack rm returns; each node's agent then removes the containers on its
# own (a manager cannot see them on other nodes), the last ones some seconds later.
containers_gone() {
    [ -z "$(docker ps -aq --filter "$ns")" ]
}
rm_done=$SECONDS
wait_for 60 "the stack's containers to be removed by the swarm agent" containers_gone
log "containers removed $((SECONDS - rm_done)) s after stack rm returned"
left="services:$(docker service ls -q --filter "$ns" | grep -c . || true)"
left+=" containers:$(docker ps -aq --filter "$ns" | grep -c . || true)"
left+=" networks:$(docker network ls -q --filter "$ns" | grep -c . || true)"
left+=" secrets:$(docker secret ls -q --filter "$ns" | grep -c . || true)"
left+=" tasks:$(api /tasks | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')"
[ "$left" = "services:0 containers:0 networks:0 secrets:0 tasks:0" ] ||
    fail "stack rm left $left"
"$CC" stack ls | grep -q "^$STACK " && fail "stack ls still lists $STACK"
docker volume rm "${STACK}_db-data" >/dev/null || fail "no volume ${STACK}_db-data to remove"
log "ok"
