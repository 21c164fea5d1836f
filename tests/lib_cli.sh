# lib_cli.sh: shared by the CLI tests (sourced).  Counts failures in $fails
# and skips in $skips; end a test with `finish`.
fails=0
skips=0

fail() { echo "FAIL: $*"; fails=$((fails+1)); }

# skip REASON: a visible, counted skip of part of a test.
skip() { echo "SKIP: $*"; skips=$((skips+1)); }

# need WHAT CMD...: succeeds when CMD does (output discarded).  Otherwise the
# declared dependency WHAT (a package of tools/debian-packages.txt or a file
# in the repository) is missing: a one-line failure naming it, or a skip
# where HC_ALLOW_MISSING_DEPS=1 (developers on other machines; never CI);
# either way need returns 1, so `need ... && check` or `if need ...; then`.
need() {
  local what=$1; shift
  "$@" >/dev/null 2>&1 && return 0
  if [ "${HC_ALLOW_MISSING_DEPS:-}" = 1 ]; then skip "missing $what (HC_ALLOW_MISSING_DEPS=1)"
  else fail "missing declared dependency: $what (HC_ALLOW_MISSING_DEPS=1 makes it a skip)"; fi
  return 1
}

# finish: exit 1 on failures, else 77 (CTest's SKIP_RETURN_CODE) on skips, else 0.
finish() {
  echo "$fails failure(s), $skips skip(s)"
  [ "$fails" -eq 0 ] || exit 1
  [ "$skips" -eq 0 ] || exit 77
  exit 0
}

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

# fsize_limited KIB CMD...: run CMD with RLIMIT_FSIZE = KIB KiB (bash's
# `ulimit -f` unit) and SIGXFSZ ignored, so a write past the limit fails
# with EFBIG ("File too large") as on a full disk instead of killing CMD.
fsize_limited() {
  local kib=$1; shift
  bash -c 'trap "" XFSZ; ulimit -f "$0" || exit 125; exec "$@"' "$kib" "$@"
}

# mount_tmpfs DIR KIB: mount a KIB-KiB tmpfs on DIR (a size-limited
# filesystem: writes past it fail with ENOSPC).  Fails quietly where mounts
# are not allowed (not root, or a container without CAP_SYS_ADMIN); the
# caller unmounts (umount DIR).
mount_tmpfs() {
  [ "$(id -u)" -eq 0 ] || return 1
  mkdir -p "$1" && mount -t tmpfs -o "size=${2}k,mode=0755" hc_faults "$1" 2>/dev/null
}

# stderr_errors FILE: FILE's lines other than progress lines ("run: ...",
# "sample: ...", "replay: ...", "synth: ..."): the error messages.
stderr_errors() { grep -vE '^(run|sample|replay|synth|gauss): ' "$1"; }

# limit_fsize KB CMD...: the same as fsize_limited (a full disk for one file
# at a time).
limit_fsize() { fsize_limited "$@"; }

# no_partials DIR: fail if a temporary output (NAME.partial or a .partial
# staging folder) was left anywhere under DIR.
no_partials() {
  local left; left=$(find "$1" -name '*.partial' 2>/dev/null)
  [ -z "$left" ] || fail "temporary outputs left under $1: $left"
}

# ---- comparing experiment runs (cli_mpi.sh, cli_shard.sh; need $HC, $SRC) ----
bad() { fail "$@"; }
# same DIR_A DIR_B WHAT: every non-timing value equal (tools/compare_runs.py)
same() {
  python3 "$SRC/tools/compare_runs.py" "$1" "$2" >cmp.txt 2>&1 && echo "ok: $3" || { bad "$3:"; cat cmp.txt; }
}
# settle CFG DIR: the report written again from DIR's cell files alone, so
# that runs compared have each loaded the same cells
settle() { "$HC" run "$1" -o "$2" --quiet --no-render || bad "settle $2"; }
