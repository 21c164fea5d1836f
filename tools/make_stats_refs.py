#!/usr/bin/python3
"""Write tests/data/stats_refs.json: inputs and reference values for the
statistics of src/eval/stats.h, checked by tests/test_stats.c.  Run from the
repository root with Debian's python (numpy, scipy; here only, CI reads the
committed JSON):

    /usr/bin/python3 tools/make_stats_refs.py [tests/data/stats_refs.json]

References:
  wilcoxon   scipy.stats.wilcoxon(d) with its defaults (zero_method="wilcox",
             correction=False, two-sided, method="auto": exact for n <= 50
             without zeros); tied cases with method="approx" explicitly (the
             C code never takes the exact path with ties); one case with
             correction=True
  paired t   scipy.stats.ttest_rel(x, y)
  holm       Holm's step-down adjustment written out below (statsmodels is
             not installed): sorted p_(j) -> max_{i<=j} min(1, (m-i+1) p_(i))
  bootstrap  resample indices from numpy's MT19937 with legacy seeding (the
             same stream as GSL's mt19937 with gsl_rng_set) mapped to
             (u * n) >> 32; intervals = np.percentile(..., method="linear")
             of the resampled statistics
  KID        the unbiased MMD^2 with k(a,b) = (a.b/d + 1)^3 from full numpy
             kernel matrices; its first-order standard error (stats.h)
  FD boot    ||mu - mu_r||^2 + tr(S) + tr(S_r) - 2 tr sqrtm(S S_r) with
             scipy.linalg.sqrtm on each resample (np.cov, ddof=1)
"""
import json
import sys

import numpy as np
import scipy
import scipy.linalg
import scipy.stats

SEED = 20240617


def boot_indices(n, B, seed):
    bg = np.random.MT19937()
    bg._legacy_seeding(seed)
    u = bg.random_raw(n * B).astype(np.uint64)
    return ((u * np.uint64(n)) >> np.uint64(32)).astype(np.int64).reshape(B, n)


def pct(v, level):
    return [float(np.percentile(v, 100 * (1 - level) / 2, method="linear")),
            float(np.percentile(v, 100 * (1 + level) / 2, method="linear"))]


