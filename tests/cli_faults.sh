#!/usr/bin/env bash
# Fault tests of the CLI (issue 13, items 4 and 7): what a command leaves
# behind when the disk fills, when it is killed, and when its output path
# cannot be written.
#   A. disk full, for synth, replay, sample (with --record) and run: first
#      RLIMIT_FSIZE with SIGXFSZ ignored (writes fail with EFBIG; works
#      everywhere), at limits that cut each size class of output file; then,
#      where a tmpfs can be mounted (root with CAP_SYS_ADMIN), a size-limited
#      filesystem (ENOSPC).  Each must exit 1 with one error line that says
#      the disk is full, and every final-named file it leaves is complete
#      (.partial files are work in progress and not judged).
#   B. kill -9 in the middle of `hicache run` (after the first cell file
#      appears, and again after the next), then resume: the tables equal an
#      uninterrupted run's (tools/compare_runs.py, timing ignored).
#   C. unwritable folders: an output path below a regular file (fails for
#      root too, unlike chmod), a cell file, a raw/ folder or figures/ that
#      cannot be written; as non-root also a read-only folder.
#   D. an output path that is an existing regular file (a directory for
#      synth's output file).
# "Complete" is judged against the same command's uninterrupted output by
# format: JSON parses, text files have all their lines, PNG ends with IEND,
# PDF with %%EOF, HDF5 files open and every dataset reads in full.
# usage: cli_faults.sh HICACHE DATA_DIR SOURCE_DIR
set -u
abs() { (cd "$1" && pwd); }
HC=$(abs "$(dirname "$1")")/$(basename "$1") DATA=$(abs "$2") SRC=$(abs "$3")
PY=/usr/bin/python3
source "$(dirname "$0")/lib_cli.sh"
tmp=$(mktemp -d)
MNT=$tmp/mnt
cleanup() { mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp" || exit 1
export OPENBLAS_NUM_THREADS=1
need "python3-h5py, python3-numpy ($PY)" $PY -c "import h5py, numpy" || finish
need "gnuplot-nox (gnuplot)" command -v gnuplot || finish
MODEL=$DATA/golden_flux_tiny.safetensors

# ---- inputs and the commands under test -------------------------------------
mkdir in
"$HC" synth -o in/traj.h5 --steps 20 --seed 3 >/dev/null || { fail "synth of the input trajectory"; finish; }
cat >in/tiny.json <<JSON
{"name": "tiny",
 "live": {"model": "$MODEL", "classifier": "", "n": 2, "steps": 10, "batch": 2},
 "methods": ["full", "taylor:N=3,O=2", {"spec": "hicache:O=2", "grid": {"N": [3, 4]}}],
 "figures": [{"name": "front", "type": "pareto"}]}
JSON
# the cases: sample+rec is sample with --record (the trajectory file is
# opened first, the images written at the end)
COMMANDS="synth replay sample sample+rec run"
# cmd CASE OUT: ARGS = the arguments of CASE writing into folder OUT; NAME =
# the command
cmd() {
  case $1 in
    synth) ARGS=(synth -o "$2/traj.h5" --steps 20 --seed 3) ;;
    replay) ARGS=(replay --traj in/traj.h5 --method taylor:N=3,O=2 full -o "$2" -q) ;;
    sample) ARGS=(sample --model "$MODEL" --n 2 --steps 10 --classifier "" -o "$2") ;;
    sample+rec) ARGS=(sample --model "$MODEL" --n 2 --steps 10 --classifier "" -o "$2" --record "$2/rec.h5") ;;
    run) ARGS=(run in/tiny.json -o "$2" -q) ;;
  esac
  NAME=${ARGS[0]}
}
# hc [PREFIX...]: run hicache "${ARGS[@]}" (through PREFIX, e.g.
# fsize_limited 4); stderr to err.txt through a pipe (a file would be cut by
# RLIMIT_FSIZE too), stdout discarded; sets rc
hc() { "$@" "$HC" "${ARGS[@]}" 2>&1 >/dev/null | cat >err.txt; rc=${PIPESTATUS[0]}; }

