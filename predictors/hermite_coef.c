/* hermite_coef.c: ablation: sigma^k on the coefficients only, sum D_k sigma^k H_k(x) / k! */
#include "predictor.h"

static void coef(const hc_method *m, double x, int p, double *c)
{
    hc_basis_hermite(x, m->sigma, p, c);
}

HC_DCACHE_TYPE_ALLOC(alloc, coef)

const hc_pred_type hc_pred_hermite_coef = {
    .name = "hermite-coef",
    .display = "Hermite-coef",
    .summary = "ablation: sigma^k on the coefficients only, sum D_k sigma^k H_k(x) / k!",
    .keys = "O,sigma",
    .defaults = "O=2,sigma=0.5",
    .caps = HC_DCACHE_CAPS,
    .alloc = alloc,
    .coef = coef,
    HC_DCACHE_CALLBACKS,
};
