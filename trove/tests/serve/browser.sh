#!/usr/bin/env bash
# browser.sh TROVE OUT_DIR: the web UI in a real browser. Builds a small
# database (a hostile title among the notes), starts `trove serve`, and
# runs browser.mjs, which drives Debian's chromium, headless, with
# playwright-core (scripts/deps.sh installs both; nothing is fetched here).
# Screenshots go to OUT_DIR. Exit 77 (ctest: skipped, never passed) when
# chromium, node or playwright-core is missing.
set -uo pipefail
TROVE=$1
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}

[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || { echo "SKIPPED: chromium is not installed (scripts/deps.sh)"; exit 77; }
command -v node >/dev/null || { echo "SKIPPED: node is not installed (scripts/deps.sh)"; exit 77; }
[ -f "$HERE/browser/node_modules/playwright-core/package.json" ] ||
  { echo "SKIPPED: playwright-core is not installed (scripts/deps.sh installs it)"; exit 77; }

TMP=$(mktemp -d /tmp/trove-browser-XXXXXX)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill -INT "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/tree" "$OUT"

cat > "$TMP/tree/otters.md" <<'EOF'
# Otters

Sea otters hold hands while they sleep, so that the current does not carry
them apart. A group of resting otters is called a raft.
EOF
cat > "$TMP/tree/beavers.md" <<'EOF'
# Beavers

Beavers build dams across rivers and streams, and otters sometimes move into
the lodges they leave behind.
EOF
cat > "$TMP/tree/rivers.txt" <<'EOF'
Rivers carry sediment from the mountains to the sea. Otters, herons and
kingfishers hunt along their banks.
EOF
cat > "$TMP/tree/evil.md" <<'EOF'
---
title: <img src=x onerror=alert(1)>
---

A hostile page whose title is markup, about otters and their rafts.
EOF

T() { "$TROVE" --db "$TMP/trove.db" "$@"; }
T source add notes fs "$TMP/tree" >/dev/null || exit 1
T scan >/dev/null 2>&1 || { echo "the first scan failed"; exit 1; }

# not through T: $! must be trove itself, the process kill -INT stops; not
# watching: the scan test counts what the page's scan finds new
"$TROVE" --db "$TMP/trove.db" serve --port 0 --no-watch > "$TMP/serve.out" 2> "$TMP/serve.err" &
SERVER=$!
URL=""
for _ in $(seq 1 600); do # the model loads first: up to a minute under sanitizers
  URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$TMP/serve.out" 2>/dev/null | head -1)
  [ -n "$URL" ] && break
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.1
done
[ -n "$URL" ] || { echo "trove serve did not start:"; cat "$TMP/serve.err"; exit 1; }

node "$HERE/browser.mjs" "$URL" "$CHROMIUM" "$TMP/tree" "$OUT"
rc=$?

kill -INT "$SERVER"
wait "$SERVER"
code=$?
SERVER=""
if [ "$code" != 0 ]; then
  echo "trove serve exited $code after Ctrl-C:"
  cat "$TMP/serve.err"
  rc=1
fi
exit $rc
