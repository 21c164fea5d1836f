#!/usr/bin/python3
"""Train a small class-conditional DiT on Fashion-MNIST (pixel space, 28x28x1),
epsilon prediction with the DDPM linear-beta schedule (1e-4..0.02, 1000 steps),
uniform t, MSE on epsilon, label dropout 0.1 (null class = 10).  The model is
tools/dit_torch.py (official DiT module names); the file format is in
docs/model-format.md ("DiT").

Subcommands (Debian's /usr/bin/python3, torch 1.13, one thread):
  train   train or resume; checkpoint data/models/dit_fmnist.ckpt (not committed),
          SIGTERM/SIGINT -> checkpoint and exit; --deadline/--minutes/--max-steps
  export  EMA weights -> data/models/dit_fmnist.safetensors (+ loss CSV), then sample
  sample  DDIM-50 (eta 0, DiT respacing) with CFG on 10 classes x per-class samples,
          recognised % by data/models/fmnist_classifier.safetensors and FD (classifier
          features) against real test images
  bench   seconds per training iteration for a config (for choosing the size)
"""
import argparse
import datetime as _dt
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dit_torch as dt  # noqa: E402
import train_flux as tf  # noqa: E402  (sets one thread)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

MODELS = tf.MODELS
CKPT = os.path.join(MODELS, "dit_fmnist.ckpt")
MODEL_FILE = os.path.join(MODELS, "dit_fmnist.safetensors")
LOSS_CSV = os.path.join(MODELS, "dit_fmnist_loss.csv")
SAMPLES_PNG = os.path.join(MODELS, "dit_fmnist_samples.png")
log = tf.log


def fmnist_config(args):
    return dt.make_config(input_size=28, in_channels=1, patch_size=args.patch,
                          hidden_size=args.hidden, depth=args.depth, num_heads=args.heads,
                          num_classes=10, learn_sigma=False, mlp_ratio=4.0,
                          class_dropout_prob=args.label_dropout, cfg_channels=1,
                          default_guidance=args.default_guidance,
                          pixel={"image_size": 28, "image_channels": 1})