cat >complete.py <<'PYEOF'
"""complete.py REF DIR [SKIP...]: every final-named file under DIR (not
*.partial, not the SKIP paths relative to DIR, which the test put there) is
a complete output: it exists under REF (the uninterrupted run) and is whole
by its format.  Prints one line per incomplete file; exit 1 if any."""
import json, os, sys
import h5py

ref, top, skip = sys.argv[1], sys.argv[2], set(sys.argv[3:])
TEXT = (".csv", ".md", ".tex", ".gp")
NL = b"\n"

def h5_items(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                obj[()]  # reads every chunk: a missing or cut chunk fails here
                out[name] = obj.shape
        f.visititems(visit)
        out["@complete"] = f.attrs.get("complete")
    return out

def why(path, refp):
    if not os.path.exists(refp):
        return "not an output of the uninterrupted run"
    data = open(path, "rb").read()
    ext = os.path.splitext(path)[1]
    if ext == ".json":
        json.loads(data)
    elif ext in TEXT:
        want = open(refp, "rb").read().count(b"\n")
        if not data.endswith(b"\n") or data.count(b"\n") != want:
            return f"{data.count(NL)} lines, want {want} ending in a newline"
    elif ext == ".png":
        if not data.startswith(b"\x89PNG") or not data.endswith(b"IEND\xaeB`\x82"):
            return "PNG without its IEND chunk"
    elif ext == ".pdf":
        if not data.rstrip().endswith(b"%%EOF"):
            return "PDF without %%EOF"
    elif ext == ".h5":
        got, want = h5_items(path), h5_items(refp)
        if got != want:
            return f"HDF5 datasets/complete {got} != {want}"
    elif len(data) != os.path.getsize(refp):
        return f"{len(data)} bytes, want {os.path.getsize(refp)}"
    return None

bad = 0
for root, _, files in os.walk(top):
    for name in sorted(files):
        if name.endswith(".partial"):
            continue
        p = os.path.join(root, name)
        rel = os.path.relpath(p, top)
        if rel in skip:
            continue
        try:
            w = why(p, os.path.join(ref, rel))
        except Exception as e:  # unreadable JSON, HDF5 that does not open or read
            w = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        if w:
            print(f"half-written {rel}: {w}")
            bad += 1
sys.exit(1 if bad else 0)
PYEOF

# check_failed WHAT NAME OUT REF WANT_RE [SKIP...]: the last command (status
# in $rc) exited 1 with exactly one error line on stderr, "hicache NAME: ..."
# matching the extended regex WANT_RE (case ignored), and left only complete
# final-named files in OUT (judged against REF; OUT "-": none to judge;
# SKIP: paths in OUT that the test put there).
check_failed() {
  local what=$1 name=$2 out=$3 ref=$4 want=$5 n ok=1; shift 5
  n=$(stderr_errors err.txt | wc -l)
  if [ "$rc" -ne 1 ]; then
    fail "$what: exit status $rc, want 1 (139: a crash; 86: a sanitizer report)"; ok=0
  elif [ "$n" -ne 1 ] || ! stderr_errors err.txt | grep -qiE "^hicache $name: .*($want)"; then
    fail "$what: want one error line 'hicache $name: ...' matching /$want/, got $n:"; ok=0
  fi
  [ $ok = 1 ] || sed 's/^/    /' err.txt
  if [ "$out" != - ] && [ -d "$out" ] && ! $PY complete.py "$ref" "$out" "$@" >cmp.txt 2>&1; then
    fail "$what: a final-named output is half-written:"; sed 's/^/    /' cmp.txt; ok=0
  fi
  [ $ok = 1 ] && echo "ok: $what: $(stderr_errors err.txt)"
}

# ---- the uninterrupted outputs ---------------------------------------------------------------
for c in $COMMANDS; do
  mkdir -p "ref/$c"
  cmd $c "ref/$c"; hc; [ $rc -eq 0 ] || { fail "uninterrupted $c: $(cat err.txt)"; finish; }
done

# ---- A. disk full ---------------------------------------------------------------------------
DISKFULL='File too large|No space left|disk full'
# A1. RLIMIT_FSIZE: 0 (no byte can be written) and one limit per size class
# of the command's files, each below the largest file (so the command cannot
# succeed): 3/4 of a file's size in KiB, so that file and every larger one is
# cut.
for c in $COMMANDS; do
  max=$(find "ref/$c" -type f -printf '%s\n' | sort -n | tail -1)
  limits=$(find "ref/$c" -type f -printf '%s\n' | awk -v m="$max" 'BEGIN { print 0 } { k = int($1 * 3 / 4 / 1024); if (k * 1024 < m) print k }' | sort -nu)
  for kib in $limits; do
    out=full/$c-$kib; mkdir -p "$out"
    cmd $c "$out"; hc fsize_limited "$kib"
    check_failed "disk full (RLIMIT_FSIZE $kib KiB): $c" "$NAME" "$out" "ref/$c" "$DISKFULL"
  done
done
# A2. a full filesystem (tmpfs): one page, and half of what the outputs need
if mount_tmpfs "$MNT" 4 && umount "$MNT"; then
  for c in $COMMANDS; do
    need_kib=$(find "ref/$c" -type f -printf '%s\n' | awk '{ s += int(($1 + 4095) / 4096) * 4 } END { print s }')
    for kib in 4 $((need_kib / 2 / 4 * 4)); do
      [ "$kib" -ge 4 ] && [ "$kib" -lt "$need_kib" ] || continue
      mount_tmpfs "$MNT" "$kib" || { fail "mount a $kib KiB tmpfs on $MNT"; continue; }
      mkdir -p "$MNT/out"
      cmd $c "$MNT/out"; hc
      check_failed "disk full (tmpfs of $kib KiB): $c" "$NAME" "$MNT/out" "ref/$c" "$DISKFULL"
      umount "$MNT"
    done
  done
else
  echo "note: no tmpfs can be mounted here (not root, or no CAP_SYS_ADMIN): disk full by RLIMIT_FSIZE only"
fi

# ---- B. kill -9 during run, then resume --------------------------------------------------------
# 8 cells of a few tenths of a second each
cat >in/kill.json <<JSON
{"name": "kill",
 "live": {"model": "$MODEL", "classifier": "", "n": 8, "steps": 40, "batch": 4, "seeds": [0, 1]},
 "methods": ["full", "taylor:N=3,O=2", {"spec": "hicache:O=2", "grid": {"N": [3, 5]}}]}
JSON
CELLS=8
cells_done() { find killed/cells -name '*.json' 2>/dev/null | wc -l; }
# kill_after N: start the run, kill -9 it once more than N cell files exist
kill_after() {
  "$HC" run in/kill.json -o killed --no-render -q >/dev/null 2>kill_err.txt &
  local pid=$! i=0
  while [ "$(cells_done)" -le "$1" ] && kill -0 $pid 2>/dev/null && [ $i -lt 6000 ]; do
    sleep 0.02; i=$((i+1))
  done
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
}
if ! "$HC" run in/kill.json -o ref/kill --no-render -q 2>err.txt; then
  fail "kill -9: the uninterrupted run failed: $(cat err.txt)"
else
  kill_after 0; first=$(cells_done)
  kill_after "$first"; second=$(cells_done)
  if [ "$first" -lt 1 ] || [ "$second" -ge $CELLS ]; then
    fail "kill -9: want the kills after 1..$((CELLS-1)) cells, got $first then $second of $CELLS (config too fast?): $(cat kill_err.txt)"
  elif ! "$HC" run in/kill.json -o killed --no-render >out.txt 2>err.txt; then
    fail "kill -9 after $first and $second cells: the resumed run failed: $(cat err.txt)"
  elif ! grep -qE "^kill: $CELLS cells \(([0-9]+) computed, $second loaded" out.txt; then
    fail "kill -9 after $first and $second cells: the resumed run does not load the $second finished cells: $(head -1 out.txt)"
  elif ! $PY "$SRC/tools/compare_runs.py" ref/kill killed >cmp.txt 2>&1; then
    fail "kill -9 after $first and $second cells, resumed: tables differ from the uninterrupted run:"; sed 's/^/    /' cmp.txt
  else
    echo "ok: kill -9 after $first and $second of $CELLS cells, resumed: $(head -1 out.txt); $(tail -1 cmp.txt)"
  fi
fi

# ---- C. unwritable folders ----------------------------------------------------------------------
echo "not a folder" >blocker
# C1. every command's output below a regular file: nothing computed is lost
# silently, blocker untouched
for c in $COMMANDS; do
  cmd $c blocker/sub; hc
  check_failed "output below a regular file: $c -o blocker/sub" "$NAME" blocker/sub "ref/$c" 'blocker'
done
mkdir -p rec_blocked
ARGS=(sample --model "$MODEL" --n 2 --steps 10 --classifier "" -o rec_blocked --record blocker/rec.h5); hc
check_failed "sample --record below a regular file" sample rec_blocked ref/sample 'blocker/rec.h5'
[ "$(cat blocker)" = "not a folder" ] || fail "output below a regular file: blocker was changed"
# C2. a cell file that cannot be written (cells/ID.json.partial taken by a
# folder: fails for root too, as a read-only cells/ folder does for others):
# no cell's raw/ outputs without its cell file (issue 13: "an unwritable
# cells/ folder leaves raw/ results")
ids=$("$HC" run in/tiny.json --list | cut -d' ' -f1)
id1=$(echo "$ids" | head -1)
mkdir -p cellblock/cells/"$id1.json.partial"
ARGS=(run in/tiny.json -o cellblock -q); hc
check_failed "cells/$id1.json cannot be written" run cellblock ref/run "cells/$id1\.json"
for d in cellblock/raw/*/; do
  [ -d "$d" ] || continue
  [ -e "cellblock/cells/$(basename "$d").json" ] ||
    fail "cells/ID.json cannot be written: raw/$(basename "$d")/ is left without its cell file"
done
# C3. a raw/ID folder that cannot be created (a regular file there): the
# cell is not recorded as finished
mkdir -p rawblock/raw && echo x >"rawblock/raw/$id1"
ARGS=(run in/tiny.json -o rawblock -q); hc
check_failed "raw/$id1/ cannot be created" run rawblock ref/run "raw/$id1" "raw/$id1"
[ ! -e "rawblock/cells/$id1.json" ] || fail "raw/$id1/ cannot be created: cells/$id1.json was written anyway"
[ "$(cat "rawblock/raw/$id1")" = x ] || fail "raw/$id1/ cannot be created: the file there was changed"
# C4. figures/ is a regular file
mkdir -p figblock && echo x >figblock/figures
ARGS=(run in/tiny.json -o figblock -q); hc
check_failed "figures/ is a regular file" run figblock ref/run figures figures
# C5. not root: a read-only folder (root writes regardless)
if [ "$(id -u)" -ne 0 ]; then
  for c in $COMMANDS; do
    mkdir -p "ro/$c" && chmod a-w "ro/$c"
    cmd $c "ro/$c"; hc
    check_failed "read-only output folder: $c" "$NAME" "ro/$c" "ref/$c" "ro/$c"
    chmod u+w "ro/$c"
  done
fi

# ---- D. an output path that is an existing regular file -----------------------------------------
for c in replay sample sample+rec run; do
  echo "precious" >existing
  cmd $c existing; hc
  check_failed "-o names a regular file: $c" "$NAME" - "ref/$c" 'existing.*not a directory'
  [ "$(cat existing)" = precious ] || fail "-o names a regular file: $c changed it"
done
rm -rf existing existing.partial
mkdir -p outdir/traj.h5
ARGS=(synth -o outdir/traj.h5 --steps 20); hc
check_failed "synth -o names a folder" synth - ref/synth 'outdir/traj\.h5'
[ -d outdir/traj.h5 ] && [ -z "$(ls -A outdir/traj.h5)" ] || fail "synth -o names a folder: the folder was changed"
mkdir -p recdir/rec.h5
ARGS=(sample --model "$MODEL" --n 2 --steps 10 --classifier "" -o recdir --record recdir/rec.h5); hc
check_failed "sample --record names a folder" sample recdir ref/sample 'recdir/rec\.h5'

finish
