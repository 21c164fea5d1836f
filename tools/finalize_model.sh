#!/usr/bin/env bash
# After a training run: export the EMA weights, regenerate and verify the
# golden files, record the bundled trajectories with the C sampler, and run
# the quick experiment.  Run from anywhere; uses ./build (HC_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
BUILD=${HC_BUILD_DIR:-build}
$PY tools/train_flux.py export --no-sample
$PY tools/train_flux.py golden
$PY tools/train_flux.py verify-golden tests/data/golden_flux_tiny.h5 tests/data/golden_flux_mini.h5
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
mkdir -p data/trajectories
# two 50-step full-compute trajectories (float16, deflate): every module kind
# at two depths, the /hidden state ClusCa clusters on, and the latents
rec() { # label seed modules file
  "$BUILD"/hicache sample --n 1 --labels "$1" --seed "$2" --classifier "" -q -o "out/record_$1" \
    --record "data/trajectories/$4" --record-modules "$3" --record-dtype float16 --record-deflate 4 >/dev/null
}
rec 0 1 'double/1/*,single/5/*' fmnist_tshirt_seed1.h5
rec 7 2 'double/0/*,single/2/*' fmnist_sneaker_seed2.h5
du -ch data/trajectories/*.h5 | tail -1
"$BUILD"/hicache run experiments/quick.json -o out/quick
