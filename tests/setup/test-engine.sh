#!/usr/bin/env bash
# Tests scripts/engine.sh for real on a second, private dockerd (its own socket, pid file,
# data-root, exec-root, log and bridge; see private-engine.sh), leaving the shared engine alone:
#   1. nothing answers: the script starts dockerd and it answers
#   2. run again: the script uses it as it is
#   3. SIGKILL dockerd: its pid file is left behind; the script removes it and starts a new one
#   4. a pid file naming a live process that is not dockerd: removed as stale, dockerd starts
# Everything made is removed on exit, even on failure. Needs root. Usage: tests/setup/test-engine.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/setup/private-engine.sh
cleanup() {
    [ -n "${decoy:-}" ] && kill "$decoy" 2>/dev/null
    private_engine_cleanup
}
trap cleanup EXIT

# 1
if scripts/engine.sh && ping; then ok "started a private dockerd"; else fail "first start"; fi
first=$(pid_of "$CCOMPOSE_DOCKERD_PIDFILE")

# 2
out=$(scripts/engine.sh 2>&1) || fail "second run: $out"
[[ $out == *"using unix://$CCOMPOSE_DOCKERD_SOCK"* ]] && ok "second run uses it" || fail "second run said: $out"

# 3
containerd_pid=$(pid_of "$CCOMPOSE_DOCKERD_EXEC_ROOT/containerd/containerd.pid")
kill -9 "$first"
for i in $(seq 100); do [ -e "/proc/$first" ] || [ -e "/proc/$containerd_pid" ] || break; sleep 0.1; done
[ -f "$CCOMPOSE_DOCKERD_PIDFILE" ] && ok "SIGKILL left $CCOMPOSE_DOCKERD_PIDFILE" || fail "no pid file left"
out=$(scripts/engine.sh 2>&1) || fail "restart after SIGKILL: $out"
echo "$out" | sed 's/^/    /'
[[ $out == *"removing stale pid file $CCOMPOSE_DOCKERD_PIDFILE (process $first is gone)"* ]] && ping &&
    ok "stale pid file removed, dockerd started again" || fail "restart after SIGKILL"
[[ $out == *"containerd.pid (process $containerd_pid is gone)"* ]] &&
    ok "stale containerd pid file removed" || fail "containerd pid file not handled"
second=$(pid_of "$CCOMPOSE_DOCKERD_PIDFILE")
[ -n "$second" ] && [ "$second" != "$first" ] || fail "pid file not rewritten ($first -> $second)"

# 4: after a reboot or in a new session the old pid is often taken by another process; that is
# when a plain dockerd refuses with "pid file found".
stop "$CCOMPOSE_DOCKERD_PIDFILE" dockerd
stop "$CCOMPOSE_DOCKERD_EXEC_ROOT/containerd/containerd.pid" containerd
sleep 1000 &
decoy=$!
echo "$decoy" >"$CCOMPOSE_DOCKERD_PIDFILE"
echo "$decoy" >"$CCOMPOSE_DOCKERD_EXEC_ROOT/containerd/containerd.pid"
refused=$(timeout 20 dockerd -H "unix://$CCOMPOSE_DOCKERD_SOCK" --pidfile "$CCOMPOSE_DOCKERD_PIDFILE" \
    --data-root "$CCOMPOSE_DOCKERD_DATA_ROOT" --exec-root "$CCOMPOSE_DOCKERD_EXEC_ROOT" \
    $CCOMPOSE_DOCKERD_ARGS 2>&1 </dev/null) && fail "a plain dockerd started over the pid file"
[[ $refused == *"pid file found"* ]] && ok "a plain dockerd refuses: pid file found" ||
    fail "a plain dockerd did not refuse as expected: ${refused: -300}"
out=$(scripts/engine.sh 2>&1) || fail "start over pid files naming 'sleep': $out"
echo "$out" | sed 's/^/    /'
[[ $out == *"$CCOMPOSE_DOCKERD_PIDFILE (process $decoy is 'sleep', not dockerd)"* ]] &&
    [[ $out == *"containerd.pid (process $decoy is 'sleep', not containerd)"* ]] && ping &&
    ok "pid files naming a live non-dockerd process removed, dockerd started" ||
    fail "pid reuse case"
alive_decoy=no
[ -e "/proc/$decoy" ] && alive_decoy=yes
[ $alive_decoy = yes ] && ok "the unrelated process was left alone" || fail "the decoy process was killed"

[ $failed -eq 0 ] && echo "engine set-up: all passed" || echo "engine set-up: FAILED"
exit $failed
