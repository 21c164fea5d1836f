#!/usr/bin/python3
"""Stand-in module trees for tools/hicache_record.py's diffusers-flux and dit
presets (diffusers and the DiT repository are not installable here).

StandInFluxTransformer2DModel has diffusers' FluxTransformer2DModel module
names and forward signatures (transformer_blocks.i with norm1/norm1_context
(AdaLayerNormZero: x, gate_msa, shift_mlp, scale_mlp, gate_mlp), attn
returning (img, txt) after to_out/to_add_out, ff, ff_context;
single_transformer_blocks.j with norm (x, gate), proj_mlp, act_mlp, attn,
proj_out), and a pipeline called like FluxPipeline.  StandInDiT has
facebookresearch DiT's names (blocks.i.attn, blocks.i.mlp,
blocks.i.adaLN_modulation, forward(x, t, y), forward_with_cfg).

Each block also stores its pre-gate values in model.ref[schema name][call]
from inside its forward, independently of the hooks, so that a test can
check that the hooks record exactly the pre-gate tensors.

Usage: record_standins.py CLI OUTDIR  (runs the checks; exit 1 on failure)
"""
import math
import os
import subprocess
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import hicache_record as hr  # noqa: E402


def _store(model, name, y, row=0):
    model.ref.setdefault(name, []).append(y[row].detach().clone())


