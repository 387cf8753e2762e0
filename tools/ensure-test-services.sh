#!/usr/bin/env bash
# Installs the programs mlforge's tests start by themselves (redis-server and redis-cli), when
# they are missing. Idempotent: with everything present it changes nothing and exits 0.
set -euo pipefail

install_command="apt-get update && apt-get install -y redis-server"

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "redis-server and redis-cli are needed by the tests but missing. Install them with:" >&2
  echo "  ${install_command}" >&2
  echo "(as root on Debian or Ubuntu; elsewhere use your system's Redis 7+ package)." >&2
  exit 1
fi

apt-get update
apt-get install -y redis-server
