#!/usr/bin/env bash
# Decision policies from the command line: P@fixed:N=... gives P:N=...'s
# numbers (replay and live); sample --record writes /signals, replay runs a
# policy open loop from them; a file without them is one clear line.
# usage: cli_policies.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1; SRC=$3
source "$(dirname "$0")/lib_cli.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
T="$SRC/data/trajectories/fmnist_tshirt_seed1.h5"
M="$SRC/data/models/flux_mini.safetensors"

"$HC" replay -q --traj "$T" --method hicache:N=5 clusca:base=hicache,N=4 taylor:sched=dit -o a >/dev/null || fail "replay P:N"
"$HC" replay -q --traj "$T" --method hicache@fixed:N=5 clusca:base=hicache@fixed:N=4 taylor@fixed:sched=dit -o b \
  >/dev/null || fail "replay P@fixed"
strip() { sed "s|^[^/]*,$T,|,|" "$1"; } # the method column is the spec as given
cmp -s <(strip a/results.csv) <(strip b/results.csv) || fail "@fixed changed replay numbers"
[ "$(wc -l < a/results.csv)" -gt 100 ] || fail "replay wrote too few rows"

nums() { grep -E '"(rel_l2|psnr|ssim|full_steps|flops|flops_speedup|macs)":' "$1/metrics.json" | head -8; }
"$HC" sample --model "$M" --n 1 --batch 1 --steps 8 --classifier '' --method taylor:N=3 -o la >/dev/null 2>&1 \
  || fail "sample P:N"
"$HC" sample --model "$M" --n 1 --batch 1 --steps 8 --classifier '' --method taylor@fixed:N=3 -o lb >/dev/null 2>&1 \
  || fail "sample P@fixed"
[ -n "$(nums la)" ] && cmp -s <(nums la) <(nums lb) || fail "@fixed changed live numbers: $(nums la) / $(nums lb)"

"$HC" sample --model "$M" --n 1 --batch 1 --steps 12 --classifier '' --method 'taylor@teacache' --record rec.h5 \
  --record-modules 'double/0/*,single/5/*' -o lc >/dev/null 2>&1 || fail "sample --record with a policy"
"$HC" info rec.h5 >info.txt 2>&1 || fail "info of a file with signals"
"$HC" replay -q --traj rec.h5 --method 'taylor@teacache' 'reuse@fbcache' 'hicache@magcache:W=3' -o c >out.txt 2>&1 \
  || fail "replay with policies: $(cat out.txt)"
grep -q 'TeaCache' out.txt || fail "the table does not name the policy"
expect_fail "replay: no signals" "no signal mod_in_change" "$HC" replay -q --traj "$T" --method taylor@teacache -o d
grep -q "$T" err.txt || fail "the message does not name the file: $(cat err.txt)"
expect_fail "bad policy" "unknown policy 'nope'" "$HC" replay --traj rec.h5 --method taylor@nope -o d

# calibration from the recorded signals, used by the policies
"$HC" calibrate --help | grep -q 'teacache.poly' || fail "calibrate --help"
"$HC" calibrate rec.h5 -o cal/calib.json --sigmas 0.3,0.6 --sweep 'reuse@fbcache' --deltas 0.05,0.2 >cal.txt 2>&1 \
  || fail "calibrate: $(cat cal.txt)"
for k in '"teacache"' '"poly"' '"magcache"' '"ratios"' '"best_sigma"' '"provenance"'; do
  grep -q "$k" cal/calib.json || fail "calib.json lacks $k"
done
[ "$(wc -l < cal/sweep.csv)" -eq 3 ] || fail "sweep.csv: $(cat cal/sweep.csv)"
"$HC" replay -q --traj rec.h5 --method 'taylor@teacache:calib=cal/calib.json,delta=0.2' \
  'taylor@magcache:calib=cal/calib.json' -o e >/dev/null 2>&1 || fail "replay with a calibration"
expect_fail "calibrate: no signals" "no signal mod_in_change" "$HC" calibrate "$T" -o cal2/calib.json
[ -e cal2/calib.json ] && fail "a failed calibration wrote its file"
expect_fail "a policy without calibration" "unknown key 'calib' for policy fbcache" \
  "$HC" replay -q --traj rec.h5 --method 'taylor@fbcache:calib=cal/calib.json' -o f
finish
