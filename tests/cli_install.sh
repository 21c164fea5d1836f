#!/usr/bin/env bash
# An installed hicache is usable from outside the tree (docs/library.md):
# `cmake --install` of this build tree into a temporary prefix, then
# tests/outside/outside.c built against it twice, with
#   cc ... $(pkg-config --cflags --static --libs hicache)
# and as an outside CMake project (find_package(hicache), hicache::hicache);
# both must run their checks and print the expected lines.  Also: the
# installed headers include only installed headers and each compiles on its
# own; OpenBLAS loads before GSL's reference CBLAS in both programs; the
# installed CLI runs.  pkg-config and the C compiler are declared
# dependencies (tools/debian-packages.txt): missing, the test fails.
# usage: cli_install.sh HICACHE DATA_DIR SOURCE_DIR   (HICACHE's directory
# is the build tree)
set -u
abs() { (cd "$1" && pwd); }
HC=$1 DATA=$(abs "$2") SRC=$(abs "$3") BUILD=$(abs "$(dirname "$1")")
source "$(dirname "$0")/lib_cli.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# the tools of this build tree (its CMake cache), else those on PATH
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt" 2>/dev/null | head -1; }
CMAKE=$(cache CMAKE_COMMAND); CMAKE=${CMAKE:-cmake}
CC=$(cache CMAKE_C_COMPILER); CC=${CC:-cc}
LIBDIR=$(cache CMAKE_INSTALL_LIBDIR); LIBDIR=${LIBDIR:-lib}
for tool in "$CMAKE" "$CC" pkg-config; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (a declared build dependency)"; exit 1; }
done
P=$tmp/prefix

# ---- 1. install ---------------------------------------------------------------
if ! "$CMAKE" --install "$BUILD" --prefix "$P" >install.log 2>&1; then
  echo "FAIL: cmake --install $BUILD --prefix $P:"; cat install.log; exit 1
fi
for f in "$LIBDIR/libhicache.a" "$LIBDIR/pkgconfig/hicache.pc" "$LIBDIR/cmake/hicache/hicacheConfig.cmake" \
         "$LIBDIR/cmake/hicache/hicacheConfigVersion.cmake" bin/hicache \
         include/hicache/status.h include/hicache/traj.h include/hicache/predictor.h include/hicache/metrics.h; do
  [ -s "$P/$f" ] || fail "not installed: $f"
done
"$P/bin/hicache" version >version.json 2>&1 && grep -q '"git_commit"' version.json ||
  fail "installed CLI: hicache version: $(cat version.json)"

# ---- 2. the installed headers stand alone --------------------------------------
for h in "$P"/include/hicache/*.h; do
  for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$h"); do
    [ -e "$P/include/hicache/$inc" ] || fail "installed $(basename "$h") includes \"$inc\", which is not installed"
  done
  printf '#include "%s"\nint hc_outside_unused;\n' "$(basename "$h")" >one.c
  "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$P/include/hicache" -c one.c -o one.o 2>cc.txt ||
    fail "installed $(basename "$h") does not compile on its own: $(cat cc.txt)"
done

# ---- 3. the outside program, two ways -------------------------------------------
cat >want.txt <<'EOF'
bad spec: invalid argument
method: taylor:N=3,W=1,sched=flux,O=1
schedule: 4 full of 10 steps
forecast: 4 cached steps exact (rel_l2 0), 2 held
traj: 3 modules, 5 steps, t = 1 .. 0.2
  double/0/img_attn [5, 3, 4]
  double/0/txt_mlp [5, 3, 4]
  single/2/total [5, 3, 4]
driver: reuse:N=2,W=1 on double/0/img_attn: 3 full of 5 steps, 2 forecasts equal the last full row
EOF
# run_outside WHAT BINARY: the checks pass, the output is want.txt, and
# OpenBLAS comes before libgslcblas in the load order (so that every cblas_*
# call, GSL's included, binds to OpenBLAS)
run_outside() {
  local what=$1 bin=$2
  if ! "$bin" "$DATA/h5py_traj.h5" >got.txt 2>err.txt; then
    fail "$what: outside exits non-zero: $(cat err.txt)"
  elif ! diff want.txt got.txt >diff.txt; then
    fail "$what: output differs:"; cat diff.txt
  else
    echo "ok: $what: outside checks pass and print the expected lines"
  fi
  ldd "$bin" | awk '/libopenblas/ { o = NR } /libgslcblas/ { g = NR } END { exit !(o && (!g || o < g)) }' ||
    { fail "$what: libopenblas does not load before libgslcblas:"; ldd "$bin"; }
}

export PKG_CONFIG_PATH=$P/$LIBDIR/pkgconfig
if flags=$(pkg-config --cflags --static --libs hicache 2>err.txt); then
  case " $flags " in *" -lgslcblas "*) fail "pkg-config --static --libs hicache links -lgslcblas: $flags";; esac
  # shellcheck disable=SC2086  # the flags are words
  if "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror "$SRC/tests/outside/outside.c" $flags \
       -o outside_pc 2>cc.txt; then
    run_outside pkg-config ./outside_pc
  else
    fail "cc outside.c \$(pkg-config --cflags --static --libs hicache):"; cat cc.txt
  fi
else
  fail "pkg-config hicache: $(cat err.txt)"
fi

if "$CMAKE" -S "$SRC/tests/outside" -B ob -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC" >cm.txt 2>&1 &&
   "$CMAKE" --build ob >>cm.txt 2>&1; then
  found=$(cd "$(sed -n 's/^hicache_DIR:PATH=//p' ob/CMakeCache.txt)" 2>/dev/null && pwd)
  [ "$found" = "$P/$LIBDIR/cmake/hicache" ] || fail "find_package(hicache) found '$found', not the installed one"
  run_outside find_package ob/outside
else
  fail "outside CMake project (find_package(hicache)):"; cat cm.txt
fi

echo "$fails failure(s)"
[ $fails -eq 0 ]
