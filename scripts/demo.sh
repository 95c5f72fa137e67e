#!/usr/bin/env bash
# demo.sh BUILD_DIR: what `make demo` shows. For now: sluice's examples and
# its benchmark lines. (trove's demo replaces this when trove lands.)
set -euo pipefail
B=${1:-build/plain}
echo "== sluice examples"
for ex in "$B"/sluice/examples/*; do
  [ -x "$ex" ] && [ -f "$ex" ] || continue
  echo "-- $(basename "$ex")"
  "$ex"
done
echo "== sluice benchmarks (peer=sluice lines; compare with ../shared/peers)"
REPS=${REPS:-3} scripts/bench.sh "$B"
