#!/usr/bin/python3
"""Convert an official DiT checkpoint (facebookresearch/DiT state dict, e.g.
DiT-XL-2-256x256.pt) to a hicache-dit safetensors file (docs/model-format.md, "DiT").

  python3 tools/convert_dit.py IN.pt OUT.safetensors [--heads H] [--guidance S]

IN.pt holds a dict of tensors, or a dict with a "ema" or "model" entry holding one
(training checkpoints; "ema" is preferred).  Sizes are inferred from the shapes:
input size from pos_embed (T tokens) and the patch size, patch size and channels
from x_embedder.proj.weight, learn_sigma from final_layer.linear (p^2*2C rows),
depth from the block indices, classes from the label table (rows - 1).  The head
count is not in the shapes: it defaults from the standard DiT configurations by
hidden size (384 S: 6, 768 B: 12, 1024 L: 16, 1152 XL: 16); --heads overrides.
Errors are one line on stderr, exit status 1, and no output file is left behind.
"""
import argparse
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dit_torch as dt  # noqa: E402
import train_flux as tf  # noqa: E402

import torch  # noqa: E402

STANDARD_HEADS = {384: 6, 768: 12, 1024: 16, 1152: 16}
BLOCK_KEYS = ["adaLN_modulation.1.weight", "adaLN_modulation.1.bias", "attn.qkv.weight",
              "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias", "mlp.fc1.weight",
              "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"]
TOP_KEYS = ["x_embedder.proj.weight", "x_embedder.proj.bias", "pos_embed",
            "t_embedder.mlp.0.weight", "t_embedder.mlp.0.bias", "t_embedder.mlp.2.weight",
            "t_embedder.mlp.2.bias", "y_embedder.embedding_table.weight",
            "final_layer.adaLN_modulation.1.weight", "final_layer.adaLN_modulation.1.bias",
            "final_layer.linear.weight", "final_layer.linear.bias"]


class ConvertError(Exception):
    pass


def pick_state_dict(obj, path):
    """Returns (state dict, key it came from or None)."""
    if not isinstance(obj, dict):
        raise ConvertError("%s: expected a dict of tensors (state dict), got %s" % (
            path, type(obj).__name__))
    for key in ("ema", "model"):
        if isinstance(obj.get(key), dict):
            return obj[key], key
    return obj, None


def infer_config(sd, path, heads, guidance):
    for k in TOP_KEYS:
        if k not in sd:
            raise ConvertError("%s: missing tensor %s (not an official DiT state dict?)" % (path, k))
        if not torch.is_tensor(sd[k]):
            raise ConvertError("%s: %s is not a tensor" % (path, k))
    w = sd["x_embedder.proj.weight"]
    if w.dim() != 4 or w.shape[2] != w.shape[3]:
        raise ConvertError("%s: x_embedder.proj.weight has shape %s, expected [D,C,p,p]" % (
            path, list(w.shape)))
    D, C, p = int(w.shape[0]), int(w.shape[1]), int(w.shape[2])
    pe = sd["pos_embed"]
    if pe.dim() != 3 or pe.shape[0] != 1 or pe.shape[2] != D:
        raise ConvertError("%s: pos_embed has shape %s, expected [1,T,%d]" % (path, list(pe.shape), D))
    T = int(pe.shape[1])
    G = int(round(math.sqrt(T)))
    if G * G != T:
        raise ConvertError("%s: pos_embed has %d tokens, not a square grid" % (path, T))
    out = int(sd["final_layer.linear.weight"].shape[0])
    if out == p * p * 2 * C:
        learn_sigma = True
    elif out == p * p * C:
        learn_sigma = False
    else:
        raise ConvertError("%s: final_layer.linear.weight has %d rows, expected p^2*C=%d or "
                           "p^2*2C=%d" % (path, out, p * p * C, p * p * 2 * C))
    idx = {int(m.group(1)) for k in sd for m in [re.match(r"blocks\.(\d+)\.", k)] if m}
    depth = len(idx)
    if depth == 0 or idx != set(range(depth)):
        raise ConvertError("%s: block indices %s are not 0..L-1" % (path, sorted(idx)[:8]))
    fc1 = sd.get("blocks.0.mlp.fc1.weight")
    if fc1 is None or fc1.shape[1] != D:
        raise ConvertError("%s: blocks.0.mlp.fc1.weight missing or not [*, %d]" % (path, D))
    K = int(sd["y_embedder.embedding_table.weight"].shape[0]) - 1
    if heads is None:
        if D not in STANDARD_HEADS:
            raise ConvertError("%s: hidden size %d is not a standard DiT size (384/768/1024/1152); "
                               "give --heads" % (path, D))
        heads = STANDARD_HEADS[D]
    if heads <= 0 or D % heads:
        raise ConvertError("%s: --heads %d does not divide hidden size %d" % (path, heads, D))
    return dt.make_config(input_size=G * p, in_channels=C, patch_size=p, hidden_size=D,
                          depth=depth, num_heads=heads, num_classes=K, learn_sigma=learn_sigma,
                          mlp_ratio=fc1.shape[0] / D, class_dropout_prob=0.1,
                          cfg_channels=3 if C == 4 else C, default_guidance=guidance)


def convert(inp, outp, heads=None, guidance=1.5):
    """Returns the config; raises ConvertError with a one-line message."""
    if not os.path.isfile(inp):
        raise ConvertError("%s: no such file" % inp)
    try:
        obj = torch.load(inp, map_location="cpu")
    except Exception as e:   # noqa: BLE001 - any unreadable input is one clear line
        raise ConvertError("%s: cannot read as a PyTorch checkpoint (%s)" % (
            inp, str(e).splitlines()[0] if str(e) else type(e).__name__))
    sd, key = pick_state_dict(obj, inp)
    cfg = infer_config(sd, inp, heads, guidance)
    model = dt.DiT(cfg)
    expected = set(model.state_dict())
    extra = sorted(set(sd) - expected)
    missing = sorted(expected - set(sd))
    if missing or extra:
        raise ConvertError("%s: tensor names differ from DiT(%s): missing %s, unexpected %s" % (
            inp, "depth %d" % cfg["depth"], missing[:3], extra[:3]))
    for k, v in model.state_dict().items():
        if tuple(sd[k].shape) != tuple(v.shape):
            raise ConvertError("%s: %s has shape %s, expected %s" % (
                inp, k, list(sd[k].shape), list(v.shape)))
    src = {"converter": "tools/convert_dit.py", "input": os.path.basename(inp),
           "input_sha256": tf.sha256_file(inp), "state_dict_key": key,
           "heads_from": "--heads" if heads is not None else "default"}
    dt.save_dit(outp, {k: sd[k] for k in expected}, cfg, {"source": json.dumps(src)})
    m, _ = dt.load_dit(outp)     # loads strictly into the PyTorch DiT
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--heads", type=int, default=None)
    ap.add_argument("--guidance", type=float, default=1.5,
                    help="default_guidance written to the config (default 1.5)")
    a = ap.parse_args()
    try:
        cfg = convert(a.input, a.output, a.heads, a.guidance)
    except ConvertError as e:
        print("convert_dit: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s: DiT input %d, C %d, p %d, D %d, depth %d, heads %d, classes %d, "
          "learn_sigma %s, cfg_channels %d" % (
              a.output, cfg["input_size"], cfg["in_channels"], cfg["patch_size"],
              cfg["hidden_size"], cfg["depth"], cfg["num_heads"], cfg["num_classes"],
              cfg["learn_sigma"], cfg["cfg_channels"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
