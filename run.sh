#!/usr/bin/env bash
# hicache: install dependencies, build, and run the main job or the tests.
#   ./run.sh          install Debian packages, build, run the main job
#   ./run.sh test     install Debian packages, build, run the whole test suite
# Packages come from tools/debian-packages.txt; apt-get runs only when one is
# missing (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-run}
BUILD=${HC_BUILD_DIR:-build}
JOBS=$(nproc 2>/dev/null || echo 2)

install_packages() {
  local pkgs missing=()
  pkgs=$(grep -v '^#' tools/debian-packages.txt | xargs)
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHC_FATAL_WARNINGS=ON >/dev/null
  cmake --build "$BUILD" -j"$JOBS" >/dev/null
}

install_packages
build
case "$mode" in
  test)
    cd "$BUILD" && ctest --output-on-failure -j"$JOBS"
    ;;
  run)
    # main job: a small version of the HiCache paper's main table on the
    # bundled model (16 images, 50 steps, N=7) and one figure; resumable
    "$BUILD"/hicache run experiments/quick.json -o out/quick
    echo
    cat out/quick/table.md
    echo
    echo "outputs: out/quick/ (table.md, table.tex, results.csv, summary.json, figures/)"
    ;;
  *)
    echo "usage: ./run.sh [run|test]" >&2; exit 2 ;;
esac
