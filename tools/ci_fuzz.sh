#!/usr/bin/env bash
# ci_fuzz.sh: build the libFuzzer targets (fuzz/, cmake/fuzz.cmake) and run
# each for a bounded time; exit 1 on any crash, leak, timeout, out-of-memory
# or sanitizer report.  Prints the executions per target.
#
#   tools/ci_fuzz.sh [TARGET...]      (default: every target but fuzz_traj_raw)
#
# Environment: FUZZ_SECONDS (per target, default 45), FUZZ_BUILD (build dir,
# default build-fuzz), FUZZ_JOBS (build parallelism, default 2), CC (default
# clang).  The corpus of each target grows in FUZZ_BUILD/corpus/TARGET
# (seeded by tools/fuzz_seeds.sh, kept between runs); findings go to
# FUZZ_BUILD/findings/TARGET/ and logs to FUZZ_BUILD/fuzz-logs/.
# Debian packages: tools/debian-packages-ci.txt.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-45}
build=$(realpath -m "${FUZZ_BUILD:-$src/build-fuzz}")
jobs=${FUZZ_JOBS:-2}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_safetensors fuzz_model_config fuzz_method fuzz_experiment fuzz_csv fuzz_traj)

echo "== fuzz: building in $build"
CC=${CC:-clang} cmake -S "$src" -B "$build" -DHC_FUZZ=ON -DHC_FATAL_WARNINGS=ON >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; echo "ci_fuzz: configure failed"; exit 1; }
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$build/build.log" 2>&1 ||
  { grep -E 'error|warning' "$build/build.log" | head -40; echo "ci_fuzz: build failed"; exit 1; }
rm -f "$build.configure.log"

"$src/tools/fuzz_seeds.sh" "$build/seeds" >/dev/null || { echo "ci_fuzz: seeds failed"; exit 1; }

# The experiment target resolves a config's paths from its working directory
# and fingerprints the files it names: run it in a sandbox of small stand-ins
# for the bundled model and trajectories (not the 9 MB model: 40x faster).
sandbox=$(mktemp -d "${TMPDIR:-/tmp}/hc_fuzz_sandbox.XXXXXX")
# the targets' scratch files (fuzz/fuzz_util.h): in memory where possible,
# and removed here too, since a target that crashes leaves its own behind
scratch=$(mktemp -d /dev/shm/hc_fuzz_ci.XXXXXX 2>/dev/null || mktemp -d "${TMPDIR:-/tmp}/hc_fuzz_ci.XXXXXX")
trap 'rm -rf "$sandbox" "$scratch"' EXIT
mkdir -p "$sandbox/data/models" "$sandbox/data/trajectories"
printf 'stand-in\n' > "$sandbox/data/models/flux_mini.safetensors"
printf 'stand-in\n' > "$sandbox/data/models/fmnist_classifier.safetensors"
cp "$src/tests/data/h5py_traj.h5" "$sandbox/data/trajectories/a.h5"
cp "$src/tests/data/bad_rank.h5" "$sandbox/data/trajectories/b.h5"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENBLAS_NUM_THREADS=1

fail=0
summary=()
for t in "${targets[@]}"; do
  exe=$build/fuzz/$t
  [ -x "$exe" ] || { echo "ci_fuzz: no target $t"; fail=1; continue; }
  corpus=$build/corpus/$t findings=$build/findings/$t log=$build/fuzz-logs/$t.log
  mkdir -p "$corpus" "$findings" "$build/fuzz-logs"
  opts=(-max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 -malloc_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$findings/")
  case $t in
    fuzz_method) opts+=(-dict="$src/fuzz/seeds/method.dict" -max_len=256) ;;
    fuzz_experiment) opts+=(-dict="$src/fuzz/seeds/json.dict" -max_len=4096) ;;
    fuzz_model_config | fuzz_safetensors) opts+=(-dict="$src/fuzz/seeds/json.dict" -max_len=8192) ;;
    fuzz_csv) opts+=(-max_len=4096) ;;
    fuzz_traj) opts+=(-max_len=1024) ;;
    fuzz_traj_raw) opts+=(-max_len=65536 -detect_leaks=0) ;;
  esac
  seeds=()
  [ -d "$build/seeds/$t" ] && seeds=("$build/seeds/$t")
  dir=$src
  [ "$t" = fuzz_experiment ] && dir=$sandbox
  echo "== fuzz: $t for ${secs}s"
  (cd "$dir" && TMPDIR=$scratch "$exe" "${opts[@]}" "$corpus" "${seeds[@]}") >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -ne 0 ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: )|runtime error:' "$log"; then
    fail=1
    result="FAIL (exit $rc)"
    echo "---- $t: last lines of $log"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^    #[0-9]+ .* in ' "$log" | head -30
  else
    result=ok
  fi
  summary+=("$(printf '%-18s %-14s %10s execs %8s/s  %-10s corpus %s' "$t" "$result" "${execs:-?}" "${rate:-?}" "${cov:-}" "$(ls "$corpus" | wc -l)")")
done
echo "== fuzz summary (${secs}s per target)"
printf '%s\n' "${summary[@]}"
if [ $fail -ne 0 ]; then
  echo "ci_fuzz: FAILED; reproduce with: $build/fuzz/TARGET FILE (inputs in $build/findings/)"
  exit 1
fi
echo "ci_fuzz: all targets clean"
