#!/usr/bin/env bash
# Fault-safe outputs: a full disk (RLIMIT_FSIZE) during `run`'s report,
# `run`'s cells, `sample` and `gauss` leaves no output under its final name
# that belongs to the failed step, and never a temporary file; an unwritable
# cells/ folder fails before any work and leaves no raw/ results; output
# names from configs stay inside the output folder; damaged cell files are
# computed again on resume; grids are capped before expansion.
# usage: cli_outputs.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1; DATA=$2
tmp=$(mktemp -d); trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
export OPENBLAS_NUM_THREADS=1
source "$(dirname "$0")/lib_cli.sh"
EXPECT_RC=1

"$HC" synth -o t.h5 --steps 20 >/dev/null || fail "synth"
cat > rep.json <<JSON
{"name": "rep", "replay": {"files": ["t.h5"]},
 "methods": ["full", "taylor:N=3,O=2", {"spec": "hicache:O=2", "grid": {"N": [3, 4]}}],
 "figures": [{"name": "err", "type": "curve", "x": "step", "y": "rel_l2"}]}
JSON
report="results.csv summary.json table.md table.tex figures/err.csv figures/err.gp"

# ---- run: the report's files appear together or not at all
"$HC" run rep.json -o r --quiet --no-render || fail "replay run"
for f in $report; do rm -f "r/$f"; done
# results.csv (~4 KB) fits under 6 KB, summary.json (~9 KB) does not
EXPECT_RC=1 expect_fail "run: disk full during the report" "no report file was written" \
  limit_fsize 6 "$HC" run rep.json -o r --quiet --no-render
for f in $report; do [ ! -e "r/$f" ] || fail "a failed report left r/$f"; done
no_partials r
"$HC" run rep.json -o r --no-render >out.txt 2>err.txt || fail "run after the full disk"
grep -q '0 computed, 4 loaded' out.txt || { fail "the cells were not kept:"; cat out.txt err.txt; }
for f in $report; do [ -s "r/$f" ] || fail "missing r/$f after the rerun"; done

