/* reuse.c: FORA: reuse the last full-step output (order 0) */
#include "predictor.h"

static void coef(const hc_method *m, double x, int p, double *c)
{
    (void)m;
    (void)x; (void)p; c[0] = 1.0;
}

HC_DCACHE_TYPE_ALLOC(alloc, coef)

const hc_pred_type hc_pred_reuse = {
    .name = "reuse",
    .display = "FORA",
    .summary = "FORA: reuse the last full-step output (order 0)",
    .keys = "",
    .defaults = "",
    .caps = HC_DCACHE_CAPS,
    .alloc = alloc,
    .coef = coef,
    HC_DCACHE_CALLBACKS,
};
