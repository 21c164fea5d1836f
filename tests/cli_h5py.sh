#!/usr/bin/env bash
# Files hicache writes must read in h5py with the schema's names and dtypes.
# Debian's python3-h5py is a declared dependency: missing, it is a failure
# (a skip, 77, where HC_ALLOW_MISSING_DEPS=1).
set -u
HC=$1
PY=/usr/bin/python3
source "$(dirname "$0")/lib_cli.sh"
need "python3-h5py, python3-numpy ($PY)" $PY -c "import h5py, numpy" || finish
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$HC" synth -o "$tmp/f32.h5" --kind sin --seed 1 >/dev/null || exit 1
"$HC" synth -o "$tmp/f16.h5" --kind sin --seed 1 --dtype float16 --deflate 3 >/dev/null || exit 1
$PY - "$tmp/f32.h5" "$tmp/f16.h5" <<'PYEOF'
import sys, json
import h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
for f in (a, b):
    assert f.attrs["schema"] == "hicache-trajectory", f.attrs["schema"]
    assert int(f.attrs["schema_version"]) == 1
    assert int(f.attrs["num_steps"]) == 50 and int(f.attrs["complete"]) == 1
    assert isinstance(f.attrs["model"], str) and isinstance(f.attrs["sampler"], str)
    prov = json.loads(f.attrs["provenance"]); assert "git_commit" in prov and "config" in prov
    t = f["steps/t"]; assert t.dtype == np.float64 and t.shape == (50,)
    assert np.allclose(t[:], 1 - np.arange(50) / 50)
    names = []
    f["features"].visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    assert sorted(names) == ["dit/0/attn", "dit/0/mlp", "dit/1/attn", "dit/1/mlp"], names
    d = f["features/dit/1/mlp"]
    assert d.shape == (50, 16, 32) and d.chunks == (1, 16, 32)
    assert d.attrs["block_kind"] == "dit" and int(d.attrs["layer"]) == 1
    assert d.attrs["module"] == "mlp" and d.attrs["stream"] in ("img", "txt", "joint")
    assert f["hidden/dit/1"].shape == (50, 16, 32)
    # Fletcher-32 on every dataset hicache writes; h5py verifies it on read
    for n in names: assert f["features/" + n].fletcher32, n
    assert t.fletcher32 and f["hidden/dit/1"].fletcher32
assert a["features/dit/1/mlp"].dtype == np.float32
assert b["features/dit/1/mlp"].dtype == np.float16 and b["features/dit/1/mlp"].compression == "gzip"
x, y = a["features/dit/1/mlp"][:], b["features/dit/1/mlp"][:].astype(np.float32)
err = np.max(np.abs(x - y) / np.maximum(1, np.abs(x)))
assert err <= 2.0 ** -11, err
print("h5py reads float32 and float16 files; max float16 relative error %.2e" % err)
PYEOF
