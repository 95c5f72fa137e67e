#!/usr/bin/env bash
# bench-history.sh: a full `trove --no-model scan` of a synthetic Chromium
# History of VISITS visits (default 1,000,000), its peak RSS and items/s.
# The History holds one URL per visit (500 path prefixes on one host), the
# visits spread over the last 80 days; every URL is on 127.0.0.1:1, which
# refuses connections, so after three refusals in a row the host is not
# contacted and the figures are the scan's own cost (copy, read, match,
# write), not the network's.
# Usage: scripts/bench-history.sh BUILD_DIR...   (default build/plain)
# With several build directories, their scans alternate, ROUNDS (default 2)
# rounds, each on a fresh database. One line per scan:
#   BUILD items wall items/s peak-RSS-KB load
# Copy them to bench/RESULTS.md with the machine (lscpu) and the date.
# HISTORY=FILE reuses a History built before; SAVE_HISTORY=FILE keeps the
# one built here (~300 MB), for the next run.
set -euo pipefail
VISITS=${VISITS:-1000000}
ROUNDS=${ROUNDS:-2}
[[ $# -gt 0 ]] || set -- build/plain
WORK=$(mktemp -d /tmp/trove-bench-history-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

PROFILE=$WORK/Default
mkdir -p "$PROFILE"
if [[ -n ${HISTORY:-} ]]; then
  cp "$HISTORY" "$PROFILE/History"
else
  now_us=$(( ($(date +%s) + 11644473600) * 1000000 ))
  span_us=$(( 80 * 86400 * 1000000 ))
  sqlite3 "$PROFILE/History" <<SQL
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL, typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY AUTOINCREMENT, url INTEGER NOT NULL,
  visit_time INTEGER NOT NULL, from_visit INTEGER, transition INTEGER DEFAULT 0 NOT NULL,
  segment_id INTEGER, visit_duration INTEGER DEFAULT 0 NOT NULL);
INSERT INTO meta VALUES('version', '67'), ('last_compatible_version', '16');
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $VISITS)
INSERT INTO urls(id, url, title, visit_count, last_visit_time)
  SELECT i, printf('http://127.0.0.1:1/topic%d/page-%d.html?ref=%d', i % 500, i, i * 7919 % 100003),
         printf('Page %d of topic %d: notes on things read', i, i % 500), 1,
         $now_us - (i * 104729) % $span_us FROM n;
INSERT INTO visits(id, url, visit_time) SELECT id, id, last_visit_time FROM urls;
COMMIT;
CREATE INDEX urls_url_index ON urls (url);
CREATE INDEX visits_url_index ON visits (url);
SQL
fi
[[ -z ${SAVE_HISTORY:-} ]] || cp "$PROFILE/History" "$SAVE_HISTORY"
echo "# History: $(du -h "$PROFILE/History" | cut -f1), $VISITS visits" >&2

for r in $(seq 1 "$ROUNDS"); do
  for b in "$@"; do
    T=$(realpath "$b/trove/src/cli/trove")
    DB=$WORK/r$r.db
    rm -rf "$DB" "$DB"-* "$DB".*
    "$T" --db "$DB" source add h chromium-history "$PROFILE" >/dev/null
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -v "$T" --db "$DB" --no-model scan 2>"$WORK/time.txt" >/dev/null ||
      { cat "$WORK/time.txt"; exit 1; }
    wall=$(awk -F': ' '/Elapsed/ {n = split($2, p, ":"); s = 0;
      for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$WORK/time.txt")
    rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time.txt")
    items=$("$T" --db "$DB" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"])')
    printf '%s items=%s wall=%.1fs items/s=%.0f peakRSS=%sKB load=%s\n' "$b" "$items" "$wall" \
      "$(echo "$items / $wall" | bc -l)" "$rss" "$load"
    rm -rf "$DB" "$DB"-* "$DB".*
  done
done
