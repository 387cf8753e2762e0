#!/usr/bin/env bash
# Installs the programs mlforge's tests start by themselves (redis-server and redis-cli; chromium
# for the catalog page's browser tests), when they are missing. Idempotent: with everything present
# it changes nothing and exits 0. One `apt-get update`, then one install of everything missing.
set -euo pipefail

missing=()
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then missing+=(redis-server); fi
if ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

install_command="apt-get update && apt-get install -y ${missing[*]}"

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "${missing[*]} needed by the tests but missing. Install with:" >&2
  echo "  ${install_command}" >&2
  echo "(as root on Debian or Ubuntu; elsewhere use your system's Redis 7+ and Chromium packages)." >&2
  exit 1
fi

apt-get update
apt-get install -y "${missing[@]}"
