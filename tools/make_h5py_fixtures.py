#!/usr/bin/python3
"""Write the h5py-made fixtures under tests/data/ (run with Debian's python3-h5py):

    /usr/bin/python3 tools/make_h5py_fixtures.py tests/data

h5py_traj.h5 follows schema v1 the way an outside tool would write it
(variable-length str attributes, int64 numbers, no 'complete' flag, a
float16 dataset, gzip).  Values follow closed forms that the C test
recomputes:  feature[s, t, d] = 100*s + t + d/8 (+ 1000*k for module k),
hidden = -(that), latents x[s] = s, out[s] = -s.

The bad_*.h5 files each break exactly one rule of the schema; the C test
checks that opening each one fails with a one-line message naming the
problem."""
import os
import sys

import h5py
import numpy as np

S, T, D = 5, 3, 4


def closed_form(k):
    s = np.arange(S)[:, None, None]
    t = np.arange(T)[None, :, None]
    d = np.arange(D)[None, None, :]
    return (1000.0 * k + 100.0 * s + t + d / 8.0).astype(np.float64)


def root(f, **over):
    attrs = dict(schema="hicache-trajectory", schema_version=np.int64(1), model="h5py-fixture",
                 sampler="euler", num_steps=np.int64(S), seed=np.int64(7),
                 prompt="a fixture written by h5py", guidance=3.5)
    attrs.update(over)
    for k, v in attrs.items():
        if v is not None:
            f.attrs[k] = v
    f.create_dataset("steps/t", data=np.linspace(1.0, 0.2, S))


MODULES = [("double", 0, "img_attn", "img", np.float32, None),
           ("double", 0, "txt_mlp", "txt", np.float32, "gzip"),
           ("single", 2, "total", "joint", np.float16, None)]


def features(f):
    for k, (kind, layer, mod, stream, dt, comp) in enumerate(MODULES):
        data = closed_form(k)
        if dt == np.float16:
            data = data / 64.0  # keep within float16's exact range
        ds = f.create_dataset(f"features/{kind}/{layer}/{mod}", data=data.astype(dt),
                              chunks=(1, T, D), compression=comp)
        ds.attrs["block_kind"] = kind
        ds.attrs["layer"] = np.int64(layer)
        ds.attrs["module"] = mod
        ds.attrs["stream"] = stream


def good(path):
    with h5py.File(path, "w") as f:
        root(f)
        features(f)
        f.create_dataset("hidden/double/1", data=-closed_form(0).astype(np.float32), chunks=(1, T, D))
        f.create_dataset("latents/x", data=np.arange(S + 1, dtype=np.float32)[:, None, None, None]
                         * np.ones((1, 1, 2, 2), np.float32))
        f.create_dataset("latents/out", data=-np.arange(S, dtype=np.float32)[:, None, None, None]
                         * np.ones((1, 1, 2, 2), np.float32))


def bad(path, how):
    with h5py.File(path, "w") as f:
        if how == "schema":
            root(f, schema="something-else")
        elif how == "version":
            root(f, schema_version=np.int64(2))
        elif how == "incomplete":
            root(f, complete=np.int64(0))
        else:
            root(f)
        if how == "no_times":
            del f["steps/t"]
        if how == "empty_features":  # /features exists, with no datasets
            f.create_group("features/dit")
        elif how != "no_features":
            features(f)
        if how == "rank":
            f.create_dataset("features/dit/0/attn", data=np.zeros((S, T), np.float32))
        elif how == "shape":
            f.create_dataset("features/dit/0/attn", data=np.zeros((S + 2, T, D), np.float32))
        elif how == "dtype_f64":
            f.create_dataset("features/dit/0/attn", data=np.zeros((S, T, D), np.float64))
        elif how == "dtype_int":
            f.create_dataset("features/dit/0/attn", data=np.zeros((S, T, D), np.int32))
        elif how == "layer_name":
            f.create_dataset("features/dit/first/attn", data=np.zeros((S, T, D), np.float32))
        elif how == "layer_alias":  # "03" would alias layer 3
            f.create_dataset("features/dit/03/attn", data=np.zeros((S, T, D), np.float32))
        elif how == "unwritten":  # chunks never written: would read as the fill value
            f.create_dataset("features/dit/0/attn", shape=(S, T, D), dtype=np.float32, chunks=(1, T, D))
        elif how == "partial":  # steps 2 and 4 never written (a recorder that died)
            d = f.create_dataset("features/dit/0/attn", shape=(S, T, D), dtype=np.float32, chunks=(1, T, D))
            for s in (0, 1, 3):
                d[s] = np.ones((T, D), np.float32)
        elif how == "partial2":  # two steps per chunk: the chunk of steps 2-3 is missing
            d = f.create_dataset("features/dit/0/attn", shape=(S, T, D), dtype=np.float32, chunks=(2, T, 2))
            d[0:2] = np.ones((2, T, D), np.float32)
            d[4] = np.ones((T, D), np.float32)


BAD = ["schema", "version", "incomplete", "no_times", "no_features", "rank", "shape",
       "dtype_f64", "dtype_int", "layer_name", "layer_alias", "unwritten", "partial", "partial2",
       "empty_features"]

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    os.makedirs(out, exist_ok=True)
    good(os.path.join(out, "h5py_traj.h5"))
    for how in BAD:
        bad(os.path.join(out, f"bad_{how}.h5"), how)
    print(f"wrote h5py_traj.h5 and {len(BAD)} bad_*.h5 files to {out}")
