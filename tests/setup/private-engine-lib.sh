# Sourced by tests/setup/private-engine.sh and tests/lib/private-dockerd.sh: what removing a
# private dockerd (the CCOMPOSE_DOCKERD_* paths) takes.
pid_of() { tr -dc 0-9 2>/dev/null <"$1" || true; }

# Kills the process in pid file FILE if it is NAME, and waits (bounded) for it to go.
stop() {
    local file=$1 name=$2 pid i
    pid=$(pid_of "$file")
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 0
    kill -9 "$pid" 2>/dev/null || true
    for i in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
}

# Unmounts and removes what a private dockerd (the CCOMPOSE_DOCKERD_* paths) left behind.
private_engine_remove_files() {
    local i m
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
}
