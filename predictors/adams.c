/* adams.c: Adams–Bashforth of order k (key O) on step-unit derivative
 * estimates, after AB-Cache (Yu et al., arXiv 2504.10540), which reads the
 * denoising process as AB integration; its exact coefficient placement was not
 * recovered, so this file uses the textbook AB construction:
 *
 *   snapshots F_0, F_1, ..., F_k at full steps a_0 > a_1 > ... > a_k (newest
 *   first); slopes f_j = (F_j - F_{j+1}) / (a_j - a_{j+1}) in step-index units,
 *   each placed at its newer node a_j (as AB places f_n at t_n); p(t) the
 *   polynomial of degree k-1 through (a_j, f_j), j < k; and
 *       F_hat(a_0 + x) = F_0 + integral_{a_0}^{a_0+x} p(t) dt
 *                      = F_0 + sum_j beta_j(x) f_j,  beta_j = int_0^x l_j(u) du
 *   (l_j the Lagrange basis on u_j = a_j - a_0).  With uniform spacing h and
 *   x = h this is AB-k: beta = h (1), h (3/2, -1/2), h (23/12, -16/12, 5/12),
 *   ...; other horizons and gaps use the same integral (variable-step AB).
 *   Fewer than k+1 snapshots: the order drops to (snapshots - 1); one: reuse.
 *
 * Law: the forecast integrates p exactly, so it is exact whenever the slopes
 * f_j are the values at a_j of a derivative of degree <= k-1 (a feature of
 * degree <= k whose slope estimates are exact).  On features the slopes are
 * backward differences (exact at the interval midpoints, not at a_j), so the
 * forecast of a feature trajectory is exact for straight lines only (every
 * k); a quadratic is missed for k >= 2 (tests/test_newpred.c).  The forecast
 * is a fixed combination of the k+1 snapshots (HC_PRED_LINEAR). */
#include <stdlib.h>

#include "predictor.h"

typedef struct adams {
    hc_snapring ring; /* first: hc_ring_state_* */
    int k;
} adams;

static hc_status alloc(const hc_method *m, size_t T, size_t D, unsigned long stream, void **state)
{
    (void)stream;
    HC_TRY(hc_ring_state_alloc(sizeof(adams), m->order + 1, T * D, m->cache, state));
    ((adams *)*state)->k = m->order;
    return HC_OK;
}

/* beta_j = int_0^x l_j(u) du for the Lagrange basis on nodes u[0..k-1] */
static void ab_beta(const double *u, int k, double x, double *beta)
{
    for (int j = 0; j < k; j++) {
        double c[HC_MAX_ORDER + 1] = {1.0}; /* l_j in powers of u, c[0..deg] */
        int deg = 0;
        for (int i = 0; i < k; i++) {
            if (i == j) continue;
            double d = u[j] - u[i];
            for (int q = deg + 1; q >= 0; q--) c[q] = ((q ? c[q - 1] : 0.0) - u[i] * (q <= deg ? c[q] : 0.0)) / d;
            deg++;
        }
        double s = 0, xp = x;
        for (int q = 0; q <= deg; q++, xp *= x) s += c[q] * xp / (q + 1);
        beta[j] = s;
    }
}

static hc_status predict(void *state, const hc_step_ctx *ctx, float *out)
{
    adams *a = state;
    HC_ASSERT(a->ring.count >= 1);
    int k = a->ring.count - 1 < a->k ? a->ring.count - 1 : a->k;
    int step[HC_MAX_ORDER + 1];
    for (int j = 0; j <= k; j++) hc_snapring_get(&a->ring, j, &step[j]);
    HC_ASSERT(ctx->step > step[0]);
    double u[HC_MAX_ORDER + 1], beta[HC_MAX_ORDER + 1], w[HC_MAX_ORDER + 1] = {1.0};
    for (int j = 0; j < k; j++) u[j] = step[j] - step[0];
    ab_beta(u, k, (double)(ctx->step - step[0]), beta);
    for (int j = 0; j < k; j++) {
        double g = step[j] - step[j + 1];
        w[j] += beta[j] / g;
        w[j + 1] = -beta[j] / g;
    }
    hc_snapring_combine(out, &a->ring, w, k + 1);
    return HC_OK;
}

const hc_pred_type hc_pred_adams = {
    .name = "adams",
    .display = "AB",
    .summary = "Adams-Bashforth of order O on step-unit slopes of the last O+1 full-step snapshots",
    .keys = "O",
    .defaults = "O=2",
    .caps = HC_PRED_LINEAR | HC_PRED_HALF,
    .alloc = alloc,
    .observe = hc_ring_state_observe,
    .predict = predict,
    .reset = hc_ring_state_reset,
    .cache_bytes = hc_ring_state_bytes,
    .order0 = NULL,
    .free = hc_ring_state_free,
};
