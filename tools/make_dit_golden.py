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


# --------------------------------------------------------------------------
# independent float64 numpy check, written from docs/model-format.md (DiT D4/D5)
# --------------------------------------------------------------------------
def np_forward(W, cfg, x, t, y, rec=None):
    """x [B,C,I,I], t [B], y [B] -> [B,Co,I,I]; float64 numpy; rec gets cache points."""
    B, C, I, _ = x.shape
    p, D, H = cfg["patch_size"], cfg["hidden_size"], cfg["num_heads"]
    G, d = I // p, D // H
    Co = 2 * C if cfg["learn_sigma"] else C
    eps = cfg["ln_eps"]

    def lin(z, name):
        return z @ W[name + ".weight"].T + W[name + ".bias"]

    def ln(z):
        mu = z.mean(-1, keepdims=True)
        return (z - mu) / np.sqrt(((z - mu) ** 2).mean(-1, keepdims=True) + eps)

    def silu(z):
        return z / (1 + np.exp(-z))
    patches = x.reshape(B, C, G, p, G, p).transpose(0, 2, 4, 1, 3, 5).reshape(B, G * G, C * p * p)
    h = patches @ W["x_embedder.proj.weight"].reshape(D, -1).T + W["x_embedder.proj.bias"]
    h = h + W["pos_embed"][0]
    half = cfg["freq_dim"] // 2
    f = np.exp(-np.log(10000.0) * np.arange(half) / half)
    a = t[:, None].astype(np.float64) * f[None]
    temb = np.concatenate([np.cos(a), np.sin(a)], 1).astype(np.float32).astype(np.float64)
    c = lin(silu(lin(temb, "t_embedder.mlp.0")), "t_embedder.mlp.2")
    c = c + W["y_embedder.embedding_table.weight"][y]
    for i in range(cfg["depth"]):
        pre = "blocks.%d." % i
        m = lin(silu(c), pre + "adaLN_modulation.1")[:, None]
        sh1, sc1, g1, sh2, sc2, g2 = [m[..., k * D:(k + 1) * D] for k in range(6)]
        qkv = lin(ln(h) * (1 + sc1) + sh1, pre + "attn.qkv")
        o = np.zeros_like(h)
        for hd in range(H):
            q = qkv[..., hd * d:(hd + 1) * d]
            k = qkv[..., D + hd * d:D + (hd + 1) * d]
            v = qkv[..., 2 * D + hd * d:2 * D + (hd + 1) * d]
            s = q @ k.transpose(0, 2, 1) / np.sqrt(d)
            s = np.exp(s - s.max(-1, keepdims=True))
            o[..., hd * d:(hd + 1) * d] = (s / s.sum(-1, keepdims=True)) @ v
        att = lin(o, pre + "attn.proj")
        h = h + g1 * att
        u = lin(ln(h) * (1 + sc2) + sh2, pre + "mlp.fc1")
        u = 0.5 * u * (1 + np.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u ** 3)))
        mlp = lin(u, pre + "mlp.fc2")
        h = h + g2 * mlp
        if rec is not None:
            rec["dit/%d/attn" % i], rec["dit/%d/mlp" % i] = att, mlp
    m = lin(silu(c), "final_layer.adaLN_modulation.1")[:, None]
    o = lin(ln(h) * (1 + m[..., D:]) + m[..., :D], "final_layer.linear")
    return o.reshape(B, G, G, p, p, Co).transpose(0, 5, 1, 3, 2, 4).reshape(B, Co, I, I)


def np_eps(W, cfg, x, t, y, s):
    C, K, kc = cfg["in_channels"], cfg["num_classes"], cfg["cfg_channels"]
    tt = np.full(len(x), t, np.float64)
    if s == 1.0:
        return np_forward(W, cfg, x, tt, y)[:, :C]
    oc = np_forward(W, cfg, x, tt, y)[:, :C]
    ou = np_forward(W, cfg, x, tt, np.full_like(y, K))[:, :C]
    oc[:, :kc] = ou[:, :kc] + s * (oc[:, :kc] - ou[:, :kc])
    return oc


def np_respace(S, T=1000):
    """Written from model-format D5 (not from dit_torch.respace)."""
    stride = 1.0 if S <= 1 else (T - 1) / (S - 1)
    return sorted({int(np.rint(v)) for v in np.cumsum([0.0] + [stride] * (S - 1))})


def verify(path):
    import h5py
    rl = lambda a, b: float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))  # noqa: E731
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["config"])
        W = {k: v.numpy().astype(np.float64) for k, v in
             tf.load_safetensors(os.path.join(ROOT, f.attrs["model_file"]))[0].items()}
        cb = int(f.attrs["cache_batch"])
        res, rec = {}, {}
        out = np_forward(W, cfg, f["inputs/x"][:].astype(np.float64), f["inputs/t"][:],
                         f["inputs/labels"][:].astype(np.int64), rec)
        res["output/out"] = rl(out, f["output/out"][:])
        for k, v in rec.items():
            res["cache/" + k] = rl(v[:cb], f["cache/" + k][:])
        x1 = f["cfg/x"][:].astype(np.float64)
        lab = f["cfg/labels"][:].astype(np.int64)
        tt = np.full(2, f["cfg/t"][0], np.float64)
        o = np_forward(W, cfg, np.concatenate([x1, x1]), tt, lab)
        kc, s = cfg["cfg_channels"], float(f["cfg/scale"][()])
        gd = o[1:, :kc] + s * (o[:1, :kc] - o[1:, :kc])
        o[:, :kc] = gd
        res["cfg/out"] = rl(o, f["cfg/out"][:])
        steps = list(f["ddim/steps"][:])
        S = len(steps)
        assert sorted(steps) == np_respace(S), "respaced steps differ"
        ac = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000))
        assert np.allclose(f["ddim/alphas_cumprod"][:], ac[steps], rtol=1e-12)
        for j, s in enumerate(f["ddim/guidance"][:]):
            x = f["ddim/noise"][:].astype(np.float64)
            y = f["ddim/labels"][:].astype(np.int64)
            for n, k in enumerate(steps):
                a = ac[k]
                ap = ac[steps[n + 1]] if n + 1 < S else 1.0
                e = np_eps(W, cfg, x, float(k), y, float(s))
                x0 = (x - np.sqrt(1 - a) * e) / np.sqrt(a)
                x = np.sqrt(ap) * x0 + np.sqrt(1 - ap) * e
                res["ddim/g%d/x[%d]" % (j, n)] = rl(x, f["ddim/g%d/x" % j][n])
    worst = max(res.values())
    for k, v in res.items():
        tf.log("  %-22s relL2 %.2e" % (k, v))
    tf.log("%s: worst relL2 %.2e -> %s" % (path, worst, "OK" if worst <= 1e-5 else "FAIL"))
    return worst <= 1e-5


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outdir", default=tf.GOLDEN_DIR)
    ap.add_argument("--trained", default=None)
    ap.add_argument("--verify", nargs="+", metavar="H5",
                    help="only check golden files with the independent numpy forward")
    a = ap.parse_args()
    if a.verify:
        sys.exit(0 if all([verify(v) for v in a.verify]) else 1)
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
