#!/usr/bin/python3
"""DiT (Peebles & Xie) in PyTorch with the official state-dict names, the DDPM
linear-beta schedule, DiT-style respacing and DDIM (eta = 0) with classifier-free
guidance.  Written from the description in shared/research/live_model.md (sections
1a, 2a, 2d); no code copied.  Shared by tools/train_dit.py, tools/convert_dit.py
and tools/make_dit_golden.py.  The file format is in docs/model-format.md
(section "DiT"), the golden layout in docs/golden-format.md.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_flux as tf  # noqa: E402  (safetensors, data, classifier helpers; sets 1 thread)

FORMAT_NAME = "hicache-dit"
FORMAT_VERSION = "1"
DIFFUSION = {"num_train_timesteps": 1000, "beta_schedule": "linear",
             "beta_start": 0.0001, "beta_end": 0.02}


def make_config(input_size, in_channels, patch_size, hidden_size, depth, num_heads,
                num_classes, learn_sigma, mlp_ratio=4.0, class_dropout_prob=0.1,
                cfg_channels=None, default_guidance=1.5, pixel=None):
    """The `config` JSON of a hicache-dit file.  pixel: None for a latent model,
    else {"image_size": .., "image_channels": ..} (pixel-space model in [-1, 1])."""
    cfg = {
        "arch": "dit", "input_size": int(input_size), "in_channels": int(in_channels),
        "patch_size": int(patch_size), "hidden_size": int(hidden_size), "depth": int(depth),
        "num_heads": int(num_heads), "mlp_ratio": float(mlp_ratio),
        "num_classes": int(num_classes), "learn_sigma": bool(learn_sigma),
        "class_dropout_prob": float(class_dropout_prob), "freq_dim": 256, "ln_eps": 1e-6,
        "prediction": "epsilon", "diffusion": dict(DIFFUSION),
        "cfg_channels": int(in_channels if cfg_channels is None else cfg_channels),
        "default_guidance": float(default_guidance),
    }
    if pixel is None:
        cfg["latent"] = True
    else:
        cfg["pixel_range"] = [-1.0, 1.0]
        cfg["image_size"] = int(pixel["image_size"])
        cfg["image_channels"] = int(pixel["image_channels"])
    return cfg


# --------------------------------------------------------------------------
# embeddings
# --------------------------------------------------------------------------
def sincos_1d(dim, pos):
    """pos [M] float64 -> [M, dim]: sin(pos*w_k) for k<dim/2, then cos(pos*w_k),
    w_k = 10000^(-k/(dim/2))."""
    k = np.arange(dim // 2, dtype=np.float64) / (dim / 2.0)
    w = 1.0 / 10000.0 ** k
    a = np.outer(pos, w)
    return np.concatenate([np.sin(a), np.cos(a)], axis=1)


def pos_embed_2d(dim, grid):
    """[grid*grid, dim] float32.  Token n = r*grid + c (row-major); the first dim/2
    channels encode the column c, the last dim/2 the row r (as the official code)."""
    r, c = np.meshgrid(np.arange(grid, dtype=np.float64), np.arange(grid, dtype=np.float64),
                       indexing="ij")
    emb = np.concatenate([sincos_1d(dim // 2, c.reshape(-1)), sincos_1d(dim // 2, r.reshape(-1))],
                         axis=1)
    return emb.astype(np.float32)


def timestep_freqs(t, dim=256, max_period=10000.0):
    """t [B] (DDPM index) -> [B, dim] float32: cos(t f_k) for k<dim/2, then sin(t f_k),
    f_k = exp(-ln(max_period) k/(dim/2)).  Computed in float64 and rounded to float32 at
    the end (the official code uses float32; float64 lets C match to ~1e-7)."""
    half = dim // 2
    f = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half)
    a = t.double()[:, None] * f[None]
    return torch.cat([torch.cos(a), torch.sin(a)], dim=1).float()


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


# --------------------------------------------------------------------------
# modules (attribute names give the official state-dict names)
# --------------------------------------------------------------------------
class PatchEmbed(nn.Module):
    def __init__(self, p, cin, d):
        super().__init__()
        self.proj = nn.Conv2d(cin, d, kernel_size=p, stride=p, bias=True)

    def forward(self, x):                       # [B,C,I,I] -> [B,T,D], row-major grid
        return self.proj(x).flatten(2).transpose(1, 2)


class TimestepEmbedder(nn.Module):
    def __init__(self, d, freq_dim=256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, d), nn.SiLU(), nn.Linear(d, d))

    def forward(self, t):
        return self.mlp(timestep_freqs(t, self.freq_dim).to(self.mlp[0].weight.dtype))


class LabelEmbedder(nn.Module):
    def __init__(self, num_classes, d):
        super().__init__()
        self.embedding_table = nn.Embedding(num_classes + 1, d)   # row K = null class

    def forward(self, y):
        return self.embedding_table(y)


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d, bias=True)
        self.proj = nn.Linear(d, d, bias=True)

    def forward(self, x):
        B, T, D = x.shape
        H = self.heads
        qkv = self.qkv(x).reshape(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                     # [B,H,T,d]
        a = torch.softmax((q @ k.transpose(-2, -1)) * (D // H) ** -0.5, dim=-1)
        o = (a @ v).transpose(1, 2).reshape(B, T, D)
        return self.proj(o)


class Mlp(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class DiTBlock(nn.Module):
    def __init__(self, d, heads, mlp_ratio, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=eps)
        self.attn = Attention(d, heads)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=eps)
        self.mlp = Mlp(d, int(d * mlp_ratio))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d, bias=True))

    def forward(self, x, c, rec=None, idx=0):
        sh1, sc1, g1, sh2, sc2, g2 = self.adaLN_modulation(c).chunk(6, dim=1)
        a = self.attn(modulate(self.norm1(x), sh1, sc1))
        if rec is not None:
            rec["dit/%d/attn" % idx] = a.detach().clone()
        x = x + g1[:, None] * a
        m = self.mlp(modulate(self.norm2(x), sh2, sc2))
        if rec is not None:
            rec["dit/%d/mlp" % idx] = m.detach().clone()
        return x + g2[:, None] * m


class FinalLayer(nn.Module):
    def __init__(self, d, p, cout, eps):
        super().__init__()
        self.norm_final = nn.LayerNorm(d, elementwise_affine=False, eps=eps)
        self.linear = nn.Linear(d, p * p * cout, bias=True)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d, bias=True))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class DiT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d, p, C = cfg["hidden_size"], cfg["patch_size"], cfg["in_channels"]
        self.C = C
        self.cout = 2 * C if cfg["learn_sigma"] else C
        self.p = p
        self.grid = cfg["input_size"] // p
        assert self.grid * p == cfg["input_size"], "input_size not a multiple of patch_size"
        assert d % cfg["num_heads"] == 0 and d % 4 == 0
        eps = cfg["ln_eps"]
        self.x_embedder = PatchEmbed(p, C, d)
        self.t_embedder = TimestepEmbedder(d, cfg["freq_dim"])
        self.y_embedder = LabelEmbedder(cfg["num_classes"], d)
        self.pos_embed = nn.Parameter(torch.from_numpy(pos_embed_2d(d, self.grid))[None],
                                      requires_grad=False)
        self.blocks = nn.ModuleList([DiTBlock(d, cfg["num_heads"], cfg["mlp_ratio"], eps)
                                     for _ in range(cfg["depth"])])
        self.final_layer = FinalLayer(d, p, self.cout, eps)

    def init_train(self):
        """DiT's training init: xavier linears, zero adaLN and final layer (adaLN-Zero)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        w = self.x_embedder.proj.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.x_embedder.proj.bias)
        nn.init.normal_(self.y_embedder.embedding_table.weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[2].weight, std=0.02)
        for b in self.blocks:
            nn.init.zeros_(b.adaLN_modulation[1].weight)
            nn.init.zeros_(b.adaLN_modulation[1].bias)
        for m in (self.final_layer.adaLN_modulation[1], self.final_layer.linear):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def init_random(self, std=0.05, gen=None):
        """Every trainable tensor ~ N(0, std^2) (golden tests: nothing is zero)."""
        with torch.no_grad():
            for n, prm in self.named_parameters():
                if n != "pos_embed":
                    prm.copy_(torch.randn(prm.shape, generator=gen) * std)

    def unpatchify(self, x):
        """[B,T,p*p*Cout] with per-token order (pi,pj,c) -> [B,Cout,I,I]."""
        B, G, p, c = x.shape[0], self.grid, self.p, self.cout
        x = x.reshape(B, G, G, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(B, c, G * p, G * p)

    def forward(self, x, t, y, rec=None):
        """x [B,C,I,I], t [B] DDPM indices (float ok), y [B] int64 in 0..K -> [B,Cout,I,I].
        rec: dict filled with the pre-gate cache points dit/<i>/attn, dit/<i>/mlp [B,T,D]."""
        h = self.x_embedder(x) + self.pos_embed
        c = self.t_embedder(t) + self.y_embedder(y)
        for i, blk in enumerate(self.blocks):
            h = blk(h, c, rec, i)
        return self.unpatchify(self.final_layer(h, c))

    def forward_with_cfg(self, x, t, y, scale, rec=None):
        """Official semantics: the batch is [cond half; uncond half]; only the first half of
        x is used (duplicated), the first cfg_channels output channels of both halves become
        uncond + scale*(cond - uncond); the remaining channels are each half's own output."""
        half = x[:len(x) // 2]
        out = self.forward(torch.cat([half, half]), t, y, rec)
        k = self.cfg["cfg_channels"]
        eps, rest = out[:, :k], out[:, k:]
        ce, ue = eps.chunk(2)
        g = ue + scale * (ce - ue)
        return torch.cat([torch.cat([g, g]), rest], dim=1)


# --------------------------------------------------------------------------
# diffusion: schedule, respacing, DDIM
# --------------------------------------------------------------------------
def linear_alphas_cumprod(T=1000, b0=1e-4, b1=0.02):
    betas = np.linspace(b0, b1, T, dtype=np.float64)
    return np.cumprod(1.0 - betas)


def respace(S, T=1000):
    """Kept timesteps for S steps, as DiT's space_timesteps(T, str(S)): float64 running
    index with stride (T-1)/(S-1), rounded half-to-even (Python round)."""
    stride = 1.0 if S <= 1 else (T - 1) / (S - 1)
    cur, out = 0.0, []
    for _ in range(S):
        out.append(int(round(cur)))
        cur += stride
    return sorted(set(out))


def respaced_alphas_cumprod(steps, T=1000):
    """alpha-bar of the respaced process (float64), recomputed from the new betas like
    the official wrapper; equal to alphas_cumprod[steps] up to rounding."""
    ac = linear_alphas_cumprod(T)
    last, nb = 1.0, []
    for i in steps:
        nb.append(1.0 - ac[i] / last)
        last = ac[i]
    return np.cumprod(1.0 - np.array(nb))


@torch.no_grad()
def eps_model(model, x, t, y, guidance):
    """epsilon [B,C,I,I] (the first C output channels).  guidance == 1: the conditional
    branch alone; otherwise forward_with_cfg over [x; x] with labels [y; null]."""
    C = model.C
    if guidance == 1.0:
        return model(x, t, y)[:, :C]
    null = torch.full_like(y, model.cfg["num_classes"])
    out = model.forward_with_cfg(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, null]),
                                 guidance)
    return out[:len(x), :C]


