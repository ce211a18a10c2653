#!/usr/bin/env bash
# Makes sure a container engine answers, starting Debian's dockerd when none does.
#
#   DOCKER_HOST set           that engine must answer /_ping; it is never started here
#   the socket answers        used as it is (Docker or Podman, whoever runs it)
#   otherwise                 stale pid files (left when a dockerd is killed) are removed, dockerd is
#                             started in its own session with its output in a log file, and /_ping
#                             is polled until it answers or the time limit passes
#
# Overridable, so a second private dockerd can be run next to the shared one (see README):
#   CCOMPOSE_DOCKERD_SOCK       unix socket path         (default /var/run/docker.sock)
#   CCOMPOSE_DOCKERD_PIDFILE    dockerd's pid file        (default /var/run/docker.pid)
#   CCOMPOSE_DOCKERD_DATA_ROOT  --data-root               (default: dockerd's own, /var/lib/docker)
#   CCOMPOSE_DOCKERD_EXEC_ROOT  --exec-root               (default /var/run/docker)
#   CCOMPOSE_DOCKERD_LOG        dockerd's output          (default /var/log/ccompose-dockerd.log)
#   CCOMPOSE_DOCKERD_ARGS       more dockerd flags, split on spaces (not --bridge=none next to
#                               another engine: that deletes the host's docker0)
#   CCOMPOSE_ENGINE_TIMEOUT     seconds to wait for /_ping (default 60)
# Flags are passed to dockerd only for the variables that are set, so /etc/docker/daemon.json
# keeps working for the defaults.
set -euo pipefail
say() { echo "setup: engine: $*" >&2; }

timeout_s=${CCOMPOSE_ENGINE_TIMEOUT:-60}
sock=${CCOMPOSE_DOCKERD_SOCK:-/var/run/docker.sock}
pidfile=${CCOMPOSE_DOCKERD_PIDFILE:-/var/run/docker.pid}
exec_root=${CCOMPOSE_DOCKERD_EXEC_ROOT:-/var/run/docker}
log=${CCOMPOSE_DOCKERD_LOG:-/var/log/ccompose-dockerd.log}

. "$(dirname "$0")/engine-lib.sh"

show_log() {
    [ -s "$log" ] || return 0
    say "last lines of $log:"
    tail -n 20 "$log" | sed 's/^/    /' >&2
}

if [ -n "${DOCKER_HOST:-}" ]; then
    rc=0
    ping_engine "$DOCKER_HOST" || rc=$?
    if [ $rc -eq 0 ]; then
        say "using DOCKER_HOST=$DOCKER_HOST"
        exit 0
    elif [ $rc -eq 2 ]; then
        say "DOCKER_HOST=$DOCKER_HOST: only unix://, tcp://, http:// and https:// addresses are supported"
    else
        say "DOCKER_HOST=$DOCKER_HOST does not answer /_ping"
        say "start the engine there, or unset DOCKER_HOST to use (or start) $sock"
    fi
    exit 1
fi

if ping_engine "unix://$sock"; then
    say "using unix://$sock"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "no engine answers on unix://$sock and starting dockerd needs root"
    say "run this as root, start an engine yourself, or set DOCKER_HOST"
    exit 1
fi
if ! command -v dockerd >/dev/null; then
    say "no engine answers on unix://$sock and dockerd is not installed: run scripts/packages.sh"
    exit 1
fi

# A dockerd that is alive but silent may be starting (another set-up just launched it): give it the
# same time limit before calling it stuck.
if pid=$(live_pid "$pidfile" dockerd); then
    say "dockerd (pid $pid) is running but unix://$sock does not answer yet; waiting up to ${timeout_s}s"
    deadline=$((SECONDS + timeout_s))
    until ping_engine "unix://$sock"; do
        if [ $SECONDS -ge $deadline ]; then
            say "dockerd (pid $pid, from $pidfile) did not answer on unix://$sock within ${timeout_s}s"
            show_log
            say "fix: look at its log, stop it (kill $pid) and re-run scripts/engine.sh"
            exit 1
        fi
        sleep 0.2
    done
    say "using unix://$sock (dockerd pid $pid)"
    exit 0
fi

remove_stale "$pidfile" dockerd
# dockerd reuses a containerd it started before if that one's pid file names a live process, so a
# pid file naming a process that is gone or is something else must go too.
remove_stale "$exec_root/containerd/containerd.pid" containerd

args=()
[ -n "${CCOMPOSE_DOCKERD_SOCK:-}" ] && args+=(-H "unix://$sock")
[ -n "${CCOMPOSE_DOCKERD_PIDFILE:-}" ] && args+=(--pidfile "$pidfile")
[ -n "${CCOMPOSE_DOCKERD_DATA_ROOT:-}" ] && args+=(--data-root "$CCOMPOSE_DOCKERD_DATA_ROOT")
[ -n "${CCOMPOSE_DOCKERD_EXEC_ROOT:-}" ] && args+=(--exec-root "$exec_root")
read -ra extra <<<"${CCOMPOSE_DOCKERD_ARGS:-}"
args+=("${extra[@]}")

mkdir -p "$(dirname "$log")"
echo "=== $(date -Is) scripts/engine.sh: dockerd ${args[*]}" >>"$log"
# Without job control the background child shares our process group, so setsid makes it a session
# leader without forking: $! is dockerd itself. Its own session keeps it alive when the terminal or
# CI step that ran us ends; its output goes to the log so no pipe of ours stays open.
set +m
setsid dockerd "${args[@]}" </dev/null >>"$log" 2>&1 &
pid=$!
say "started dockerd (pid $pid), log $log; waiting up to ${timeout_s}s for unix://$sock"

deadline=$((SECONDS + timeout_s))
until ping_engine "unix://$sock"; do
    if ! alive "$pid"; then
        rc=0
        wait "$pid" || rc=$?
        say "dockerd exited (status $rc) before answering on unix://$sock"
        show_log
        say "fix what the log reports, then re-run scripts/engine.sh (or make setup)"
        exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
        say "dockerd (pid $pid) did not answer on unix://$sock within ${timeout_s}s"
        show_log
        say "fix: read $log, stop it (kill $pid), then re-run scripts/engine.sh;" \
            "CCOMPOSE_ENGINE_TIMEOUT raises the limit"
        exit 1
    fi
    sleep 0.2
done
disown "$pid" 2>/dev/null || true
say "dockerd answers on unix://$sock (pid $pid)"
