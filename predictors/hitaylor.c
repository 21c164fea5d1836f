/* hitaylor.c: Hi-Taylor: dual scaling on monomials, sum D_k sigma^(2k) x^k / k! (official taylor_scaled) */
#include "predictor.h"

static void coef(const hc_method *m, double x, int p, double *c)
{
    hc_basis_monomial(x, m->sigma * m->sigma, p, c);
}

HC_DCACHE_TYPE_ALLOC(alloc, coef)

const hc_pred_type hc_pred_hitaylor = {
    .name = "hitaylor",
    .display = "Hi-Taylor",
    .summary = "Hi-Taylor: dual scaling on monomials, sum D_k sigma^(2k) x^k / k! (official taylor_scaled)",
    .keys = "O,sigma",
    .defaults = "O=2,sigma=0.5",
    .caps = HC_DCACHE_CAPS,
    .alloc = alloc,
    .coef = coef,
    HC_DCACHE_CALLBACKS,
};
