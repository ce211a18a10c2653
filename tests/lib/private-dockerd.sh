#!/usr/bin/env bash
# A private dockerd for tests that restart their engine, never the shared one:
#
#   tests/lib/private-dockerd.sh NAME start     start it (the first time: make its bridge, load
#                                              the test image), wait until it answers
#   tests/lib/private-dockerd.sh NAME stop      SIGTERM, wait until it is gone (containers keep
#                                              running: --live-restore)
#   tests/lib/private-dockerd.sh NAME kill      SIGKILL, as a crash: no goodbye to its clients,
#                                              and wait until it is gone
#   tests/lib/private-dockerd.sh NAME cleanup   kill it, remove its containers' processes, mounts,
#                                              directories and bridge
#
# Its socket is /run/NAME.sock; pid file, data-root, exec-root and log are named after NAME too
# (as tests/setup/private-engine.sh names them). Started by scripts/engine.sh. Needs root.
# CCOMPOSE_PRIVATE_DOCKERD_ARGS adds dockerd flags (split on spaces), e.g. a TLS listener:
# "-H tcp://127.0.0.1:PORT --tlsverify --tlscacert=... --tlscert=... --tlskey=...".
set -uo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: $0 NAME start|stop|kill|cleanup" >&2; exit 2; }
name=$1
export CCOMPOSE_DOCKERD_SOCK=/run/$name.sock
export CCOMPOSE_DOCKERD_PIDFILE=/run/$name.pid
export CCOMPOSE_DOCKERD_DATA_ROOT=/var/tmp/$name
export CCOMPOSE_DOCKERD_EXEC_ROOT=/run/$name
export CCOMPOSE_DOCKERD_LOG=/var/tmp/$name.log
bridge=cc$(echo "$name" | md5sum | cut -c1-10)
# PRIVATE_DOCKERD_LIVE_RESTORE=0: a daemon as Docker's default, whose containers die with it
# (when it comes back). With live restore (the default here) they run on, but Docker 20.10 does
# not resume the health checks of the containers it restored: they stay "starting".
live_restore=--live-restore
[ "${PRIVATE_DOCKERD_LIVE_RESTORE:-1}" = 0 ] && live_restore=
export CCOMPOSE_DOCKERD_ARGS="--bridge=$bridge --iptables=false --ip6tables=false --ip-masq=false $live_restore ${CCOMPOSE_PRIVATE_DOCKERD_ARGS:-}"
unset DOCKER_HOST
image=${CCOMPOSE_TEST_IMAGE:-ccompose-test/busybox:latest}
. tests/setup/private-engine-lib.sh

# Waits (bounded) for process PID to go.
wait_gone() {
    local i
    for i in $(seq 300); do [ -e "/proc/$1" ] || return 0; sleep 0.1; done
    return 1
}

case $2 in
start)
    first=0
    if ! ip link show "$bridge" >/dev/null 2>&1; then
        first=1
        ip link add "$bridge" type bridge &&
            ip addr add "10.215.$((RANDOM % 250)).1/24" dev "$bridge" &&
            ip link set "$bridge" up || exit 1
    fi
    if ! scripts/engine.sh; then
        tail -n 20 "$CCOMPOSE_DOCKERD_LOG" >&2
        exit 1
    fi
    if [ $first = 1 ]; then
        docker save "$image" | timeout 120 docker -H "unix://$CCOMPOSE_DOCKERD_SOCK" load >/dev/null ||
            exit 1
    fi
    ;;
stop)
    pid=$(pid_of "$CCOMPOSE_DOCKERD_PIDFILE")
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || exit 0
    kill -TERM "$pid"
    wait_gone "$pid"
    ;;
kill)
    pid=$(pid_of "$CCOMPOSE_DOCKERD_PIDFILE")
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || exit 0
    kill -KILL "$pid"
    wait_gone "$pid"
    ;;
cleanup)
    set +e
    stop "$CCOMPOSE_DOCKERD_PIDFILE" dockerd
    stop "$CCOMPOSE_DOCKERD_EXEC_ROOT/containerd/containerd.pid" containerd
    # Live-restored containers outlive their daemon: their shims hold the exec-root.
    for p in $(pgrep -f "containerd-shim.*$CCOMPOSE_DOCKERD_EXEC_ROOT" 2>/dev/null); do
        pkill -9 -P "$p" 2>/dev/null
        kill -9 "$p" 2>/dev/null
    done
    private_engine_remove_files
    ip link del "$bridge" 2>/dev/null
    exit 0
    ;;
*)
    echo "usage: $0 NAME start|stop|kill|cleanup" >&2
    exit 2
    ;;
esac