def holm(p):
    p = np.asarray(p, float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adj = np.empty(m)
    run = 0.0
    for j, i in enumerate(order):
        run = max(run, min(1.0, (m - j) * p[i]))
        adj[i] = run
    return adj


def kid(x, y):
    d = x.shape[1]
    n, m = len(x), len(y)
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    sxx = kxx.sum(1) - np.diag(kxx)
    syy = kyy.sum(1) - np.diag(kyy)
    val = sxx.sum() / (n * (n - 1)) + syy.sum() / (m * (m - 1)) - 2 * kxy.sum() / (n * m)
    hx = sxx / (n - 1) - kxy.sum(1) / m
    hy = syy / (m - 1) - kxy.sum(0) / n
    se = np.sqrt(4 * hx.var(ddof=1) / n + 4 * hy.var(ddof=1) / m)
    return float(val), float(se)


def fd(f, mu_r, cov_r):
    mu = f.mean(0)
    cov = np.cov(f, rowvar=False, ddof=1)
    s = scipy.linalg.sqrtm(cov @ cov_r)
    return float(((mu - mu_r) ** 2).sum() + np.trace(cov) + np.trace(cov_r) - 2 * np.trace(s).real)


def f32(a):
    return np.asarray(a, np.float32).astype(np.float64)


def main(out):
    rng = np.random.default_rng(7)
    doc = {"generator": "tools/make_stats_refs.py", "numpy": np.__version__, "scipy": scipy.__version__}
    # ---- Wilcoxon ----
    wil = []

    def add_w(name, d, **kw):
        r = scipy.stats.wilcoxon(d, **kw)
        wil.append({"name": name, "d": [float(v) for v in d], "correction": bool(kw.get("correction", False)),
                    "statistic": float(r.statistic), "p": float(r.pvalue),
                    "mode": "exact" if kw.get("method", "auto") == "auto" and len(d) <= 50 and not (d == 0).any()
                    else "approx"})

    for n in (6, 12, 20, 37, 50):
        add_w(f"exact_n{n}", rng.normal(0.3, 1, n))
    add_w("exact_one_sided_data", np.abs(rng.normal(0, 1, 10)) + 0.01)
    add_w("approx_n64", rng.normal(0.1, 1, 64))
    add_w("approx_n300", rng.standard_t(3, 300) + 0.05)
    add_w("approx_ties", np.round(rng.normal(0.2, 1, 40), 1), method="approx")
    add_w("approx_ties_n80", np.round(rng.normal(0.0, 2, 80)), method="approx")
    dz = np.round(rng.normal(0.3, 1, 30), 1)
    dz[:4] = 0
    add_w("zeros", dz, method="approx")
    add_w("continuity", rng.normal(0.2, 1, 70), correction=True)
    add_w("continuity_ties", np.round(rng.normal(-0.2, 1, 45), 1), correction=True, method="approx")
    doc["wilcoxon"] = wil
    # ---- paired t ----
    tt = []
    for n in (2, 5, 16, 64, 500):
        x = rng.normal(1, 1, n)
        y = x + rng.normal(0.1, 0.5, n)
        r = scipy.stats.ttest_rel(x, y)
        tt.append({"x": x.tolist(), "y": y.tolist(), "t": float(r.statistic), "p": float(r.pvalue)})
    doc["ttest"] = tt
    # ---- Holm ----
    hs = []
    for p in ([0.01, 0.04, 0.03, 0.2], [0.001, 0.001, 0.5, 0.02, 0.04, 0.9],
              list(rng.uniform(0, 0.1, 12))):
        hs.append({"p": [float(v) for v in p], "adj": holm(p).tolist()})
    doc["holm"] = hs
    # ---- bootstrap ----
    bs = []
    for n, B in ((16, 2000), (64, 2000), (7, 500)):
        idx = boot_indices(n, B, SEED)
        a = rng.normal(30, 3, n)
        b = a - rng.normal(0.5, 1, n)
        aw = rng.integers(1, 9, n).astype(float)
        bw = rng.integers(1, 9, n).astype(float)
        a_s = a * aw
        b_s = b * bw
        mean = (a[idx]).mean(1)
        delta = (a[idx]).mean(1) - (b[idx]).mean(1)
        ratio_delta = a_s[idx].sum(1) / aw[idx].sum(1) - b_s[idx].sum(1) / bw[idx].sum(1)
        bs.append({"n": n, "B": B, "seed": SEED, "level": 0.95, "idx_head": idx[0, :].tolist(),
                   "idx_tail": idx[-1, :].tolist(), "a": a.tolist(), "b": b.tolist(),
                   "a_sum": a_s.tolist(), "a_w": aw.tolist(), "b_sum": b_s.tolist(), "b_w": bw.tolist(),
                   "mean_ci": pct(mean, 0.95), "delta_ci": pct(delta, 0.95),
                   "ratio_delta_ci": pct(ratio_delta, 0.95), "mean_ci90": pct(mean, 0.90)})
    doc["bootstrap"] = bs
    # ---- KID ----
    ks = []
    for n, m, d in ((16, 200, 8), (40, 120, 32)):
        x = f32(rng.normal(0.1, 1, (n, d)))
        y = f32(rng.normal(0, 1.1, (m, d)))
        v, se = kid(x, y)
        ks.append({"n": n, "m": m, "d": d, "x": x.ravel().tolist(), "y": y.ravel().tolist(), "kid": v, "se": se})
    doc["kid"] = ks
    # ---- FD bootstrap ----
    fs = []
    for n, d, B in ((6, 8, 200), (20, 8, 200)):
        f = f32(rng.normal(0.2, 1, (n, d)) @ rng.normal(0, 0.6, (d, d)))
        real = rng.normal(0, 1, (300, d))
        mu_r = real.mean(0)
        cov_r = np.cov(real, rowvar=False, ddof=1)
        idx = boot_indices(n, B, SEED)
        vals = np.array([fd(f[i], mu_r, cov_r) for i in idx])
        fs.append({"n": n, "d": d, "B": B, "seed": SEED, "f": f.ravel().tolist(), "mu_r": mu_r.tolist(),
                   "cov_r": cov_r.ravel().tolist(), "point": fd(f, mu_r, cov_r), "ci": pct(vals, 0.95)})
    doc["fd_boot"] = fs
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=0)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/stats_refs.json")
