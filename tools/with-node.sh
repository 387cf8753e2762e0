#!/usr/bin/env bash
# Runs a command with another Node.js first on PATH, fetched by tools/node-version.sh:
#   bash tools/with-node.sh 24 node node_modules/jest/bin/jest.js packages/install-test
# Everything the command starts by name (node, npm, npx, the tests' child processes) uses that
# Node. npm keeps the machine's configuration: npm looks for its global npmrc beside the running
# node binary (<prefix>/etc/npmrc), so under a node that lives in a cache directory it would
# silently drop the machine's one, and with it settings such as `cafile` (a TLS-intercepting
# proxy's CA); npm then retries its registry requests for minutes, looking hung. And a native
# addon that npm builds from source must use that Node's headers (shipped in the package).
set -euo pipefail

version=${1:?usage: tools/with-node.sh <major>|<major.minor.patch> <command> [args...]}
shift
bin=$(bash "$(dirname "$0")/node-version.sh" "$version")
npm_config_globalconfig=$(npm config get globalconfig)
export npm_config_globalconfig
export npm_config_nodedir="${bin%/bin}"
export PATH="$bin:$PATH"
exec "$@"
