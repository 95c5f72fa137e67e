#!/usr/bin/env bash
# bench-watch.sh: what `trove watch` promises, measured.
#   1. latency, with the model on: a new one-page Markdown file is written,
#      then `trove search WORD` is run again and again until it lists the
#      file; the time from the write to the end of that search. Then the
#      file is deleted, and likewise until no search lists it. Median,
#      minimum and maximum over TRIALS (default 20).
#   2. idle CPU: `trove watch --no-model` over a tree of FILES (default
#      10,000) files in 100 directories, its CPU time (utime + stime from
#      /proc) over IDLE seconds (default 60) once its first scan is done.
# Usage: scripts/bench-watch.sh [BUILD_DIR]   (default build/plain)
# Prints one line per figure; copy them to bench/RESULTS.md with the
# machine (lscpu) and the date.
set -euo pipefail
BUILD=${1:-build/plain}
T=$(realpath "$BUILD/trove/src/cli/trove")
TRIALS=${TRIALS:-20}
FILES=${FILES:-10000}
IDLE=${IDLE:-60}
WORK=$(mktemp -d /tmp/trove-bench-watch-XXXXXX)
WATCH=
cleanup() {
  [[ -n $WATCH ]] && kill "$WATCH" 2>/dev/null && wait "$WATCH" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }

# Starts `trove ARGS... watch` in the background (stderr to $WORK/watch.err)
# and waits for its first scans to end.
start_watch() {
  "$T" "$@" watch 2>"$WORK/watch.err" &
  WATCH=$!
  until grep -q watching "$WORK/watch.err"; do
    kill -0 "$WATCH" 2>/dev/null || { cat "$WORK/watch.err"; exit 1; }
    sleep 0.05
  done
}

stop_watch() {
  kill -TERM "$WATCH"
  wait "$WATCH" || true
  WATCH=
}

# The median, minimum and maximum of the numbers on stdin.
stats() { sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2;
  printf "median %.2f s, min %.2f s, max %.2f s over %d trials\n", m, v[1], v[NR], NR}'; }

# ---- 1. latency -----------------------------------------------------------------------
mkdir -p "$WORK/notes"
DB=$WORK/latency.db
printf '# Start\n\nThe first note.\n' >"$WORK/notes/start.md"
"$T" --db "$DB" source add notes fs "$WORK/notes" >/dev/null
start_watch --db "$DB"
: >"$WORK/add.txt"
: >"$WORK/del.txt"
for i in $(seq 1 "$TRIALS"); do
  word=kestrelnote$i$RANDOM
  f=$WORK/notes/trial$i.md
  t0=$(now)
  {
    printf '# Field notes, trial %d\n\n' "$i"
    for p in 1 2 3 4 5 6; do
      printf 'On the morning walk the %s hovered above the verge while the wind came off the ' "$word"
      printf 'estuary; the light was low and the tide was turning, so the waders moved up the '
      printf 'mud in loose flocks, and a heron stood at the edge of the reeds without moving for '
      printf 'a long time. Paragraph %d of the page.\n\n' "$p"
    done
  } >"$f"
  until "$T" --db "$DB" search "$word" -n 3 2>/dev/null | grep -q "trial$i.md"; do :; done
  echo "$(now) - $t0" | bc >>"$WORK/add.txt"
  t0=$(now)
  rm "$f"
  while "$T" --db "$DB" search "$word" -n 3 2>/dev/null | grep -q "trial$i.md"; do :; done
  echo "$(now) - $t0" | bc >>"$WORK/del.txt"
done
stop_watch
echo "new file found by search:   $(stats <"$WORK/add.txt")"
echo "deleted file gone from it:  $(stats <"$WORK/del.txt")"
t0=$(now)
"$T" --db "$DB" search heron waders -n 3 >/dev/null 2>&1 || true
echo "(one search with the model, as run above: $(echo "$(now) - $t0" | bc) s)"

# ---- 2. idle CPU ------------------------------------------------------------------------
mkdir -p "$WORK/tree"
for d in $(seq 1 100); do
  mkdir "$WORK/tree/d$d"
  for f in $(seq 1 $((FILES / 100))); do
    echo "file $f of directory $d" >"$WORK/tree/d$d/f$f.txt"
  done
done
DB=$WORK/idle.db
"$T" --db "$DB" --no-model source add tree fs "$WORK/tree" >/dev/null
start_watch --db "$DB" --no-model
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$WATCH/stat"; }
c0=$(cpu)
sleep "$IDLE"
c1=$(cpu)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$WATCH/status")
stop_watch
echo "idle CPU over ${IDLE} s, $FILES files: $(echo "scale=3; 100 * ($c1 - $c0) / $tick / $IDLE" | bc) % \
($((c1 - c0)) ticks), RSS $((rss / 1024)) MiB"
