#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/packages.txt that are not installed yet. Does
# nothing (and touches no network) when all are there; otherwise runs `apt-get update` once and
# installs only the missing ones, without recommends, non-interactively.
set -euo pipefail
say() { echo "setup: packages: $*" >&2; }

list=${CCOMPOSE_PACKAGES_FILE:-$(dirname "$0")/packages.txt}
mapfile -t wanted < <(sed 's/#.*//' "$list" | tr -s ' \t' '\n' | sed '/^$/d')

# One dpkg-query for all of them; packages it has never heard of are simply absent from its output.
declare -A installed=()
while read -r pkg status; do
    [ "${status:0:2}" = ii ] && installed[$pkg]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${wanted[@]}" 2>/dev/null || true)
missing=()
for pkg in "${wanted[@]}"; do
    [ -n "${installed[$pkg]:-}" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    say "all ${#wanted[@]} installed"
    exit 0
fi

say "missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    say "installing needs root: run as root, or: apt-get install ${missing[*]}"
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt run on this machine holds the lock for a while; wait for it rather than fail.
apt_opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=2)
# A source that cannot be reached (a third-party repository, no network to it) makes `apt-get
# update` fail while Debian's own indexes were fetched; the install below says whether that was
# enough.
if ! apt-get "${apt_opts[@]}" -q update >&2; then
    say "apt-get update reported errors (see above); trying the install anyway"
fi
if ! apt-get "${apt_opts[@]}" -q -y --no-install-recommends install "${missing[@]}" >&2; then
    say "apt-get install failed for: ${missing[*]}"
    say "check /etc/apt/sources.list* reaches a Debian 12 mirror, then re-run scripts/packages.sh"
    exit 1
fi
say "installed: ${missing[*]}"
