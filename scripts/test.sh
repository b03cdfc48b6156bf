#!/bin/sh
# npm test: Biome first (seconds, fails fast), then the type check beside the suite: tsc is
# single-threaded and the suite's workers mostly wait on services, so on two cores they overlap.
# Arguments go to vitest (.ci/run adds its reporters).
set -u
npx biome check . || exit 1
log=$(mktemp)
npx tsc --noEmit >"$log" 2>&1 &
tsc_pid=$!
npx vitest run "$@"
tests=$?
wait "$tsc_pid"
tsc=$?
if [ "$tsc" -ne 0 ]; then
  echo "tsc --noEmit failed:" >&2
  cat "$log" >&2
fi
rm -f "$log"
[ "$tests" -eq 0 ] && [ "$tsc" -eq 0 ]
