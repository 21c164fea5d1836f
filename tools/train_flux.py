#!/usr/bin/python3
"""Offline PyTorch side of the hicache live model: a small FLUX-style MMDiT
("flux-mini") trained with rectified flow on Fashion-MNIST, a small CNN
classifier for FD/accuracy, safetensors export and golden data for the C port.

Written from the descriptions in shared/research/live_model.md (sections 1b, 2b,
4e, 4g) and the safetensors format description; no code copied.

Subcommands (run with Debian's /usr/bin/python3, torch 1.13):
  train       train (or resume) flux-mini; checkpoint data/models/flux_mini.ckpt
  export      EMA weights -> data/models/flux_mini.safetensors (+ loss CSV,
              sample grid PNG, classifier accuracy on samples)
  sample      sample grid + classifier accuracy from an exported safetensors file
  classifier  train the Fashion-MNIST CNN -> data/models/fmnist_classifier.safetensors
  golden      golden HDF5 files for the C forward pass (tiny random model, and
              the trained model if its safetensors file exists)
  check       re-read a safetensors file and print its header summary

The file formats are documented in docs/model-format.md and docs/golden-format.md.
"""
import os
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"    # one core only: the machine is shared
import argparse
import datetime as _dt
import gzip
import hashlib
import json
import math
import os
import signal
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = "/usr/share/datasets/fashion-mnist"
MODELS = os.path.join(ROOT, "data", "models")
CKPT = os.path.join(MODELS, "flux_mini.ckpt")
MODEL_FILE = os.path.join(MODELS, "flux_mini.safetensors")
CLS_FILE = os.path.join(MODELS, "fmnist_classifier.safetensors")
LOSS_CSV = os.path.join(MODELS, "flux_mini_loss.csv")
SAMPLES_PNG = os.path.join(MODELS, "flux_mini_samples.png")
GOLDEN_DIR = os.path.join(ROOT, "tests", "data")

FORMAT_NAME = "hicache-flux-mini"
FORMAT_VERSION = "1"

# Architecture of the trained model.  Every key here is written to the
# safetensors metadata ("config", JSON) and read back by FluxMini(cfg).
MINI_CONFIG = {
    "arch": "flux-mmdit",
    "image_size": 28,          # H = W of the pixel image
    "image_channels": 1,       # C of the pixel image
    "pixel_range": [-1.0, 1.0],  # uint8 u -> u/127.5 - 1
    "patch_size": 2,           # p; packed like FLUX: b c (h ph) (w pw) -> b (h w) (c ph pw)
    "in_channels": 4,          # C*p*p = packed token width (img_in input)
    "out_channels": 4,         # final_layer.linear output per token (packed velocity)
    "grid": [14, 14],          # image token grid (rows, cols); T_img = 196
    "hidden_size": 128,        # D
    "num_heads": 4,            # H; head dim d = D/H = 32
    "mlp_ratio": 4.0,          # MLP hidden = 4D = 512
    "depth_double": 2,         # double-stream blocks
    "depth_single": 4,         # single-stream blocks
    "qkv_bias": True,
    "axes_dim": [4, 14, 14],   # RoPE dims per id axis, sum = d
    "theta": 10000,
    "rope_pairs": "adjacent",  # rotate (q[2j], q[2j+1])
    "num_classes": 10,
    "null_class": 10,          # label index used for the unconditional branch
    "txt_tokens": 4,           # learned "text" tokens per label
    "context_in_dim": 64,      # width of a text token (txt_in input)
    "vec_in_dim": 32,          # pooled vector width (vector_in input)
    "time_dim": 256,           # sinusoidal timestep embedding width
    "time_factor": 1000.0,     # embedding of time_factor * t
    "max_period": 10000.0,
    "time_embed_order": "cos,sin",
    "guidance_embed": False,   # true CFG instead
    "ln_eps": 1e-6,            # LayerNorm (no affine)
    "rms_eps": 1e-6,           # QK RMSNorm
    "mlp_act": "gelu_tanh",
    "prediction": "velocity",  # v = eps - x0 for x_t = (1-t) x0 + t eps
    "schedule": {"base_seq_len": 256, "base_shift": 0.5, "max_seq_len": 4096,
                 "max_shift": 1.15, "sigma": 1.0, "seq_len": "T_img"},
}

TINY_CONFIG = dict(MINI_CONFIG)
TINY_CONFIG.update({
    "arch": "flux-mmdit",
    "image_size": 8, "image_channels": 1, "patch_size": 2, "in_channels": 4,
    "out_channels": 4, "grid": [4, 4], "hidden_size": 32, "num_heads": 2,
    "mlp_ratio": 4.0, "depth_double": 1, "depth_single": 1,
    "axes_dim": [4, 6, 6], "txt_tokens": 2, "context_in_dim": 8, "vec_in_dim": 8,
})


def log(*a):
    print(*a, flush=True)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    assert (magic >> 8) == 0x08, "expected unsigned byte IDX"
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def dataset_files():
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    return [os.path.join(DATA_DIR, n) for n in names]


