#!/usr/bin/env bash
# CLI contract: every command has --help; bad input gives exactly one line on
# stderr and a non-zero exit; nothing half-written is left behind.
# usage: cli_errors.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1; DATA=$2; SRC=$3
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

source "$(dirname "$0")/lib_cli.sh"

# every command answers --help with its usage, exit 0
for cmd in $("$HC" --help | awk '/^commands:/{f=1;next} f&&/^  /{print $1} f&&!NF{exit}'); do
  if ! "$HC" "$cmd" --help | grep -q "^usage: hicache $cmd"; then
    echo "FAIL: hicache $cmd --help"; fails=$((fails+1))
  else echo "ok: hicache $cmd --help"; fi
done

expect_fail "unknown command" "unknown command 'frobnicate'" "$HC" frobnicate
expect_fail "info: missing file" "nope.h5: cannot open: No such file" "$HC" info nope.h5
echo "plain text" > text.h5
expect_fail "info: not HDF5" "not an HDF5 file" "$HC" info text.h5
for f in "$DATA"/bad_*.h5; do
  expect_fail "info: $(basename "$f")" "$(basename "$f")" "$HC" info "$f"
done
expect_fail "synth: bad kind" "unknown trajectory kind 'cubic'" "$HC" synth --kind cubic -o x.h5
expect_fail "synth: bad number" "--steps: 'many' is not an integer" "$HC" synth --steps many -o x.h5
expect_fail "synth: out of range" "--degree: 99 out of range" "$HC" synth --degree 99 -o x.h5
expect_fail "synth: bad dtype" "--dtype: 'float64'" "$HC" synth --dtype float64 -o x.h5
expect_fail "synth: unwritable" "cannot create file" "$HC" synth -o /nonexistent/dir/x.h5
[ -e x.h5 ] || [ -e x.h5.partial ] && { echo "FAIL: a failed synth left a file"; fails=$((fails+1)); }

"$HC" synth -o ok.h5 --steps 12 >/dev/null
expect_fail "replay: unknown method" "unknown method 'taylr' (valid: full, reuse, taylor" "$HC" replay --traj ok.h5 --method taylr -o r
expect_fail "replay: unknown key" "unknown key 'sigma' for taylor (valid: N,W,sched,O)" "$HC" replay --traj ok.h5 --method taylor:sigma=1 -o r
expect_fail "replay: bad value" "O=12 out of range" "$HC" replay --traj ok.h5 --method hicache:O=12 -o r
expect_fail "replay: missing file" "nope.h5: cannot open" "$HC" replay --traj ok.h5 nope.h5 --method taylor -o r
expect_fail "replay: no method" "no --method SPEC given" "$HC" replay --traj ok.h5 -o r
expect_fail "replay: no match" "no feature module matches 'single/*'" "$HC" replay --traj ok.h5 --method taylor --modules 'single/*' -o r
[ -e r/results.csv ] || [ -e r/results.csv.partial ] && { echo "FAIL: a failed replay left results"; fails=$((fails+1)); }
expect_fail "weights: clusca" "depends on fresh tokens" "$HC" weights clusca:base=taylor
expect_fail "weights: bad anchor" "anchor step 5 must be a full step" "$HC" weights taylor:N=7 --anchor 5
expect_fail "bench: unknown" "unknown benchmark 'fly'" "$HC" bench fly
expect_fail "sample: missing model" "nope.safetensors: cannot open" "$HC" sample --model nope.safetensors -o s
expect_fail "sample: bad method" "unknown method 'fast'" "$HC" sample --model "$DATA/golden_flux_tiny.safetensors" --method fast -o s
expect_fail "sample: bad labels" "--labels: 'a,b' must be comma-separated classes 0..9" "$HC" sample --labels a,b -o s
expect_fail "sample: bad n" "--n: 0 out of range" "$HC" sample --n 0 -o s
expect_fail "sample: not safetensors" "header length" "$HC" sample --model "$DATA/bad_schema.h5" -o s
need "data/models/fmnist_classifier.safetensors" test -f "$SRC/data/models/fmnist_classifier.safetensors" && \
  expect_fail "sample: another architecture" 'config arch "fmnist-cnn" is not a known architecture (known: flux-mmdit)' "$HC" sample --model "$SRC/data/models/fmnist_classifier.safetensors" -o s
"$HC" sample --model "$DATA/golden_flux_tiny.safetensors" --classifier "" --n 3 --steps 6 --method taylor:N=3,O=1 -o s -q >/dev/null \
  && [ -s s/grid.png ] && [ -s s/samples.h5 ] && grep -q '"flops_speedup"' s/metrics.json \
  || { echo "FAIL: sample happy path"; fails=$((fails+1)); }

# the happy path: synth then info, same seed same bytes in the data
"$HC" synth -o a.h5 --kind poly --seed 5 >/dev/null && "$HC" synth -o b.h5 --kind poly --seed 5 >/dev/null \
  && "$HC" info a.h5 | grep -q "feature  dit/1/mlp" \
  && "$HC" info --json a.h5 | grep -q '"schema_version":	1' \
  || { echo "FAIL: synth/info happy path"; fails=$((fails+1)); }
if need "hdf5-tools (h5dump)" command -v h5dump; then
  cmp <(h5dump -d /features/dit/0/attn a.h5 | tail -n +2) <(h5dump -d /features/dit/0/attn b.h5 | tail -n +2) >/dev/null \
    || { echo "FAIL: same seed gave different data"; fails=$((fails+1)); }
fi

finish
