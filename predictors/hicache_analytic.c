/* hicache_analytic.c: HiCache-Analytic, HiCache with sigma set at each full
 * step from the data (the HiCache code's fork yiming-l21/CFGCache,
 * taylor_utils/__init__.py and cache_init.py mode "HiCache-Analytic"; not in
 * the paper; research notes hicache.md §1.7):
 *
 *   when a full step forms the first difference D_1 (step units, the dcache
 *   recursion), d = mean over tokens t of |D_1[t, :]|_2 (fp32 features,
 *   double accumulation);
 *   q^2 <- d^2 at the first such step, else q^2 <- (1 - beta) q^2 + beta d^2;
 *   sigma = min(sigma_max, alpha / (sqrt(2) q + eps)),
 *   alpha = 1.28, beta = 0.01, sigma_max = 1, eps = 1e-6; before any
 *   statistic q = 1 (sigma = 0.905...).
 * The forecast is HiCache's: sum_k D_k sigma^k H_k(sigma x) / k!.
 * Deviation: the fork keys the EMA by layer (all modules of a layer share
 * one q); here each module stream keeps its own.  The fork's optional
 * quantile statistic and log-domain sigma smoothing are not ported.
 *
 * Law: whenever the rule's sigma is constant (e.g. d the same at every full
 * step, as on a straight line), the forecast equals hicache:sigma=<that
 * value>; the EMA and sigma are checked on a hand-computed sequence
 * (tests/test_newpred.c).  sigma depends on the data, so the forecast is not a
 * fixed combination of snapshots (no HC_PRED_LINEAR). */
#include <math.h>
#include <stdlib.h>

#include "predictor.h"

#define AN_ALPHA 1.28
#define AN_BETA 0.01
#define AN_SIGMA_MAX 1.0
#define AN_EPS 1e-6

typedef struct analytic {
    hc_dcache *c;
    float *row;                      /* D floats: one token's D_1 (any cache dtype) */
    size_t T, D;
    int order, have_q;
    double q2, sigma;
} analytic;

static void reset(void *state)
{
    analytic *a = state;
    hc_dcache_reset(a->c);
    a->have_q = 0;
    a->q2 = 1.0;
    a->sigma = fmin(AN_SIGMA_MAX, AN_ALPHA / (sqrt(2.0) + AN_EPS));
}

static hc_status alloc(const hc_method *m, size_t T, size_t D, unsigned long stream, void **state)
{
    (void)stream;
    analytic *a = calloc(1, sizeof *a);
    if (!a) return hc_fail(HC_ENOMEM, "out of memory");
    hc_status st = hc_dcache_alloc(m, T * D, hc_coef_taylor, &a->c);
    a->row = st == HC_OK ? malloc(D * sizeof *a->row) : NULL;
    if (st == HC_OK && !a->row) st = hc_fail(HC_ENOMEM, "out of memory");
    if (st != HC_OK) {
        hc_dcache_free(a->c);
        free(a);
        return st;
    }
    a->T = T;
    a->D = D;
    a->order = m->order;
    reset(a);
    *state = a;
    return HC_OK;
}

static void observe(void *state, const hc_step_ctx *ctx, const float *feat)
{
    analytic *a = state;
    if (ctx->step == 0) reset(a);
    hc_dcache_observe(a->c, ctx, feat);
    if (a->order < 1 || hc_dcache_valid(a->c) < 2) return; /* no D_1 formed at this step */
    const float *d1 = a->row;
    double sum = 0;
    for (size_t t = 0; t < a->T; t++) {
        double ss = 0;
        hc_dcache_load(a->c, 1, t * a->D, a->D, a->row);
        for (size_t e = 0; e < a->D; e++) ss += (double)d1[e] * d1[e];
        sum += sqrt(ss);
    }
    double d = sum / (double)a->T;
    a->q2 = a->have_q ? (1 - AN_BETA) * a->q2 + AN_BETA * d * d : d * d;
    a->have_q = 1;
    a->sigma = fmin(AN_SIGMA_MAX, AN_ALPHA / (sqrt(2.0) * sqrt(a->q2) + AN_EPS));
}

static hc_status predict(void *state, const hc_step_ctx *ctx, float *out)
{
    analytic *a = state;
    int valid = hc_dcache_valid(a->c);
    HC_ASSERT(valid >= 1 && ctx->step > hc_dcache_last_full(a->c));
    int p = valid - 1 < a->order ? valid - 1 : a->order;
    double coef[HC_MAX_ORDER + 1] = {1.0};
    if (p >= 1) hc_basis_hermite(a->sigma * (ctx->step - hc_dcache_last_full(a->c)), a->sigma, p, coef);
    coef[0] = 1.0;
    hc_dcache_apply(a->c, coef, p, out);
    return HC_OK;
}

static size_t cache_bytes(const void *state) { return hc_dcache_bytes(((const analytic *)state)->c); }

static void free_state(void *state)
{
    analytic *a = state;
    if (!a) return;
    hc_dcache_free(a->c);
    free(a->row);
    free(a);
}

const hc_pred_type hc_pred_hicache_analytic = {
    .name = "hicache-analytic",
    .display = "HiCache-Analytic",
    .summary = "HiCache with sigma = min(1, 1.28 / (sqrt2 q)), q an EMA of the per-token |D_1| at full steps",
    .keys = "O",
    .defaults = "O=2",
    .caps = HC_PRED_HALF,
    .alloc = alloc,
    .observe = observe,
    .predict = predict,
    .reset = reset,
    .cache_bytes = cache_bytes,
    .order0 = NULL,
    .free = free_state,
};
