#!/usr/bin/python3
"""Write tests/data/metric_refs.json: inputs and independent reference values
for the metric functions (src/eval/metrics.h, src/eval/quality.h), checked by
tests/test_metrics.c.  Run from the repository root with Debian's python:

    /usr/bin/python3 tools/make_metric_refs.py [tests/data/metric_refs.json]

Needs numpy, scipy, scikit-image and mpmath (here only; CI reads the committed
JSON).  Inputs come from fixed seeds and are float32 values, written as the
shortest decimal that reads back (strtod, then a cast to float) to the same
float32; the references are computed in float64 from exactly those values.

References, each from a library independent of the C code:
  metrics        numpy (float64 sums, np.linalg.norm, np.max); the 0/0 and x/0
                 conventions of metrics.h are applied explicitly
  PSNR           skimage.metrics.peak_signal_noise_ratio(data_range=2) on the
                 images clamped to [-1, 1] (identical images: "inf")
  SSIM           skimage.metrics.structural_similarity(gaussian_weights=True,
                 sigma=1.5, use_sample_covariance=False, data_range=2) on the
                 clamped images, passed as float64 (skimage computes float32
                 images in float32).  Its Gaussian filter has radius
                 int(3.5*1.5+0.5) = 5, i.e. 11 taps, each 1-D kernel normalised;
                 it filters the whole image ('reflect' borders) and then crops
                 (11-1)/2 = 5 pixels from every side before the mean, so the
                 pixels kept are exactly the centres of the (H-10) x (W-10)
                 windows that lie fully inside the image: the same set and the
                 same weights as MATLAB's 'valid' filtering; border handling
                 never enters.  A direct numpy 'valid' implementation is
                 checked against skimage here (ssim_valid_diff in the JSON).
  feature stats  numpy mean and np.cov(ddof=1) in float64
  Frechet        ||mu1-mu2||^2 + tr(S1) + tr(S2) - 2 tr(scipy.linalg.sqrtm(S1 S2)),
                 real part; also "fd_mp": the same trace from mpmath (50
                 digits) eigenvalues of S1^(1/2) S2 S1^(1/2), which shows how
                 far scipy's sqrtm is from the exact value (near-singular case).
"""
import json
import math
import sys

import mpmath
import numpy as np
import scipy
import scipy.linalg
import skimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/data/metric_refs.json"
L = 2.0  # data range of images in [-1, 1]


# ---- encoding -------------------------------------------------------------------------------

def f32_list(a):
    """float32 array -> marker for a JSON list of the shortest decimals that read back to the same
    float32 through strtod and a cast to float (as the C test reads them); see dump()."""
    a = np.asarray(a, dtype=np.float32).ravel()
    out = []
    for v in a:
        assert np.isfinite(v)
        s = np.format_float_scientific(v, unique=True, trim="-") if 0 < abs(v) < 1e-4 \
            else np.format_float_positional(v, unique=True, trim="-")
        if np.float32(float(s)) != v:  # double rounding through a double: write the exact double
            s = repr(float(v))
        assert np.float32(float(s)) == v
        out.append(s)
    return F32 + ",".join(out) + F32


F32 = "@@f32@@"


def dump(doc, fh):
    """JSON with the f32 markers turned into plain lists (json would print them as doubles)."""
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    text = text.replace('"' + F32, "[").replace(F32 + '"', "]")
    json.loads(text)
    fh.write(text + "\n")


def num(x):
    """A reference double, or "inf" / "-inf" / "nan" (JSON has no such numbers)."""
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if math.isnan(x):
        return "nan"
    return x


def f64(a):
    return [num(v) for v in np.asarray(a, dtype=np.float64).ravel()]


# ---- forecast metrics ---------------------------------------------------------------------