def _attention(q, k, v, heads):
    B, L, D = q.shape
    sh = lambda z: z.reshape(B, L, heads, D // heads).transpose(1, 2)
    o = torch.softmax(sh(q) @ sh(k).transpose(-1, -2) / math.sqrt(D // heads), -1) @ sh(v)
    return o.transpose(1, 2).reshape(B, L, D)


# ---- diffusers FluxTransformer2DModel stand-in --------------------------------------
class AdaLayerNormZero(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.silu, self.linear = nn.SiLU(), nn.Linear(d, 6 * d)
        self.norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)

    def forward(self, x, emb=None):
        sm, scm, gm, sp, scp, gp = self.linear(self.silu(emb)).chunk(6, dim=1)
        return self.norm(x) * (1 + scm[:, None]) + sm[:, None], gm, sp, scp, gp


class AdaLayerNormZeroSingle(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.silu, self.linear = nn.SiLU(), nn.Linear(d, 3 * d)
        self.norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)

    def forward(self, x, emb=None):
        s, sc, g = self.linear(self.silu(emb)).chunk(3, dim=1)
        return self.norm(x) * (1 + sc[:, None]) + s[:, None], g


class Attention(nn.Module):
    def __init__(self, d, heads, added_kv=False, pre_only=False):
        super().__init__()
        self.heads = heads
        self.to_q, self.to_k, self.to_v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        if not pre_only:
            self.to_out = nn.ModuleList([nn.Linear(d, d), nn.Dropout(0.0)])
        if added_kv:
            self.add_q_proj, self.add_k_proj, self.add_v_proj = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
            self.to_add_out = nn.Linear(d, d)

    def forward(self, hidden_states, encoder_hidden_states=None, image_rotary_emb=None, **kw):
        x = hidden_states
        q, k, v = self.to_q(x), self.to_k(x), self.to_v(x)
        if encoder_hidden_states is None:
            return _attention(q, k, v, self.heads)
        c = encoder_hidden_states
        Lt = c.shape[1]
        q = torch.cat([self.add_q_proj(c), q], 1)
        k = torch.cat([self.add_k_proj(c), k], 1)
        v = torch.cat([self.add_v_proj(c), v], 1)
        o = _attention(q, k, v, self.heads)
        return self.to_out[1](self.to_out[0](o[:, Lt:])), self.to_add_out(o[:, :Lt])


class GELU(nn.Module):
    def __init__(self, din, dout):
        super().__init__()
        self.proj = nn.Linear(din, dout)

    def forward(self, x):
        return F.gelu(self.proj(x), approximate="tanh")


class FeedForward(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.net = nn.ModuleList([GELU(d, 4 * d), nn.Dropout(0.0), nn.Linear(4 * d, d)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class FluxTransformerBlock(nn.Module):
    def __init__(self, d, heads, owner, idx):
        super().__init__()
        self.norm1, self.norm1_context = AdaLayerNormZero(d), AdaLayerNormZero(d)
        self.attn = Attention(d, heads, added_kv=True)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.ff = FeedForward(d)
        self.norm2_context = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.ff_context = FeedForward(d)
        self._owner, self._idx = [owner], idx

    def forward(self, hidden_states, encoder_hidden_states, temb, image_rotary_emb=None, joint_attention_kwargs=None):
        m, p = self._owner[0], "double/%d/" % self._idx
        nh, g_msa, sh_mlp, sc_mlp, g_mlp = self.norm1(hidden_states, emb=temb)
        _store(m, "@double/%d/img_in" % self._idx, hidden_states)
        _store(m, "@double/%d/mod_in" % self._idx, nh)
        nc, c_g_msa, c_sh_mlp, c_sc_mlp, c_g_mlp = self.norm1_context(encoder_hidden_states, emb=temb)
        a, ca = self.attn(hidden_states=nh, encoder_hidden_states=nc, image_rotary_emb=image_rotary_emb)
        _store(m, p + "img_attn", a)
        _store(m, p + "txt_attn", ca)
        hidden_states = hidden_states + g_msa.unsqueeze(1) * a
        ff = self.ff(self.norm2(hidden_states) * (1 + sc_mlp[:, None]) + sh_mlp[:, None])
        _store(m, p + "img_mlp", ff)
        hidden_states = hidden_states + g_mlp.unsqueeze(1) * ff
        encoder_hidden_states = encoder_hidden_states + c_g_msa.unsqueeze(1) * ca
        cff = self.ff_context(self.norm2_context(encoder_hidden_states) * (1 + c_sc_mlp[:, None]) + c_sh_mlp[:, None])
        _store(m, p + "txt_mlp", cff)
        encoder_hidden_states = encoder_hidden_states + c_g_mlp.unsqueeze(1) * cff
        _store(m, "@double/%d/img_out" % self._idx, hidden_states)
        return encoder_hidden_states, hidden_states


class FluxSingleTransformerBlock(nn.Module):
    def __init__(self, d, heads, owner, idx):
        super().__init__()
        self.norm = AdaLayerNormZeroSingle(d)
        self.proj_mlp = nn.Linear(d, 4 * d)
        self.act_mlp = nn.GELU(approximate="tanh")
        self.proj_out = nn.Linear(5 * d, d)
        self.attn = Attention(d, heads, pre_only=True)
        self._owner, self._idx = [owner], idx

    def forward(self, hidden_states, temb, image_rotary_emb=None, joint_attention_kwargs=None):
        residual = hidden_states
        nh, gate = self.norm(hidden_states, emb=temb)
        mlp = self.act_mlp(self.proj_mlp(nh))
        a = self.attn(hidden_states=nh, image_rotary_emb=image_rotary_emb)
        total = self.proj_out(torch.cat([a, mlp], dim=2))
        _store(self._owner[0], "single/%d/total" % self._idx, total)
        return residual + gate.unsqueeze(1) * total


class StandInFluxTransformer2DModel(nn.Module):
    def __init__(self, in_channels=16, num_layers=2, num_single_layers=2, dim=32, heads=2, joint_attention_dim=24,
                 pooled_projection_dim=8):
        super().__init__()
        self.ref = {}
        self.x_embedder = nn.Linear(in_channels, dim)
        self.context_embedder = nn.Linear(joint_attention_dim, dim)
        self.time_text_embed = nn.Linear(2 + pooled_projection_dim, dim)
        self.transformer_blocks = nn.ModuleList([FluxTransformerBlock(dim, heads, self, i) for i in range(num_layers)])
        self.single_transformer_blocks = nn.ModuleList(
            [FluxSingleTransformerBlock(dim, heads, self, num_layers + j) for j in range(num_single_layers)])
        self.norm_out = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.proj_out = nn.Linear(dim, in_channels)
        with torch.no_grad():
            for q in self.parameters():
                q.normal_(0, 0.2)

    def forward(self, hidden_states, encoder_hidden_states=None, pooled_projections=None, timestep=None,
                img_ids=None, txt_ids=None, guidance=None, joint_attention_kwargs=None, return_dict=True):
        hs = self.x_embedder(hidden_states)
        B = hs.shape[0]
        temb = self.time_text_embed(torch.cat([timestep[:, None] * 1000 / 1000, guidance[:, None] / 10,
                                               pooled_projections], 1))
        ehs = self.context_embedder(encoder_hidden_states)
        for b in self.transformer_blocks:
            ehs, hs = b(hidden_states=hs, encoder_hidden_states=ehs, temb=temb, image_rotary_emb=None,
                        joint_attention_kwargs=joint_attention_kwargs)
        hs = torch.cat([ehs, hs], dim=1)
        for b in self.single_transformer_blocks:
            hs = b(hidden_states=hs, temb=temb, image_rotary_emb=None, joint_attention_kwargs=joint_attention_kwargs)
        _store(self, "@final_img", hs[:, ehs.shape[1]:])
        out = self.proj_out(self.norm_out(hs[:, ehs.shape[1]:]))
        assert out.shape[0] == B
        return (out,) if not return_dict else type("Out", (), {"sample": out})()


class StandInFluxPipeline:
    """Called like diffusers' FluxPipeline: flow-match Euler over
    sigmas linspace(1, 1/N, N) then 0, transformer(timestep=sigma), one call
    per step (guidance-distilled), callback_on_step_end(pipe, i, t, {latents})."""

    def __init__(self, transformer, T_img=16, T_txt=5):
        self.transformer, self.T_img, self.T_txt = transformer, T_img, T_txt
        self.latents_seen = []

    @torch.no_grad()
    def __call__(self, prompt, height, width, num_inference_steps, guidance_scale, generator, max_sequence_length,
                 callback_on_step_end=None, callback_on_step_end_tensor_inputs=()):
        tr, N = self.transformer, num_inference_steps
        C = tr.x_embedder.in_features
        lat = torch.randn((1, self.T_img, C), generator=generator)
        enc = torch.randn((1, max_sequence_length, tr.context_embedder.in_features), generator=generator)
        pooled = torch.randn((1, tr.time_text_embed.in_features - 2), generator=generator)
        sig = np.append(np.linspace(1.0, 1.0 / N, N), 0.0)
        for i in range(N):
            self.latents_seen.append(lat[0].clone())
            t = torch.tensor([sig[i] * 1000.0], dtype=torch.float32)
            v = tr(hidden_states=lat, timestep=t.expand(1) / 1000, guidance=torch.full((1,), guidance_scale),
                   pooled_projections=pooled, encoder_hidden_states=enc, txt_ids=None, img_ids=None,
                   joint_attention_kwargs=None, return_dict=False)[0]
            lat = lat + float(sig[i + 1] - sig[i]) * v
            if callback_on_step_end:
                callback_on_step_end(self, i, t, {"latents": lat})
        self.latents_seen.append(lat[0].clone())
        return lat


# ---- facebookresearch DiT stand-in ------------------------------------------------------
class DiTAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.qkv, self.proj = heads, nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, -1)
        return self.proj(_attention(q, k, v, self.heads))


class Mlp(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class DiTBlock(nn.Module):
    def __init__(self, d, heads, owner, idx):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.attn = DiTAttention(d, heads)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(d)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        self._owner, self._idx = [owner], idx

    def forward(self, x, c):
        sm, scm, gm, sp, scp, gp = self.adaLN_modulation(c).chunk(6, dim=1)
        _store(self._owner[0], "@dit/%d/in" % self._idx, x)
        _store(self._owner[0], "@dit/%d/mod_in" % self._idx, self.norm1(x) * (1 + scm[:, None]) + sm[:, None])
        a = self.attn(self.norm1(x) * (1 + scm[:, None]) + sm[:, None])
        for row, tag in ((0, ""), (x.shape[0] // 2, "uncond:")):
            _store(self._owner[0], tag + "dit/%d/attn" % self._idx, a, row)
        x = x + gm[:, None] * a
        m = self.mlp(self.norm2(x) * (1 + scp[:, None]) + sp[:, None])
        for row, tag in ((0, ""), (x.shape[0] // 2, "uncond:")):
            _store(self._owner[0], tag + "dit/%d/mlp" % self._idx, m, row)
        x = x + gp[:, None] * m
        _store(self._owner[0], "@dit/%d/out" % self._idx, x)
        return x


class StandInDiT(nn.Module):
    def __init__(self, T=16, C=4, depth=3, d=32, heads=2, num_classes=5):
        super().__init__()
        self.ref = {}
        self.x_embedder = nn.Linear(C, d)
        self.t_embedder = nn.Linear(1, d)
        self.y_embedder = nn.Embedding(num_classes + 1, d)
        self.blocks = nn.ModuleList([DiTBlock(d, heads, self, i) for i in range(depth)])
        self.final_layer = nn.Linear(d, C)
        with torch.no_grad():
            for q in self.parameters():
                q.normal_(0, 0.2)

    def forward(self, x, t, y):
        h = self.x_embedder(x)
        c = self.t_embedder(t[:, None].float() / 1000) + self.y_embedder(y)
        for b in self.blocks:
            h = b(h, c)
        _store(self, "@final_img", h)
        return self.final_layer(h)

    def forward_with_cfg(self, x, t, y, cfg_scale):
        half = x[: len(x) // 2]
        out = self.forward(torch.cat([half, half]), t, y)
        c, u = out.chunk(2)
        g = u + cfg_scale * (c - u)
        return torch.cat([g, g])


# ---- checks ---------------------------------------------------------------------------
fails = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails.append(what)


def info_ok(cli, path):
    r = subprocess.run([cli, "info", path], capture_output=True, text=True)
    check(r.returncode == 0, "hicache info accepts %s%s" % (os.path.basename(path), "" if r.returncode == 0 else ": " + r.stderr.strip()))


def max_rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def ref_signals(mod, embed, head, final, outs):
    """/signals from the stand-ins' own stored tensors (numpy, float64 sums):
    docs/trajectory-format.md section Signals."""
    f = lambda v: [np.asarray(x, np.float32) for x in v]
    mod, embed, head, final, outs = f(mod), f(embed), f(head), f(final), f(outs)
    rl1 = lambda a, b: np.abs(a.astype(np.float64) - b).sum() / np.abs(b.astype(np.float64)).sum()
    S = len(mod)
    hr_ = [h - e for h, e in zip(head, embed)]
    m = np.zeros((S, S))
    for s in range(S):
        for a in range(s):
            m[s, a] = rl1(hr_[s], hr_[a])
    return {"mod_in_change": np.array([0.0] + [rl1(mod[s], mod[s - 1]) for s in range(1, S)]),
            "head_resid_change": m,
            "resid_norm": np.array([np.sqrt(((x - e).astype(np.float64) ** 2).sum(-1)).mean() for x, e in zip(final, embed)]),
            "out_change": np.array([0.0] + [rl1(outs[s], outs[s - 1]) for s in range(1, S)])}


def check_signals(f, want, what):
    got = sorted(f["signals"]) if "signals" in f else []
    e = max(float(np.max(np.abs(f["signals/" + k][()] - v) / np.maximum(np.abs(v), 1e-30))) for k, v in want.items()) \
        if got == sorted(want) else np.inf
    check(e < 1e-6, "%s: /signals %s as their definitions on the stand-in's own tensors (max rel %.1e)" % (what, got, e))


def check_diffusers(cli, out):
    torch.manual_seed(1)
    tr = StandInFluxTransformer2DModel()
    pipe = StandInFluxPipeline(tr)
    S, path = 5, os.path.join(out, "dflux.h5")
    rc = hr.main(["--preset", "diffusers-flux", "--model", "stand-in", "--prompt", "a cat", "--steps", str(S),
                  "--max-sequence-length", "5", "--height", "32", "--width", "32", "-o", path], pipe=pipe)
    check(rc == 0 and os.path.exists(path) and not os.path.exists(path + ".partial"), "diffusers-flux stand-in recorded")
    info_ok(cli, path)
    with h5py.File(path, "r") as f:
        names = []
        f["features"].visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        want = sorted(["double/%d/%s" % (i, m) for i in range(2) for m in ("img_attn", "img_mlp", "txt_attn", "txt_mlp")]
                      + ["single/2/total", "single/3/total"])
        check(sorted(names) == want, "diffusers-flux preset: every cache point, single blocks numbered after the double ones")
        err = max(max_rel(f["features/" + n][s], tr.ref[n][s]) for n in names for s in range(S))
        check(err == 0.0, "diffusers-flux hooks record the pre-gate tensors exactly (max rel %.1e)" % err)
        check(max_rel(f["hidden/double/1"][:], torch.stack(tr.ref["@double/1/img_out"]).numpy()) == 0,
              "hidden/double/1 = img stream after the last double block")
        sig = np.append(np.linspace(1.0, 1.0 / S, S), 0.0)
        check(np.allclose(f["steps/t"][:], sig[:S], atol=1e-6), "steps/t = the sigmas the transformer gets")
        check(max_rel(f["latents/x"][:], torch.stack(pipe.latents_seen).numpy()) == 0, "latents/x: S+1 states")
        check(f.attrs["prompt"] == "a cat" and f["features/double/0/txt_attn"].attrs["stream"] == "txt"
              and f["features/single/3/total"].attrs["hook"] == "single_transformer_blocks.1.proj_out",
              "prompt, stream and hook attributes")
        check_signals(f, ref_signals(tr.ref["@double/0/mod_in"], tr.ref["@double/0/img_in"], tr.ref["@double/0/img_out"],
                                     tr.ref["@final_img"], f["latents/out"][()]), "diffusers-flux")
    # token subsets: img random 6 of 16, txt stride 2 of 5, joint = [txt ; 5 + img]
    torch.manual_seed(1)
    tr = StandInFluxTransformer2DModel()
    pipe = StandInFluxPipeline(tr)
    path = os.path.join(out, "dflux_tok.h5")
    rc = hr.main(["--preset", "diffusers-flux", "--model", "stand-in", "--steps", str(S), "--max-sequence-length",
                  "5", "--tokens", "random:6:3", "--txt-tokens", "stride:2", "--dtype", "float16", "-o", path],
                 pipe=pipe)
    check(rc == 0, "token subset recorded (float16)")
    info_ok(cli, path)
    with h5py.File(path, "r") as f:
        ii, ti, ji = f["tokens/img"][:], f["tokens/txt"][:], f["tokens/joint"][:]
        check(len(ii) == 6 and list(ti) == [0, 2, 4] and list(ji) == list(ti) + list(5 + ii),
              "tokens/img, tokens/txt, tokens/joint saved")
        check(f["features/double/0/img_attn"].shape == (S, 6, 32) and f["hidden/double/1"].shape == (S, 6, 32)
              and f["features/single/2/total"].shape == (S, 9, 32), "shapes follow the subsets (hidden too)")
        e = max(max_rel(f["features/single/3/total"][s].astype(np.float32), tr.ref["single/3/total"][s][ji])
                for s in range(S))
        check(e < 1e-3, "joint rows = reference rows at tokens/joint (float16, rel %.1e)" % e)
    r = subprocess.run([cli, "replay", "--traj", path, "--method", "clusca:base=taylor,N=2,K=2", "-o",
                        os.path.join(out, "rep_tok"), "-q"], capture_output=True, text=True)
    check(r.returncode == 0, "ClusCa replays a token subset (hidden and img features share tokens)" +
          ("" if r.returncode == 0 else ": " + r.stderr.strip()))


def check_dit(cli, out):
    torch.manual_seed(2)
    m = StandInDiT().eval()
    S, path = 6, os.path.join(out, "dit.h5")
    rec = hr.Recorder(path, m, hr.preset_points("dit", m), S, dict(model="stand-in DiT", sampler="euler", label="3"),
                      branch="uncond", cfg_layout="batch", steps=[1, 2, 3, 4], modules="dit/0/*,dit/2/*")
    x = torch.randn(2, 16, 4, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([3, 5])
    xs = []
    with rec:
        undo = hr.forward_counter(m, rec, time_of=lambda a, k: float(a[1][0]), x_of=lambda a, k: a[0],
                                  out_of=lambda o: o)
        with torch.no_grad():
            for s in range(S):
                t = torch.full((2,), 999.0 - 150 * s)
                xs.append(x[0].clone())
                v = m.forward_with_cfg(x, t, y, 4.0)
                x = x - 0.1 * v
                if s == 4:
                    rec.put_latent("x", s, x[0], final=True)
        undo()
    check(not os.path.exists(path + ".partial") and "forward" not in m.__dict__, "dit stand-in recorded, forward restored")
    check_dit_signals(cli, out)
    info_ok(cli, path)
    with h5py.File(path, "r") as f:
        names = sorted(f["features/dit"][l].name + "/" + k for l in f["features/dit"] for k in f["features/dit"][l])
        check(names == ["/features/dit/0/attn", "/features/dit/0/mlp", "/features/dit/2/attn", "/features/dit/2/mlp"],
              "dit preset with --modules 'dit/0/*,dit/2/*'")
        check(list(f["steps/index"][:]) == [1, 2, 3, 4] and int(f.attrs["num_steps"]) == 4 and
              list(f["steps/t"][:]) == [849.0, 699.0, 549.0, 399.0], "steps subset: /steps/index and the DDPM times")
        e = max(max_rel(f["features/dit/%d/%s" % (l, k)][r], m.ref["uncond:dit/%d/%s" % (l, k)][s])
                for l in (0, 2) for k in ("attn", "mlp") for r, s in enumerate([1, 2, 3, 4]))
        check(e == 0.0, "dit hooks record the unconditional half's pre-gate attn and mlp exactly")
        check(f["hidden/dit/2"].shape == (4, 16, 32) and f["latents/x"].shape == (5, 16, 4) and
              f["latents/out"].shape == (4, 16, 4) and max_rel(f["latents/x"][:4], torch.stack(xs[1:5]).numpy()) == 0,
              "hidden and latents rows (x before each recorded step, then the final state)")
    # a failure inside the sampling loop leaves no file
    bad = os.path.join(out, "dit_bad.h5")
    try:
        with hr.Recorder(bad, m, hr.preset_points("dit", m), S, dict(model="x", sampler="y")):
            raise RuntimeError("sampler died")
    except RuntimeError:
        pass
    check(not os.path.exists(bad) and not os.path.exists(bad + ".partial"), "an exception leaves neither FILE nor FILE.partial")
    try:
        hr.resolve_maps(m, [hr.parse_map(r"blocks\.(\d+)\.nope=features/dit/{1}/x")])
        check(False, "a map matching nothing is refused")
    except hr.RecordError as e:
        check("matches no module" in str(e), "a map matching nothing is refused: %s" % e)


def check_dit_signals(cli, out):
    """signals='dit' through the module API, every step recorded, cond branch."""
    torch.manual_seed(3)
    m = StandInDiT().eval()
    S, path = 4, os.path.join(out, "dit_sig.h5")
    rec = hr.Recorder(path, m, hr.preset_points("dit", m), S, dict(model="stand-in DiT", sampler="euler"),
                      signals="dit")
    x = torch.randn(2, 16, 4, generator=torch.Generator().manual_seed(0))
    with rec:
        undo = hr.forward_counter(m, rec, time_of=lambda a, k: float(a[1][0]), out_of=lambda o: o)
        with torch.no_grad():
            for s in range(S):
                x = x - 0.1 * m.forward_with_cfg(x, torch.full((2,), 999.0 - 150 * s), torch.tensor([3, 5]), 4.0)
        undo()
    info_ok(cli, path)
    with h5py.File(path, "r") as f:
        check_signals(f, ref_signals(m.ref["@dit/0/mod_in"], m.ref["@dit/0/in"], m.ref["@dit/0/out"],
                                     m.ref["@final_img"], f["latents/out"][()]), "dit")


if __name__ == "__main__":
    cli, out = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    check_diffusers(cli, out)
    check_dit(cli, out)
    print("%d failure(s)" % len(fails))
    sys.exit(1 if fails else 0)
