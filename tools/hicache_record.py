#!/usr/bin/python3
"""hicache_record: record a diffusion transformer's trajectory from PyTorch into
hicache's trajectory schema v1 (docs/trajectory-format.md), for `hicache
replay`, `hicache gauss` and the error-curve experiments.

Forward hooks on the modules a preset (or --map) names write each module's
pre-gate output of every step into /features/<kind>/<layer>/<module> as the
step comes (one chunk per step, shuffle+deflate, Fletcher-32), plus /hidden
(the clustering input of ClusCa), /latents/x, /latents/out and /signals
(the policy signals, tools/hicache_signals.py).  The file is
written as FILE.partial and renamed when complete; `complete` is set last.

Presets (docs/recording.md has the tables):
  flux-mini       tools/train_flux.py's FluxMini (the PyTorch twin of the
                  bundled model); the CLI samples it like `hicache sample`
  dit             facebookresearch DiT (blocks.i.attn / blocks.i.mlp)
  diffusers-flux  diffusers' FluxTransformer2DModel; the CLI runs FluxPipeline
  --map           REGEX=features/KIND/{1}/MODULE[:STREAM][@OUT] for any model
The CLI's samplers (flux-mini, diffusers-flux) are in tools/hicache_samplers.py.

Only PyTorch, numpy and h5py are needed; diffusers is imported only when the
diffusers-flux preset samples.  Usage as a library:

    import hicache_record as hr
    rec = hr.Recorder("out.h5", model, hr.preset_points("dit", model), num_steps=50,
                      meta=dict(model="DiT-XL/2", sampler="ddim 50", label="207"))
    with rec:                               # hooks on; removed on exit
        ...  your sampling loop, calling rec.begin_step(s, t) before step s
        and rec.put_latent("x", s, x) / ("out", s, v) if wanted ...
    # rec.finish() is called by the `with` on success; on an exception
    # the .partial file is deleted
"""
import argparse
import datetime
import fnmatch
import importlib
import json
import os
import re
import sys
import time

import h5py
import numpy as np

SCHEMA, SCHEMA_VERSION = "hicache-trajectory", 1
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class RecordError(Exception):
    """A bad option or input: one line, exit status 1."""


# --------------------------------------------------------------------------
# module -> schema mappings
# --------------------------------------------------------------------------
class Point:
    """One recorded tensor: the output (or output[index]) of the module whose
    qualified name is `qualname`, stored at `target` ("features/K/L/M" or
    "hidden/K/L") with stream img|txt|joint."""

    def __init__(self, qualname, target, stream, index=None):
        self.qualname, self.target, self.stream, self.index = qualname, target, stream, index
        parts = target.split("/")
        if parts[0] == "features" and len(parts) == 4:
            self.kind, self.block_kind, self.layer, self.module = "features", parts[1], parts[2], parts[3]
        elif parts[0] == "hidden" and len(parts) == 3:
            self.kind, self.block_kind, self.layer, self.module = "hidden", parts[1], parts[2], None
        else:
            raise RecordError("map target '%s': expected features/KIND/LAYER/MODULE or hidden/KIND/LAYER" % target)
        if not re.fullmatch(r"0|[1-9][0-9]*", self.layer):
            raise RecordError("map target '%s': layer '%s' is not a non-negative integer" % (target, self.layer))
        self.layer = int(self.layer)
        for n in (self.block_kind, self.module):
            if n is not None and (not n or "." in n or len(n) > 60):
                raise RecordError("map target '%s': invalid name '%s'" % (target, n))
        if stream not in ("img", "txt", "joint"):
            raise RecordError("map target '%s': stream '%s' (valid: img, txt, joint)" % (target, stream))

    @property
    def name(self):  # the schema name replay prints, e.g. double/1/img_attn
        return "%s/%d/%s" % (self.block_kind, self.layer, self.module) if self.module else \
            "%s/%d" % (self.block_kind, self.layer)


def _expand(template, m):
    """{N} -> group N of match m, {N+K} -> group N plus K (layer offsets)."""
    def rep(g):
        v = m.group(int(g.group(1)))
        return str(int(v) + int(g.group(2))) if g.group(2) else v
    return re.sub(r"\{(\d+)(?:\+(\d+))?\}", rep, template)