def metric_refs(p, y):
    p = p.astype(np.float64)
    y = y.astype(np.float64)
    d = p - y
    l1, y1 = np.sum(np.abs(d)), np.sum(np.abs(y))
    l2, ny, npn = np.linalg.norm(d), np.linalg.norm(y), np.linalg.norm(p)
    rel_l1 = l1 / y1 if y1 > 0 else (math.inf if l1 > 0 else 0.0)
    rel_l2 = l2 / ny if ny > 0 else (math.inf if l2 > 0 else 0.0)
    if npn > 0 and ny > 0:
        cosine = np.dot(p, y) / (npn * ny)
    else:
        cosine = 1.0 if npn == ny else 0.0
    return dict(rel_l1=num(rel_l1), rel_l2=num(rel_l2), cosine=num(cosine), max_abs=num(np.max(np.abs(d))))


def metric_cases():
    r = np.random.default_rng(20240601)
    f = np.float32
    cases = []

    def add(name, p, y, note, closed=None):
        p, y = np.asarray(p, f), np.asarray(y, f)
        c = dict(name=name, note=note, n=int(p.size), p=f32_list(p), y=f32_list(y))
        c.update(metric_refs(p, y))
        if closed:
            c["closed"] = {k: num(v) for k, v in closed.items()}
        cases.append(c)

    y = r.standard_normal(7)
    add("rand7", y + 0.3 * r.standard_normal(7), y, "7 N(0,1) values, forecast with 0.3 noise")
    y = r.standard_normal(1000)
    add("rand1000", y + 0.05 * r.standard_normal(1000), y, "1000 values, a close forecast")
    add("rand300_indep", r.standard_normal(300), r.standard_normal(300), "independent p and y, cosine near 0")
    y = r.standard_normal(1000) * np.exp(r.uniform(-7, 7, 1000))
    add("wide1000", y * (1 + 0.01 * r.standard_normal(1000)), y, "magnitudes 1e-3..1e3, 1% relative error")
    y = r.standard_normal(64)
    add("identical", y, y, "p = y")
    add("zero_truth", r.standard_normal(16), np.zeros(16), "y = 0, p != 0: rel = inf, cosine 0")
    add("both_zero", np.zeros(16), np.zeros(16), "p = y = 0: rel 0, cosine 1")
    add("zero_pred", np.zeros(16), r.standard_normal(16), "p = 0: rel 1, cosine 0")
    add("closed_3_4_5_12", [3, 4, 5, 12], [3, 4, 0, 0], "closed form",
        closed=dict(rel_l1=17 / 7, rel_l2=13 / 5, cosine=5 / math.sqrt(194), max_abs=12))
    return cases


# ---- images: PSNR and SSIM ---------------------------------------------------------------

def gauss_window():
    k = np.arange(11) - 5
    g = np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) / (2 * 1.5 ** 2))
    return g / g.sum()


def ssim_valid(a, b):
    """Direct 'valid' SSIM (Wang et al.) in numpy, only to cross-check skimage's cropping."""
    w = gauss_window()
    C1, C2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    H, W = a.shape
    vals = []
    for y in range(H - 10):
        for x in range(W - 10):
            pa, pb = a[y:y + 11, x:x + 11], b[y:y + 11, x:x + 11]
            ma, mb = (w * pa).sum(), (w * pb).sum()
            va, vb = (w * pa * pa).sum() - ma * ma, (w * pb * pb).sum() - mb * mb
            cab = (w * pa * pb).sum() - ma * mb
            vals.append((2 * ma * mb + C1) * (2 * cab + C2) / ((ma * ma + mb * mb + C1) * (va + vb + C2)))
    return float(np.mean(vals))


def smooth_image(r, H, W, amp=1.0):
    """A float32 image with spatial structure: blurred noise plus a gradient, through tanh."""
    z = r.standard_normal((H + 4, W + 4))
    k = np.array([1, 4, 6, 4, 1], float) / 16
    z = np.apply_along_axis(lambda v: np.convolve(v, k, "valid"), 0, z)
    z = np.apply_along_axis(lambda v: np.convolve(v, k, "valid"), 1, z)
    yy, xx = np.mgrid[0:H, 0:W]
    return (amp * np.tanh(2.5 * z + 0.8 * (xx / W - 0.5) - 0.4 * (yy / H))).astype(np.float32)


