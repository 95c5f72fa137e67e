#!/usr/bin/env bash
# faults.sh: the fault and race campaign of the `trove` binary run long: the
# tests `make test` runs with small loop counts (cli_fault_test: a full disk,
# a locked database, kill -9 at random points; cli_race_test: processes
# racing, the probe's scenarios; scan_concurrent_test: two scans in one
# process), here with the counts the campaign asks for.
#   scripts/faults.sh [BUILD_DIR]      (default build/plain; build it first)
# KILLS (30), LOOPS (20) and PROBE_LOOPS (20) override the counts; SEED
# repeats a run of cli_fault_test.
set -euo pipefail
build=${1:-build/plain}
[ -x "$build/trove/src/cli/trove" ] || { echo "faults: build $build first (make build)" >&2; exit 2; }
export TROVE_FAULT_KILLS=${KILLS:-30} TROVE_RACE_LOOPS=${LOOPS:-20} TROVE_PROBE_LOOPS=${PROBE_LOOPS:-20}
cd "$build"
ctest -R '^(cli_fault_test|cli_race_test|scan_concurrent_test)$' --output-on-failure --timeout 7200
