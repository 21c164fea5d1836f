#!/usr/bin/env bash
# CI stage: the whole project built with clang's AddressSanitizer and
# UndefinedBehaviorSanitizer (float-cast-overflow included; CMake option
# HC_SANITIZE, checks in HC_SANITIZERS) in its own build directory, then the
# WHOLE CTest suite run there.  Every test that shells out to the CLI gets the
# sanitized one (CTest passes $<TARGET_FILE:hicache_cli>).
#
# Any sanitizer report fails the stage (exit 1): each report aborts its
# program (-fno-sanitize-recover=all, halt_on_error=1), and every report is
# also written to a log file under $BUILD/sanitizer-logs, which is checked
# after the suite, so a report from a program whose failure a test expects
# (a CLI error case) is not hidden by that test passing.
#
# usage: tools/ci_sanitize.sh [BUILD_DIR]      (default build-asan)
# Needs the packages of tools/debian-packages.txt and
# tools/debian-packages-ci.txt (clang, libclang-rt-14-dev).
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${1:-build-asan}
JOBS=$(nproc 2>/dev/null || echo 2)
CC=${HC_SANITIZE_CC:-clang}

command -v "$CC" >/dev/null || { echo "ci_sanitize: $CC not found (tools/debian-packages-ci.txt)" >&2; exit 1; }

start=$(date +%s)
echo "== sanitized build ($CC, $BUILD)"
mkdir -p "$BUILD"
if ! CC=$CC cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHC_FATAL_WARNINGS=ON \
       -DHC_SANITIZE=ON -DHC_SANITIZERS=address,undefined,float-cast-overflow >"$BUILD/configure.log" 2>&1; then
  cat "$BUILD/configure.log"; echo "ci_sanitize: cmake configure failed" >&2; exit 1
fi
if ! cmake --build "$BUILD" -j"$JOBS" >"$BUILD/build.log" 2>&1; then
  grep -E 'error|warning' "$BUILD/build.log" || tail -40 "$BUILD/build.log"
  echo "ci_sanitize: sanitized build failed" >&2; exit 1
fi
built=$(date +%s)
echo "   built in $((built - start)) s"

# Reports go to LOGS/<tool>.<pid> (in a program built with both, UBSan's
# log_path wins: ubsan.<pid> holds ASan, LSan and UBSan reports alike);
# abort_on_error=0 and exitcode=86 make a reporting program exit with 86
# rather than dump core, a status no test expects (tests/cli_faults.sh
# names it).  fast_unwind_on_malloc=0: allocation stacks through libraries
# built without frame pointers (HDF5) are complete, so that the entries of
# tools/lsan.supp (leaks inside system libraries, each saying why) can name
# the library's function; it costs little since hot loops never allocate.
LOGS=$SRC/$BUILD/sanitizer-logs
rm -rf "$LOGS"; mkdir -p "$LOGS"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:fast_unwind_on_malloc=0:log_path=$LOGS/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$LOGS/ubsan"
export LSAN_OPTIONS="suppressions=$SRC/tools/lsan.supp:print_suppressions=0"

echo "== CTest suite, sanitized"
(cd "$BUILD" && ctest --output-on-failure -j"$JOBS"); ctest_rc=$?
end=$(date +%s)
echo "   suite in $((end - built)) s (build + suite $((end - start)) s)"

status=0
if [ -n "$(ls -A "$LOGS")" ]; then
  echo "FAIL: sanitizer report(s) in $LOGS:"
  for f in "$LOGS"/*; do
    echo "---- $f"
    # a program under a file-size limit (cli_faults.sh) may not be able to
    # write its report: the file is then empty, and the test names the case
    if [ -s "$f" ]; then cat "$f"; echo; else echo "(empty: the process could not write its report; see the failing test)"; fi
  done
  status=1
fi
[ $ctest_rc -eq 0 ] || { echo "FAIL: the sanitized CTest suite failed (exit $ctest_rc)"; status=1; }
[ $status -eq 0 ] && echo "ci_sanitize: no sanitizer reports, all tests pass"
exit $status
