#!/usr/bin/python3
"""PyTorch CPU time of the flux-mini forward, for `hicache bench forward`.

Runs tools/train_flux.py's FluxMini (the PyTorch twin of the C model) with
the weights of a safetensors file on the same inputs as `hicache bench
forward` (batch 2 x images: class labels then the null class, t = 0.5, the
same pseudo-noise), at a given thread count, best of R runs after a warm-up,
and prints the milliseconds.  Pass the figure to the C bench to print both
side by side:

  tools/bench_torch.py --threads 1            # -> 'pytorch_ms 343.2 ...'
  OPENBLAS_NUM_THREADS=1 build/hicache bench forward --torch-ms 343.2

usage: bench_torch.py [--model PATH] [--images I] [--threads T] [--reps R]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import train_flux  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=train_flux.MODEL_FILE)
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m, _ = train_flux.load_flux(a.model)
    cfg = m.cfg
    B = 2 * a.images
    C, S = cfg["image_channels"], cfg["image_size"]
    i = np.arange(B * C * S * S, dtype=np.int64)
    x = torch.from_numpy(((i * 7919) % 1000).astype(np.float32) / 500.0 - 1.0).reshape(B, C, S, S)
    t = torch.full((B,), 0.5)
    lab = torch.tensor([b % cfg["num_classes"] if b < B // 2 else cfg["null_class"] for b in range(B)])
    best = float("inf")
    with torch.no_grad():
        m(x, t, lab)
        for _ in range(a.reps):
            t0 = time.perf_counter()
            m(x, t, lab)
            best = min(best, time.perf_counter() - t0)
    nt = torch.get_num_threads()
    print("pytorch_ms %.1f  (torch %s, %d thread%s, batch %d, best of %d)"
          % (best * 1e3, torch.__version__, nt, "" if nt == 1 else "s", B, a.reps))


if __name__ == "__main__":
    main()