def parse_map(spec):
    """'REGEX=TARGET[:STREAM][@INDEX]' -> (regex, target, stream or None, index)."""
    if "=" not in spec:
        raise RecordError("--map '%s': expected REGEX=features/KIND/{1}/MODULE[:STREAM][@INDEX]" % spec)
    rx, tgt = spec.rsplit("=", 1)
    index = None
    if "@" in tgt:
        tgt, ix = tgt.rsplit("@", 1)
        if not re.fullmatch(r"[0-9]+", ix):
            raise RecordError("--map '%s': @%s is not an output index" % (spec, ix))
        index = int(ix)
    stream = None
    if ":" in tgt:
        tgt, stream = tgt.rsplit(":", 1)
    try:
        rx = re.compile(rx)
    except re.error as e:
        raise RecordError("--map '%s': bad regular expression (%s)" % (spec, e))
    return rx, tgt, stream, index


def resolve_maps(model, maps):
    """Points for every named module that a map's regex matches in full."""
    pts = []
    names = [n for n, _ in model.named_modules()]
    for rx, tgt, stream, index in maps:
        hit = 0
        for n in names:
            m = rx.fullmatch(n)
            if not m:
                continue
            target = _expand(tgt, m)
            st = stream or _infer_stream(target)
            pts.append(Point(n, target, st, index))
            hit += 1
        if not hit:
            raise RecordError("map '%s' matches no module of the model (e.g. %s)" % (rx.pattern, names[1] if len(names) > 1 else "?"))
    seen = {}
    for p in pts:
        if p.target in seen:
            raise RecordError("modules %s and %s both map to %s" % (seen[p.target], p.qualname, p.target))
        seen[p.target] = p.qualname
    return pts


def _infer_stream(target):
    mod = target.split("/")[-1]
    return "img" if mod.startswith("img") else "txt" if mod.startswith("txt") else "joint"


def _count(model, prefix):
    return len(getattr(model, prefix)) if hasattr(model, prefix) else 0


def preset_maps(preset, model):
    """The --map specs of a preset for this model (layer counts read from it)."""
    if preset == "flux-mini":
        nd = _count(model, "double_blocks")
        return [r"double_blocks\.(\d+)\.img_attn\.proj=features/double/{1}/img_attn:img",
                r"double_blocks\.(\d+)\.txt_attn\.proj=features/double/{1}/txt_attn:txt",
                r"double_blocks\.(\d+)\.img_mlp=features/double/{1}/img_mlp:img",
                r"double_blocks\.(\d+)\.txt_mlp=features/double/{1}/txt_mlp:txt",
                r"single_blocks\.(\d+)\.linear2=features/single/{1+%d}/total:joint" % nd,
                r"double_blocks\.(%d)=hidden/double/{1}:img@0" % (nd - 1)]
    if preset == "dit":
        nb = _count(model, "blocks")
        return [r"blocks\.(\d+)\.attn=features/dit/{1}/attn:img",
                r"blocks\.(\d+)\.mlp=features/dit/{1}/mlp:img",
                r"blocks\.(%d)=hidden/dit/{1}:img" % (nb - 1)]
    if preset == "diffusers-flux":
        nd = _count(model, "transformer_blocks")
        return [r"transformer_blocks\.(\d+)\.attn=features/double/{1}/img_attn:img@0",
                r"transformer_blocks\.(\d+)\.attn=features/double/{1}/txt_attn:txt@1",
                r"transformer_blocks\.(\d+)\.ff=features/double/{1}/img_mlp:img",
                r"transformer_blocks\.(\d+)\.ff_context=features/double/{1}/txt_mlp:txt",
                r"single_transformer_blocks\.(\d+)\.proj_out=features/single/{1+%d}/total:joint" % nd,
                r"transformer_blocks\.(%d)=hidden/double/{1}:img@1" % (nd - 1)]
    raise RecordError("--preset '%s' (valid: flux-mini, dit, diffusers-flux)" % preset)


def preset_points(preset, model):
    return resolve_maps(model, [parse_map(s) for s in preset_maps(preset, model)])


