/* taylor.c: TaylorSeer: Taylor series of divided differences, sum D_k x^k / k! */
#include "predictor.h"

static void coef(const hc_method *m, double x, int p, double *c)
{
    (void)m;
    hc_basis_monomial(x, 1.0, p, c);
}

HC_DCACHE_TYPE_ALLOC(alloc, coef)

const hc_pred_type hc_pred_taylor = {
    .name = "taylor",
    .display = "TaylorSeer",
    .summary = "TaylorSeer: Taylor series of divided differences, sum D_k x^k / k!",
    .keys = "O",
    .defaults = "O=2",
    .caps = HC_DCACHE_CAPS,
    .alloc = alloc,
    .coef = coef,
    HC_DCACHE_CALLBACKS,
};
