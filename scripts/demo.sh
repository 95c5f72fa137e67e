#!/usr/bin/env bash
# demo.sh BUILD_DIR: what `make demo` shows (the Makefile runs
# `scripts/deps.sh demo` first, which installs python3.11-doc).
#  1. sluice, briefly: its examples, and fib/sum/sort at all cores (REPS=1).
#  2. trove on a real corpus: the Python 3.11 HTML docs (~530 pages) as an fs
#     source in a demo database under BUILD_DIR/demo, a scan with progress
#     that extracts every page and embeds its ~47,000 passages with the model
#     (about a minute on 2 cores with VNNI, longer without), hybrid searches
#     (keyword and meaning fused), the same question by keyword only and by
#     meaning only, items like a result, then a second scan that finds
#     everything unchanged.
# Re-runnable: the demo database is kept, so a rerun's first scan is the
# unchanged one too (delete BUILD_DIR/demo to start over).
set -euo pipefail
B=${1:-build/plain}
N=$(nproc)

echo "== sluice examples"
for ex in "$B"/sluice/examples/*; do
  [ -x "$ex" ] && [ -f "$ex" ] || continue
  echo "-- $(basename "$ex")"
  "$ex"
done
echo "== sluice benchmarks at $N threads (peer=sluice lines; make bench for the full set)"
for w in fib sum sort; do
  REPS=1 "$B/sluice/bench/sluice-bench" "$w" "$N"
done

echo
echo "== trove: local search over the Python 3.11 documentation"
DOCS=/usr/share/doc/python3.11/html
if [ ! -d "$DOCS" ]; then
  echo "demo: $DOCS is missing; run scripts/deps.sh demo (installs python3.11-doc)" >&2
  exit 1
fi
TROVE="$B/trove/src/cli/trove"
mkdir -p "$B/demo"
DB="$B/demo/trove.db"
# exit code 1 is a search that found nothing, not a failure
t() { echo "\$ trove $*"; "$TROVE" --db "$DB" "$@" || [ $? -eq 1 ]; }

if ! "$TROVE" --db "$DB" source list 2>/dev/null | grep -q '^python '; then
  t source add python fs "$DOCS" --glob '**/*.html' \
    --exclude _static --exclude _sources --exclude _images
fi
t source list
echo
t scan python
echo
echo "-- hybrid search (the default): BM25 and passage vectors fused per page"
t search asyncio event loop -n 3
echo
t search "unicode normalization" -n 3
echo
echo "-- a paraphrase that avoids the target page's own words (collections.deque), three modes"
Q="keep only the last n items seen"
t search "$Q" -n 3 --mode keyword
echo
t search "$Q" -n 3 --mode semantic
echo
t search "$Q" -n 3
echo
echo "-- pages like the first result"
ID=$({ "$TROVE" --db "$DB" search "$Q" -n 1 --json || true; } |
  sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -1)
if [ -n "$ID" ]; then t search --like "$ID" -n 3; fi
echo
echo "-- scanning again: every page is unchanged"
t scan python
echo
t stats
