/* hicache.c: HiCache: dual-scaled Hermite, sum D_k sigma^k H_k(sigma x) / k! */
#include "predictor.h"

static void coef(const hc_method *m, double x, int p, double *c)
{
    hc_basis_hermite(m->sigma * x, m->sigma, p, c);
}

HC_DCACHE_TYPE_ALLOC(alloc, coef)

const hc_pred_type hc_pred_hicache = {
    .name = "hicache",
    .display = "HiCache",
    .summary = "HiCache: dual-scaled Hermite, sum D_k sigma^k H_k(sigma x) / k!",
    .keys = "O,sigma",
    .defaults = "O=2,sigma=0.5",
    .caps = HC_DCACHE_CAPS,
    .alloc = alloc,
    .coef = coef,
    HC_DCACHE_CALLBACKS,
};
