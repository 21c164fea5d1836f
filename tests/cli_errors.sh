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
expect_fail "replay: key twice" "method 'taylor:N=7,N=8': key 'N' given twice" "$HC" replay --traj ok.h5 --method taylor:N=7,N=8 -o r
expect_fail "replay: empty pair" "method 'taylor:N=7,,O=2': empty key=value pair (a doubled comma)" "$HC" replay --traj ok.h5 --method taylor:N=7,,O=2 -o r
expect_fail "replay: trailing comma" "empty key=value pair (a trailing comma)" "$HC" replay --traj ok.h5 --method taylor:N=7, -o r
expect_fail "replay: empty key list" "method 'taylor:': no key=value pairs after ':'" "$HC" replay --traj ok.h5 --method taylor: -o r
expect_fail "replay: full with keys" "method 'full:N=5': full computes every step: N=5 cannot apply (only N=1 is accepted)" "$HC" replay --traj ok.h5 --method full:N=5 -o r
expect_fail "replay: newline in spec" "method 'taylor:N\\x0a=7': control character 0x0a at offset 8" "$HC" replay --traj ok.h5 --method $'taylor:N\n=7' -o r
expect_fail "weights: clusca" "depends on fresh tokens" "$HC" weights clusca:base=taylor
expect_fail "weights: bad anchor" "anchor step 5 must be a full step" "$HC" weights taylor:N=7 --anchor 5
expect_fail "bench: unknown" "unknown benchmark 'fly'" "$HC" bench fly
expect_fail "sample: missing model" "nope.safetensors: cannot open" "$HC" sample --model nope.safetensors -o s
expect_fail "sample: bad method" "unknown method 'fast'" "$HC" sample --model "$DATA/golden_flux_tiny.safetensors" --method fast -o s
expect_fail "sample: bad labels" "--labels: 'a,b' must be comma-separated classes 0..9" "$HC" sample --labels a,b -o s
expect_fail "sample: bad n" "--n: 0 out of range" "$HC" sample --n 0 -o s
expect_fail "sample: labels trailing comma" "--labels: '1,2,' must be comma-separated classes 0..9" "$HC" sample --labels 1,2, -o s
expect_fail "sample: labels empty item" "--labels: '1,,2' must be" "$HC" sample --labels 1,,2 -o s
expect_fail "sample: labels two digits" "--labels: '1,10' must be" "$HC" sample --labels 1,10 -o s
expect_fail "sample: labels bad tail" "--labels: '1,x' must be" "$HC" sample --n 1 --labels 1,x -o s
expect_fail "sample: labels empty" "--labels: '' must be" "$HC" sample --labels "" -o s
expect_fail "sample: more labels than n" "--labels: 3 classes given for --n 2 samples" "$HC" sample --n 2 --labels 1,2,3 -o s
expect_fail "sample: n overflow" "--n: 99999999999999999999 out of range [1, 100000]" "$HC" sample --n 99999999999999999999 -o s
expect_fail "sample: n with a space" "--n: ' 5' is not an integer" "$HC" sample --n " 5" -o s
expect_fail "sample: guidance overflow" "--guidance: 1e999 out of range [0, 100]" "$HC" sample --guidance 1e999 -o s
expect_fail "sample: guidance nan" "--guidance: 'nan' is not a number" "$HC" sample --guidance nan -o s
expect_fail "sample: not safetensors" "header length" "$HC" sample --model "$DATA/bad_schema.h5" -o s
expect_fail "sample: memory planned before allocating" "100000 images of 1x8x8 need about 101.5 MiB, over the memory limit of 1.0 MiB (--max-memory)" "$HC" sample --model "$DATA/golden_flux_tiny.safetensors" --classifier "" --n 100000 --max-memory 1M -o s -q
long=$(printf 'double/0/img_mlp,%.0s' $(seq 20))
expect_fail "sample: --record-modules too long" "--record-modules: a list of 340 characters (at most 255)" "$HC" sample --model "$DATA/golden_flux_tiny.safetensors" --classifier "" --n 1 --steps 2 --record r.h5 --record-modules "$long" -o s -q
expect_fail "sample: bad --max-memory" "--max-memory: 'lots' is not a size" "$HC" sample --max-memory lots -o s
# a bad classifier path fails before sampling: no recording is left behind
expect_fail "sample: classifier missing" "nocls.safetensors: cannot open" "$HC" sample --model "$SRC/data/models/dit_fmnist.safetensors" --classifier nocls.safetensors --n 2 --steps 4 --record cls.h5 -o s -q
[ ! -e cls.h5 ] || fail "sample with a missing classifier left cls.h5"
need "data/models/fmnist_classifier.safetensors" test -f "$SRC/data/models/fmnist_classifier.safetensors" && \
  expect_fail "sample: another architecture" 'config arch "fmnist-cnn" is not a known architecture (known: flux-mmdit, dit)' "$HC" sample --model "$SRC/data/models/fmnist_classifier.safetensors" -o s
