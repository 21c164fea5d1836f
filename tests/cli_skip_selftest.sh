#!/usr/bin/env bash
# The skip machinery of lib_cli.sh does what CTest needs: a skip alone exits
# 77 (SKIP_RETURN_CODE), a skip with a failure exits 1, a missing declared
# dependency fails naming it unless HC_ALLOW_MISSING_DEPS=1 (exactly "1")
# makes it a skip.  Each case runs in a fresh bash that sources lib_cli.sh.
# usage: cli_skip_selftest.sh HICACHE DATA_DIR SOURCE_DIR (arguments unused)
set -u
LIB="$(cd "$(dirname "$0")" && pwd)/lib_cli.sh"
bad=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# check WANT_RC WANT_LINE ALLOW SCRIPT: run SCRIPT after sourcing lib_cli.sh
# with HC_ALLOW_MISSING_DEPS=ALLOW ("-": unset); the exit status must be
# WANT_RC and exactly one output line must contain WANT_LINE.
check() {
  local want=$1 line=$2 allow=$3 script=$4 rc
  if [ "$allow" = - ]; then
    env -u HC_ALLOW_MISSING_DEPS bash -c "source '$LIB'; $script" >"$tmp/out" 2>&1; rc=$?
  else
    HC_ALLOW_MISSING_DEPS=$allow bash -c "source '$LIB'; $script" >"$tmp/out" 2>&1; rc=$?
  fi
  if [ $rc -ne "$want" ] || [ "$(grep -cF -- "$line" "$tmp/out")" -ne 1 ]; then
    echo "FAIL: [$script] HC_ALLOW_MISSING_DEPS=$allow: exit $rc (want $want), output:"; cat "$tmp/out"
    bad=$((bad+1))
  else
    echo "ok: [$script] HC_ALLOW_MISSING_DEPS=$allow -> exit $rc"
  fi
}

check 0  "0 failure(s), 0 skip(s)" - 'finish'
check 77 "SKIP: why" - 'skip why; finish'
check 1  "FAIL: boom" - 'skip why; fail boom; finish'
check 0  "0 failure(s), 0 skip(s)" - 'need present-package true || fail "need true"; finish'
check 1  "missing declared dependency: selftest-package" - 'need selftest-package false; finish'
check 1  "missing declared dependency: selftest-package" 0 'need selftest-package false; finish'
check 77 "SKIP: missing selftest-package (HC_ALLOW_MISSING_DEPS=1)" 1 'need selftest-package false; finish'
# need returns 1 when the dependency is missing, so the check it guards never runs
guarded='if need selftest-package false; then echo "need returned 0"; else echo "need returned 1"; fi; finish'
check 77 "need returned 1" 1 "$guarded"
check 1  "need returned 1" - "$guarded"

echo "$bad failure(s)"
[ $bad -eq 0 ]
