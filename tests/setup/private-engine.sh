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
. "$(dirname "${BASH_SOURCE[0]}")/private-engine-lib.sh"
ping() { [ "$(curl -sS --max-time 5 --unix-socket "$CCOMPOSE_DOCKERD_SOCK" http://localhost/_ping 2>/dev/null)" = OK ]; }

private_engine_cleanup() {
    set +e
    local i m
    stop "$CCOMPOSE_DOCKERD_PIDFILE" dockerd
    stop "$CCOMPOSE_DOCKERD_EXEC_ROOT/containerd/containerd.pid" containerd
    private_engine_remove_files
    ip link del "$bridge" 2>/dev/null
}
