/* hermite_arg.c: ablation: sigma on the Hermite argument only, sum D_k H_k(sigma x) / k! */
#include "predictor.h"

static void coef(const hc_method *m, double x, int p, double *c)
{
    hc_basis_hermite(m->sigma * x, 1.0, p, c);
}

HC_DCACHE_TYPE_ALLOC(alloc, coef)

const hc_pred_type hc_pred_hermite_arg = {
    .name = "hermite-arg",
    .display = "Hermite-arg",
    .summary = "ablation: sigma on the Hermite argument only, sum D_k H_k(sigma x) / k!",
    .keys = "O,sigma",
    .defaults = "O=2,sigma=0.5",
    .caps = HC_DCACHE_CAPS,
    .alloc = alloc,
    .coef = coef,
    HC_DCACHE_CALLBACKS,
};