def load_fmnist(split):
    pre = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(DATA_DIR, pre + "-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(DATA_DIR, pre + "-labels-idx1-ubyte.gz"))
    return torch.from_numpy(x.copy()), torch.from_numpy(y.astype(np.int64))


def to_pm1(u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28] in [-1,1]."""
    return (u8.float() / 127.5 - 1.0).unsqueeze(1)


# --------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------
def pack(x, p):
    """[B,C,H,W] -> [B,(H/p)(W/p),C p p]  ('b c (h ph) (w pw) -> b (h w) (c ph pw)')."""
    B, C, H, W = x.shape
    h, w = H // p, W // p
    x = x.reshape(B, C, h, p, w, p).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(B, h * w, C * p * p)


def unpack(x, C, H, W, p):
    B = x.shape[0]
    h, w = H // p, W // p
    x = x.reshape(B, h, w, C, p, p).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(B, C, H, W)


def timestep_embedding(t, dim, time_factor=1000.0, max_period=10000.0):
    """cos-then-sin embedding of time_factor*t, computed in float64, returned float32.
    emb[j] = cos(a_j), emb[half+j] = sin(a_j), a_j = time_factor*t*max_period^(-j/half)."""
    half = dim // 2
    tt = t.double() * time_factor
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half)
    args = tt[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1).float()


def rope_tables(ids, axes_dim, theta):
    """ids [L,3] -> cos, sin [L, d/2] (float32, computed in float64).
    Axis a contributes dim_a/2 pairs with omega_j = theta^(-2j/dim_a)."""
    cos, sin = [], []
    for a, dim in enumerate(axes_dim):
        j = torch.arange(0, dim, 2, dtype=torch.float64) / dim
        omega = 1.0 / (theta ** j)
        ang = ids[:, a].double()[:, None] * omega[None]
        cos.append(torch.cos(ang))
        sin.append(torch.sin(ang))
    return torch.cat(cos, -1).float(), torch.cat(sin, -1).float()


def apply_rope(x, cos, sin):
    """x [B,H,L,d]; adjacent pairs (x[2j], x[2j+1]) rotated by angle j."""
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    o0 = cos * x0 - sin * x1
    o1 = sin * x0 + cos * x1
    return torch.stack([o0, o1], dim=-1).flatten(-2)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        rrms = torch.rsqrt(torch.mean(x * x, dim=-1, keepdim=True) + self.eps)
        return x * rrms * self.scale


class QKNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.query_norm = RMSNorm(dim, eps)
        self.key_norm = RMSNorm(dim, eps)


class MLPEmbedder(nn.Module):
    def __init__(self, din, d):
        super().__init__()
        self.in_layer = nn.Linear(din, d)
        self.out_layer = nn.Linear(d, d)

    def forward(self, x):
        return self.out_layer(F.silu(self.in_layer(x)))


class Modulation(nn.Module):
    def __init__(self, d, mult):
        super().__init__()
        self.lin = nn.Linear(d, mult * d)
        self.mult = mult

    def forward(self, vec):
        return self.lin(F.silu(vec))[:, None, :].chunk(self.mult, dim=-1)


class SelfAttention(nn.Module):
    def __init__(self, d, heads, qkv_bias, eps):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d, bias=qkv_bias)
        self.norm = QKNorm(d // heads, eps)
        self.proj = nn.Linear(d, d)


def split_qkv(qkv, heads):
    """[B,L,3D] ordered (K H d) -> three [B,H,L,d]."""
    B, L, D3 = qkv.shape
    d = D3 // (3 * heads)
    qkv = qkv.reshape(B, L, 3, heads, d).permute(2, 0, 3, 1, 4)
    return qkv[0], qkv[1], qkv[2]


def attention(q, k, v, cos, sin):
    # softmax(q k^T / sqrt(d)) v; the 1/sqrt(d) is applied to q (cheaper, same math)
    q = apply_rope(q, cos, sin) * (1.0 / math.sqrt(q.shape[-1]))
    k = apply_rope(k, cos, sin)
    o = torch.matmul(torch.softmax(torch.matmul(q, k.transpose(-1, -2)), dim=-1), v)
    B, H, L, d = o.shape
    return o.permute(0, 2, 1, 3).reshape(B, L, H * d)


def ln(x, eps):
    return F.layer_norm(x, (x.shape[-1],), eps=eps)


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


class DoubleBlock(nn.Module):
    def __init__(self, d, heads, mlp_ratio, qkv_bias, eps_ln, eps_rms):
        super().__init__()
        hid = int(d * mlp_ratio)
        self.heads, self.eps = heads, eps_ln
        self.img_mod = Modulation(d, 6)
        self.img_attn = SelfAttention(d, heads, qkv_bias, eps_rms)
        self.img_mlp = nn.Sequential(nn.Linear(d, hid), nn.GELU(approximate="tanh"), nn.Linear(hid, d))
        self.txt_mod = Modulation(d, 6)
        self.txt_attn = SelfAttention(d, heads, qkv_bias, eps_rms)
        self.txt_mlp = nn.Sequential(nn.Linear(d, hid), nn.GELU(approximate="tanh"), nn.Linear(hid, d))

    def forward(self, img, txt, vec, cos, sin, rec=None, idx=0):
        i1s, i1c, i1g, i2s, i2c, i2g = self.img_mod(vec)
        t1s, t1c, t1g, t2s, t2c, t2g = self.txt_mod(vec)
        ih = ln(img, self.eps) * (1 + i1c) + i1s
        iq, ik, iv = split_qkv(self.img_attn.qkv(ih), self.heads)
        iq = self.img_attn.norm.query_norm(iq)
        ik = self.img_attn.norm.key_norm(ik)
        th = ln(txt, self.eps) * (1 + t1c) + t1s
        tq, tk, tv = split_qkv(self.txt_attn.qkv(th), self.heads)
        tq = self.txt_attn.norm.query_norm(tq)
        tk = self.txt_attn.norm.key_norm(tk)
        q = torch.cat([tq, iq], dim=2)
        k = torch.cat([tk, ik], dim=2)
        v = torch.cat([tv, iv], dim=2)
        a = attention(q, k, v, cos, sin)
        Lt = txt.shape[1]
        img_attn = self.img_attn.proj(a[:, Lt:])
        txt_attn = self.txt_attn.proj(a[:, :Lt])
        img = img + i1g * img_attn
        img_mlp = self.img_mlp(ln(img, self.eps) * (1 + i2c) + i2s)
        img = img + i2g * img_mlp
        txt = txt + t1g * txt_attn
        txt_mlp = self.txt_mlp(ln(txt, self.eps) * (1 + t2c) + t2s)
        txt = txt + t2g * txt_mlp
        if rec is not None:
            p = "double/%d/" % idx
            rec[p + "img_attn"] = img_attn
            rec[p + "img_mlp"] = img_mlp
            rec[p + "txt_attn"] = txt_attn
            rec[p + "txt_mlp"] = txt_mlp
            rec["@" + p + "img_out"] = img
            rec["@" + p + "txt_out"] = txt
        return img, txt


class SingleBlock(nn.Module):
    def __init__(self, d, heads, mlp_ratio, eps_ln, eps_rms):
        super().__init__()
        self.d, self.heads, self.eps = d, heads, eps_ln
        self.hid = int(d * mlp_ratio)
        self.linear1 = nn.Linear(d, 3 * d + self.hid)
        self.linear2 = nn.Linear(d + self.hid, d)
        self.norm = QKNorm(d // heads, eps_rms)
        self.modulation = Modulation(d, 3)

    def forward(self, x, vec, cos, sin, rec=None, idx=0):
        s, c, g = self.modulation(vec)
        h = ln(x, self.eps) * (1 + c) + s
        qkv, mlp = torch.split(self.linear1(h), [3 * self.d, self.hid], dim=-1)
        q, k, v = split_qkv(qkv, self.heads)
        q = self.norm.query_norm(q)
        k = self.norm.key_norm(k)
        a = attention(q, k, v, cos, sin)
        total = self.linear2(torch.cat([a, gelu_tanh(mlp)], dim=-1))
        x = x + g * total
        if rec is not None:
            rec["single/%d/total" % idx] = total
            rec["@single/%d/out" % idx] = x
        return x


class FinalLayer(nn.Module):
    def __init__(self, d, out, eps):
        super().__init__()
        self.eps = eps
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))
        self.linear = nn.Linear(d, out)

    def forward(self, x, vec):
        shift, scale = self.adaLN_modulation(vec).chunk(2, dim=-1)
        x = ln(x, self.eps) * (1 + scale[:, None, :]) + shift[:, None, :]
        return self.linear(x)


class FluxMini(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, H = cfg["hidden_size"], cfg["num_heads"]
        assert D % H == 0 and sum(cfg["axes_dim"]) == D // H
        K = cfg["num_classes"] + 1
        self.label_txt = nn.Embedding(K, cfg["txt_tokens"] * cfg["context_in_dim"])
        self.label_vec = nn.Embedding(K, cfg["vec_in_dim"])
        self.img_in = nn.Linear(cfg["in_channels"], D)
        self.time_in = MLPEmbedder(cfg["time_dim"], D)
        self.vector_in = MLPEmbedder(cfg["vec_in_dim"], D)
        self.txt_in = nn.Linear(cfg["context_in_dim"], D)
        self.double_blocks = nn.ModuleList([
            DoubleBlock(D, H, cfg["mlp_ratio"], cfg["qkv_bias"], cfg["ln_eps"], cfg["rms_eps"])
            for _ in range(cfg["depth_double"])])
        self.single_blocks = nn.ModuleList([
            SingleBlock(D, H, cfg["mlp_ratio"], cfg["ln_eps"], cfg["rms_eps"])
            for _ in range(cfg["depth_single"])])
        self.final_layer = FinalLayer(D, cfg["out_channels"], cfg["ln_eps"])
        gh, gw = cfg["grid"]
        T_txt = cfg["txt_tokens"]
        ids = torch.zeros(T_txt + gh * gw, 3)
        r = torch.arange(gh).repeat_interleave(gw)
        c = torch.arange(gw).repeat(gh)
        ids[T_txt:, 1] = r.float()
        ids[T_txt:, 2] = c.float()
        cos, sin = rope_tables(ids, cfg["axes_dim"], cfg["theta"])
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def init_train(self):
        """DiT/FLUX-style init for training: xavier linears, zero adaLN / final."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.label_txt.weight, std=1.0)
        nn.init.normal_(self.label_vec.weight, std=1.0)
        nn.init.normal_(self.time_in.in_layer.weight, std=0.02)
        nn.init.normal_(self.time_in.out_layer.weight, std=0.02)
        for b in self.double_blocks:
            for m in (b.img_mod.lin, b.txt_mod.lin):
                nn.init.zeros_(m.weight)
                nn.init.zeros_(m.bias)
        for b in self.single_blocks:
            nn.init.zeros_(b.modulation.lin.weight)
            nn.init.zeros_(b.modulation.lin.bias)
        for m in (self.final_layer.adaLN_modulation[1], self.final_layer.linear):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def init_random(self, std=0.05, gen=None):
        """Golden-test init: every parameter ~ N(0, std^2) (nothing zero)."""
        with torch.no_grad():
            for _, p in sorted(self.named_parameters()):
                p.copy_(torch.randn(p.shape, generator=gen) * std)

    def forward(self, x, t, labels, rec=None):
        """x [B,C,H,W] image-space state, t [B] in [0,1], labels [B] int (null=num_classes).
        Returns the velocity [B,C,H,W]."""
        cfg = self.cfg
        p = cfg["patch_size"]
        B, C, Hh, Ww = x.shape
        img = pack(x, p)
        txt_tok = self.label_txt(labels).reshape(B, cfg["txt_tokens"], cfg["context_in_dim"])
        y = self.label_vec(labels)
        temb = timestep_embedding(t, cfg["time_dim"], cfg["time_factor"], cfg["max_period"])
        vec = self.time_in(temb) + self.vector_in(y)
        img = self.img_in(img)
        txt = self.txt_in(txt_tok)
        if rec is not None:
            rec["@img_packed"] = pack(x, p)
            rec["@txt_tokens"] = txt_tok
            rec["@y"] = y
            rec["@temb"] = temb
            rec["@vec"] = vec
            rec["@img_in"] = img
            rec["@txt_in"] = txt
            rec["@rope_cos"] = self.rope_cos
            rec["@rope_sin"] = self.rope_sin
        cos, sin = self.rope_cos, self.rope_sin
        for i, b in enumerate(self.double_blocks):
            img, txt = b(img, txt, vec, cos, sin, rec, i)
        h = torch.cat([txt, img], dim=1)
        nd = len(self.double_blocks)
        for j, b in enumerate(self.single_blocks):
            h = b(h, vec, cos, sin, rec, nd + j)
        img = h[:, txt.shape[1]:]
        out = self.final_layer(img, vec)
        if rec is not None:
            rec["@out_packed"] = out
        return unpack(out, C, Hh, Ww, p)


# --------------------------------------------------------------------------
# sampler: rectified flow, FLUX time shift, Euler, true CFG
# --------------------------------------------------------------------------
def flux_mu(seq_len, sc):
    m = (sc["max_shift"] - sc["base_shift"]) / (sc["max_seq_len"] - sc["base_seq_len"])
    b = sc["base_shift"] - m * sc["base_seq_len"]
    return m * seq_len + b


def flux_schedule(steps, seq_len, sc):
    """float64 [steps+1]: t_i = linspace(1,0), shifted t' = e^mu/(e^mu + (1/t-1)^sigma); t'=0 at t=0."""
    mu = flux_mu(seq_len, sc)
    ts = np.linspace(1.0, 0.0, steps + 1)
    out = np.zeros_like(ts)
    for i, t in enumerate(ts):
        if t <= 0.0:
            out[i] = 0.0
        else:
            out[i] = math.exp(mu) / (math.exp(mu) + (1.0 / t - 1.0) ** sc["sigma"])
    return out, mu


@torch.no_grad()
def sample_euler(model, noise, labels, steps, cfg_scale, record=None):
    """Euler on the shifted schedule with true CFG (cond and uncond in one batch of 2B:
    rows [0,B) conditional, [B,2B) null label).  v = v_u + s (v_c - v_u);
    x <- x + (float32)(t_next - t_cur) * v."""
    cfg = model.cfg
    gh, gw = cfg["grid"]
    ts, mu = flux_schedule(steps, gh * gw, cfg["schedule"])
    x = noise.clone()
    B = x.shape[0]
    null = torch.full_like(labels, cfg["null_class"])
    lab2 = torch.cat([labels, null])
    xs, vs, vcs, vus = [x.clone()], [], [], []
    for i in range(steps):
        tt = torch.full((2 * B,), float(ts[i]), dtype=torch.float32)
        v2 = model(torch.cat([x, x]), tt, lab2)
        vc, vu = v2[:B], v2[B:]
        v = vu + cfg_scale * (vc - vu)
        dt = torch.tensor(ts[i + 1] - ts[i], dtype=torch.float32)
        x = x + dt * v
        if record is not None:
            xs.append(x.clone()); vs.append(v); vcs.append(vc); vus.append(vu)
    if record is not None:
        record.update(t=ts, mu=mu, x=torch.stack(xs), v=torch.stack(vs),
                      v_cond=torch.stack(vcs), v_uncond=torch.stack(vus))
    return x


# --------------------------------------------------------------------------
# safetensors (hand-written)
# --------------------------------------------------------------------------
def save_safetensors(path, tensors, metadata):
    names = sorted(tensors)
    header = {}
    off = 0
    blobs = []
    for n in names:
        a = tensors[n].detach().cpu().contiguous().float().numpy().astype("<f4")
        b = a.tobytes(order="C")
        header[n] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hj = json.dumps(header, separators=(",", ":"), sort_keys=False).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)   # pad with spaces to an 8-byte boundary
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_safetensors(path):
    """Strict reader: returns (dict name->float32 tensor, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) >= 8
    n = struct.unpack("<Q", data[:8])[0]
    assert n <= 100 * 1024 * 1024 and 8 + n <= len(data), "bad header length"
    hdr = json.loads(data[8:8 + n].decode("utf-8"))
    meta = hdr.pop("__metadata__", {})
    buf = data[8 + n:]
    ranges = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in hdr.items())
    pos = 0
    for b, e, k in ranges:
        assert b == pos and e >= b, "non-contiguous/overlapping range at %s" % k
        pos = e
    assert pos == len(buf), "buffer size mismatch"
    out = {}
    for k, v in hdr.items():
        assert v["dtype"] == "F32"
        b, e = v["data_offsets"]
        cnt = int(np.prod(v["shape"])) if v["shape"] else 1
        assert e - b == 4 * cnt
        out[k] = torch.from_numpy(np.frombuffer(buf, dtype="<f4", count=cnt, offset=b)
                                  .reshape(v["shape"]).copy())
    return out, meta


def verify_safetensors(path, tensors):
    got, meta = load_safetensors(path)
    assert set(got) == set(tensors), "tensor name set differs"
    for k, v in tensors.items():
        v = v.detach().float().cpu()
        assert tuple(got[k].shape) == tuple(v.shape), k
        assert torch.equal(got[k], v), "tensor %s differs after re-read" % k
    return meta


def load_flux(path):
    sd, meta = load_safetensors(path)
    cfg = json.loads(meta["config"])
    m = FluxMini(cfg)
    m.load_state_dict(sd, strict=True)
    m.eval()
    return m, meta


# --------------------------------------------------------------------------
# PNG (no PIL here)
# --------------------------------------------------------------------------
def write_png_gray(path, img_u8):
    h, w = img_u8.shape
    raw = b"".join(b"\x00" + img_u8[r].tobytes() for r in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def grid_png(path, imgs, rows, cols, scale=2, pad=2):
    """imgs [N,1,H,W] in [-1,1], laid out row-major into rows x cols."""
    N, _, H, W = imgs.shape
    u = ((imgs.clamp(-1, 1) + 1) * 127.5).round().byte().numpy()[:, 0]
    if scale > 1:
        u = u.repeat(scale, axis=1).repeat(scale, axis=2)
        H, W = H * scale, W * scale
    G = np.full((rows * (H + pad) + pad, cols * (W + pad) + pad), 64, np.uint8)
    for i in range(min(N, rows * cols)):
        r, c = divmod(i, cols)
        G[pad + r * (H + pad):pad + r * (H + pad) + H, pad + c * (W + pad):pad + c * (W + pad) + W] = u[i]
    write_png_gray(path, G)


# --------------------------------------------------------------------------
# classifier
# --------------------------------------------------------------------------
CLS_CONFIG = {
    "arch": "fmnist-cnn",
    "input": "[N,1,28,28] float32 in [-1,1] (u8/127.5-1), same scaling as the generator",
    "layers": [
        "conv1: Conv2d(1,32,3x3,stride 1,pad 1)+bias -> ReLU -> MaxPool 2x2 stride 2   => [32,14,14]",
        "conv2: Conv2d(32,64,3x3,stride 1,pad 1)+bias -> ReLU -> MaxPool 2x2 stride 2  => [64,7,7]",
        "flatten in (c,h,w) order => 3136",
        "fc1: Linear(3136,128)+bias -> ReLU  => 128 = FEATURES (penultimate layer, used for FD)",
        "fc2: Linear(128,10)+bias => logits; class = argmax",
    ],
    "feature_layer": "fc1_relu",
    "feature_dim": 128,
    "num_classes": 10,
    "conv_weight_layout": "[out,in,kh,kw], cross-correlation (PyTorch Conv2d), zero padding",
}


class FmnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x):
        return self.fc2(self.features(x))


def load_classifier(path=CLS_FILE):
    sd, meta = load_safetensors(path)
    m = FmnistCNN()
    m.load_state_dict(sd, strict=True)
    m.eval()
    return m, meta


@torch.no_grad()
def cls_accuracy(m, x, y, bs=500):
    correct = 0
    for i in range(0, len(x), bs):
        correct += (m(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return correct / len(x)


def cmd_classifier(args):
    torch.manual_seed(args.seed)
    xtr, ytr = load_fmnist("train")
    xte, yte = load_fmnist("test")
    xtr, xte = to_pm1(xtr), to_pm1(xte)
    # hold out the last 5000 training images for validation (model selection)
    xva, yva = xtr[55000:], ytr[55000:]
    xtr, ytr = xtr[:55000], ytr[:55000]
    m = FmnistCNN()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    bs = 128
    steps_per_epoch = len(xtr) // bs
    total = args.epochs * steps_per_epoch
    best, best_sd = -1, None
    step = 0
    for ep in range(args.epochs):
        m.train()
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(steps_per_epoch):
            lr = 1e-3 * 0.5 * (1 + math.cos(math.pi * step / total))
            for pg in opt.param_groups:
                pg["lr"] = lr
            idx = perm[i * bs:(i + 1) * bs]
            xb = xtr[idx]
            # light augmentation: random horizontal flip (Fashion-MNIST is flip-symmetric-ish)
            flip = torch.rand(len(idx), generator=g) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            loss = F.cross_entropy(m(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0:
                log("cls step %d/%d loss %.4f  %.0fs" % (step, total, loss.item(), time.time() - t0))
        m.eval()
        va = cls_accuracy(m, xva, yva)
        log("epoch %d val acc %.4f (%.0fs)" % (ep + 1, va, time.time() - t0))
        if va > best:
            best = va
            best_sd = {k: v.clone() for k, v in m.state_dict().items()}
    m.load_state_dict(best_sd)
    m.eval()
    te = cls_accuracy(m, xte, yte)
    log("classifier: best val acc %.4f, TEST acc %.4f, %.1f min" % (best, te, (time.time() - t0) / 60))
    meta = {
        "format": "hicache-fmnist-classifier", "format_version": FORMAT_VERSION,
        "config": json.dumps(CLS_CONFIG),
        "training": json.dumps({
            "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist)",
            "dataset_files": {os.path.basename(p): sha256_file(p) for p in dataset_files()},
            "train_images": 55000, "val_images": 5000, "epochs": args.epochs, "batch": bs,
            "optimizer": "Adam lr 1e-3 cosine", "augment": "hflip p=0.5", "seed": args.seed,
            "val_accuracy": round(best, 4), "test_accuracy": round(te, 4),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "date_utc": _dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "wall_minutes": round((time.time() - t0) / 60, 2)}),
    }
    sd = {k: v for k, v in m.state_dict().items()}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    save_safetensors(args.out, sd, meta)
    verify_safetensors(args.out, sd)
    m2, _ = load_classifier(args.out)
    assert abs(cls_accuracy(m2, xte, yte) - te) < 1e-9
    log("wrote %s (%d bytes), re-read OK" % (args.out, os.path.getsize(args.out)))


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------
def parse_deadline(s, now=None):
    """'HH:MM' (UTC; the next such time after now, so it may be tomorrow) or an ISO
    datetime 'YYYY-MM-DDTHH:MM' (UTC).  Returns a unix timestamp."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    if "T" in s or "-" in s:
        d = _dt.datetime.fromisoformat(s.replace("Z", ""))
        if d.tzinfo is None:
            d = d.replace(tzinfo=_dt.timezone.utc)
        return d.timestamp()
    hh, mm = s.split(":")
    d = now.replace(hour=int(hh), minute=int(mm), second=0, microsecond=0)
    if d <= now:
        d += _dt.timedelta(days=1)
    return d.timestamp()


