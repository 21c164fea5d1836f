#!/usr/bin/env bash
# hicache replay's guards: --max-memory (the memory a file needs, checked
# before allocating) and --nonfinite (NaN/Inf policy; zero and skip say so
# on every output), each with a one-line error on bad input.
# usage: cli_replay_guard.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1; DATA=$2
source "$(dirname "$0")/lib_cli.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$HC" synth -o s.h5 --steps 20 --seed 4 >/dev/null || fail "synth"

expect_fail "replay: memory limit" "s.h5: module dit/0/attn [20, 16, 32] needs about" \
  "$HC" replay --traj s.h5 --method taylor -o r --max-memory 16K
grep -q "over the memory limit of 16.0 KiB (--max-memory)" err.txt || fail "memory limit message: $(cat err.txt)"
[ -e r/results.csv ] && fail "a refused replay wrote results"
expect_fail "replay: bad size" "--max-memory: '2X' is not a size" "$HC" replay --traj s.h5 --method taylor --max-memory 2X
expect_fail "replay: bad policy" "--nonfinite: 'ignore' (valid: refuse, zero, skip)" \
  "$HC" replay --traj s.h5 --method taylor --nonfinite ignore
expect_fail "info: partly written" "steps never written: 2, 4" "$HC" info "$DATA/bad_partial.h5"
expect_fail "replay: partly written" "steps never written: 2, 4" "$HC" replay --traj "$DATA/bad_partial.h5" --method taylor

# enough memory, and a clean file under --nonfinite zero: the same numbers
# as the default, and the outputs say which policy ran
"$HC" replay --traj s.h5 --method taylor:N=4 clusca:K=4 -o a -q --max-memory 1G >a.txt || fail "replay under 1G"
"$HC" replay --traj s.h5 --method taylor:N=4 clusca:K=4 -o b -q --nonfinite zero >b.txt || fail "replay --nonfinite zero"
cmp -s a/results.csv b/results.csv || fail "--nonfinite zero changed results.csv of a clean file"
grep -q "non-finite values (--nonfinite zero): 0 rows set to 0" b.txt || fail "the table does not state the policy"
grep -q '"nonfinite":' b/summary.json || fail "summary.json does not state the policy"
grep -q 'nonfinite' a/summary.json && fail "the default summary.json changed"
grep -q 'non-finite' a.txt && fail "the default table changed"
finish
