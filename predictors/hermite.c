/* hermite.c: physicists' Hermite basis without scaling, sum D_k H_k(x) / k! */
#include "predictor.h"

static void coef(const hc_method *m, double x, int p, double *c)
{
    (void)m;
    hc_basis_hermite(x, 1.0, p, c);
}

HC_DCACHE_TYPE_ALLOC(alloc, coef)

const hc_pred_type hc_pred_hermite = {
    .name = "hermite",
    .display = "Hermite",
    .summary = "physicists' Hermite basis without scaling, sum D_k H_k(x) / k!",
    .keys = "O",
    .defaults = "O=2",
    .caps = HC_DCACHE_CAPS,
    .alloc = alloc,
    .coef = coef,
    HC_DCACHE_CALLBACKS,
};