# --------------------------------------------------------------------------
# token subsets
# --------------------------------------------------------------------------
def token_indices(spec, T):
    """'all' -> None; 'stride:K[:OFF]' -> OFF, OFF+K, ...; 'random:N[:SEED]'
    -> N sorted distinct indices drawn with numpy's PCG64 seeded SEED (0)."""
    if spec in (None, "", "all"):
        return None
    p = spec.split(":")
    try:
        if p[0] == "stride" and len(p) in (2, 3):
            k, off = int(p[1]), int(p[2]) if len(p) == 3 else 0
            if k < 1 or not 0 <= off < T:
                raise ValueError
            return np.arange(off, T, k, dtype=np.int64)
        if p[0] == "random" and len(p) in (2, 3):
            n, seed = int(p[1]), int(p[2]) if len(p) == 3 else 0
            if not 1 <= n <= T:
                raise ValueError
            return np.sort(np.random.default_rng(seed).choice(T, n, replace=False)).astype(np.int64)
    except ValueError:
        pass
    raise RecordError("token subset '%s' for %d tokens: expected all, stride:K[:OFFSET] or random:N[:SEED]" % (spec, T))


# --------------------------------------------------------------------------
# the streaming HDF5 writer
# --------------------------------------------------------------------------
class TrajFile:
    """Schema-v1 file written as PATH.partial: datasets made on first use,
    one chunk per row, NaN fill; finish() checks every row and time, sets
    complete = 1 and renames; abort() deletes the partial file."""

    def __init__(self, path, num_steps, attrs, dtype="float32", deflate=4):
        self.path, self.tmp, self.S = path, path + ".partial", num_steps
        self.dtype, self.deflate = np.dtype(dtype), deflate
        self.rows = {}     # dataset path -> set of rows written
        self.f = h5py.File(self.tmp, "w")
        a = self.f.attrs
        a["schema"], a["schema_version"] = SCHEMA, np.int64(SCHEMA_VERSION)
        a["complete"] = np.int64(0)
        for k, v in attrs.items():
            if v is not None:
                a[k] = np.int64(v) if isinstance(v, (bool, int, np.integer)) else \
                    np.float64(v) if isinstance(v, float) else v
        self.f.create_dataset("steps/t", (num_steps,), "float64", chunks=(num_steps,),
                              fillvalue=np.nan, fletcher32=True)
        self.times = set()

    def dataset(self, path, rows, row_shape, attrs=None, dtype=None):
        if path in self.rows:
            return self.f[path]
        comp = dict(compression="gzip", compression_opts=self.deflate, shuffle=True) if self.deflate else {}
        d = self.f.create_dataset(path, (rows,) + tuple(row_shape), dtype or self.dtype,
                                  chunks=(1,) + tuple(row_shape), fillvalue=np.nan,
                                  fletcher32=True, **comp)
        for k, v in (attrs or {}).items():
            d.attrs[k] = np.int64(v) if isinstance(v, int) else v
        self.rows[path] = set()
        return d

    def put(self, path, row, arr):
        self.f[path][row] = arr
        self.rows[path].add(row)

    def put_time(self, s, t):
        self.f["steps/t"][s] = float(t)
        self.times.add(s)

    def finish(self):
        miss = [s for s in range(self.S) if s not in self.times]
        if miss:
            raise RecordError("%s: /steps/t never written for steps %s" % (self.path, _rows(miss)))
        for p, got in self.rows.items():
            n = self.f[p].shape[0]
            if len(got) != n:
                raise RecordError("%s: dataset /%s: rows never written: %s" % (
                    self.path, p, _rows(sorted(set(range(n)) - got))))
        if not any(p.startswith("features/") for p in self.rows):
            raise RecordError("%s: no feature was recorded (no hooked module ran?)" % self.path)
        self.f.attrs["complete"] = np.int64(1)
        self.f.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        try:
            self.f.close()
        except Exception:
            pass
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


def _rows(v):
    return ", ".join(str(x) for x in v[:8]) + (", ..." if len(v) > 8 else "")