"$HC" sample --model "$DATA/golden_flux_tiny.safetensors" --classifier "" --n 3 --steps 6 --method taylor:N=3,O=1 -o s -q >/dev/null \
  && [ -s s/grid.png ] && [ -s s/samples.h5 ] && grep -q '"flops_speedup"' s/metrics.json \
  || { echo "FAIL: sample happy path"; fails=$((fails+1)); }

# experiment config numbers: checked as doubles before any conversion
cfg() { printf '{"live": {"model": "%s", "classifier": ""%s}, "methods": [%s]}' "$DATA/golden_flux_tiny.safetensors" "$1" "$2" >c.json; }
cfg ', "seeds": [1e400]' '"full"'
expect_fail "run: seed beyond double" '$.live.seeds[0]: expected a non-negative integer, got a value beyond 1.8e308' "$HC" run c.json --list
cfg ', "seeds": [1e300]' '"full"'
expect_fail "run: huge seed" '$.live.seeds[0]: 1e+300 out of range [0, 2147483647]' "$HC" run c.json --list
cfg ', "steps": 18446744073709551616' '"full"'
expect_fail "run: steps 2^64" '$.live.steps: 1.8446744073709552e+19 out of range [1, 10000]' "$HC" run c.json --list
cfg ', "guidance": -1e400' '"full"'
expect_fail "run: guidance beyond double" '$.live.guidance: expected a number, got a value beyond -1.8e308' "$HC" run c.json --list
cfg '' '"taylor:N=7,N=8"'
expect_fail "run: spec key twice" "\$.methods[0]: method 'taylor:N=7,N=8': key 'N' given twice" "$HC" run c.json --list
cfg '' '{"spec": "full", "grid": {"N": [2, 3]}}'
expect_fail "run: grid over full" "method 'full:N=2': full computes every step: N=2 cannot apply" "$HC" run c.json --list
cfg '' '{"spec": "taylor:W=3", "grid": {"N": [1e400]}}'
expect_fail "run: grid value inf" "method 'taylor:W=3,N=inf': N=inf is not an integer" "$HC" run c.json --list

# normality: --column beyond long; a CSV with a byte-order mark keeps its first row
printf '1,2\n3,4\n' >n.csv
expect_fail "normality: column overflow" "--column 99999999999999999999 out of range: n.csv has 2 columns" "$HC" normality --csv n.csv --column 99999999999999999999
expect_fail "normality: column with a space" "--column ' 1': n.csv has no such column" "$HC" normality --csv n.csv --column " 1"
printf '\xef\xbb\xbf1\n2\n4\n8\n16\n32\n64\n128\n' >bom.csv
printf '1\n2\n4\n8\n16\n32\n64\n128\n' >nobom.csv
"$HC" normality --csv bom.csv >bom.json 2>&1 && "$HC" normality --csv nobom.csv >nobom.json 2>&1 && cmp -s bom.json nobom.json \
  && grep -q '"n":[[:space:]]*8' bom.json || { echo "FAIL: normality with a byte-order mark"; fails=$((fails+1)); }

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
