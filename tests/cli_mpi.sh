#!/usr/bin/env bash
# `mpirun -np 2 hicache run` over loopback (docs/cluster.md): the same
# tables as one process, a killed rank that loses no finished cell, resume
# in both directions (shards without MPI: cli_shard.sh).  MPI is in the install
# list (tools/debian-packages.txt): a hicache built without it, or no
# mpirun, is a failure, not a skip.  Value-by-value comparison ignoring
# timing: tools/compare_runs.py (standard-library Python).
# usage: cli_mpi.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1; DATA=$2; SRC=$3
LIB=$(cd "$(dirname "$0")" && pwd)/lib_cli.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export OPENBLAS_NUM_THREADS=1 TMPDIR="$tmp"
source "$LIB"
EXPECT_RC=1

need "openmpi-bin (mpirun)" command -v mpirun || finish
MPI=(mpirun --oversubscribe -np 2)
[ "$(id -u)" = 0 ] && MPI+=(--allow-run-as-root)
# containers without ssh/rsh: every rank on this node
export OMPI_MCA_plm_rsh_agent=false OMPI_MCA_btl_vader_single_copy_mechanism=none

"$HC" run --help | grep -q -- '--shard I/K' || bad "--help names --shard"
"$HC" run --help | grep -q 'mpirun -np K hicache run' || bad "--help names mpirun"

"$HC" synth -o t.h5 --steps 20 >/dev/null || bad "synth"
echo '{"replay": {"files": ["t.h5"]}, "methods": ["full"]}' > one.json
# a hicache built without MPI refuses to run under mpirun (and names why)
need "MPI in this hicache (libopenmpi-dev; cmake -DHC_MPI=ON)" "${MPI[@]}" "$HC" run one.json --list || finish
cat > tiny.json <<JSON
{"name": "tiny",
 "replay": {"files": ["t.h5"]},
 "live": {"model": "$DATA/golden_flux_tiny.safetensors", "classifier": "", "n": 2, "steps": 10, "batch": 2, "seeds": [0, 1]},
 "methods": ["full", {"spec": "full", "steps_matching": "taylor:N=3,O=2"}, "taylor:N=3,O=2",
             {"spec": "hicache:O=2", "grid": {"N": [3, 4]}}],
 "figures": [{"name": "front", "type": "pareto"}, {"name": "err", "type": "curve", "x": "step", "y": "rel_l2"}]}
JSON

# ---- one process, and 2 ranks: identical
"$HC" run tiny.json -o ser --no-render -q || bad "serial run"
cp -r ser ser_loaded && settle tiny.json ser_loaded
if ! "${MPI[@]}" "$HC" run tiny.json -o par --no-render >par.out 2>par.err; then
  bad "mpirun -np 2:"; cat par.out par.err
else
  grep -q '14 cells (14 computed' par.out || { bad "mpirun summary"; cat par.out; }
  grep -q '(rank 1)$' par.err || { bad "rank 1 computed nothing"; cat par.err; }
  [ -z "$(ls "$tmp" | grep hicache-rank)" ] || bad "scratch folders left behind"
  same ser par "2 ranks = 1 process"
fi

# ---- resume: 2 ranks after a partial serial run, serial after a partial 2-rank run
"$HC" run tiny.json -o a --no-render -q --max-cells 5 || bad "partial serial"
"${MPI[@]}" "$HC" run tiny.json -o a --no-render >a.out 2>&1 || { bad "mpirun resume"; cat a.out; }
grep -q '9 computed, 5 loaded' a.out || { bad "mpirun resume counts"; cat a.out; }
settle tiny.json a; same ser_loaded a "MPI after serial"
"${MPI[@]}" "$HC" run tiny.json -o b --no-render -q --max-cells 6 || bad "partial mpirun"
n=$(ls b/cells | wc -l); [ "$n" -eq 6 ] || bad "partial mpirun wrote $n cells, want 6"
"$HC" run tiny.json -o b --no-render >b.out 2>&1 || { bad "serial resume"; cat b.out; }
grep -q '8 computed, 6 loaded' b.out || { bad "serial resume counts"; cat b.out; }
settle tiny.json b; same ser_loaded b "serial after MPI"

# ---- a rank killed mid-run: the run fails with a clear error, finished cells stay, rerun resumes
cat > slow.json <<JSON
{"name": "slow",
 "live": {"model": "$DATA/golden_flux_tiny.safetensors", "classifier": "", "n": 64, "steps": 100, "batch": 16,
          "seeds": [0, 1, 2, 3]},
 "methods": ["full", "taylor:N=3,O=2", "hicache:N=3,O=2"]}
JSON
"${MPI[@]}" "$HC" run slow.json -o k --no-render >k.out 2>k.err &
mp=$!
for _ in $(seq 600); do [ -n "$(ls k/cells 2>/dev/null | grep json$)" ] && break; sleep 0.05; done
victim=
for p in $(pgrep -P "$mp" 2>/dev/null) $(pgrep -f "slow.json -o k" 2>/dev/null); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$p
done
if [ -z "$victim" ]; then
  bad "no rank 1 process found to kill"; wait $mp
else
  kill -KILL "$victim"
  wait $mp; rc=$?
  [ $rc -ne 0 ] || bad "a killed rank: mpirun exited 0"
  grep -q 'hicache run: stopped by mpirun' k.err || { bad "a killed rank: no clear error from rank 0"; cat k.err; }
  [ ! -e k/table.md ] || bad "a killed rank: a report was written"
  n=$(ls k/cells | grep -c 'json$')
  [ "$n" -ge 1 ] && [ "$n" -lt 12 ] || bad "a killed rank: $n cells finished, want 1..11"
  "$HC" run slow.json -o k --no-render >k2.out 2>&1 || { bad "rerun after the kill"; cat k2.out; }
  grep -q "$((12 - n)) computed, $n loaded" k2.out || { bad "rerun counts ($n finished)"; cat k2.out; }
  "$HC" run slow.json -o kser --no-render -q || bad "slow serial"
  settle slow.json k; settle slow.json kser; same kser k "rerun after a killed rank"
  echo "ok: killed rank 1 after $n cells (mpirun exit $rc)"
fi

"${MPI[@]}" "$HC" run tiny.json --shard 0/2 >out.txt 2>err.txt && bad "--shard under mpirun ran"
grep -q 'are for runs without mpirun' err.txt || { bad "--shard under mpirun: message"; cat err.txt; }
finish
