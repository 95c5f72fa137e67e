#!/bin/sh
# exports_test.sh LIB HEADER SONAME: the shared library LIB exports exactly
# the functions HEADER declares with SL_API, no internal sl__ name and
# nothing else, so hidden visibility holds and no declaration lacks its
# definition; and its soname is SONAME.
set -eu
lib=$1 header=$2 soname=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# "SL_API const char *sl_version(void);" -> sl_version
sed -n 's/^SL_API[^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$header" | sort -u >"$tmp/declared"
nm -D --defined-only "$lib" | awk '{print $NF}' | sort -u >"$tmp/exported"
ndecl=$(wc -l <"$tmp/declared")
if [ "$ndecl" -lt 50 ]; then
  echo "exports_test: found only $ndecl SL_API declarations in $header; the pattern is stale" >&2
  exit 1
fi
if ! cmp -s "$tmp/declared" "$tmp/exported"; then
  echo "exports_test: $lib exports differ from $header's SL_API declarations" >&2
  echo "(< declared only, > exported only)" >&2
  diff "$tmp/declared" "$tmp/exported" >&2 || true
  exit 1
fi
got=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$got" != "$soname" ]; then
  echo "exports_test: $lib has soname '$got', not '$soname'" >&2
  exit 1
fi
echo "exports_test: soname $got; $ndecl functions, all declared, nothing else exported"
