#!/usr/bin/env bash
# `hicache run --shard I/K` and `--merge` (job arrays without MPI,
# docs/cluster.md): shards merged give the tables of one process, the
# partition covers every cell once, a merge with missing cells names them.
# Value-by-value comparison ignoring timing: tools/compare_runs.py.
# usage: cli_shard.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1; DATA=$2; SRC=$3
LIB=$(cd "$(dirname "$0")" && pwd)/lib_cli.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export OPENBLAS_NUM_THREADS=1 TMPDIR="$tmp"
source "$LIB"
EXPECT_RC=1

"$HC" synth -o t.h5 --steps 20 >/dev/null || bad "synth"
cat > tiny.json <<JSON
{"name": "tiny",
 "replay": {"files": ["t.h5"]},
 "live": {"model": "$DATA/golden_flux_tiny.safetensors", "classifier": "", "n": 2, "steps": 10, "batch": 2, "seeds": [0, 1]},
 "methods": ["full", {"spec": "full", "steps_matching": "taylor:N=3,O=2"}, "taylor:N=3,O=2",
             {"spec": "hicache:O=2", "grid": {"N": [3, 4]}}],
 "figures": [{"name": "front", "type": "pareto"}, {"name": "err", "type": "curve", "x": "step", "y": "rel_l2"}]}
JSON

"$HC" run tiny.json -o ser --no-render -q || bad "serial run"
cp -r ser ser_loaded && settle tiny.json ser_loaded
# ---- shards for job arrays, and the merge
"$HC" run tiny.json -o sh --shard 0/2 --no-render >sh0.out 2>&1 || bad "shard 0/2"
grep -q 'shard 0/2' sh0.out || { bad "shard summary"; cat sh0.out; }
"$HC" run tiny.json -o sh --merge --no-render >m.out 2>m.err; rc=$?
[ $rc -eq 2 ] || bad "merge with missing cells: exit $rc, want 2"
[ "$(wc -l <m.err)" -eq 1 ] && grep -q '^hicache run: merge: [0-9]* of 14 cells missing' m.err || { bad "merge: missing cells line"; cat m.err; }
"$HC" run tiny.json -o sh --shard 1/2 --no-render >/dev/null 2>&1 || bad "shard 1/2"
"$HC" run tiny.json -o sh --merge --no-render >m.out 2>m.err || { bad "merge"; cat m.out m.err; }
grep -q '0 computed, 14 loaded' m.out || { bad "merge computed something"; cat m.out; }
same ser_loaded sh "shards 0/2 + 1/2, merged = 1 process"
# the partition is the same in every shard: together they cover every cell once
for i in 0 1 2; do "$HC" run tiny.json -o s3 --shard $i/3 --no-render -q || bad "shard $i/3"; done
n=$(ls s3/cells | wc -l); [ "$n" -eq 14 ] || bad "3 shards wrote $n cells, want 14"
expect_fail "--shard 3/3" "--shard I: 3 out of range" "$HC" run tiny.json --shard 3/3
expect_fail "--shard x" "is not I/K" "$HC" run tiny.json --shard x
finish
