"""hicache_samplers: the sampling runs hicache_record.py's CLI records
(docs/recording.md): flux-mini (tools/train_flux.py's FluxMini, sampled like
`hicache sample`) and diffusers' FluxPipeline (diffusers-flux).

Each sampler takes the CLI's parsed arguments and the provenance dict (which
it extends) and returns (model, points, info, txt_len, run, cfg_layout):
the module tree to hook, its cache points, the file's root attributes,
the text length, run(recorders) that samples once and feeds every recorder,
and the CFG layout of the model calls (hicache_record.Recorder).
"""
import json
import os
import sys

import h5py
import numpy as np

from hicache_record import ROOT, RecordError, parse_map, preset_maps, resolve_maps

FMNIST = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
          "Ankle boot"]


def load_flux_mini(path):
    """tools/train_flux.py's FluxMini with the weights of `path` (eval mode)."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import torch
    threads = torch.get_num_threads()
    import train_flux       # sets one thread for its own scripts: restored below
    torch.set_num_threads(threads)
    try:
        return train_flux.load_flux(path), train_flux
    except (OSError, AssertionError, KeyError, ValueError, RuntimeError) as e:
        raise RecordError("%s: cannot load a flux-mini model (%s)" % (path, str(e).splitlines()[0] if str(e) else type(e).__name__))


def read_init_latents(path, shape):
    """/latents/x[0] of another recording, checked against the model's shape."""
    try:
        with h5py.File(path, "r") as f:
            if "latents/x" not in f:
                raise RecordError("%s: no dataset /latents/x (record it with /latents)" % path)
            x = np.asarray(f["latents/x"][0], dtype=np.float32)
            seed = int(f.attrs["seed"]) if "seed" in f.attrs else None
    except OSError as e:
        raise RecordError("%s: cannot read (%s)" % (path, e))
    if tuple(x.shape) != tuple(shape):
        raise RecordError("%s: /latents/x rows have shape %s; the model needs %s" % (path, list(x.shape), list(shape)))
    if not np.all(np.isfinite(x)):
        raise RecordError("%s: /latents/x[0] is not finite" % path)
    return x, seed


def sample_flux_mini(args, prov):
    """rf-euler with the FLUX time shift and true CFG as one batch [cond; uncond],
    exactly as src/engine/sampler.c (docs/model-format.md section 4)."""
    import torch
    (model, meta), tf = load_flux_mini(args.model)
    cfg = model.cfg
    C, H = cfg["image_channels"], cfg["image_size"]
    if not 0 <= args.label < cfg["num_classes"]:
        raise RecordError("--label %d out of range [0, %d)" % (args.label, cfg["num_classes"]))
    g = 2.5 if args.guidance is None else args.guidance
    S = args.steps
    gh, gw = cfg["grid"]
    if args.no_shift:
        ts = np.linspace(1.0, 0.0, S + 1)
    else:
        ts, _ = tf.flux_schedule(S, gh * gw, cfg["schedule"])
    ts[S] = 0.0
    seed = args.seed
    if args.init_latents:
        x0, fseed = read_init_latents(args.init_latents, (C, H, H))
        seed = fseed if fseed is not None else None
        noise = "/latents/x[0] of %s" % args.init_latents
    else:
        gen = torch.Generator().manual_seed(args.seed)
        x0 = torch.randn((C, H, H), generator=gen).numpy()
        noise = "torch.randn, torch.Generator().manual_seed(%d) (not the C sampler's GSL noise)" % args.seed
    model.to(args.device)
    guided = g != 1.0
    labels = torch.tensor([args.label] + ([cfg["null_class"]] if guided else []), device=args.device)
    prov.update(model_metadata={k: _json_or(v) for k, v in meta.items()}, device=args.device,
                config={"preset": "flux-mini", "model": args.model, "label": args.label, "steps": S, "guidance": g,
                        "time_shift": not args.no_shift, "seed": seed, "noise": noise})
    info = dict(model="%s (%s)" % (cfg["arch"], args.model),
                sampler="euler rectified flow, %s, cfg %g, batch [cond; uncond]" % (
                    "no shift" if args.no_shift else "FLUX time shift", g),
                seed=seed, label="%d %s" % (args.label, FMNIST[args.label % 10]), guidance=float(g))
    points = resolve_maps(model, [parse_map(s) for s in (args.map or preset_maps("flux-mini", model))])
    txt_len = cfg["txt_tokens"]
    x = torch.from_numpy(x0).to(args.device)[None]

    def run(rec_list):
        nonlocal x
        with torch.no_grad():
            for s in range(S):
                for r in rec_list:
                    r.begin_step(s, ts[s])
                    r.put_latent("x", s, x[0])
                tt = torch.full((x.shape[0] * (2 if guided else 1),), float(ts[s]), dtype=torch.float32,
                                device=args.device)
                v2 = model(torch.cat([x, x]) if guided else x, tt, labels)
                v = v2[1:2] + g * (v2[0:1] - v2[1:2]) if guided else v2
                dt = torch.tensor(ts[s + 1] - ts[s], dtype=torch.float32)
                x = x + dt * v
                for r in rec_list:
                    r.put_latent("out", s, v[0])
                    if s == r.steps[-1]:
                        r.put_latent("x", s, x[0], final=True)
    return model, points, info, txt_len, run, ("batch" if guided else "none")


