#!/bin/sh
# install_test.sh BUILD_DIR SOURCE_DIR: installs sluice from BUILD_DIR into a
# temporary prefix, then builds tests/outside/outside.c, a program that knows
# only the installed files, twice: with `pkg-config --cflags --libs sluice`
# and with CMake's find_package(sluice), and runs both.
set -eu
build=$1 src=$2
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
  { cat "$tmp/install.log" >&2; exit 1; }
pcdir=$(dirname "$(find "$prefix" -name sluice.pc)")
[ -f "$prefix/include/sluice.h" ] || { echo "install_test: no include/sluice.h" >&2; exit 1; }

# pkg-config: only the installed prefix is searched, nothing of the tree.
flags=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$pcdir pkg-config --cflags --libs sluice)
echo "install_test: pkg-config: $flags"
# shellcheck disable=SC2086 # flags are words
"$cc" -std=c17 -Wall -Wextra -Werror -o "$tmp/outside_pc" "$src/tests/outside/outside.c" $flags
libdir=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$pcdir pkg-config --variable=libdir sluice)
LD_LIBRARY_PATH=$libdir "$tmp/outside_pc"
# the program runs on the installed shared library, not a copy of the code
LD_LIBRARY_PATH=$libdir ldd "$tmp/outside_pc" | grep -q "libsluice.so.* => $libdir" ||
  { echo "install_test: outside_pc does not load $libdir/libsluice.so" >&2; exit 1; }

# CMake: find_package(sluice) from the prefix, sluice::sluice.
cmake -S "$src/tests/outside" -B "$tmp/outside_cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$tmp/outside_cmake" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
"$tmp/outside_cmake/outside"
echo "install_test: built and ran against $prefix both ways"
