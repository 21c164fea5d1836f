/* full.c: no caching: every step is a full step */
#include "predictor.h"

static void coef(const hc_method *m, double x, int p, double *c)
{
    (void)m;
    (void)x; (void)p; c[0] = 1.0;
}

HC_DCACHE_TYPE_ALLOC(alloc, coef)

const hc_pred_type hc_pred_full = {
    .name = "full",
    .display = "Full compute",
    .summary = "no caching: every step is a full step",
    .keys = "",
    .defaults = "",
    .caps = HC_PRED_NO_CACHE | HC_DCACHE_CAPS,
    .alloc = alloc,
    .coef = coef,
    HC_DCACHE_CALLBACKS,
};
