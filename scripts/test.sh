#!/bin/sh
# npm test: Biome (seconds; the suite starts only once it passed), and the type check beside the
# suite: tsc is single-threaded and the suite's workers often wait on services.
# The suite runs on Node 24, the functions' Lambda runtime: a pinned binary from the npm registry,
# fetched into npx's cache while Biome runs (scripts/lambda-node.sh). Spawned tools on PATH (npm,
# the cdk app, an installed CLI's shebang) keep the machine's Node.
# Arguments go to vitest (.ci/run adds its reporters).
set -u
here=$(dirname "$0")
# Prerequisites first (node_modules, Node, moto_server): one line each, then stop.
if [ ! -d node_modules/tsx ]; then
  echo "npm test: node_modules is missing: run \`npm ci\` first." >&2
  exit 1
fi
node node_modules/tsx/dist/cli.mjs "$here/prerequisites.ts" "npm test" || exit 1
node24_log=$(mktemp)
sh "$here/lambda-node.sh" >"$node24_log" 2>&1 &
node24_pid=$!
lint_log=$(mktemp)
npx biome check . >"$lint_log" 2>&1 &
lint_pid=$!
if ! wait "$node24_pid"; then
  echo "Could not fetch Node 24 (scripts/lambda-node.sh):" >&2
  cat "$node24_log" >&2
  exit 1
fi
node24=$(tail -n 1 "$node24_log")
rm -f "$node24_log"
log=$(mktemp)
npx tsc --noEmit >"$log" 2>&1 &
tsc_pid=$!
# Biome fails in seconds: stop before the suite when it does.
if ! wait "$lint_pid"; then
  cat "$lint_log" >&2
  kill "$tsc_pid" 2>/dev/null
  exit 1
fi
rm -f "$lint_log"
# Node 24 keeps compiled code on disk: the many processes of the suite (workers loading
# aws-cdk-lib and the SDK, every spawned CLI) compile each module once.
NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$PWD/node_modules/.cache/node-compile}" \
  ROTATOR_TEST_NODE_MAJOR=24 "$node24" node_modules/vitest/vitest.mjs run "$@"
tests=$?
wait "$tsc_pid"
tsc=$?
if [ "$tsc" -ne 0 ]; then
  echo "tsc --noEmit failed:" >&2
  cat "$log" >&2
fi
rm -f "$log"
[ "$tests" -eq 0 ] && [ "$tsc" -eq 0 ]
