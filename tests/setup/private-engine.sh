# Sourced by the tests in tests/setup/: settings for a second, private dockerd (own socket, pid
# file, data-root, exec-root, log and bridge; no iptables) that scripts/engine.sh starts, and
# private_engine_cleanup, which kills it and removes everything it made. The shared engine on
# /var/run/docker.sock is never touched.
# Not --bridge=none: a dockerd started that way deletes the host's docker0, which the shared
# engine's default network needs. The private engine gets its own bridge, made here.
name=ccsetup-test-$$
export CCOMPOSE_DOCKERD_SOCK=/run/$name.sock
export CCOMPOSE_DOCKERD_PIDFILE=/run/$name.pid
export CCOMPOSE_DOCKERD_DATA_ROOT=/var/tmp/$name
export CCOMPOSE_DOCKERD_EXEC_ROOT=/run/$name
export CCOMPOSE_DOCKERD_LOG=/var/tmp/$name.log
bridge=ccs$$
ip link add "$bridge" type bridge
ip addr add "10.213.$((RANDOM % 250)).1/24" dev "$bridge"
ip link set "$bridge" up
export CCOMPOSE_DOCKERD_ARGS="--bridge=$bridge --iptables=false --ip6tables=false --ip-masq=false"
unset DOCKER_HOST

failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }
ok() { echo "ok: $*"; }
pid_of() { tr -dc 0-9 2>/dev/null <"$1" || true; }
ping() { [ "$(curl -sS --max-time 5 --unix-socket "$CCOMPOSE_DOCKERD_SOCK" http://localhost/_ping 2>/dev/null)" = OK ]; }

# Kills the process in pid file FILE if it is NAME, and waits (bounded) for it to go.
stop() {
    local file=$1 name=$2 pid i
    pid=$(pid_of "$file")
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 0
    kill -9 "$pid" 2>/dev/null || true
    for i in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
}

private_engine_cleanup() {
    set +e
    local i m
    stop "$CCOMPOSE_DOCKERD_PIDFILE" dockerd
    stop "$CCOMPOSE_DOCKERD_EXEC_ROOT/containerd/containerd.pid" containerd
    # dockerd leaves mounts under its roots (the data-root is mounted on itself, sometimes more
    # than once); unmount them, deepest first, and never let rm cross into one.
    for i in $(seq 20); do
        m=$(awk -v a="$CCOMPOSE_DOCKERD_DATA_ROOT" -v b="$CCOMPOSE_DOCKERD_EXEC_ROOT" \
            'index($2, a) == 1 || index($2, b) == 1 { print $2 }' /proc/self/mounts | sort -r)
        [ -n "$m" ] || break
        echo "$m" | while read -r p; do umount "$p" 2>/dev/null || umount -l "$p"; done
    done
    rm -rf --one-file-system "$CCOMPOSE_DOCKERD_DATA_ROOT" "$CCOMPOSE_DOCKERD_EXEC_ROOT"
    rm -f "$CCOMPOSE_DOCKERD_SOCK" "$CCOMPOSE_DOCKERD_PIDFILE" "$CCOMPOSE_DOCKERD_LOG"
    ip link del "$bridge" 2>/dev/null
}
