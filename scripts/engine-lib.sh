# shellcheck shell=bash
# What scripts/engine.sh and scripts/podman.sh share: pinging an engine and telling a live daemon
# from the stale pid file a killed one leaves behind. Sourced; the caller defines say().

# Succeeds when the engine at ADDRESS (unix://, tcp://, http://, https://) answers GET /_ping
# with OK. Returns 2 for an address scheme it cannot reach.
ping_engine() {
    local host=$1 hostport certs args=()
    case $host in
    unix://*) args=(--unix-socket "${host#unix://}" http://localhost/_ping) ;;
    tcp://* | http://* | https://*)
        hostport=${host#*://}
        hostport=${hostport%%/*}
        if [ -n "${DOCKER_TLS_VERIFY:-}" ] || [[ $host == https://* ]]; then
            certs=${DOCKER_CERT_PATH:-$HOME/.docker}
            args=(--cacert "$certs/ca.pem" --cert "$certs/cert.pem" --key "$certs/key.pem"
                "https://$hostport/_ping")
        else
            args=("http://$hostport/_ping")
        fi
        ;;
    *) return 2 ;;
    esac
    [ "$(curl -sS --max-time 5 "${args[@]}" 2>/dev/null)" = OK ]
}

# A process that exited stays a zombie until reaped: alive means present and not in state Z.
# (dockerd takes a zombie for a live containerd, so this matters.)
alive() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# Prints the pid in FILE when that process is alive and its command is NAME.
live_pid() {
    local file=$1 name=$2 pid
    [ -f "$file" ] || return 1
    pid=$(tr -dc 0-9 <"$file")
    [ -n "$pid" ] && alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
    echo "$pid"
}

# Removes FILE when it names no live process called NAME: what a killed daemon leaves behind.
remove_stale() {
    local file=$1 name=$2 pid what
    [ -f "$file" ] || return 0
    live_pid "$file" "$name" >/dev/null && return 0
    pid=$(tr -dc 0-9 <"$file")
    if [ -n "$pid" ] && alive "$pid"; then
        what="process $pid is '$(cat "/proc/$pid/comm" 2>/dev/null)', not $name"
    else
        what="process ${pid:-?} is gone"
    fi
    say "removing stale pid file $file ($what)"
    rm -f "$file"
}
