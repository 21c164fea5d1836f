#!/usr/bin/python3
"""Golden files for the C DiT (docs/golden-format.md, "DiT").

  python3 tools/make_dit_golden.py [--outdir tests/data] [--trained data/models/dit_fmnist.safetensors]

1. Builds a tiny random DiT with the official module names (4-channel 8x8 latent, p=2,
   D=64, 2 blocks, 4 heads, learn_sigma, 10 classes; every parameter ~ N(0, 0.05^2),
   seed fixed, pos_embed the fixed sin-cos table), saves its state dict with torch.save
   as an official-style .pt (temporary), converts it with tools/convert_dit.py to
   tests/data/golden_dit_tiny.safetensors, and writes tests/data/golden_dit_tiny.h5 from
   the converted file: forward output, pre-gate cache points, forward_with_cfg, and DDIM
   over S=5 respaced steps at guidance 1 and 4.
2. With --trained (and the file present): tests/data/golden_dit_fmnist.h5, same layout,
   cache points of batch element 0 only.
"""
import argparse
import datetime as _dt
import hashlib
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_dit  # noqa: E402
import dit_torch as dt  # noqa: E402
import train_flux as tf  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

SEED = 20261130
ROOT = tf.ROOT
DDIM_S = 5
DDIM_GUIDANCE = (1.0, 4.0)
CFG_SCALE = 4.0


def tiny_official_state_dict():
    cfg = dt.make_config(input_size=8, in_channels=4, patch_size=2, hidden_size=64, depth=2,
                         num_heads=4, num_classes=10, learn_sigma=True, cfg_channels=3)
    m = dt.DiT(cfg)
    m.init_random(0.05, torch.Generator().manual_seed(SEED))
    return {k: v.clone() for k, v in m.state_dict().items()}


def rel(path):
    return os.path.relpath(os.path.abspath(path), ROOT)


def write_golden(path, model_file, batch_cache, attrs):
    import h5py
    model, meta = dt.load_dit(model_file)
    cfg = model.cfg
    C, I, K = cfg["in_channels"], cfg["input_size"], cfg["num_classes"]
    g = torch.Generator().manual_seed(SEED + 1)
    x = torch.randn(2, C, I, I, generator=g)
    t = torch.tensor([20.0, 749.0])
    y = torch.tensor([3, K])
    rec = {}
    with torch.no_grad():
        out = model(x, t, y, rec=rec)
        cfg_out = model.forward_with_cfg(torch.cat([x[:1], x[:1]]), torch.tensor([500.0, 500.0]),
                                         torch.tensor([3, K]), CFG_SCALE)
    noise = torch.randn(2, C, I, I, generator=g)
    dlab = torch.tensor([3, 7])
    ddim = {}
    for s in DDIM_GUIDANCE:
        r = {}
        dt.ddim_sample(model, noise, dlab, DDIM_S, s, record=r)
        ddim[s] = r
    steps = ddim[DDIM_GUIDANCE[0]]["steps"]
    abar = dt.respaced_alphas_cumprod(sorted(steps))[::-1]
    cb = slice(0, batch_cache)
    tmp = path + ".partial"
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = "hicache-golden-dit"
        f.attrs["format_version"] = 1
        f.attrs["config"] = meta["config"]
        f.attrs["model_file"] = rel(model_file)
        f.attrs["model_sha256"] = tf.sha256_file(model_file)
        f.attrs["cache_batch"] = batch_cache
        for k, v in attrs.items():
            f.attrs[k] = v
        f.attrs["torch_version"] = str(torch.__version__)
        f.attrs["threads"] = torch.get_num_threads()
        f.attrs["generator"] = "tools/make_dit_golden.py"
        f.attrs["generator_sha256"] = tf.sha256_file(os.path.abspath(__file__))
        f.attrs["created_utc"] = _dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        f["inputs/x"] = x.numpy()
        f["inputs/t"] = t.numpy()
        f["inputs/labels"] = y.numpy().astype(np.int32)
        f["output/out"] = out.numpy()
        for i in range(cfg["depth"]):
            for mod in ("attn", "mlp"):
                f["cache/dit/%d/%s" % (i, mod)] = rec["dit/%d/%s" % (i, mod)][cb].numpy()
        f["cfg/x"] = x[:1].numpy()
        f["cfg/t"] = np.array([500.0], np.float32)
        f["cfg/labels"] = np.array([3, K], np.int32)
        f["cfg/scale"] = np.array(CFG_SCALE, np.float32)
        f["cfg/out"] = cfg_out.numpy()
        f["ddim/steps"] = np.array(steps, np.int32)
        f["ddim/alphas_cumprod"] = np.asarray(abar, np.float64)
        f["ddim/noise"] = noise.numpy()
        f["ddim/labels"] = dlab.numpy().astype(np.int32)
        f["ddim/guidance"] = np.array(DDIM_GUIDANCE, np.float32)
        for j, s in enumerate(DDIM_GUIDANCE):
            f["ddim/g%d/x" % j] = ddim[s]["x"].numpy()
    os.replace(tmp, path)
    tf.log("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outdir", default=tf.GOLDEN_DIR)
    ap.add_argument("--trained", default=None)
    a = ap.parse_args()
    sd = tiny_official_state_dict()
    st_path = os.path.join(a.outdir, "golden_dit_tiny.safetensors")
    with tempfile.TemporaryDirectory() as td:
        pt = os.path.join(td, "dit_tiny_official.pt")
        torch.save(sd, pt)
        h = hashlib.sha256(open(pt, "rb").read()).hexdigest()
        cfg = convert_dit.convert(pt, st_path, heads=4, guidance=1.5)
    got, _ = tf.load_safetensors(st_path)
    assert all(torch.equal(got[k], sd[k]) for k in sd) and set(got) == set(sd)
    tf.log("converted tiny DiT -> %s (%d bytes), config %s" % (
        st_path, os.path.getsize(st_path), json.dumps(cfg)))
    write_golden(os.path.join(a.outdir, "golden_dit_tiny.h5"), st_path, 2, {
        "weight_init": "all parameters N(0, 0.05^2), seed %d; pos_embed fixed sin-cos" % SEED,
        "source_pt_sha256": h})
    if a.trained and os.path.exists(a.trained):
        write_golden(os.path.join(a.outdir, "golden_dit_fmnist.h5"), a.trained, 1, {})


if __name__ == "__main__":
    main()