def image_cases():
    r = np.random.default_rng(7)
    f = np.float32
    cases = []

    def add(name, a, b, note, closed=None):
        a, b = np.asarray(a, f), np.asarray(b, f)
        H, W = a.shape
        ac = np.clip(a, -1, 1).astype(np.float64)
        bc = np.clip(b, -1, 1).astype(np.float64)
        with np.errstate(divide="ignore"):
            psnr = peak_signal_noise_ratio(ac, bc, data_range=L)
        ssim = structural_similarity(ac, bc, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=L)
        diff = abs(ssim - ssim_valid(ac, bc))
        assert diff < 1e-13, (name, diff)
        c = dict(name=name, note=note, H=H, W=W, a=f32_list(a), b=f32_list(b), psnr=num(psnr), ssim=num(ssim),
                 ssim_valid_diff=diff)
        if closed:
            c["closed"] = {k: num(v) for k, v in closed.items()}
        cases.append(c)

    a = smooth_image(r, 28, 28)
    add("rand28", a, np.clip(a + 0.1 * r.standard_normal(a.shape), -1, 1), "28x28, b = a + N(0, 0.1^2) noise")
    add("rand28_indep", a, smooth_image(r, 28, 28), "28x28, unrelated images")
    a = smooth_image(r, 20, 33)
    add("nonsquare_20x33", a, np.clip(0.8 * a + 0.15 * r.standard_normal(a.shape), -1, 1),
        "H=20, W=33 (rows of 33): a transposed layout would change the value")
    a = smooth_image(r, 16, 16, amp=2.0)
    add("clamp_16x16", a, a * 0.7 + 0.4 * r.standard_normal(a.shape).astype(f),
        "values in about [-2.5, 2.5]: references on images clamped to [-1, 1]")
    a = smooth_image(r, 16, 16)
    add("identical_16", a, a, "a = b: PSNR inf, SSIM 1")
    C1 = (0.01 * L) ** 2
    add("const_12x12", np.full((12, 12), 0.5), np.full((12, 12), -0.25), "constant images, closed form",
        closed=dict(psnr=10 * math.log10(4 / 0.75 ** 2), ssim=(2 * 0.5 * -0.25 + C1) / (0.25 + 0.0625 + C1)))
    add("min_11x11", smooth_image(r, 11, 11), smooth_image(r, 11, 11), "11x11: a single window")
    return cases


# ---- feature statistics and the Frechet distance -----------------------------------------

def feature_cases():
    r = np.random.default_rng(1234)
    cases = []

    def add(name, x, note):
        x = np.asarray(x, np.float32)
        x64 = x.astype(np.float64)
        cases.append(dict(name=name, note=note, n=x.shape[0], d=x.shape[1], x=f32_list(x),
                          mean=f64(x64.mean(axis=0)), cov=f64(np.cov(x64, rowvar=False, ddof=1))))

    A = r.standard_normal((16, 16)) / 4
    add("fs_40x16", r.standard_normal((40, 16)) @ A + r.uniform(-1, 1, 16), "40 correlated 16-d rows")
    add("fs_offset", 100 + 0.01 * r.standard_normal((30, 5)), "mean 100, std 0.01: needs two passes")
    add("fs_2x3", r.standard_normal((2, 3)), "n = 2, the smallest n")
    return cases


def fd_ref(mu1, S1, mu2, S2):
    dm = float(np.sum((mu1 - mu2) ** 2))
    C = scipy.linalg.sqrtm(S1 @ S2)
    if isinstance(C, tuple):
        C = C[0]
    return dm + float(np.trace(S1) + np.trace(S2) - 2 * np.trace(C).real)


def fd_mp(mu1, S1, mu2, S2):
    """The same distance with 50-digit mpmath: tr (S1 S2)^(1/2) = sum sqrt(eig(R S2 R)), R = S1^(1/2)."""
    with mpmath.workdps(50):
        M1, M2 = mpmath.matrix(S1.tolist()), mpmath.matrix(S2.tolist())
        e, Q = mpmath.eigsy(M1)
        R = Q * mpmath.diag([mpmath.sqrt(max(v, 0)) for v in e]) * Q.T
        ev = mpmath.eigsy(R * M2 * R, eigvals_only=True)
        tr = sum(mpmath.sqrt(max(v, 0)) for v in ev)
        mp = mpmath.mpf
        dm = sum((mp(mu1[i]) - mp(mu2[i])) ** 2 for i in range(len(mu1)))
        t = sum(mp(S1[i, i]) + mp(S2[i, i]) for i in range(len(mu1)))
        return float(dm + t - 2 * tr)