def sample_diffusers_flux(args, prov, pipe=None):
    """FluxPipeline (diffusers) with hooks on its FluxTransformer2DModel; a
    given `pipe` (any object called like FluxPipeline, with .transformer) is
    used as it is, without importing diffusers."""
    import torch
    if pipe is None:
        try:
            import diffusers
            from diffusers import FluxPipeline
        except ImportError as e:
            raise RecordError("--preset diffusers-flux needs diffusers (pip install diffusers transformers "
                              "sentencepiece): %s" % e)
        dt = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}.get(args.torch_dtype)
        if dt is None:
            raise RecordError("--torch-dtype '%s' (valid: bfloat16, float16, float32)" % args.torch_dtype)
        pipe = FluxPipeline.from_pretrained(args.model, torch_dtype=dt).to(args.device)
        prov["diffusers"] = diffusers.__version__
    else:
        prov["pipeline"] = type(pipe).__name__
    g = 3.5 if args.guidance is None else args.guidance
    W, H = args.width, args.height
    txt_len = args.max_sequence_length
    prov.update(device=args.device, torch_dtype=args.torch_dtype,
                gpu=torch.cuda.get_device_name() if torch.cuda.is_available() else None,
                config={"preset": "diffusers-flux", "model": args.model, "prompt": args.prompt, "steps": args.steps,
                        "guidance": g, "height": H, "width": W, "seed": args.seed,
                        "max_sequence_length": txt_len})
    info = dict(model=args.model, sampler="diffusers FluxPipeline, FlowMatchEulerDiscreteScheduler, %d steps, "
                "guidance %g (distilled), %dx%d" % (args.steps, g, W, H),
                seed=args.seed, prompt=args.prompt, guidance=float(g))
    tr = pipe.transformer
    points = resolve_maps(tr, [parse_map(s) for s in (args.map or preset_maps("diffusers-flux", tr))])

    def run(rec_list):
        for r in rec_list:
            attach_diffusers(tr, r)
        gen = torch.Generator(device="cpu").manual_seed(args.seed)

        def on_step_end(p, i, t, kw):
            for r in rec_list:
                if i == r.steps[-1]:
                    r.put_latent("x", i, kw["latents"][0], final=True)
            return {}
        pipe(prompt=args.prompt, height=H, width=W, num_inference_steps=args.steps, guidance_scale=g,
             generator=gen, max_sequence_length=txt_len, callback_on_step_end=on_step_end,
             callback_on_step_end_tensor_inputs=["latents"])
    return tr, points, info, txt_len, run, "none"


def attach_diffusers(transformer, rec):
    """Step counter, /steps/t (the sigma the transformer gets, timestep/1000
    scaled back), /latents/x and /latents/out from the transformer's calls
    (one call per step: guidance-distilled FLUX)."""
    orig = transformer.forward
    state = {"calls": 0}

    def fwd(*args, **kw):
        s = state["calls"]
        hs = kw["hidden_states"] if "hidden_states" in kw else args[0]
        t = kw["timestep"] if "timestep" in kw else args[3]
        rec.begin_step(s, float(t.flatten()[0]))
        rec.put_latent("x", s, hs[rec.sample_row])
        out = orig(*args, **kw)
        y = out[0] if isinstance(out, tuple) else out.sample
        rec.put_latent("out", s, y[rec.sample_row])
        state["calls"] = s + 1
        return out
    transformer.forward = fwd
    return orig


def _json_or(v):
    try:
        return json.loads(v)
    except (TypeError, ValueError):
        return v
