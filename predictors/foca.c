/* foca.c: FoCa, forecast-then-calibrate (Zheng et al., AAAI 2026,
 * arXiv 2508.16211): each feature trajectory is treated as an ODE; a BDF2
 * forecast is calibrated by a Heun (trapezoidal) step anchored at the last
 * full step, recursively over the cached steps.
 *
 * The paper's text was not available here; this file follows cache-dit's
 * calibrator (vipshop/cache-dit, calibrators/foca.py @ f86744a), whose code
 * keeps a rolling window (L, P) of the last two values (full or forecast) and
 * the anchor A = F_a with its predecessor F_p, and at the e-th cached step
 * after the anchor forecasts
 *     s_full = (A - F_p) / g,          g = a - p (step-index units)
 *     s_cur  = (L - P) / gap(L, P)     (the BDF2 window's local slope)
 *     F_hat  = A + (e/2) (s_full + s_cur)                      e <= 3
 *     F_hat  = w [A + (3/2)(s_full + s_cur)] + (1 - w) A,  w = 3/e   e > 3
 *   then P <- L, L <- F_hat (recursion on its own forecasts).
 * cache-dit's BDF2 predictor enters only through s_cur: its code never forms
 * 2L - P separately (the Heun line is the output).  Deviations, on purpose:
 *   - slopes are divided by their step gaps (cache-dit takes raw differences,
 *     i.e. assumes the two values are one step apart; with full steps N apart
 *     that overshoots N-fold);
 *   - at a full step the window restarts at (P, L) = (F_p, F_a); cache-dit
 *     keeps the last cached forecast as P.  This makes the forecast a fixed
 *     combination alpha(e) F_a + beta(e) F_p of the two last snapshots
 *     (HC_PRED_LINEAR; the recursion is run on the two weights in double).
 * With these, for e <= 3 the recursion gives exactly F_a + e s_full
 * (TaylorSeer O=1); beyond, cache-dit's damping pulls it toward F_a.
 *
 * Law: exact for a linear trajectory at horizons e <= 3 (any full-step gap);
 * beyond, a line F_a + v e is forecast at A + (9/4) v (e = 4) and
 * A + 0.225 v (e = 5: the local slope of the damped window turns negative),
 * both checked in tests/test_newpred.c.  One full step so far: reuse. */
#include <stdlib.h>

#include "predictor.h"

#define FOCA_MAX_HORIZON 3.0 /* cache-dit's damping threshold */

typedef struct foca {
    hc_snapring ring; /* F_a, F_p; first: hc_ring_state_* */
} foca;

static hc_status alloc(const hc_method *m, size_t T, size_t D, unsigned long stream, void **state)
{
    (void)stream;
    (void)m;
    return hc_ring_state_alloc(sizeof(foca), 2, T * D, m->cache, state);
}

/* Weights (w[0] on F_a, w[1] on F_p) of the e-th forecast, gap g. */
static void foca_weights(int e, double g, double *w)
{
    double A[2] = {1, 0}, L[2] = {1, 0}, P[2] = {0, 1}, sf[2] = {1 / g, -1 / g}, gap = g;
    for (int j = 1; j <= e; j++) {
        double F[2];
        for (int i = 0; i < 2; i++) {
            double sc = (L[i] - P[i]) / gap;
            if (j <= FOCA_MAX_HORIZON) F[i] = A[i] + 0.5 * j * (sf[i] + sc);
            else {
                double wd = FOCA_MAX_HORIZON / j;
                F[i] = wd * (A[i] + 0.5 * FOCA_MAX_HORIZON * (sf[i] + sc)) + (1 - wd) * A[i];
            }
        }
        for (int i = 0; i < 2; i++) {
            P[i] = L[i];
            L[i] = F[i];
        }
        gap = 1;
    }
    w[0] = L[0];
    w[1] = L[1];
}

static hc_status predict(void *state, const hc_step_ctx *ctx, float *out)
{
    foca *f = state;
    HC_ASSERT(f->ring.count >= 1);
    int a, p;
    hc_snapring_get(&f->ring, 0, &a);
    HC_ASSERT(ctx->step > a);
    double w[2] = {1, 0};
    if (f->ring.count >= 2) {
        hc_snapring_get(&f->ring, 1, &p);
        foca_weights(ctx->step - a, (double)(a - p), w);
    }
    hc_snapring_combine(out, &f->ring, w, f->ring.count);
    return HC_OK;
}

static void cost(const hc_method *m, size_t rows, int groups, double *terms, double *fresh_rows)
{
    (void)m;
    (void)rows;
    (void)groups;
    *terms = 2;
    *fresh_rows = 0;
}

const hc_pred_type hc_pred_foca = {
    .name = "foca",
    .display = "FoCa",
    .summary = "FoCa: BDF2 window + Heun calibration at the last full step (cache-dit's form, step units)",
    .keys = "",
    .defaults = "",
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
