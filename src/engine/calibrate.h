/* calibrate.h: offline calibration of decision policies and HiCache's σ
 * from recorded trajectories (`hicache calibrate`).
 *
 *   teacache.poly    least-squares polynomial (degree 4 by default, highest
 *                    power first as numpy.polyfit) from the first block's
 *                    modulated-input change to the output change:
 *                    out_change[s] ~ p(mod_in_change[s]), s >= 1, all files
 *   magcache.ratios  gamma_s = mean over files of resid_norm[s] / resid_norm[s-1],
 *                    gamma_0 = 1 (every file must have the same S)
 *   hicache          per module kind (img_attn, img_mlp, ..., total): the σ of
 *                    a grid with the smallest mean replay rel-L2
 * The document also records the inputs and the fit residual. */
#ifndef HC_CALIBRATE_H
#define HC_CALIBRATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "status.h"

typedef struct hc_calib_opts {
    const char *const *files;
    int n_files;
    int degree;               /* TeaCache polynomial degree (4) */
    const char *sigma_base;   /* the HiCache method whose sigma is swept ("hicache:N=5,O=2") */
    const double *sigmas;     /* the σ grid */
    int n_sigmas;
    int quiet;
} hc_calib_opts;

/* Least squares y ~ sum_k c_k x^(degree-k), k = 0..degree (highest power
 * first), n >= degree + 1 points; *rms the root-mean-square residual. */
hc_status hc_calib_polyfit(const double *x, const double *y, size_t n, int degree, double *coef, double *rms);

/* The calibration document (teacache, magcache, hicache objects; no
 * provenance: the caller adds it). */
hc_status hc_calibrate(const hc_calib_opts *o, cJSON **out);

/* A threshold sweep row: one delta of a policy method replayed. */
typedef struct hc_sweep_row {
    double delta;
    int full_steps, steps;
    double flops_speedup;   /* from the file's model (or steps / full steps) */
    double rel_l2;          /* mean over cached steps, modules and files */
} hc_sweep_row;

/* Replay `spec` (PREDICTOR@POLICY) with delta = deltas[i] on the files. */
hc_status hc_calib_sweep(const hc_calib_opts *o, const char *spec, const double *deltas, int n, hc_sweep_row *rows);

#endif
