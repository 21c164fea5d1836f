#!/usr/bin/env bash
# bench_rounds.sh [ROUNDS] [HICACHE]: the README's performance ranges.  Each
# round runs tools/bench_torch.py then `hicache bench forward --torch-ms` at
# 1 and 2 threads (PyTorch and ours back to back, same weights and batch),
# then the cached sampling again with f16 caches (1 thread), then
# `hicache bench replay` on float16 and float32 synth files of the
# issue's shape (200 and 400 MB, written once into a temporary directory and
# removed at the end).  Prints the ratio lines only.  Needs python3-torch.
set -eu
R=${1:-3}
HC=${2:-build/hicache}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for dt in float16 float32; do
  "$HC" synth --kind sin --steps 50 --tokens 1024 --channels 512 --modules 4 --dtype $dt --no-hidden \
    -o "$tmp/$dt.h5" >/dev/null
done
for r in $(seq "$R"); do
  for T in 1 2; do
    tm=$(/usr/bin/python3 tools/bench_torch.py --threads $T --reps 3 | awk '/pytorch_ms/{print $2}')
    echo "round $r, $T thread(s): PyTorch $tm ms"
    OPENBLAS_NUM_THREADS=$T "$HC" bench forward --reps 3 --torch-ms "$tm" |
      grep -E "forward / sgemm|PyTorch time|wall / FLOPs|cached step|memory floor"
  done
  echo "round $r, 1 thread, f16 caches:"
  OPENBLAS_NUM_THREADS=1 "$HC" bench forward --reps 1 --cache f16 | grep -E "wall / FLOPs|cached step|memory floor"
  "$HC" bench replay "$tmp/float16.h5" "$tmp/float32.h5" --reps 3 | grep -E "replay of|replay / raw|memory floor"
done