# raw_have_cells DIR: every DIR/raw/ID has its DIR/cells/ID.json
raw_have_cells() {
  local d
  for d in "$1"/raw/*/; do
    [ -d "$d" ] || continue
    d=$(basename "$d")
    [ -f "$1/cells/$d.json" ] || fail "$1/raw/$d left without its cell file"
  done
}

# ---- run: a cell whose result is not recorded keeps no raw/ outputs
# (a caching method's raw results.csv is ~11 KB: the replay batch fails part-way)
rm -rf r2
expect_fail "run: disk full during the cells" "write failed: File too large" \
  limit_fsize 9 "$HC" run rep.json -o r2 --quiet --no-render
raw_have_cells r2
no_partials r2

# ---- run: cells/ that cannot be written fails before any work
first=$("$HC" run rep.json --list | head -1 | cut -d' ' -f1)
if [ "$(id -u)" != 0 ]; then
  rm -rf r3; mkdir -p r3/cells; chmod 555 r3/cells
  expect_fail "run: read-only cells/" "r3/cells/$first.json.partial: cannot write: Permission denied" \
    "$HC" run rep.json -o r3 --quiet --no-render
  [ -z "$(ls r3/raw 2>/dev/null)" ] || fail "a read-only cells/ left raw/ results: $(ls r3/raw)"
  chmod 755 r3/cells
else
  echo "note: running as root, where chmod does not stop writes: only the cases below"
fi
# (as root too) the cell file's temporary name is taken by a folder: nothing computed
rm -rf r3; mkdir -p "r3/cells/$first.json.partial"
expect_fail "run: cell file cannot be written" "r3/cells/$first.json.partial: cannot write: Is a directory" \
  "$HC" run rep.json -o r3 --quiet --no-render
[ -z "$(ls r3/raw 2>/dev/null)" ] || fail "an unwritable cell file left raw/ results: $(ls r3/raw)"
# the cell file's final name is a folder: computed, not recorded, raw/ removed again
rm -rf r3; mkdir -p "r3/cells/$first.json"
"$HC" run rep.json -o r3 --quiet --no-render >out.txt 2>err.txt && fail "run: a cell file that is a folder succeeded"
tail -1 err.txt | grep -qF "cannot rename to r3/cells/$first.json: Is a directory" ||
  { fail "run: cell file cannot be renamed:"; cat err.txt; }
raw_have_cells r3
# output paths that are files
echo x > afile
expect_fail "run: -o is a file" "afile: exists and is not a directory" "$HC" run rep.json -o afile --quiet --no-render
rm -rf r4; mkdir r4; echo x > r4/cells
expect_fail "run: cells is a file" "r4/cells: exists and is not a directory" "$HC" run rep.json -o r4 --quiet --no-render
[ ! -e r4/raw ] || fail "cells as a file left r4/raw"

# ---- sample: grid.png, samples.h5 and metrics.json appear together
# (n=20 at 8x8: grid.png ~2 KB, samples.h5 ~11 KB; a 6 KB cap fails samples.h5)
sample=("$HC" sample --model "$DATA/golden_flux_tiny.safetensors" --classifier '' --n 20 --steps 3 --batch 20 --quiet)
rm -rf s
expect_fail "sample: disk full" "s/samples.h5: write failed: File too large" limit_fsize 6 "${sample[@]}" -o s
for f in grid.png samples.h5 metrics.json; do [ ! -e "s/$f" ] || fail "a failed sample left s/$f"; done
no_partials s
"${sample[@]}" -o s >/dev/null 2>err.txt || { fail "sample"; cat err.txt; }
for f in grid.png samples.h5 metrics.json; do [ -s "s/$f" ] || fail "sample did not write s/$f"; done

# ---- gauss: figures with the tables or not at all; gnuplot's truncated images are caught
if need "gnuplot-nox (gnuplot)" command -v gnuplot; then
  rm -rf g
  expect_fail "gauss: disk full while gnuplot renders" "gnuplot wrote an incomplete" \
    limit_fsize 14 "$HC" gauss --traj t.h5 -o g --modules 'dit/0/attn' --order 1 --sample 200
  [ -z "$(find g -type f)" ] || fail "a failed gauss left files: $(find g -type f)"
  no_partials g
fi

# ---- names in configs stay inside the output folder
mkdir -p nm/sub
for bad in '..' '../x' 'a/b'; do
  sed "s#\"name\": \"rep\"#\"name\": \"$bad\"#; s#\"t.h5\"#\"../../t.h5\"#" rep.json > nm/sub/n.json
  (cd nm/sub && expect_fail "run: name '$bad'" "n.json: \$.name: '$bad' names the output folder" \
     "$HC" run n.json --quiet --no-render)
done
[ -z "$(find nm -mindepth 1 -type d ! -path nm/sub)" ] && [ -z "$(find nm -name '*.csv' -o -name '*.md')" ] ||
  fail "a refused name wrote outputs: $(find nm)"
echo '{"name": "..", "gauss": {"files": ["t.h5"]}}' > gn.json
expect_fail "run: gauss name '..'" "gn.json: \$.name: '..' names the output folder" "$HC" run gn.json --quiet
echo '{"replay": {"files": ["t.h5"]}, "methods": ["full"], "figures": [{"name": "../f", "type": "curve"}]}' > fn.json
expect_fail "run: figure name" "fn.json: \$.figures[0].name: '../f': use letters" "$HC" run fn.json --quiet

# ---- resume: damaged cell files (valid JSON) are computed again, saying so
cell() { ls r/cells/replay-"$1"-*.json | head -1; }
python3 - "$(cell taylor)" "$(cell full)" <<'PY' || fail "damaging cell files"
import json, sys
d = json.load(open(sys.argv[1])); d["metrics"] = {}; json.dump(d, open(sys.argv[1], "w"))
d = json.load(open(sys.argv[2])); d["metrics"]["rel_l2"] = "x"; json.dump(d, open(sys.argv[2], "w"))
PY
"$HC" run rep.json -o r --no-render >out.txt 2>err.txt || { fail "resume with damaged cells"; cat err.txt; }
grep -q "metrics.rel_l2: expected a number or null, got \"x\"; computing the cell again" err.txt ||
  { fail "no message for a wrong-typed metric:"; cat err.txt; }
grep -q "metrics.rel_l2: missing; computing the cell again" err.txt || { fail "no message for empty metrics:"; cat err.txt; }
grep -q '2 computed, 2 loaded' out.txt || { fail "damaged cells were not recomputed:"; cat out.txt; }
grep -q '—' r/table.md && fail "table.md shows a missing value after the resume"

# ---- grids: 10^8 cells refused at once, naming the count and the limit
python3 -c '
import json; v = list(range(1, 101))
json.dump({"replay": {"files": ["t.h5"]}, "methods": ["full", {"spec": "clusca", "grid": {"N": v, "W": v, "K": v, "seed": v}}]}, open("big.json", "w"))'
# (refused before expanding: the timeout only guards against a hang; no timing is asserted)
expect_fail "run: 10^8-cell grid" "big.json: \$.methods[1]: the grid would produce 100000001 cells (100000000 from this entry), more than the limit of 100000" \
  timeout 60 "$HC" run big.json --list

finish
