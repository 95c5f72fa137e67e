#!/usr/bin/env bash
# check-symbols.sh: the house naming rule (core.h), checked on what the
# linker sees: every symbol a trove library defines for other objects is
# either public, declared in its module's include/<module>.h (a test hook:
# in <module>_test_hooks.h), or internal and named trove_<module>__name.
# Prints each one that is none of these; exit 1 then, 77 (skipped) without
# nm.
#   scripts/check-symbols.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2; exit 2; }
build=$1 src=$2
command -v nm >/dev/null || { echo "nm is not installed (binutils); skipped"; exit 77; }
# Whether $1 is named on a line of the headers that is not a comment's.
declared() {
  local sym=$1
  shift
  for h in "$@"; do
    [ -f "$h" ] && grep -w -- "$sym" "$h" | grep -vqE '^[[:space:]]*(\*|/\*|//)' && return 0
  done
  return 1
}

bad=0 libs=0
for lib in $(find "$build/trove/src" -name 'libtrove_*.a' | sort); do
  m=$(basename "$lib" .a); m=${m#libtrove_}
  headers=("$src/trove/src/$m/include/$m.h" "$src/trove/src/$m/${m}_test_hooks.h")
  libs=$((libs + 1))
  for sym in $(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBRVW]$/ {print $3}' | sort -u); do
    case $sym in
      trove_${m}__*) continue ;;
      __*|_Z*) continue ;; # the compiler's and the sanitizers' own
    esac
    if [[ $sym == trove_* && $sym != *__* ]] && declared "$sym" "${headers[@]}"; then
      continue
    fi
    echo "libtrove_$m.a: $sym is neither in include/$m.h nor named trove_${m}__*"
    bad=1
  done
done
[ $libs -gt 0 ] || { echo "no trove library under $build/trove/src"; exit 1; }
[ $bad -eq 0 ] && echo "check-symbols: $libs libraries follow the naming rule"
exit $bad