# --------------------------------------------------------------------------
# the recorder
# --------------------------------------------------------------------------
class Recorder:
    """Hooks on `points` of `model`, writing each step's rows as they come.

    num_steps     S, the network evaluations of the sampling run
    steps         which step indices to record (None: all); rows follow in
                  order and /steps/index holds the original indices
    modules       comma-separated fnmatch globs on schema names (features
                  only), e.g. 'double/1/*,single/5/*'
    tokens        token subset of the img stream ('all', 'stride:K[:OFF]',
                  'random:N[:SEED]'); txt_tokens the same for the txt stream;
                  joint = [txt subset ; T_txt + img subset]; indices are
                  saved in /tokens/<stream>
    branch        'cond' or 'uncond' (files hold one branch; see record_both)
    cfg_layout    'batch': a guided call's batch is [cond rows; uncond rows]
                  (flux-mini, DiT); 'calls': cond and uncond are separate
                  calls, cond first; 'none': no CFG batch (guidance-distilled)
    sample_row    which image of the batch (0)
    signals       preset whose taps give /signals (hicache_signals.TAPS;
                  None: no /signals); written only when every step is recorded
    """

    def __init__(self, path, model, points, num_steps, meta, dtype="float32", deflate=4, steps=None,
                 modules=None, tokens="all", txt_tokens="all", branch="cond", cfg_layout="batch",
                 sample_row=0, hidden=True, latents=True, txt_len=None, provenance=None, signals=None):
        if branch not in ("cond", "uncond"):
            raise RecordError("--branch '%s' (valid: cond, uncond, both)" % branch)
        if dtype not in ("float32", "float16"):
            raise RecordError("--dtype '%s' (valid: float32, float16)" % dtype)
        if not 0 <= deflate <= 9:
            raise RecordError("--deflate %d out of range 0..9" % deflate)
        self.model, self.S = model, num_steps
        self.steps = list(range(num_steps)) if steps is None else sorted(set(steps))
        if not self.steps or self.steps[0] < 0 or self.steps[-1] >= num_steps:
            raise RecordError("steps to record %s: expected indices in [0, %d)" % (steps, num_steps))
        self.row_of = {s: i for i, s in enumerate(self.steps)}
        pts = [p for p in points if p.kind == "hidden" and hidden] + \
              [p for p in points if p.kind == "features" and
               (not modules or any(fnmatch.fnmatchcase(p.name, g) for g in modules.split(",")))]
        if not any(p.kind == "features" for p in pts):
            raise RecordError("--modules '%s' matches no cache point (e.g. %s)" % (
                modules, next((p.name for p in points if p.kind == "features"), "?")))
        self.points, self.branch, self.cfg_layout, self.sample_row = pts, branch, cfg_layout, sample_row
        self.token_specs = {"img": tokens, "txt": txt_tokens}
        self.txt_len, self.latents = txt_len, latents
        self.tok = {}           # stream -> index array (None: all tokens)
        self.dtype = dtype
        meta = dict(meta)
        meta["num_steps"] = len(self.steps)
        self.prov = dict(provenance or {})
        self.file = TrajFile(path, len(self.steps), meta, dtype, deflate)
        self.handles, self.step, self.call, self.t0 = [], None, 0, None
        self.step_times, self.overflow = [], {}
        self.sig = None
        if signals and self.steps == list(range(num_steps)):
            self.sig = _tool("hicache_signals").Signals(self, signals, num_steps)

    # ---- context: hooks on, finish or abort --------------------------------
    def __enter__(self):
        mods = dict(self.model.named_modules())
        for p in self.points:
            self.handles.append(mods[p.qualname].register_forward_hook(self._hook(p)))
        if self.sig:
            self.sig.attach(self.model)
        return self

    def __exit__(self, et, ev, tb):
        self.remove_hooks()
        if et is None:
            self.finish()
        else:
            self.file.abort()
        return False

    def remove_hooks(self):
        for h in self.handles:
            h.remove()
        self.handles = []
        if self.sig:
            self.sig.remove()

    # ---- steps ------------------------------------------------------------
    def begin_step(self, s, t):
        """Step s (sampling order) begins; t is the time the network gets."""
        now = time.time()
        if self.t0 is not None and self.step in self.row_of:
            self.step_times.append(now - self.t0)
        self.step, self.call, self.t0 = s, 0, now
        if s in self.row_of:
            self.file.put_time(self.row_of[s], t)

    def end_call(self):
        """One network evaluation done (cfg_layout 'calls': cond, then uncond)."""
        self.call += 1

    def recording(self):
        return self.step in self.row_of

    def _rows_of_branch(self, B):
        r = self.sample_row
        if self.cfg_layout == "batch" and self.branch == "uncond":
            return r + B // 2
        return r

    def _wanted_call(self):
        if self.cfg_layout != "calls":
            return self.call == 0
        return self.call == (0 if self.branch == "cond" else 1)

    def _hook(self, p):
        def hook(module, inputs, output):
            if self.step is None or not self.recording() or not self._wanted_call():
                return
            y = output[p.index] if p.index is not None else output
            if isinstance(y, (tuple, list)):
                raise RecordError("module %s returns a %s; map it with @INDEX (e.g. %s@0)" % (
                    p.qualname, type(y).__name__, p.target))
            self._put_feature(p, y)
        return hook

    def _indices(self, stream, T):
        if stream in self.tok:
            return self.tok[stream]
        if stream == "joint":
            Tt = self.txt_len
            if Tt is None:
                raise RecordError("a joint-stream module needs the text length (txt_len) to subset tokens")
            ti = self._indices("txt", Tt)
            ii = self._indices("img", T - Tt)
            if ti is None and ii is None:
                idx = None
            else:
                ti = np.arange(Tt) if ti is None else ti
                ii = np.arange(T - Tt) if ii is None else ii
                idx = np.concatenate([ti, Tt + ii]).astype(np.int64)
        else:
            idx = token_indices(self.token_specs[stream], T)
        self.tok[stream] = idx
        if idx is not None:
            d = self.file.f.create_dataset("tokens/" + stream, data=idx)
            d.attrs["of_tokens"] = np.int64(T)
            d.attrs["spec"] = self.token_specs.get(stream, "joint: [txt ; T_txt + img]")
        return idx

    def _put_feature(self, p, y):
        import torch
        with torch.no_grad():
            y = y[self._rows_of_branch(y.shape[0])]
            if y.dim() != 2:
                raise RecordError("module %s output row has shape %s; expected [tokens, channels]" % (
                    p.qualname, list(y.shape)))
            idx = self._indices(p.stream, y.shape[0]) if (self.txt_len is not None or p.stream != "joint") \
                else None
            if idx is not None:
                y = y[torch.as_tensor(idx, device=y.device)]
            y = y.to(torch.float16 if self.dtype == "float16" else torch.float32)
            a = y.cpu().numpy()
        if self.dtype == "float16":
            bad = int(np.count_nonzero(~np.isfinite(a)))
            if bad:
                self.overflow[p.target] = self.overflow.get(p.target, 0) + bad
        attrs = dict(block_kind=p.block_kind, layer=p.layer, stream=p.stream, hook=p.qualname, pre_gate=1)
        if p.module:
            attrs["module"] = p.module
        self.file.dataset(p.target, len(self.steps), a.shape, attrs)
        self.file.put(p.target, self.row_of[self.step], a)

    def put_latent(self, name, s, arr, final=False):
        """/latents/x row of step s (final=True: the state after the last
        recorded step); /latents/out row of step s.  arr: one sample's row."""
        if self.sig and name == "out":
            self.sig.out(s, arr)
        if not self.latents:
            return
        if name == "x":
            if final:
                row = len(self.steps)
            elif s in self.row_of:
                row = self.row_of[s]
            else:
                return
            rows = len(self.steps) + 1
        else:
            if s not in self.row_of:
                return
            row, rows = self.row_of[s], len(self.steps)
        a = np.asarray(arr.detach().float().cpu().numpy() if hasattr(arr, "detach") else arr,
                       dtype=self.dtype)
        self.file.dataset("latents/" + name, rows, a.shape)
        self.file.put("latents/" + name, row, a)

    def finish(self):
        if self.t0 is not None and self.step in self.row_of:
            self.step_times.append(time.time() - self.t0)
        f = self.file.f
        never = [p.qualname for p in self.points if p.target not in self.file.rows]
        if never:
            raise RecordError("%s: hooked module%s never ran: %s" % (
                self.file.path, "s" if len(never) > 1 else "", _rows(never)))
        if self.steps != list(range(self.S)):
            f.create_dataset("steps/index", data=np.array(self.steps, dtype=np.int64))
            f.attrs["sampling_steps"] = np.int64(self.S)
        prov = dict(self.prov)
        prov.update(step_seconds=[round(x, 6) for x in self.step_times], dtype=self.dtype, branch=self.branch,
                    recorded_steps=self.steps if self.steps != list(range(self.S)) else "all",
                    token_subsets={k: v for k, v in self.token_specs.items()},
                    points={p.target: p.qualname + ("[%d]" % p.index if p.index is not None else "")
                            for p in self.points})
        if self.overflow:
            prov["float16_nonfinite"] = self.overflow
            print("hicache_record: warning: float16 overflow (inf) in %s; record with --dtype float32" %
                  ", ".join(sorted(self.overflow)), file=sys.stderr)
        if self.sig:
            prov["signals_left_out"] = self.sig.write(f)
        f.attrs["provenance"] = json.dumps(prov, sort_keys=True)
        self.file.finish()


