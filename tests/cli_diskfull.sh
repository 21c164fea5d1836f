#!/usr/bin/env bash
# A full disk while a trajectory is written: one error line, exit status 1
# (never a crash at exit: HDF5 before 1.14.1 crashed in its shutdown after a
# failed close), and neither the final file nor FILE.partial left behind.
# Disk full is simulated with a file-size limit (RLIMIT_FSIZE, SIGXFSZ
# ignored) at several sizes, and, where this user may mount one, with a
# small tmpfs.
# usage: cli_diskfull.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1; DATA=$2
source "$(dirname "$0")/lib_cli.sh"
tmp=$(mktemp -d); mnt=""
cleanup() { [ -n "$mnt" ] && umount "$mnt" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp"

# check WHAT DIR CMD...: run CMD (it writes DIR/x.h5); it must fail with
# status 1 and one stderr line, leaving no x.h5 or x.h5.partial in DIR.
check() {
  local what=$1 dir=$2; shift 2
  "$@" >out.txt 2>err.txt; local rc=$?
  local lines; lines=$(wc -l <err.txt)
  if [ $rc -ne 1 ] || [ "$lines" -ne 1 ] || [ -e "$dir/x.h5" ] || [ -e "$dir/x.h5.partial" ]; then
    fail "$what: rc=$rc (want 1), $lines stderr lines (want 1), left: $(ls "$dir" | grep x.h5 | tr '\n' ' ')"; cat err.txt
  else
    echo "ok: $what: $(cat err.txt)"
  fi
}

# file-size limits from below the HDF5 superblock to just under the file
# (a 50-step synth file is about 640 KiB): the failure comes at creation, at
# a row, or at the close
for kib in 1 16 100 300 600 630; do
  check "synth under a ${kib} KiB file-size limit" . \
    bash -c 'ulimit -f '"$kib"'; trap "" XFSZ; exec "$0" synth -o x.h5 --steps 50' "$HC"
done
check "sample --record under a 100 KiB file-size limit" . \
  bash -c 'ulimit -f 100; trap "" XFSZ; exec "$0" sample --model "$1" --classifier "" --n 2 --steps 20 --record x.h5 -o s -q' \
  "$HC" "$DATA/golden_flux_tiny.safetensors"
(ulimit -f 2000; trap "" XFSZ; "$HC" synth -o ok.h5 --steps 50 >/dev/null) && "$HC" info ok.h5 >/dev/null \
  || fail "synth under a 2000 KiB limit (enough room) failed"

# a real full disk: a small tmpfs, where this user may mount one
mkdir -p "$tmp/fs"
if mount -t tmpfs -o size=400k tmpfs "$tmp/fs" 2>/dev/null; then
  mnt="$tmp/fs"
  for steps in 30 50 100; do
    check "synth --steps $steps on a full 400 KiB tmpfs" "$mnt" "$HC" synth -o "$mnt/x.h5" --steps "$steps"
    rm -f "$mnt"/*
  done
else
  echo "note: cannot mount a tmpfs here; the full-disk cases ran under file-size limits only"
fi
finish
