#!/usr/bin/env bash
# fuzz.sh: builds trove's libFuzzer targets with clang (ASan+UBSan, coverage
# instrumented: cmake -DTROVE_FUZZ=ON) and runs each, one at a time, for
# SECONDS on a scratch copy of its committed seed corpus, printing per
# target the execs, execs per second and the corpus it grew. With
# FUZZ_RUNS=N in the environment a target also stops after N execs (a long
# run "to 1M execs each": FUZZ_RUNS=1000000 and a generous SECONDS). Fails when any target crashes, leaks, hangs or breaks an
# invariant; the input that did it is kept in BUILD_DIR/crashes/.
#   scripts/fuzz.sh [--test] BUILD_DIR SECONDS [TARGET...]
# --test (the ctest of the ASan build): exit 77, "skipped", when clang's
# libFuzzer is not installed, instead of failing.
set -uo pipefail

test_mode=0
[ "${1:-}" = --test ] && { test_mode=1; shift; }
[ $# -ge 2 ] || { echo "usage: $0 [--test] BUILD_DIR SECONDS [TARGET...]" >&2; exit 2; }
build=$1 secs=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc)}

cc=""
for c in clang-14 clang; do command -v "$c" >/dev/null && { cc=$c; break; }; done
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
  >"$probe/p.c"
if [ -z "$cc" ] || ! "$cc" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>/dev/null; then
  msg="fuzz: clang with libFuzzer is not installed (Debian: clang-14 libclang-rt-14-dev)"
  if [ $test_mode = 1 ]; then
    echo "$msg; skipped" >&2
    exit 77
  fi
  echo "$msg; run scripts/deps.sh" >&2
  exit 1
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DTROVE_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 1
fi
cmake --build "$build" --target fuzz_all -j "$jobs" >"$probe/build.log" 2>&1 ||
  { cat "$probe/build.log" >&2; exit 1; }

mkdir -p "$build/crashes"
failed=0 ran=0
while read -r name exe seeds; do
  [ -n "$name" ] || continue
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
    continue
  fi
  work="$probe/$name"
  mkdir -p "$work"
  cp "$seeds"/* "$work"/
  log="$build/crashes/$name.log"
  # -timeout: one input taking this long is a hang, reported as a crash.
  t0=$(date +%s)
  "$exe" -max_total_time="$secs" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" \
    "$work" >"$log" 2>&1
  rc=$?
  took=$(($(date +%s) - t0))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(sed -n 's/^#[0-9]*.*DONE.* corp: \([0-9]*\).*/\1/p' "$log" | tail -1)
  ran=$((ran + 1))
  if [ $rc = 0 ]; then
    printf 'fuzz %-12s %10s execs in %ss (%s/s), corpus %s, ok\n' "$name" "${execs:-?}" \
      "$took" "${rate:-?}" "${corpus:-?}"
  else
    failed=$((failed + 1))
    printf 'fuzz %-12s %10s execs in %ss, FAILED (exit %d; log %s)\n' "$name" "${execs:-?}" \
      "$took" $rc "$log"
    grep -m1 -A30 '^==[0-9]*==ERROR\|^SUMMARY\|runtime error\|deadly signal' "$log" | head -40
    ls "$build"/crashes/"$name"-* 2>/dev/null
  fi
  rm -rf "$work"
done <"$build/fuzz_targets.txt"

[ $ran -gt 0 ] || { echo "fuzz: no target ran" >&2; exit 1; }
[ $failed = 0 ] || { echo "fuzz: $failed of $ran targets failed" >&2; exit 1; }
echo "fuzz: $ran targets, no crash"
