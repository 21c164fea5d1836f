#!/usr/bin/env bash
# fuzz_seeds.sh: write the seed corpora of the fuzz targets (fuzz/*.c) into
# OUT/<target>/, one file per seed, from the repository's own inputs:
#   fuzz_safetensors  small generated files (F32, F16, BF16, metadata, the
#                     bundled model's config), the header of the golden model
#   fuzz_model_config the `config` metadata of every bundled model file
#   fuzz_method       every method spec in experiments/*.json, plus a few
#   fuzz_experiment   experiments/*.json
#   fuzz_csv          a few generated CSVs, the head of data/models/*.csv
#   fuzz_traj         the small .h5 fixtures in tests/data (< 64 KB)
# Nothing here is committed (the dictionaries and text seeds under
# fuzz/seeds/ are, and are copied in too).  Usage: tools/fuzz_seeds.sh OUT
set -euo pipefail
out=${1:?usage: tools/fuzz_seeds.sh OUT}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
for t in safetensors model_config method experiment csv traj; do
  rm -rf "$out/fuzz_$t"
  mkdir -p "$out/fuzz_$t"
done

# committed text seeds: fuzz/seeds/<target>/*
for d in "$src"/fuzz/seeds/*/; do
  [ -d "$d" ] && cp "$d"* "$out/$(basename "$d")/"
done

cp "$src"/experiments/*.json "$out/fuzz_experiment/"

for f in "$src"/tests/data/*.h5; do
  [ "$(stat -c %s "$f")" -lt 65536 ] && cp "$f" "$out/fuzz_traj/"
done

i=0
for f in "$src"/data/models/*.csv; do
  [ -f "$f" ] && head -c 2000 "$f" | head -n -1 > "$out/fuzz_csv/data_$((i++)).csv"
done
printf 'a,b,c\n1,2,3\n4,5,6\n' > "$out/fuzz_csv/header.csv"
printf '1.5, -2e-3 ,nan\r\n\r\n inf,0,1\n' > "$out/fuzz_csv/crlf.csv"
printf '"x","y"\n0x1p-3,1e308\n' > "$out/fuzz_csv/quoted.csv"
printf '\xef\xbb\xbfstep,loss\n1,0.5\n' > "$out/fuzz_csv/bom.csv"

python3 - "$src" "$out" <<'PY'
import json, os, struct, sys
src, out = sys.argv[1], sys.argv[2]

def walk(x, key=None):
    """every method spec in an experiment config"""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from walk(v, k)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v, key)
    elif isinstance(x, str) and key in ("methods", "spec", "steps_matching", "template"):
        yield x

specs = set()
for name in sorted(os.listdir(os.path.join(src, "experiments"))):
    if name.endswith(".json"):
        with open(os.path.join(src, "experiments", name)) as f:
            specs.update(walk(json.load(f)))
for i, s in enumerate(sorted(specs)):
    with open(os.path.join(out, "fuzz_method", "exp_%02d" % i), "w") as f:
        f.write(s)

def st_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return f.read(n) if n < (1 << 24) else None

def write_st(name, tensors, meta=None):
    """tensors: (name, dtype, shape, bytes)"""
    h, data = {}, b""
    for tn, dt, shape, raw in tensors:
        h[tn] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if meta is not None:
        h["__metadata__"] = meta
    hj = json.dumps(h, separators=(",", ":")).encode()
    with open(os.path.join(out, "fuzz_safetensors", name), "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj + data)

f32 = struct.pack("<4f", 1.0, -2.5, 0.0, 3.0e38)
f16 = struct.pack("<3H", 0x3c00, 0x7c00, 0x0001)
bf16 = struct.pack("<2H", 0x3f80, 0xff81)
write_st("small", [("a", "F32", [2, 2], f32), ("b.h", "F16", [3], f16), ("c", "BF16", [1, 2, 1], bf16)],
         {"format": "pt"})
write_st("empty_tensor", [("z", "F32", [0, 4], b""), ("s", "F32", [], f32[:4])])
write_st("no_tensors", [], {"k": "v"})
model_dir = os.path.join(src, "data", "models")
for name in ["golden_flux_tiny.safetensors"]:
    hj = st_header(os.path.join(src, "tests", "data", name))
    with open(os.path.join(out, "fuzz_safetensors", "header_" + name), "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj)
configs = [os.path.join(src, "tests", "data", n) for n in ("golden_flux_tiny.safetensors", "golden_dit_tiny.safetensors")]
configs += [os.path.join(model_dir, n) for n in sorted(os.listdir(model_dir)) if n.endswith(".safetensors")]
for i, p in enumerate(configs):
    meta = json.loads(st_header(p)).get("__metadata__", {})
    if "config" in meta:
        with open(os.path.join(out, "fuzz_model_config", "config_%d.json" % i), "w") as f:
            f.write(meta["config"])
        if i == 0:
            write_st("tiny_config", [("w", "BF16", [2], bf16)], {"config": meta["config"]})
PY
for d in "$out"/fuzz_*; do
  printf '%-20s %3d seeds\n' "$(basename "$d")" "$(ls "$d" | wc -l)"
done
