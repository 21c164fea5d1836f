#!/usr/bin/env bash
# DiT end to end through the CLI on the tiny official-layout golden model:
# sample (guided and --guidance 1) with --record, the recorded file
# (/steps/t = the DDPM timestep indices, /latents, /hidden, /signals), replay of it
# priced by the DiT cost model and with each decision policy, each policy
# live, a classifier on latent images refused in one line, bench forward on
# it and on a synthetic config, and the shipped DiT experiment configs listed
# with the tiny model standing in.
# usage: cli_dit.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1; DATA=$2; SRC=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export OPENBLAS_NUM_THREADS=1
EXPECT_RC=1
source "$(dirname "$0")/lib_cli.sh"
M=$DATA/golden_dit_tiny.safetensors
SPEC='clusca:base=hicache,N=4,sched=dit,W=2,O=2,sigma=0.5,K=4'

if ! "$HC" sample --model "$M" --n 3 --steps 10 --guidance 1.5 --classifier '' --method "$SPEC" \
     --record rec.h5 -o s --quiet >out.txt 2>err.txt; then
  fail "sample: $(cat err.txt)"
else
  grep -q '"full_steps":	4' out.txt || fail "sample: want 4 full steps of 10 (sched=dit, N=4, W=2): $(cat out.txt)"
  "$HC" info rec.h5 >info.txt 2>&1 || fail "info rec.h5: $(cat info.txt)"
  grep -q '^steps     10, t = 999.0000, 888.0000, 777.0000' info.txt || fail "info: /steps/t: $(grep steps info.txt)"
  grep -q 'sampler   ddim eta 0' info.txt || fail "info: sampler: $(grep sampler info.txt)"
  for d in 'feature  dit/1/mlp .* \[10,16,64\]' 'hidden   dit/1 .* \[10,16,64\]' 'latent   out .* \[10,4,8,8\]' \
           'latent   x .* \[11,4,8,8\]'; do
    grep -q "$d" info.txt || fail "info: no '$d'"
  done
  if ! "$HC" replay --traj rec.h5 --method 'taylor:N=4,sched=dit,W=2,O=2' "$SPEC" -o rp --quiet >out.txt 2>err.txt; then
    fail "replay: $(cat err.txt)"
  else
    [ -s rp/results.csv ] || fail "replay: no results.csv"
  fi
  # the recording carries the DiT's policy signals; policies replay open loop from them
  grep -q '^signals   mod_in_change \[10\], head_resid_change \[10, 10\], resid_norm \[10\]' info.txt ||
    fail "info: no DiT signals: $(grep signals info.txt)"
  if ! "$HC" replay --traj rec.h5 --method 'taylor@teacache' 'reuse@fbcache:delta=0.5' 'hicache@magcache:W=3' \
       -o rq >out.txt 2>err.txt; then
    fail "replay with policies: $(cat err.txt)"
  else
    for p in TeaCache FBCache MagCache; do grep -q "@ $p" out.txt || fail "replay: no $p row: $(cat out.txt)"; done
  fi
fi
# each policy closed loop on the DiT, recording its run (signals and features) and replayed
for pol in 'teacache' 'magcache:W=2' 'fbcache:delta=0.5'; do
  "$HC" sample --model "$M" --n 1 --steps 8 --classifier '' --method "reuse@$pol" --record "p.h5" -o "sp" \
    --quiet >out.txt 2>err.txt || fail "sample reuse@$pol: $(cat err.txt)"
  "$HC" replay --traj p.h5 --method "taylor@$pol" -o rr --quiet >out.txt 2>err.txt || fail "replay @$pol: $(cat err.txt)"
  rm -rf p.h5 sp rr
done
"$HC" sample --model "$M" --n 2 --steps 4 --guidance 1 --classifier '' -o s1 --quiet >out.txt 2>err.txt ||
  fail "sample --guidance 1: $(cat err.txt)"
expect_fail "classifier on latents" "samples 4x8x8 images; the classifier reads 1x28x28" \
  "$HC" sample --model "$M" --n 2 --steps 4 -o s2 --classifier "$SRC/data/models/fmnist_classifier.safetensors"
expect_fail "DDIM steps over 1000" "DDIM: cannot divide 1000 timesteps into 1001 steps" \
  "$HC" sample --model "$M" --n 1 --steps 1001 --classifier '' -o s3 --quiet
"$HC" bench forward --model "$M" --images 2 --reps 1 --steps 6 --N 3 >out.txt 2>&1 ||
  fail "bench forward: $(cat out.txt)"
grep -q '^dit forward, batch 4' out.txt || fail "bench forward: $(head -1 out.txt)"
# live reports carry the cache size: a 16-bit cache is exactly half a float32 one
for c in f32 f16 bf16; do
  "$HC" sample --model "$M" --n 1 --steps 10 --classifier '' --method "taylor:N=4,sched=dit,W=2,O=2,cache=$c" \
    -o c$c --quiet >c$c.txt 2>&1 || fail "sample cache=$c: $(cat c$c.txt)"
done
mib() { sed -n 's/^[[:space:]]*"cache_mib":[[:space:]]*\([0-9.e+-]*\),*$/\1/p' "$1"; }
m32=$(mib cf32/metrics.json); m16=$(mib cf16/metrics.json); mb16=$(mib cbf16/metrics.json)
awk -v a="$m32" -v b="$m16" -v c="$mb16" 'BEGIN { exit !(a > 0 && b == a / 2 && c == b) }' ||
  fail "sample: cache_mib f32 '$m32', f16 '$m16', bf16 '$mb16' (want f16 = bf16 = f32 / 2 > 0)"
for l in 'memory floor, cached step' 'wall / FLOPs at most'; do
  grep -q "^$l " out.txt || fail "bench forward: no '$l' line: $(cat out.txt)"
done
cat > small.json <<JSON
{"arch": "dit", "input_size": 16, "in_channels": 4, "patch_size": 2, "hidden_size": 96, "depth": 3, "num_heads": 6,
 "mlp_ratio": 4.0, "num_classes": 1000, "learn_sigma": true, "class_dropout_prob": 0.1, "freq_dim": 256,
 "ln_eps": 1e-06, "prediction": "epsilon", "cfg_channels": 3, "default_guidance": 1.5,
 "diffusion": {"num_train_timesteps": 1000, "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02}}
JSON
"$HC" bench forward --config small.json --images 1 --reps 1 --no-sampling >out.txt 2>&1 ||
  fail "bench forward --config: $(cat out.txt)"
grep -q 'sampling' out.txt && fail "bench forward --no-sampling sampled"
for n in table_dit pareto_dit policies_dit; do
  sed -e "s#data/models/dit_fmnist.safetensors#$M\", \"classifier\": \"#" "$SRC/experiments/$n.json" >$n.json
  "$HC" run $n.json --list -o r$n >out.txt 2>err.txt || fail "run --list $n: $(cat err.txt)"
done
finish
