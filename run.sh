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
    # main job (grows with the project): a Gaussian-process trajectory with
    # known ground truth, replayed under the HiCache paper's method set at N=7
    mkdir -p out
    "$BUILD"/hicache synth -o out/demo.h5 --kind gp --seed 0 --tokens 64 --channels 64 --modules 8
    "$BUILD"/hicache info out/demo.h5
    echo
    "$BUILD"/hicache replay --traj out/demo.h5 -o out/replay --method full reuse:N=7 \
      taylor:N=7,O=2 hicache:N=7,O=2,sigma=0.5 clusca:base=taylor,N=7,O=2 clusca:base=hicache,N=7,O=2
    ;;
  *)
    echo "usage: ./run.sh [run|test]" >&2; exit 2 ;;
esac
