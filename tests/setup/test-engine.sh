#!/usr/bin/env bash
# Tests scripts/engine.sh for real on a second, private dockerd (its own socket, pid file,
# data-root, exec-root and log; no bridge, no iptables), leaving the shared engine alone:
#   1. nothing answers: the script starts dockerd and it answers
#   2. run again: the script uses it as it is
#   3. SIGKILL dockerd: its pid file is left behind; the script removes it and starts a new one
#   4. a pid file naming a live process that is not dockerd: removed as stale, dockerd starts
# Everything made is removed on exit, even on failure. Needs root. Usage: tests/setup/test-engine.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
name=ccsetup-test-$$
export CCOMPOSE_DOCKERD_SOCK=/run/$name.sock
export CCOMPOSE_DOCKERD_PIDFILE=/run/$name.pid
export CCOMPOSE_DOCKERD_DATA_ROOT=/var/tmp/$name
export CCOMPOSE_DOCKERD_EXEC_ROOT=/run/$name
export CCOMPOSE_DOCKERD_LOG=/var/tmp/$name.log
export CCOMPOSE_DOCKERD_ARGS="--bridge=none --iptables=false --ip6tables=false"
unset DOCKER_HOST
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }
ok() { echo "ok: $*"; }

pid_of() { tr -dc 0-9 <"$1" 2>/dev/null || true; }
# Kills the process in pid file FILE if it is NAME, and waits (bounded) for it to go.
stop() {
    local file=$1 name=$2 pid i
    pid=$(pid_of "$file")
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 0
    kill -9 "$pid" 2>/dev/null || true
    for i in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
}
cleanup() {
    set +e
    stop "$CCOMPOSE_DOCKERD_PIDFILE" dockerd
    stop "$CCOMPOSE_DOCKERD_EXEC_ROOT/containerd/containerd.pid" containerd
    [ -n "${decoy:-}" ] && kill "$decoy" 2>/dev/null
    # dockerd may leave mounts under its roots; never let rm cross into them.
    # dockerd may leave mounts under its roots (the data-root is mounted on itself, sometimes more
    # than once); unmount them, deepest first, and never let rm cross into one.
    local i m
    for i in $(seq 20); do
        m=$(awk -v a="$CCOMPOSE_DOCKERD_DATA_ROOT" -v b="$CCOMPOSE_DOCKERD_EXEC_ROOT" \
            'index($2, a) == 1 || index($2, b) == 1 { print $2 }' /proc/self/mounts | sort -r)
        [ -n "$m" ] || break
        echo "$m" | while read -r p; do umount "$p" 2>/dev/null || umount -l "$p"; done
    done
    rm -rf --one-file-system "$CCOMPOSE_DOCKERD_DATA_ROOT" "$CCOMPOSE_DOCKERD_EXEC_ROOT"
    rm -f "$CCOMPOSE_DOCKERD_SOCK" "$CCOMPOSE_DOCKERD_PIDFILE" "$CCOMPOSE_DOCKERD_LOG"
}
trap cleanup EXIT

ping() { [ "$(curl -sS --max-time 5 --unix-socket "$CCOMPOSE_DOCKERD_SOCK" http://localhost/_ping 2>/dev/null)" = OK ]; }

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