class Trainer:
    """Model, EMA, optimiser and data cursor; train_step does one AdamW step."""

    def __init__(self, cfg, lr, batch, seed, warmup, ema_max):
        self.cfg = cfg
        self.model, self.ema = dt.DiT(cfg), dt.DiT(cfg)
        self.opt = torch.optim.AdamW([p for p in self.model.parameters() if p.requires_grad],
                                     lr=lr, betas=(0.9, 0.999), weight_decay=0.0)
        self.gen = torch.Generator().manual_seed(seed)
        self.abar = torch.from_numpy(dt.linear_alphas_cumprod()).float()
        self.xtr, self.ytr = tf.load_fmnist("train")
        self.st = {"step": 0, "images_seen": 0, "train_seconds": 0.0, "epoch": 0, "pos": 0,
                   "perm": torch.randperm(len(self.xtr), generator=self.gen), "losses": [],
                   "loss_ema": None, "seed": seed, "batch": batch, "lr": lr, "warmup": warmup,
                   "ema_max": ema_max, "label_dropout": cfg["class_dropout_prob"],
                   "started_utc": _dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "sessions": []}
        torch.manual_seed(seed)
        self.model.init_train()
        self.ema.load_state_dict(self.model.state_dict())
        for p in self.ema.parameters():
            p.requires_grad_(False)

    def state(self):
        return {"model": self.model.state_dict(), "ema": self.ema.state_dict(),
                "opt": self.opt.state_dict(), "gen_state": self.gen.get_state(),
                "torch_rng": torch.get_rng_state(), "state": self.st, "config": self.cfg}

    def restore(self, ck):
        self.model.load_state_dict(ck["model"])
        self.ema.load_state_dict(ck["ema"])
        self.opt.load_state_dict(ck["opt"])
        self.gen.set_state(ck["gen_state"])
        torch.set_rng_state(ck["torch_rng"])
        self.st = ck["state"]

    def train_step(self):
        st, g, B = self.st, self.gen, self.st["batch"]
        N = len(self.xtr)
        if st["pos"] + B > N:
            st["epoch"] += 1
            st["pos"] = 0
            st["perm"] = torch.randperm(N, generator=g)
        idx = st["perm"][st["pos"]:st["pos"] + B]
        st["pos"] += B
        x0 = tf.to_pm1(self.xtr[idx])
        lab = self.ytr[idx].clone()
        lab[torch.rand(B, generator=g) < st["label_dropout"]] = self.cfg["num_classes"]
        t = torch.randint(0, 1000, (B,), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        a = self.abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        lr = st["lr"] * min(1.0, (st["step"] + 1) / st["warmup"])
        for pg in self.opt.param_groups:
            pg["lr"] = lr
        loss = F.mse_loss(self.model(xt, t.float(), lab)[:, :self.model.C], eps)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        i = st["step"]
        decay = min(st["ema_max"], (1 + i) / (10 + i))
        with torch.no_grad():
            for pe, pm in zip(self.ema.parameters(), self.model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        lv = loss.item()
        st["loss_ema"] = lv if st["loss_ema"] is None else 0.98 * st["loss_ema"] + 0.02 * lv
        st["losses"].append((i + 1, lv, st["loss_ema"]))
        st["step"] += 1
        st["images_seen"] += B
        return lv, lr


def cmd_bench(args):
    cfg = fmnist_config(args)
    tr = Trainer(cfg, args.lr, args.batch, 0, 10, 0.999)
    n = sum(p.numel() for p in tr.model.parameters() if p.requires_grad)
    tr.train_step()
    t0 = time.time()
    for _ in range(args.iters):
        tr.train_step()
    s = (time.time() - t0) / args.iters
    log("p=%d D=%d L=%d H=%d batch %d: %d params, %.3f s/it, %.1f img/s" % (
        args.patch, args.hidden, args.depth, args.heads, args.batch, n, s, args.batch / s))


def cmd_train(args):
    t_start = time.time()
    deadline = (tf.parse_deadline(args.deadline) if args.deadline else
                t_start + 60 * args.minutes if args.minutes else float("inf"))
    stop = {"flag": False}

    def on_signal(signum, frame):
        log("signal %d: will checkpoint and exit" % signum)
        stop["flag"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if os.path.exists(args.ckpt):
        ck = torch.load(args.ckpt)
        tr = Trainer(ck["config"], ck["state"]["lr"], ck["state"]["batch"], ck["state"]["seed"],
                     ck["state"]["warmup"], ck["state"]["ema_max"])
        tr.restore(ck)
        log("resumed from %s at step %d (%.1f min trained); config from the checkpoint" % (
            args.ckpt, tr.st["step"], tr.st["train_seconds"] / 60))
    else:
        tr = Trainer(fmnist_config(args), args.lr, args.batch, args.seed, args.warmup,
                     args.ema_max)
        log("fresh start, %d params, config %s" % (
            sum(p.numel() for p in tr.model.parameters() if p.requires_grad),
            json.dumps(tr.cfg)))
    st = tr.st
    st["sessions"].append(_dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"))

    def save():
        tf.atomic_torch_save(tr.state(), args.ckpt)
    last_ck, win = time.time(), []
    tr.model.train()
    while not (stop["flag"] or time.time() >= deadline or
               (args.max_steps and st["step"] >= args.max_steps)):
        it0 = time.time()
        lv, lr = tr.train_step()
        d = time.time() - it0
        st["train_seconds"] += d
        win.append(d)
        s = st["step"]
        if s % args.log_every == 0 or s in (1, 10):
            log("step %6d ep %d loss %.4f ema_loss %.4f lr %.2e | %.3f s/it | %s" % (
                s, st["epoch"], lv, st["loss_ema"], lr, sum(win) / len(win),
                _dt.datetime.utcnow().strftime("%H:%M:%S")))
            win = []
        if time.time() - last_ck >= 60 * args.ckpt_minutes:
            save()
            last_ck = time.time()
            log("checkpoint at step %d -> %s" % (s, args.ckpt))
    save()
    log("stopped at step %d (%d images, %.2f epochs, %.1f min training); checkpoint %s" % (
        st["step"], st["images_seen"], st["images_seen"] / 60000, st["train_seconds"] / 60,
        args.ckpt))


@torch.no_grad()
def val_loss(model, n=512, seed=1234):
    """epsilon MSE of the first n test images at fixed uniform t and noise."""
    xte, yte = tf.load_fmnist("test")
    g = torch.Generator().manual_seed(seed)
    x0 = tf.to_pm1(xte[:n])
    t = torch.randint(0, 1000, (n,), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    a = torch.from_numpy(dt.linear_alphas_cumprod()).float()[t][:, None, None, None]
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    tot = 0.0
    for i in range(0, n, 128):
        e = model(xt[i:i + 128], t[i:i + 128].float(), yte[i:i + 128])[:, :model.C]
        tot += F.mse_loss(e, eps[i:i + 128], reduction="sum").item()
    return tot / x0.numel()


def cmd_export(args):
    ck = torch.load(args.ckpt)
    st, cfg = ck["state"], ck["config"]
    model = dt.DiT(cfg)
    model.load_state_dict(ck["ema"])
    model.eval()
    vl = val_loss(model)
    log("EMA weights at step %d: validation eps-MSE %.4f (512 test images)" % (st["step"], vl))
    training = {
        "dataset": "Fashion-MNIST train split, 60000 images (Debian dataset-fashion-mnist)",
        "dataset_files": {os.path.basename(p): tf.sha256_file(p) for p in tf.dataset_files()},
        "steps": st["step"], "images_seen": st["images_seen"],
        "epochs": round(st["images_seen"] / 60000, 3), "batch": st["batch"], "seed": st["seed"],
        "optimizer": "AdamW lr %g, %d-step linear warm-up, constant, no weight decay" % (
            st["lr"], st["warmup"]),
        "ema": "decay min(%g,(1+i)/(10+i)); exported weights are the EMA" % st["ema_max"],
        "objective": "epsilon MSE, x_t = sqrt(abar_t) x0 + sqrt(1-abar_t) eps, t uniform in "
                     "0..999, DDPM linear betas 1e-4..0.02; learn_sigma false (no VLB term)",
        "label_dropout": st["label_dropout"], "final_loss_ema": round(st["loss_ema"], 5),
        "val_loss_ema_weights": round(vl, 5),
        "wall_clock_minutes": round(st["train_seconds"] / 60, 2),
        "started_utc": st.get("started_utc"), "sessions_utc": st.get("sessions"),
        "torch": torch.__version__, "threads": 1,
        "date_utc": _dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": "tools/train_dit.py sha256 " + tf.sha256_file(os.path.abspath(__file__)),
    }
    sd = dt.save_dit(args.out, model, cfg, {"training": json.dumps(training)})
    m2, meta2 = dt.load_dit(args.out)
    assert json.loads(meta2["config"]) == cfg
    log("wrote %s (%d bytes, %d tensors), re-read OK" % (args.out, os.path.getsize(args.out),
                                                         len(sd)))
    with open(args.loss_csv, "w") as f:
        f.write("step,loss,loss_ema\n")
        for s, lo, e in st["losses"]:
            f.write("%d,%.6f,%.6f\n" % (s, lo, e))
    log("wrote %s (%d rows)" % (args.loss_csv, len(st["losses"])))
    if not args.no_sample:
        args.model = args.out
        cmd_sample(args)


def frechet(f1, f2):
    import scipy.linalg
    m1, m2 = f1.mean(0), f2.mean(0)
    c1, c2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    s = scipy.linalg.sqrtm(c1 @ c2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(c1 + c2 - 2 * s))


def cmd_sample(args):
    model, meta = dt.load_dit(args.model)
    cfg = model.cfg
    K, per = cfg["num_classes"], args.per_class
    labels = torch.arange(K).repeat_interleave(per)
    g = torch.Generator().manual_seed(args.seed)
    S = cfg["input_size"]
    noise = torch.randn(len(labels), cfg["in_channels"], S, S, generator=g)
    scale = cfg["default_guidance"] if args.cfg_scale is None else args.cfg_scale
    t0 = time.time()
    x = torch.cat([dt.ddim_sample(model, noise[i:i + args.bs], labels[i:i + args.bs],
                                  args.steps, scale)
                   for i in range(0, len(labels), args.bs)]).clamp(-1, 1)
    ncol = min(4, per)
    sel = torch.cat([torch.arange(c * per, c * per + ncol) for c in range(K)])
    tf.grid_png(args.png, x[sel], K, ncol)
    res = {"samples": len(labels), "steps": args.steps, "sampler": "DDIM eta 0, DiT respacing",
           "cfg_scale": scale, "seed": args.seed, "sample_seconds": round(time.time() - t0, 1)}
    cm, _ = tf.load_classifier(args.classifier)
    with torch.no_grad():
        pred = cm(x).argmax(1)
        xte, _ = tf.load_fmnist("test")
        freal = cm.features(tf.to_pm1(xte[:args.fd_real])).numpy().astype(np.float64)
        fgen = cm.features(x).numpy().astype(np.float64)
    acc = (pred == labels).float().mean().item()
    per_cls = [(pred[labels == c] == c).float().mean().item() for c in range(K)]
    fd = frechet(fgen, freal)
    res.update(recognised=round(acc, 4), per_class=[round(a, 3) for a in per_cls],
               fd=round(fd, 3), fd_note="classifier fc1 features, %d samples vs first %d test "
               "images" % (len(labels), args.fd_real), model_steps=json.loads(
                   meta.get("training", "{}")).get("steps"))
    log("DDIM-%d CFG %.2f, %d samples: recognised %.3f, FD %.3f (vs %d test images)  per class %s"
        "  [%.0fs]" % (args.steps, scale, len(labels), acc, fd, args.fd_real,
                       " ".join("%.2f" % a for a in per_cls), time.time() - t0))
    with open(os.path.splitext(args.png)[0] + ".json", "w") as f:
        json.dump(res, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("train", "bench"):
        p = sub.add_parser(name)
        p.add_argument("--patch", type=int, default=4)
        p.add_argument("--hidden", type=int, default=128)
        p.add_argument("--depth", type=int, default=6)
        p.add_argument("--heads", type=int, default=4)
        p.add_argument("--batch", type=int, default=64)
        p.add_argument("--lr", type=float, default=1e-3)
        p.add_argument("--label-dropout", type=float, default=0.1)
        p.add_argument("--default-guidance", type=float, default=2.0)
    sub.choices["bench"].add_argument("--iters", type=int, default=10)
    p = sub.choices["train"]
    p.add_argument("--ckpt", default=CKPT)
    p.add_argument("--deadline", help="HH:MM UTC (next occurrence) or ISO datetime UTC")
    p.add_argument("--minutes", type=float)
    p.add_argument("--max-steps", type=int, default=0)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--ema-max", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p = sub.add_parser("export")
    p.add_argument("--ckpt", default=CKPT)
    p.add_argument("--out", default=MODEL_FILE)
    p.add_argument("--loss-csv", default=LOSS_CSV)
    p.add_argument("--no-sample", action="store_true")
    p = sub.add_parser("sample")
    p.add_argument("--model", default=MODEL_FILE)
    for p in (sub.choices["export"], p):
        p.add_argument("--png", default=SAMPLES_PNG)
        p.add_argument("--classifier", default=tf.CLS_FILE)
        p.add_argument("--per-class", type=int, default=10)
        p.add_argument("--steps", type=int, default=50)
        p.add_argument("--cfg-scale", type=float, default=None,
                       help="guidance scale (default: the model's default_guidance)")
        p.add_argument("--bs", type=int, default=100)
        p.add_argument("--seed", type=int, default=7)
        p.add_argument("--fd-real", type=int, default=1000)
    args = ap.parse_args()
    {"train": cmd_train, "bench": cmd_bench, "export": cmd_export,
     "sample": cmd_sample}[args.cmd](args)


if __name__ == "__main__":
    main()
