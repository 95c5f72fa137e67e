#!/usr/bin/env bash
# bench.sh BUILD_DIR: runs sluice-bench on every workload at 1 thread and at
# all cores, printing the peers' result lines (../shared/peers/README.md).
# To compare in one run with the peers:
#   ../shared/peers/setup.sh && EXTRA_BINS=$PWD/BUILD/sluice/bench/sluice-bench ../shared/peers/run.sh
set -uo pipefail
B=${1:-build/plain}/sluice/bench/sluice-bench
N=$(nproc)
for w in fib sum sort; do
  for t in 1 "$N"; do "$B" "$w" "$t"; done
done
"$B" chan 0
"$B" pipeline "$N" global
"$B" pipeline "$N" global-cont