def frechet_cases():
    r = np.random.default_rng(99)
    cases = []

    def add(name, mu1, S1, mu2, S2, note, closed=None):
        mu1, mu2, S1, S2 = (np.asarray(v, np.float64) for v in (mu1, mu2, S1, S2))
        c = dict(name=name, note=note, d=len(mu1), mu1=f64(mu1), cov1=f64(S1), mu2=f64(mu2), cov2=f64(S2),
                 fd=num(fd_ref(mu1, S1, mu2, S2)), fd_mp=num(fd_mp(mu1, S1, mu2, S2)))
        if closed is not None:
            c["closed"] = num(closed)
        cases.append(c)

    def stats(x):
        x = x.astype(np.float32).astype(np.float64)
        return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1)

    d = 16
    A = r.standard_normal((d, d)) / 4
    m1, S1 = stats(r.standard_normal((200, d)) @ A)
    m2, S2 = stats(r.standard_normal((200, d)) @ (A + 0.1 * r.standard_normal((d, d))) + 0.2)
    add("d16", m1, S1, m2, S2, "stats of 200 rows each, different mixing")
    d = 32
    m3, S3 = stats(r.standard_normal((300, d)) @ (r.standard_normal((d, d)) / 5))
    m4, S4 = stats(r.standard_normal((300, d)) @ (r.standard_normal((d, d)) / 5) - 0.1)
    add("d32", m3, S3, m4, S4, "stats of 300 rows each, d = 32")
    m7, S7 = stats(r.standard_normal((50, 8)) @ (r.standard_normal((8, 8)) / 3))
    add("identical", m7, S7, m7, S7, "same Gaussian: 0", closed=0.0)
    m8 = m7 + r.uniform(-1, 1, 8)
    add("shift", m7, S7, m8, S7, "same covariance, means differ: ||mu1 - mu2||^2", closed=float(np.sum((m8 - m7) ** 2)))
    a, b = r.uniform(0.1, 2, 8), r.uniform(0.1, 2, 8)
    ma, mb = r.standard_normal(8), r.standard_normal(8)
    add("diag", ma, np.diag(a), mb, np.diag(b), "diagonal: ||dmu||^2 + sum (sqrt a - sqrt b)^2",
        closed=float(np.sum((ma - mb) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)))
    add("d1", [0.5], [[4.0]], [-1.0], [[0.25]], "1-D: (m1-m2)^2 + (s1-s2)^2 = 2.25 + 2.25", closed=4.5)
    d = 12
    m5, S5 = stats(r.standard_normal((6, d)))
    m6, S6 = stats(r.standard_normal((6, d)) * 1.5 + 0.3)
    add("near_singular", m5, S5, m6, S6, "covariances of 6 rows in 12-d: rank 5, singular")
    return cases


# ---- main ---------------------------------------------------------------------------------

def main():
    doc = dict(
        generator="tools/make_metric_refs.py",
        versions=dict(python=sys.version.split()[0], numpy=np.__version__, scipy=scipy.__version__,
                      skimage=skimage.__version__, mpmath=mpmath.__version__),
        metrics=metric_cases(), images=image_cases(), feature_stats=feature_cases(), frechet=frechet_cases())
    with open(OUT, "w") as fh:
        dump(doc, fh)
    for c in doc["frechet"]:
        print(f"frechet {c['name']:14s} fd {c['fd']!r:24} fd_mp {c['fd_mp']!r:24} "
              f"|diff| {abs(c['fd'] - c['fd_mp']):.3g}")
    for c in doc["images"]:
        print(f"image {c['name']:16s} psnr {c['psnr']!r:22} ssim {c['ssim']!r:22} valid-diff {c['ssim_valid_diff']:.2g}")


if __name__ == "__main__":
    main()