def _tool(name):
    """Import tools/NAME.py (the folder need not be on sys.path)."""
    d = os.path.join(ROOT, "tools")
    if d not in sys.path:
        sys.path.insert(0, d)
    return importlib.import_module(name)


def base_provenance(model_file=None, argv=None):
    import torch
    p = {"recorder": "tools/hicache_record.py", "torch": torch.__version__, "h5py": h5py.__version__,
         "numpy": np.__version__, "python": sys.version.split()[0],
         "created_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
         "argv": argv if argv is not None else sys.argv}
    if model_file:
        p["model_file"] = model_file
    try:
        import subprocess
        p["git_commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                                         text=True, timeout=10).stdout.strip() or "unknown"
    except Exception:
        p["git_commit"] = "unknown"
    return p


def forward_counter(model, rec, time_of, x_of=None, out_of=None, calls_per_step=1):
    """Wrap model.forward (works with keyword arguments on every torch
    version, unlike forward pre-hooks before 2.0): call k is step
    k // calls_per_step; time_of(args, kwargs) -> the time the network gets;
    x_of(args, kwargs) -> the latent batch (its sample row goes to
    /latents/x); out_of(output) -> the output batch (its sample row goes to
    /latents/out).  Returns an undo function."""
    orig = model.forward
    state = {"calls": 0}

    def fwd(*args, **kwargs):
        k = state["calls"]
        s, c = divmod(k, calls_per_step)
        if c == 0:
            rec.begin_step(s, time_of(args, kwargs))
            if x_of is not None:
                rec.put_latent("x", s, x_of(args, kwargs)[rec.sample_row])
        else:
            rec.call = c
        out = orig(*args, **kwargs)
        if out_of is not None and c == 0:
            rec.put_latent("out", s, out_of(out)[rec.sample_row])
        state["calls"] = k + 1
        return out
    model.forward = fwd

    def undo():
        model.__dict__.pop("forward", None)
    return undo


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------
def parse_steps(spec, S):
    """'all' | 'A:B' (half-open) | 'i,j,k'."""
    if spec in (None, "all"):
        return None
    try:
        if ":" in spec:
            a, b = spec.split(":")
            v = list(range(int(a or 0), int(b) if b else S))
        else:
            v = [int(x) for x in spec.split(",")]
    except ValueError:
        raise RecordError("--record-steps '%s': expected all, A:B or i,j,k" % spec)
    if not v or min(v) < 0 or max(v) >= S:
        raise RecordError("--record-steps '%s': steps must lie in [0, %d)" % (spec, S))
    return v


def uncond_path(path):
    root, ext = os.path.splitext(path)
    return root + ".uncond" + (ext or ".h5")


def main(argv=None, pipe=None):
    ap = argparse.ArgumentParser(prog="hicache_record.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Mappings, sizes and GPU recipes: docs/recording.md")
    ap.add_argument("--preset", required=True, help="flux-mini | diffusers-flux (dit: use the module API)")
    ap.add_argument("--model", help="flux-mini: safetensors file (default data/models/flux_mini.safetensors); "
                    "diffusers-flux: model id or directory")
    ap.add_argument("-o", "--out", required=True, help="output trajectory FILE.h5")
    ap.add_argument("--label", type=int, default=0, help="flux-mini class 0..9 (default 0)")
    ap.add_argument("--prompt", default="a photo of a cat", help="diffusers-flux text prompt")
    ap.add_argument("--steps", type=int, default=50, help="sampling steps (default 50)")
    ap.add_argument("--guidance", type=float, help="CFG scale (flux-mini: 2.5) or distilled guidance (FLUX.1-dev: 3.5)")
    ap.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    ap.add_argument("--init-latents", help="start from /latents/x[0] of this recording (flux-mini)")
    ap.add_argument("--no-shift", action="store_true", help="flux-mini: uniform t grid")
    ap.add_argument("--dtype", default="float32", help="float32 (default) or float16 on disk")
    ap.add_argument("--deflate", type=int, default=4, help="gzip level 0..9 with shuffle (default 4)")
    ap.add_argument("--record-steps", default="all", help="all | A:B | i,j,k (rows in order; /steps/index)")
    ap.add_argument("--modules", help="globs on schema names, e.g. 'double/1/*,single/5/*'")
    ap.add_argument("--tokens", default="all", help="img tokens: all | stride:K[:OFF] | random:N[:SEED]")
    ap.add_argument("--txt-tokens", default="all", help="txt tokens: the same choices (default all)")
    ap.add_argument("--branch", default="cond", help="cond (default) | uncond | both (OUT and OUT.uncond.h5)")
    ap.add_argument("--no-hidden", action="store_true", help="leave out /hidden")
    ap.add_argument("--no-latents", action="store_true", help="leave out /latents")
    ap.add_argument("--no-signals", action="store_true", help="leave out /signals (policy signals)")
    ap.add_argument("--map", action="append", help="REGEX=features/KIND/{1}/MODULE[:STREAM][@INDEX] "
                    "(repeatable; replaces the preset's mapping)")
    ap.add_argument("--device", default="cpu", help="torch device (default cpu; cuda on a GPU)")
    ap.add_argument("--torch-dtype", default="bfloat16", help="diffusers-flux compute dtype (default bfloat16)")
    ap.add_argument("--height", type=int, default=1024)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--max-sequence-length", type=int, default=512, help="diffusers-flux T5 tokens (512)")
    args = ap.parse_args(argv)
    recs = []
    samplers = _tool("hicache_samplers")
    try:
        if args.steps < 1 or args.steps > 100000:
            raise RecordError("--steps %d out of range [1, 100000]" % args.steps)
        if args.branch not in ("cond", "uncond", "both"):
            raise RecordError("--branch '%s' (valid: cond, uncond, both)" % args.branch)
        prov = base_provenance(args.model, sys.argv if argv is None else argv)
        if args.preset == "flux-mini":
            args.model = args.model or os.path.join("data", "models", "flux_mini.safetensors")
            prov["model_file"] = args.model
            model, points, info, txt_len, run, layout = samplers.sample_flux_mini(args, prov)
        elif args.preset == "diffusers-flux":
            if not args.model:
                raise RecordError("--preset diffusers-flux needs --model (e.g. black-forest-labs/FLUX.1-dev)")
            model, points, info, txt_len, run, layout = samplers.sample_diffusers_flux(args, prov, pipe)
        elif args.preset == "dit":
            raise RecordError("--preset dit records through the module API (your DiT's sample loop): "
                              "see docs/recording.md")
        else:
            raise RecordError("--preset '%s' (valid: flux-mini, diffusers-flux)" % args.preset)
        branches = ["cond", "uncond"] if args.branch == "both" else [args.branch]
        if layout == "none" and branches != ["cond"]:
            raise RecordError("--branch %s: this run has no unconditional branch (guidance %s is not a CFG batch)"
                              % (args.branch, info.get("guidance")))
        steps = parse_steps(args.record_steps, args.steps)
        for b in branches:
            path = args.out if b == "cond" else (uncond_path(args.out) if args.branch == "both" else args.out)
            meta = dict(info, branch=b)
            recs.append(Recorder(path, model, points, args.steps, meta, dtype=args.dtype, deflate=args.deflate,
                                 steps=steps, modules=args.modules, tokens=args.tokens, txt_tokens=args.txt_tokens,
                                 branch=b, cfg_layout=layout, hidden=not args.no_hidden,
                                 latents=not args.no_latents, txt_len=txt_len, provenance=prov,
                                 signals=None if args.no_signals else args.preset))
        for r in recs:
            r.__enter__()
        run(recs)
        for r in recs:
            r.remove_hooks()
            r.finish()
    except (RecordError, OSError) as e:
        for r in recs:
            r.remove_hooks()
            r.file.abort()
        print("hicache_record: %s" % e, file=sys.stderr)
        return 1
    except BaseException:
        for r in recs:
            r.file.abort()
        raise
    for r in recs:
        print("wrote %s (%d steps, %d datasets)" % (r.file.path, len(r.steps), len(r.file.rows)))
    return 0


if __name__ == "__main__":
    # run the module as imported, not this __main__ copy: hicache_samplers
    # raises hicache_record.RecordError, the class main() catches
    import hicache_record
    sys.exit(hicache_record.main())
