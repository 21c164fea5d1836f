#!/usr/bin/env bash
# hicache bench replay (one and several methods per file, threaded and
# serial reads) and bench replay-scale (table, fitted slopes, the figure's
# CSV and script, the synthetic file removed, one-line errors); and replay
# with HC_REPLAY_SERIAL=1 writes the same results.csv as with the reader thread.
# usage: cli_bench_replay.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1
source "$(dirname "$0")/lib_cli.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$HC" synth -o s16.h5 --steps 12 --tokens 24 --channels 16 --dtype float16 >/dev/null || fail "synth"
"$HC" bench replay s16.h5 --reps 1 >out.txt 2>&1 || fail "bench replay: $(cat out.txt)"
[ "$(grep -c '^replay / raw read' out.txt)" = 2 ] || fail "bench replay: not two ratios: $(cat out.txt)"
grep -q 'target <= 2.50' out.txt || fail "bench replay: no five-method target: $(cat out.txt)"
"$HC" bench replay s16.h5 --reps 1 --serial --method reuse:N=3 >out.txt 2>&1 || fail "bench replay --serial"
[ "$(grep -c '^replay / raw read' out.txt)" = 1 ] || fail "bench replay, one method: $(cat out.txt)"
grep -q 'serial reads' out.txt || fail "bench replay --serial does not say so"
expect_fail "bench replay: no file" "no trajectory FILE given" "$HC" bench replay --reps 1

"$HC" replay --traj s16.h5 --method taylor:N=3 clusca:N=4,K=4 -o t -q >/dev/null || fail "replay"
HC_REPLAY_SERIAL=1 "$HC" replay --traj s16.h5 --method taylor:N=3 clusca:N=4,K=4 -o s -q >/dev/null || fail "replay serial"
cmp -s t/results.csv s/results.csv || fail "serial and threaded replay differ"

mkdir scr
"$HC" bench replay-scale --point 16x8x2 --point 32x8x2 --point 32x16x4 --steps 8 --reps 1 --dir scr --out fig \
  --no-render >out.txt 2>err.txt || fail "bench replay-scale: $(cat err.txt)"
grep -q '^time: log-log slope' out.txt || fail "replay-scale: no time slope: $(cat out.txt)"
grep -q '^memory: peak RSS - baseline' out.txt || fail "replay-scale: no memory fit"
[ "$(grep -cE '^ +(16|32) +(8|16) +[24] ' out.txt)" = 3 ] || fail "replay-scale: not three rows: $(cat out.txt)"
[ "$(wc -l <fig/replay_scale.csv)" = 4 ] || fail "replay-scale: the CSV has not 3 rows"
[ -s fig/replay_scale.gp ] || fail "replay-scale: no gnuplot script"
[ -z "$(ls scr)" ] || fail "replay-scale left files in --dir: $(ls scr)"
expect_fail "replay-scale: bad point" "--point '8x8': expected TOKENSxCHANNELSxMODULES" \
  "$HC" bench replay-scale --point 8x8
expect_fail "replay-scale: bad dir" "--dir nowhere: not a directory" "$HC" bench replay-scale --dir nowhere
finish