@torch.no_grad()
def ddim_sample(model, noise, y, S, guidance, record=None):
    """DDIM eta=0 over the respaced grid of S steps; the network gets the original
    timestep index.  record (dict) receives 'steps' (the indices, in loop order) and
    'x' [S, B, C, I, I] (x after each step)."""
    steps = respace(S)
    abar = respaced_alphas_cumprod(steps)
    x = noise.clone()
    xs = []
    for k in range(len(steps) - 1, -1, -1):
        t = torch.full((len(x),), float(steps[k]))
        e = eps_model(model, x, t, y, guidance)
        a = float(abar[k])
        ap = float(abar[k - 1]) if k > 0 else 1.0
        x0 = (x - math.sqrt(1 - a) * e) / math.sqrt(a)
        x = math.sqrt(ap) * x0 + math.sqrt(1 - ap) * e
        xs.append(x.clone())
    if record is not None:
        record["steps"] = list(reversed(steps))
        record["x"] = torch.stack(xs)
    return x


# --------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------
def save_dit(path, model_or_sd, cfg, extra_meta=None):
    sd = model_or_sd.state_dict() if isinstance(model_or_sd, nn.Module) else model_or_sd
    sd = {k: v.detach().float() for k, v in sd.items()}
    meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "config": json.dumps(cfg)}
    meta.update(extra_meta or {})
    tf.save_safetensors(path, sd, meta)
    tf.verify_safetensors(path, sd)
    return sd


def load_dit(path):
    sd, meta = tf.load_safetensors(path)
    if meta.get("format") != FORMAT_NAME:
        raise ValueError("%s: format %r, expected %r" % (path, meta.get("format"), FORMAT_NAME))
    cfg = json.loads(meta["config"])
    m = DiT(cfg)
    m.load_state_dict(sd, strict=True)
    m.eval()
    return m, meta
