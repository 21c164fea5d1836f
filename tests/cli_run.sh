#!/usr/bin/env bash
# `hicache run`: help, one-line errors naming the JSON path, a tiny run with
# the golden model, and a resumed run that computes nothing.
# usage: cli_run.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1; DATA=$2
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export OPENBLAS_NUM_THREADS=1

EXPECT_RC=1
source "$(dirname "$0")/lib_cli.sh"

"$HC" run --help | grep -q '^usage: hicache run' || { echo "FAIL: --help"; fails=$((fails+1)); }
expect_fail "no config" "no config given" "$HC" run
expect_fail "missing config" "nope.json: cannot open" "$HC" run nope.json
expect_fail "bad option" "unknown or incomplete option '--frob'" "$HC" run --frob x.json
cat > bad.json <<JSON
{"live": {"model": "$DATA/golden_flux_tiny.safetensors", "classifier": ""},
 "methods": ["full", {"spec": "taylor", "grid": {"N": [3, "x"]}}]}
JSON
expect_fail "bad grid value" 'bad.json: $.methods[1].grid.N[1]:' "$HC" run bad.json
cat > typo.json <<JSON
{"live": {"model": "$DATA/golden_flux_tiny.safetensors", "classifier": "", "n": "ten"}, "methods": ["full"]}
JSON
expect_fail "wrong type" 'typo.json: $.live.n: expected a positive integer, got "ten"' "$HC" run typo.json

cat > tiny.json <<JSON
{"name": "tiny",
 "live": {"model": "$DATA/golden_flux_tiny.safetensors", "classifier": "", "n": 2, "steps": 10, "batch": 2},
 "methods": ["full", "taylor:N=3,O=2", {"spec": "hicache:O=2", "grid": {"N": [3, 4]}}],
 "figures": [{"name": "front", "type": "pareto"}]}
JSON
if ! "$HC" run tiny.json -o res --no-render >out.txt 2>err.txt; then
  echo "FAIL: tiny run:"; cat err.txt; fails=$((fails+1))
else
  # not a terminal: one progress line per cell
  n=$(grep -c '^run: \[' err.txt)
  [ "$n" -eq 4 ] || { echo "FAIL: want 4 progress lines, got $n"; cat err.txt; fails=$((fails+1)); }
  for f in res/table.md res/table.tex res/results.csv res/summary.json res/figures/front.csv res/figures/front.gp; do
    [ -s "$f" ] || { echo "FAIL: missing $f"; fails=$((fails+1)); }
  done
  head -1 res/results.csv | grep -qx 'cell,engine,method,label,seed,metric,value' || { echo "FAIL: results.csv header"; fails=$((fails+1)); }
  grep -q '^| Full compute |' res/table.md || { echo "FAIL: table.md"; fails=$((fails+1)); }
  echo "ok: tiny run"
fi
"$HC" run tiny.json -o res --no-render >out.txt 2>err.txt
grep -q '0 computed, 4 loaded' out.txt || { echo "FAIL: resume:"; cat out.txt err.txt; fails=$((fails+1)); }
"$HC" run tiny.json -o res2 --quiet --no-render >out.txt 2>err.txt
[ ! -s out.txt ] && [ ! -s err.txt ] || { echo "FAIL: --quiet printed something"; fails=$((fails+1)); }
n=$("$HC" run tiny.json --list | wc -l)
[ "$n" -eq 4 ] || { echo "FAIL: --list gave $n lines"; fails=$((fails+1)); }

# a line figure over N: the fewer-steps row (full with steps_matching and a
# grid over N) plots at its grid's N, not at full's N=1
cat > line.json <<JSON
{"name": "line",
 "live": {"model": "$DATA/golden_flux_tiny.safetensors", "classifier": "", "n": 2, "steps": 10, "batch": 2},
 "methods": ["full", {"spec": "taylor:W=2", "grid": {"N": [2, 3]}},
             {"spec": "full", "steps_matching": "taylor:W=2", "grid": {"N": [2, 3]}}],
 "figures": [{"name": "ln", "type": "line", "x": "N", "y": "rel_l2"}]}
JSON
if "$HC" run line.json -o ln --quiet --no-render 2>err.txt; then
  xs=$(grep '^"*Fewer' ln/figures/ln.csv | awk -F, '{print $3}' | sort -n | tr '\n' ' ')
  [ "$xs" = "2 3 " ] || { echo "FAIL: fewer-steps points at N = '$xs', want '2 3 '"; cat ln/figures/ln.csv; fails=$((fails+1)); }
else
  echo "FAIL: line run:"; cat err.txt; fails=$((fails+1))
fi

# a series is named by its paper label: Hi-ClusCa, not its type's "ClusCa"
cat > ser.json <<JSON
{"name": "ser",
 "live": {"model": "$DATA/golden_flux_tiny.safetensors", "classifier": "", "n": 2, "steps": 8, "batch": 2},
 "methods": ["full", "clusca:base=hicache,N=3,K=2", "clusca:base=taylor,N=3,K=2"],
 "figures": [{"name": "sc", "type": "scatter", "x": "flops_speedup", "y": "rel_l2"}]}
JSON
if "$HC" run ser.json -o ser --quiet --no-render 2>err.txt; then
  names=$(cut -d, -f1 ser/figures/sc.csv | grep -E 'ClusCa' | sort -u | tr '\n' ' ')
  [ "$names" = "ClusCa Hi-ClusCa " ] || { echo "FAIL: series names '$names'"; cat ser/figures/sc.csv; fails=$((fails+1)); }
else
  echo "FAIL: series run:"; cat err.txt; fails=$((fails+1))
fi

echo "$fails failure(s)"
[ $fails -eq 0 ]
