"""hicache_signals: the /signals group of a recording (docs/trajectory-format.md,
section "Signals"), computed from forward hooks as src/engine/signals.c computes
it in `hicache sample --record`: on the recorded branch's rows of one image,
float32 tensors, float64 sums.

Taps (per preset: TAPS) name where each tensor comes from, as
(module qualname, "in" | "out", index or None):
  mod    the first block's modulated image input LN(x)(1+scale)+shift
  embed  the image embedding entering the first block
  head   the first block's image output
  final  the image stream after the last block
Signals: mod_in_change (mod), head_resid_change (head - embed),
resid_norm (final - embed), out_change (the /latents/out rows).  A signal whose
tap is missing from a preset or never fired on every step is left out (readers
accept missing signals; a policy that needs one stops with a clear error).
"""
import numpy as np

TAPS = {
    "flux-mini": dict(mod=("double_blocks.0.img_attn.qkv", "in", 0), embed=("img_in", "out", None),
                      head=("double_blocks.0", "out", 0), final=("final_layer", "in", 0)),
    # diffusers FluxTransformer2DModel: norm1 returns (modulated x, gates...);
    # a block returns (txt, img); norm_out gets the image stream (positionally)
    "diffusers-flux": dict(mod=("transformer_blocks.0.norm1", "out", 0), embed=("x_embedder", "out", None),
                           head=("transformer_blocks.0", "out", 1), final=("norm_out", "in", 0)),
    # facebookresearch DiT: attn gets modulate(norm1(x)); block(x, c)
    "dit": dict(mod=("blocks.0.attn", "in", 0), embed=("blocks.0", "in", 0),
                head=("blocks.0", "out", None), final=("final_layer", "in", 0)),
}
NEEDS = {"mod_in_change": ("mod",), "head_resid_change": ("head", "embed"),
         "resid_norm": ("final", "embed"), "out_change": ()}


def rel_l1(a, b):
    """sum|a - b| / sum|b| in float64 (0 when b is all zero), a, b float32."""
    a, b = a.double(), b.double()
    den = float(b.abs().sum())
    return float((a - b).abs().sum()) / den if den > 0 else 0.0


def mean_row_norm(x):
    """[T, D] -> mean over rows of the L2 norm over channels, in float64."""
    return float(x.double().pow(2).sum(-1).sqrt().mean()) if x.shape[0] else 0.0


class Signals:
    """Per-step signals of one recorded sample; rec supplies step, wanted
    call and the branch row (hicache_record.Recorder)."""

    def __init__(self, rec, preset, S):
        self.rec, self.S, self.taps = rec, S, dict(TAPS.get(preset, {}))
        self.vals = {"mod_in_change": np.zeros(S), "head_resid_change": np.zeros((S, S)),
                     "resid_norm": np.zeros(S), "out_change": np.zeros(S)}
        self.done = {k: set() for k in self.vals}
        self.cur, self.prev_mod, self.prev_out, self.hist = {}, None, None, []
        self.handles = []

    def attach(self, model):
        mods = dict(model.named_modules())
        for key, (q, where, index) in self.taps.items():
            if q in mods:
                self.handles.append(mods[q].register_forward_hook(self._hook(key, where, index)))

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def _hook(self, key, where, index):
        def hook(module, inputs, output):
            r = self.rec
            if r.step is None or not r._wanted_call():
                return
            y = inputs if where == "in" else output
            if index is not None:
                if not isinstance(y, (tuple, list)) or len(y) <= index:
                    return  # e.g. a keyword input: this signal is left out
                y = y[index]
            if not hasattr(y, "detach") or y.dim() != 3:
                return
            self._tensor(key, y.detach()[r._rows_of_branch(y.shape[0])].float())
        return hook

    def _tensor(self, key, x):
        s = self.rec.step
        if key == "mod":
            self.vals["mod_in_change"][s] = rel_l1(x, self.prev_mod) if s > 0 and self.prev_mod is not None else 0.0
            self.prev_mod = x.clone()
            self.done["mod_in_change"].add(s)
            return
        self.cur[key] = x.clone()
        e = self.cur.get("embed")
        if e is None or key == "embed":
            return
        d = x - e  # float32, as the C side
        if key == "head":
            if len(self.hist) != s:
                return  # a step without this tap: the matrix stays incomplete
            self.hist.append(d)
            for a in range(s):
                self.vals["head_resid_change"][s, a] = rel_l1(d, self.hist[a])
            self.done["head_resid_change"].add(s)
        elif key == "final":
            self.vals["resid_norm"][s] = mean_row_norm(d)
            self.done["resid_norm"].add(s)

    def out(self, s, v):
        """The network output row of step s (the guided velocity)."""
        import torch
        v = torch.as_tensor(v.detach() if hasattr(v, "detach") else v).float().flatten()
        self.vals["out_change"][s] = rel_l1(v, self.prev_out) if s > 0 and self.prev_out is not None else 0.0
        self.prev_out = v.clone()
        self.done["out_change"].add(s)

    def write(self, f):
        """Create /signals/<name> (float64) in h5py file f for every signal
        computed on every step; returns the names left out."""
        left = []
        for name, v in self.vals.items():
            if len(self.done[name]) != self.S or any(k not in self.taps for k in NEEDS[name]) \
                    or not np.all(np.isfinite(v)):
                left.append(name)
                continue
            f.create_dataset("signals/" + name, data=v.astype(np.float64), chunks=v.shape, fletcher32=True)
        return left
