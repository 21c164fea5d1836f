/* spectrum.c: Spectrum (CVPR 2026, hanjq17/Spectrum; research notes
 * policies.md §3): ridge regression on Chebyshev polynomials of the step
 * index over the last `window` full-step snapshots.
 *
 *   nodes: the window's full steps s_j (newest j = 0), mapped affinely to
 *     tau_j in [-1, 1] (oldest -> -1, newest -> +1); a cached step s maps to
 *     tau* = the same affine map of s (> 1: extrapolation);
 *   fit: C = (X^T X + lam I)^{-1} X^T H, X_jm = T_m(tau_j), m = 0..M';
 *   forecast: F_hat(s) = sum_m C_m T_m(tau*) = sum_j w_j F_j with
 *     w = X (X^T X + lam I)^{-1} t*, t*_m = T_m(tau*).
 * M' = min(M, snapshots - 1) (fewer snapshots than M+1: the degree drops; one
 * snapshot: reuse).  Spectrum maps the whole sampling interval to [-1, 1];
 * a predictor here does not know the run's length, so the window's span is
 * used (the fit is the same polynomial space; only lam's scale differs).
 * Defaults: M = 4, lam = 0.1, window = 10 (the paper's setting).
 *
 * Law: with lam = 0 and at least M+1 snapshots the fit interpolates in the
 * least-squares sense, so the forecast is exact for any trajectory that is a
 * polynomial of degree <= M in the step index; for lam > 0 the coefficient
 * norm |C| shrinks monotonically as lam grows (tests/test_newpred.c).  The
 * weights w depend only on the step indices: HC_PRED_LINEAR.  Cost: one
 * multiply-add per snapshot and element (the small solve is per step). */
#include <stdlib.h>

#include "predictor.h"

typedef struct spectrum {
    hc_snapring ring; /* first: hc_ring_state_* */
    int M;
    double lam;
} spectrum;

static hc_status alloc(const hc_method *m, size_t T, size_t D, unsigned long stream, void **state)
{
    (void)stream;
    HC_TRY(hc_ring_state_alloc(sizeof(spectrum), m->window, T * D, m->cache, state));
    spectrum *p = *state;
    p->M = m->degree;
    p->lam = m->lam;
    return HC_OK;
}

static hc_status predict(void *state, const hc_step_ctx *ctx, float *out)
{
    spectrum *p = state;
    int n = p->ring.count;
    HC_ASSERT(n >= 1);
    double w[32] = {1.0}, tau[32];
    if (n >= 2) {
        int s0, s1;
        hc_snapring_get(&p->ring, 0, &s0);
        hc_snapring_get(&p->ring, n - 1, &s1);
        HC_ASSERT(ctx->step > s0 && s0 > s1);
        double half = 0.5 * (s0 - s1), mid = 0.5 * (s0 + s1);
        for (int j = 0; j < n; j++) {
            int s;
            hc_snapring_get(&p->ring, j, &s);
            tau[j] = (s - mid) / half;
        }
        int M = p->M < n - 1 ? p->M : n - 1;
        HC_TRY(hc_ridge_cheb(tau, n, M, p->lam, (ctx->step - mid) / half, NULL, w, NULL));
    }
    hc_snapring_combine(out, &p->ring, w, n);
    return HC_OK;
}

/* one multiply-add per snapshot in the window */
static void cost(const hc_method *m, size_t rows, int groups, double *terms, double *fresh_rows)
{
    (void)rows;
    (void)groups;
    *terms = m->window;
    *fresh_rows = 0;
}

const hc_pred_type hc_pred_spectrum = {
    .name = "spectrum",
    .display = "Spectrum",
    .summary = "ridge fit on Chebyshev polynomials of the step index over the last window snapshots",
    .keys = "M,lam,window",
    .defaults = "M=4,lam=0.1,window=10",
    .caps = HC_PRED_LINEAR | HC_PRED_HALF,
    .alloc = alloc,
    .observe = hc_ring_state_observe,
    .predict = predict,
    .reset = hc_ring_state_reset,
    .cache_bytes = hc_ring_state_bytes,
    .order0 = NULL,
    .free = hc_ring_state_free,
    .cost = cost,
};