def atomic_torch_save(obj, path):
    tmp = path + ".partial"
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def cmd_train(args):
    t_start = time.time()
    if args.deadline:
        deadline = parse_deadline(args.deadline)
    elif args.minutes:
        deadline = t_start + 60 * args.minutes
    else:
        deadline = float("inf")
    if deadline < float("inf"):
        log("deadline %s UTC (%.1f min from now)" % (
            _dt.datetime.fromtimestamp(deadline, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            (deadline - t_start) / 60))
    stop = {"flag": False}

    def on_signal(signum, frame):
        log("signal %d: will checkpoint and exit" % signum)
        stop["flag"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    cfg = MINI_CONFIG
    xtr_u8, ytr = load_fmnist("train")
    N = len(xtr_u8)
    model = FluxMini(cfg)
    ema = FluxMini(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    if os.path.exists(args.ckpt):
        ck = torch.load(args.ckpt)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen_state"])
        torch.set_rng_state(ck["torch_rng"])
        st = ck["state"]
        log("resumed from %s at step %d (%d images seen, %.1f min trained)" % (
            args.ckpt, st["step"], st["images_seen"], st["train_seconds"] / 60))
    else:
        torch.manual_seed(args.seed)
        model.init_train()
        ema.load_state_dict(model.state_dict())
        st = {"step": 0, "images_seen": 0, "train_seconds": 0.0, "epoch": 0, "pos": 0,
              "perm": torch.randperm(N, generator=gen), "losses": [], "loss_ema": None,
              "seed": args.seed, "batch": args.batch, "lr": args.lr, "warmup": args.warmup,
              "label_dropout": args.label_dropout, "started_utc":
              _dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "sessions": []}
        log("fresh start, %d params" % sum(p.numel() for p in model.parameters()))
    for p in ema.parameters():
        p.requires_grad_(False)
    st["sessions"].append(_dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"))
    nparam = sum(p.numel() for p in model.parameters())
    eparams = list(ema.parameters())
    mparams = list(model.parameters())

    def save():
        atomic_torch_save({"model": model.state_dict(), "ema": ema.state_dict(),
                           "opt": opt.state_dict(), "gen_state": gen.get_state(),
                           "torch_rng": torch.get_rng_state(), "state": st,
                           "config": cfg}, args.ckpt)

    last_ck = time.time()
    sess_t0 = time.time()
    sess_imgs = 0
    win = []
    B = st["batch"]
    null = cfg["null_class"]
    model.train()
    while True:
        if stop["flag"] or time.time() >= deadline or (args.max_steps and st["step"] >= args.max_steps):
            break
        it0 = time.time()
        if st["pos"] + B > N:
            st["epoch"] += 1
            st["pos"] = 0
            st["perm"] = torch.randperm(N, generator=gen)
        idx = st["perm"][st["pos"]:st["pos"] + B]
        st["pos"] += B
        x0 = to_pm1(xtr_u8[idx])
        lab = ytr[idx].clone()
        drop = torch.rand(B, generator=gen) < st["label_dropout"]
        lab[drop] = null
        t = torch.sigmoid(torch.randn(B, generator=gen))
        eps = torch.randn(x0.shape, generator=gen)
        tb = t[:, None, None, None]
        xt = (1 - tb) * x0 + tb * eps
        target = eps - x0
        lr = st["lr"] * min(1.0, (st["step"] + 1) / st["warmup"])
        for pg in opt.param_groups:
            pg["lr"] = lr
        pred = model(xt, t, lab)
        loss = F.mse_loss(pred, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        i = st["step"]
        decay = min(0.9995, (1 + i) / (10 + i))
        with torch.no_grad():
            torch._foreach_mul_(eparams, decay)
            torch._foreach_add_(eparams, [p.detach() for p in mparams], alpha=1 - decay)
        lv = loss.item()
        st["loss_ema"] = lv if st["loss_ema"] is None else 0.98 * st["loss_ema"] + 0.02 * lv
        st["losses"].append((i + 1, lv, st["loss_ema"]))
        st["step"] += 1
        st["images_seen"] += B
        dt = time.time() - it0
        st["train_seconds"] += dt
        sess_imgs += B
        win.append(dt)
        s = st["step"]
        if s % args.log_every == 0 or s in (1, 10):
            el = time.time() - sess_t0
            log("step %6d ep %d loss %.4f ema_loss %.4f lr %.2e | %.2f s/it (last %d) %.1f img/s session | %s" % (
                s, st["epoch"], lv, st["loss_ema"], lr, sum(win) / len(win), len(win),
                sess_imgs / max(el, 1e-9), _dt.datetime.utcnow().strftime("%H:%M:%S")))
            win = []
        if time.time() - last_ck >= 60 * args.ckpt_minutes:
            save()
            last_ck = time.time()
            log("checkpoint at step %d -> %s" % (s, args.ckpt))
    save()
    log("stopped at step %d (%d images, %.1f epochs, %.1f min total training); checkpoint %s" % (
        st["step"], st["images_seen"], st["images_seen"] / N, st["train_seconds"] / 60, args.ckpt))
    log("params %d" % nparam)


# --------------------------------------------------------------------------
# export / sample
# --------------------------------------------------------------------------
@torch.no_grad()
def val_loss(model, n=512, seed=1234):
    """Rectified-flow MSE on the first n test images with fixed t and noise."""
    xte, yte = load_fmnist("test")
    g = torch.Generator().manual_seed(seed)
    x0 = to_pm1(xte[:n])
    t = torch.sigmoid(torch.randn(n, generator=g))
    eps = torch.randn(x0.shape, generator=g)
    tb = t[:, None, None, None]
    xt = (1 - tb) * x0 + tb * eps
    tot = 0.0
    for i in range(0, n, 64):
        tot += F.mse_loss(model(xt[i:i + 64], t[i:i + 64], yte[i:i + 64]), (eps - x0)[i:i + 64],
                          reduction="sum").item()
    return tot / x0.numel()


def cmd_export(args):
    ck = torch.load(args.ckpt)
    st = ck["state"]
    cfg = ck["config"]
    model = FluxMini(cfg)
    model.load_state_dict(ck["ema"])
    model.eval()
    sd = {k: v for k, v in model.state_dict().items()}
    vl = val_loss(model)
    log("EMA weights: validation RF loss %.4f (512 test images)" % vl)
    files = {os.path.basename(p): sha256_file(p) for p in dataset_files()}
    training = {
        "dataset": "Fashion-MNIST train split, 60000 images (Debian dataset-fashion-mnist)",
        "dataset_files": files,
        "steps": st["step"], "images_seen": st["images_seen"],
        "epochs": round(st["images_seen"] / 60000, 3),
        "batch": st["batch"], "seed": st["seed"],
        "optimizer": "AdamW lr %g, %d-step linear warm-up, no weight decay, betas (0.9,0.999)" % (
            st["lr"], st["warmup"]),
        "ema": "decay min(0.9995,(1+i)/(10+i)); exported weights are the EMA",
        "objective": "rectified flow x_t=(1-t)x0+t*eps, target eps-x0, t=sigmoid(N(0,1)), MSE",
        "label_dropout": st["label_dropout"],
        "final_loss_ema": round(st["loss_ema"], 5),
        "loss_ema_definition": "exponential moving average (0.98) of the per-step training loss",
        "val_loss_ema_weights": round(vl, 5),
        "wall_clock_minutes": round(st["train_seconds"] / 60, 2),
        "started_utc": st.get("started_utc"), "sessions_utc": st.get("sessions"),
        "torch": torch.__version__, "threads": 1,
        "date_utc": _dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": "tools/train_flux.py sha256 " + sha256_file(os.path.abspath(__file__)),
    }
    meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
            "config": json.dumps(cfg), "training": json.dumps(training)}
    save_safetensors(args.out, sd, meta)
    verify_safetensors(args.out, sd)
    m2, meta2 = load_flux(args.out)
    assert json.loads(meta2["config"]) == cfg
    log("wrote %s (%d bytes, %d tensors, %d params), re-read and compared OK" % (
        args.out, os.path.getsize(args.out), len(sd), sum(v.numel() for v in sd.values())))
    with open(args.loss_csv, "w") as f:
        f.write("step,loss,loss_ema\n")
        for s, l, e in st["losses"]:
            f.write("%d,%.6f,%.6f\n" % (s, l, e))
    log("wrote %s (%d rows)" % (args.loss_csv, len(st["losses"])))
    if not args.no_sample:
        args.model = args.out
        cmd_sample(args)


def cmd_sample(args):
    model, meta = load_flux(args.model)
    cfg = model.cfg
    K = cfg["num_classes"]
    per = args.per_class
    labels = torch.arange(K).repeat_interleave(per)
    g = torch.Generator().manual_seed(args.seed)
    S = cfg["image_size"]
    noise = torch.randn(len(labels), cfg["image_channels"], S, S, generator=g)
    t0 = time.time()
    outs = []
    for i in range(0, len(labels), args.bs):
        outs.append(sample_euler(model, noise[i:i + args.bs], labels[i:i + args.bs],
                                 args.steps, args.cfg_scale))
        log("  sampled %d/%d (%.0fs)" % (min(i + args.bs, len(labels)), len(labels), time.time() - t0))
    x = torch.cat(outs).clamp(-1, 1)
    # grid: one row per class, first 4 samples of that class
    ncol = min(4, per)
    sel = torch.cat([torch.arange(c * per, c * per + ncol) for c in range(K)])
    grid_png(args.png, x[sel], K, ncol)
    log("wrote %s (%d x %d grid, rows = classes 0..9)" % (args.png, K, ncol))
    res = {"samples": len(labels), "steps": args.steps, "cfg_scale": args.cfg_scale,
           "seed": args.seed, "sample_seconds": round(time.time() - t0, 1)}
    if os.path.exists(args.classifier):
        cm, _ = load_classifier(args.classifier)
        with torch.no_grad():
            pred = cm(x).argmax(1)
        acc = (pred == labels).float().mean().item()
        per_cls = [(pred[labels == c] == c).float().mean().item() for c in range(K)]
        res.update(accuracy=round(acc, 4), per_class=[round(a, 3) for a in per_cls])
        log("classifier accuracy on %d samples (%d steps, CFG %.1f): %.3f  per class %s" % (
            len(labels), args.steps, args.cfg_scale, acc, " ".join("%.2f" % a for a in per_cls)))
    with open(os.path.splitext(args.png)[0] + ".json", "w") as f:
        json.dump(res, f, indent=1)


# --------------------------------------------------------------------------
# golden data
# --------------------------------------------------------------------------
def write_golden(path, model, x, t, labels, euler_noise, euler_labels, steps, cfg_scale,
                 weights=None, cache_batch=None, attrs=None, intermediate_keys=None):
    import h5py
    rec = {}
    with torch.no_grad():
        out = model(x, t, labels, rec=rec)
    er = {}
    sample_euler(model, euler_noise, euler_labels, steps, cfg_scale, record=er)
    cb = slice(None) if cache_batch is None else slice(0, cache_batch)
    tmp = path + ".partial"
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = "hicache-golden-flux"
        f.attrs["format_version"] = 1
        f.attrs["config"] = json.dumps(model.cfg)
        f.attrs["torch_version"] = str(torch.__version__)
        f.attrs["threads"] = torch.get_num_threads()
        f.attrs["generator"] = "tools/train_flux.py golden"
        f.attrs["generator_sha256"] = sha256_file(os.path.abspath(__file__))
        f.attrs["created_utc"] = _dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        f.attrs["cache_batch"] = x.shape[0] if cache_batch is None else cache_batch
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
        f["inputs/x"] = x.numpy()
        f["inputs/t"] = t.numpy()
        f["inputs/labels"] = labels.numpy().astype(np.int32)
        f["output/v"] = out.numpy()
        f["output/v_packed"] = rec["@out_packed"].numpy()
        for k, v in rec.items():
            if k.startswith("@"):
                if k == "@out_packed" or (intermediate_keys is not None and k[1:] not in intermediate_keys):
                    continue
                f["intermediate/" + k[1:]] = v.detach().numpy()
            else:
                f["cache/" + k] = v.detach()[cb].numpy()
        e = f.create_group("euler")
        e.attrs["steps"] = steps
        e.attrs["cfg_scale"] = cfg_scale
        e.attrs["mu"] = er["mu"]
        e.attrs["seq_len"] = model.cfg["grid"][0] * model.cfg["grid"][1]
        e["t"] = er["t"]
        e["labels"] = euler_labels.numpy().astype(np.int32)
        e["x"] = er["x"].numpy()
        e["v"] = er["v"].numpy()
        e["v_cond"] = er["v_cond"].numpy()
        e["v_uncond"] = er["v_uncond"].numpy()
        if weights is not None:
            for k, v in sorted(weights.items()):
                f["weights/" + k] = v.numpy()
    os.replace(tmp, path)
    log("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


def cmd_golden(args):
    GD = args.outdir
    os.makedirs(GD, exist_ok=True)
    # tiny random model
    g = torch.Generator().manual_seed(20261124)
    cfg = TINY_CONFIG
    m = FluxMini(cfg)
    m.init_random(0.05, g)
    m.eval()
    sd = {k: v for k, v in m.state_dict().items()}
    st_path = os.path.join(GD, "golden_flux_tiny.safetensors")
    save_safetensors(st_path, sd, {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                                   "config": json.dumps(cfg),
                                   "training": json.dumps({"note": "random N(0,0.05^2) weights, golden test only",
                                                           "seed": 20261124})})
    verify_safetensors(st_path, sd)
    m, _ = load_flux(st_path)
    S, C = cfg["image_size"], cfg["image_channels"]
    x = torch.randn(2, C, S, S, generator=g)
    t = torch.tensor([0.7, 0.25])
    labels = torch.tensor([3, cfg["null_class"]])
    en = torch.randn(2, C, S, S, generator=g)
    el = torch.tensor([1, 7])
    write_golden(os.path.join(GD, "golden_flux_tiny.h5"), m, x, t, labels, en, el,
                 4, 2.5, weights=sd, attrs={"model_file": os.path.relpath(st_path, ROOT),
                                            "weight_init": "all parameters N(0, 0.05^2), seed 20261124"})
    log("tiny model: %d params" % sum(v.numel() for v in sd.values()))
    # trained model
    if os.path.exists(args.model):
        m, meta = load_flux(args.model)
        cfg = m.cfg
        g = torch.Generator().manual_seed(4242)
        S, C = cfg["image_size"], cfg["image_channels"]
        xte, yte = load_fmnist("test")
        # input 0: a real test image noised at t=0.6 with label 0; input 1: pure noise t=1 null label
        x0 = to_pm1(xte[:1])
        e = torch.randn(2, C, S, S, generator=g)
        t = torch.tensor([0.6, 1.0])
        x = torch.cat([(1 - 0.6) * x0 + 0.6 * e[:1], e[1:]])
        labels = torch.tensor([int(yte[0]), cfg["null_class"]])
        en = torch.randn(2, C, S, S, generator=g)
        el = torch.tensor([2, 9])
        out = os.path.join(GD, "golden_flux_mini.h5")
        write_golden(out, m, x, t, labels, en, el, 4, 2.5, weights=None, cache_batch=1,
                     intermediate_keys=("img_packed", "temb", "vec", "txt_in", "y"),
                     attrs={"model_file": os.path.relpath(os.path.abspath(args.model), ROOT),
                            "model_sha256": sha256_file(args.model)})
        assert os.path.getsize(out) <= 1 << 20, "golden_flux_mini.h5 exceeds 1 MB"
    else:
        log("no %s: skipping the trained-model golden file" % args.model)


# --------------------------------------------------------------------------
# independent numpy (float64) forward written from docs/model-format.md, used by
# `verify-golden` to check the golden files and the document against each other
# --------------------------------------------------------------------------
def np_forward(W, cfg, x, t, labels, rec):
    f8 = np.float64
    W = {k: v.numpy().astype(f8) for k, v in W.items()} if not isinstance(
        next(iter(W.values())), np.ndarray) else W
    D, H = cfg["hidden_size"], cfg["num_heads"]
    d = D // H
    p, C, S = cfg["patch_size"], cfg["image_channels"], cfg["image_size"]
    gh, gw = S // p, S // p
    Tt, Ctx = cfg["txt_tokens"], cfg["context_in_dim"]
    L = Tt + gh * gw
    lin = lambda z, n: z @ W[n + ".weight"].T + W[n + ".bias"]
    silu = lambda z: z / (1 + np.exp(-z))
    gelu = lambda z: 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3)))

    def LN(z):
        mu = z.mean(-1, keepdims=True)
        var = ((z - mu) ** 2).mean(-1, keepdims=True)
        return (z - mu) / np.sqrt(var + cfg["ln_eps"])
    # RoPE table
    ids = np.zeros((L, 3))
    for n in range(gh * gw):
        ids[Tt + n] = (0, n // gw, n % gw)
    ang = []
    for a, da in enumerate(cfg["axes_dim"]):
        j = np.arange(da // 2)
        ang.append(ids[:, a:a + 1] * cfg["theta"] ** (-2.0 * j / da)[None])
    ang = np.concatenate(ang, 1)
    ct, st = np.cos(ang).astype(np.float32).astype(f8), np.sin(ang).astype(np.float32).astype(f8)

    def rope(u):
        r = u.copy()
        r[:, 0::2] = ct * u[:, 0::2] - st * u[:, 1::2]
        r[:, 1::2] = st * u[:, 0::2] + ct * u[:, 1::2]
        return r

    def qk_rms(qkv, rows, qs, ks):
        """RMS-normalise q and k of every head in place for the given rows."""
        for h in range(H):
            for kk, sc in ((0, qs), (1, ks)):
                u = qkv[rows, kk * D + h * d:kk * D + (h + 1) * d]
                qkv[rows, kk * D + h * d:kk * D + (h + 1) * d] = u / np.sqrt(
                    (u * u).mean(-1, keepdims=True) + cfg["rms_eps"]) * W[sc]

    def attn(qkv):
        """qkv [L,3D] with q,k already RMS-normalised -> [L,D]."""
        out = np.zeros((qkv.shape[0], D))
        for h in range(H):
            q = rope(qkv[:, 0 * D + h * d:0 * D + (h + 1) * d])
            k = rope(qkv[:, 1 * D + h * d:1 * D + (h + 1) * d])
            v = qkv[:, 2 * D + h * d:2 * D + (h + 1) * d]
            s_ = q @ k.T / math.sqrt(d)
            s_ = np.exp(s_ - s_.max(-1, keepdims=True))
            s_ /= s_.sum(-1, keepdims=True)
            out[:, h * d:(h + 1) * d] = s_ @ v
        return out

    outs = []
    for b in range(x.shape[0]):
        xb = x[b].astype(f8)
        img0 = np.zeros((gh * gw, C * p * p))
        for n in range(gh * gw):
            r, c = divmod(n, gw)
            for ch in range(C):
                for ph in range(p):
                    for pw in range(p):
                        img0[n, ch * p * p + ph * p + pw] = xb[ch, r * p + ph, c * p + pw]
        lab = int(labels[b])
        txt_tok = W["label_txt.weight"][lab].reshape(Tt, Ctx)
        y = W["label_vec.weight"][lab]
        half = cfg["time_dim"] // 2
        a = cfg["time_factor"] * float(t[b]) * np.exp(-math.log(cfg["max_period"]) * np.arange(half) / half)
        temb = np.concatenate([np.cos(a), np.sin(a)]).astype(np.float32).astype(f8)
        vec = lin(silu(lin(temb, "time_in.in_layer")), "time_in.out_layer") + \
            lin(silu(lin(y, "vector_in.in_layer")), "vector_in.out_layer")
        img = lin(img0, "img_in")
        txt = lin(txt_tok, "txt_in")
        sv = silu(vec)
        for i in range(cfg["depth_double"]):
            P = "double_blocks.%d." % i
            im = np.split(lin(sv, P + "img_mod.lin"), 6)
            tm = np.split(lin(sv, P + "txt_mod.lin"), 6)
            qi = lin(LN(img) * (1 + im[1]) + im[0], P + "img_attn.qkv")
            qt = lin(LN(txt) * (1 + tm[1]) + tm[0], P + "txt_attn.qkv")
            qkv = np.concatenate([qt, qi], 0)       # joint sequence [txt ; img]
            qk_rms(qkv, slice(0, Tt), P + "txt_attn.norm.query_norm.scale", P + "txt_attn.norm.key_norm.scale")
            qk_rms(qkv, slice(Tt, L), P + "img_attn.norm.query_norm.scale", P + "img_attn.norm.key_norm.scale")
            out = attn(qkv)
            ia = lin(out[Tt:], P + "img_attn.proj")
            img = img + im[2] * ia
            imlp = lin(gelu(lin(LN(img) * (1 + im[4]) + im[3], P + "img_mlp.0")), P + "img_mlp.2")
            img = img + im[5] * imlp
            ta = lin(out[:Tt], P + "txt_attn.proj")
            txt = txt + tm[2] * ta
            tmlp = lin(gelu(lin(LN(txt) * (1 + tm[4]) + tm[3], P + "txt_mlp.0")), P + "txt_mlp.2")
            txt = txt + tm[5] * tmlp
            for nm, v in (("img_attn", ia), ("img_mlp", imlp), ("txt_attn", ta), ("txt_mlp", tmlp)):
                rec.setdefault("double/%d/%s" % (i, nm), []).append(v)
        z = np.concatenate([txt, img], 0)
        nd = cfg["depth_double"]
        F_ = int(D * cfg["mlp_ratio"])
        for j in range(cfg["depth_single"]):
            P = "single_blocks.%d." % j
            sh, sc, g = np.split(lin(sv, P + "modulation.lin"), 3)
            u = lin(LN(z) * (1 + sc) + sh, P + "linear1")
            qkv = u[:, :3 * D].copy()
            qk_rms(qkv, slice(0, L), P + "norm.query_norm.scale", P + "norm.key_norm.scale")
            a_ = attn(qkv)
            tot = lin(np.concatenate([a_, gelu(u[:, 3 * D:3 * D + F_])], 1), P + "linear2")
            z = z + g * tot
            rec.setdefault("single/%d/total" % (nd + j), []).append(tot)
        zi = z[Tt:]
        shift, scale = np.split(lin(sv, "final_layer.adaLN_modulation.1"), 2)
        o = lin(LN(zi) * (1 + scale) + shift, "final_layer.linear")
        v = np.zeros((C, S, S))
        for n in range(gh * gw):
            r, c = divmod(n, gw)
            for ch in range(C):
                for ph in range(p):
                    for pw in range(p):
                        v[ch, r * p + ph, c * p + pw] = o[n, ch * p * p + ph * p + pw]
        outs.append(v)
    for k in list(rec):
        if isinstance(rec[k], list):
            rec[k] = np.stack(rec[k])
    return np.stack(outs)


def np_schedule(N, seq_len, sc):
    m = (sc["max_shift"] - sc["base_shift"]) / (sc["max_seq_len"] - sc["base_seq_len"])
    mu = sc["base_shift"] + m * (seq_len - sc["base_seq_len"])
    ts = [1.0 - i / N for i in range(N + 1)]
    return [0.0 if s <= 0 else math.exp(mu) / (math.exp(mu) + (1 / s - 1) ** sc["sigma"]) for s in ts], mu


def cmd_verify_golden(args):
    import h5py
    worst = 0.0
    for path in args.files:
        with h5py.File(path, "r") as f:
            cfg = json.loads(f.attrs["config"])
            mf = os.path.join(ROOT, f.attrs["model_file"])
            W, _ = load_safetensors(mf)
            W = {k: v.numpy().astype(np.float64) for k, v in W.items()}
            if "weights" in f:
                for k in W:
                    assert np.array_equal(f["weights/" + k][()], W[k].astype(np.float32)), k
            rec = {}
            v = np_forward(W, cfg, f["inputs/x"][()], f["inputs/t"][()], f["inputs/labels"][()], rec)

            def cmp(name, ref, got):
                nonlocal worst
                ref = ref.astype(np.float64)
                rel = np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30)
                mx = np.abs(got - ref).max()
                worst = max(worst, rel)
                log("  %-28s shape %-18s relL2 %.2e  maxabs %.2e" % (name, list(ref.shape), rel, mx))
            log(path)
            cmp("output/v", f["output/v"][()], v)
            cb = int(f.attrs["cache_batch"])
            for k in sorted(rec):
                cmp("cache/" + k, f["cache/" + k][()], rec[k][:cb])
            e = f["euler"]
            N, w = int(e.attrs["steps"]), float(e.attrs["cfg_scale"])
            ts, mu = np_schedule(N, cfg["grid"][0] * cfg["grid"][1], cfg["schedule"])
            cmp("euler/t", e["t"][()], np.array(ts))
            # one Euler step at a time from the stored state (open loop, so errors do not compound)
            lab = e["labels"][()]
            null = np.full_like(lab, cfg["null_class"])
            X = e["x"][()]
            for i in range(N):
                tt = np.full(len(lab), np.float32(ts[i]))
                vc = np_forward(W, cfg, X[i], tt, lab, {})
                vu = np_forward(W, cfg, X[i], tt, null, {})
                vg = vu + w * (vc - vu)
                cmp("euler/v[%d]" % i, e["v"][i], vg)
                cmp("euler/x[%d]" % (i + 1), X[i + 1], X[i] + np.float32(ts[i + 1] - ts[i]) * vg)
    log("worst relL2 %.2e" % worst)
    if worst > 1e-5:
        sys.exit("verify-golden: FAILED (relL2 > 1e-5)")


def cmd_check(args):
    sd, meta = load_safetensors(args.file)
    n = sum(v.numel() for v in sd.values())
    log("%s: %d tensors, %d floats, metadata keys %s" % (args.file, len(sd), n, sorted(meta)))
    for k in sorted(sd):
        log("  %-55s %s" % (k, list(sd[k].shape)))
    for k in sorted(meta):
        log("meta %s = %s" % (k, meta[k][:2000]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("train")
    p.add_argument("--ckpt", default=CKPT)
    p.add_argument("--deadline", help="HH:MM UTC (next occurrence) or ISO datetime UTC")
    p.add_argument("--minutes", type=float)
    p.add_argument("--max-steps", type=int, default=0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--label-dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p = sub.add_parser("export")
    p.add_argument("--ckpt", default=CKPT)
    p.add_argument("--out", default=MODEL_FILE)
    p.add_argument("--loss-csv", default=LOSS_CSV)
    p.add_argument("--no-sample", action="store_true")
    for name in ("export", "sample"):
        p = sub.choices[name] if name in sub.choices else sub.add_parser(name)
        if name == "sample":
            p.add_argument("--model", default=MODEL_FILE)
        p.add_argument("--png", default=SAMPLES_PNG)
        p.add_argument("--classifier", default=CLS_FILE)
        p.add_argument("--per-class", type=int, default=20)
        p.add_argument("--steps", type=int, default=50)
        p.add_argument("--cfg-scale", type=float, default=2.5)
        p.add_argument("--bs", type=int, default=50)
        p.add_argument("--seed", type=int, default=7)
    p = sub.add_parser("classifier")
    p.add_argument("--out", default=CLS_FILE)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("golden")
    p.add_argument("--model", default=MODEL_FILE)
    p.add_argument("--outdir", default=GOLDEN_DIR)
    p = sub.add_parser("verify-golden", help="check golden files with an independent numpy forward")
    p.add_argument("files", nargs="*", default=[os.path.join(GOLDEN_DIR, "golden_flux_tiny.h5")])
    p = sub.add_parser("check")
    p.add_argument("file")
    args = ap.parse_args()
    {"train": cmd_train, "export": cmd_export, "sample": cmd_sample, "classifier": cmd_classifier,
     "golden": cmd_golden, "check": cmd_check, "verify-golden": cmd_verify_golden}[args.cmd](args)


if __name__ == "__main__":
    main()
