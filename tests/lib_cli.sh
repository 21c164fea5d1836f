# lib_cli.sh: shared by the CLI tests (sourced).  Counts failures in $fails.
fails=0

fail() { echo "FAIL: $*"; fails=$((fails+1)); }

# expect_fail DESCRIPTION EXPECTED_SUBSTRING CMD...: the command must exit
# non-zero (exactly $EXPECT_RC when set) with exactly one stderr line that
# contains EXPECTED_SUBSTRING.
expect_fail() {
  local what=$1 want=$2; shift 2
  "$@" >out.txt 2>err.txt; local rc=$?
  local lines; lines=$(wc -l <err.txt)
  if [ $rc -eq 0 ] || { [ -n "${EXPECT_RC:-}" ] && [ $rc -ne "$EXPECT_RC" ]; } || [ "$lines" -ne 1 ] ||
     ! grep -qF -- "$want" err.txt; then
    fail "$what: rc=$rc${EXPECT_RC:+ (want $EXPECT_RC)}, $lines stderr lines (want 1 containing '$want'):"; cat err.txt
  else
    echo "ok: $what: $(cat err.txt)"
  fi
}
