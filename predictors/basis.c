/* basis.c: polynomial bases of the forecasters, evaluated in double with GSL
 * (a few scalars per cached step; the tensor work is hc_forecast_apply). */
#include <math.h>

#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_hermite.h>

#include "predictor.h"

void hc_basis_hermite(double arg, double scale, int p, double *c)
{
    HC_ASSERT(p >= 0 && p <= HC_MAX_ORDER);
    double H[HC_MAX_ORDER + 1];
    int st = gsl_sf_hermite_array(p, arg, H);
    HC_ASSERT(st == 0);
    double sk = 1.0;
    for (int k = 0; k <= p; k++) {
        c[k] = sk * H[k] / gsl_sf_fact((unsigned)k);
        sk *= scale;
    }
}

void hc_basis_monomial(double x, double scale, int p, double *c)
{
    HC_ASSERT(p >= 0 && p <= HC_MAX_ORDER);
    double xk = 1.0;
    for (int k = 0; k <= p; k++) {
        c[k] = xk / gsl_sf_fact((unsigned)k);
        xk *= scale * x;
    }
}

void hc_coef_taylor(const hc_method *m, double x, int p, double *c)
{
    (void)m;
    hc_basis_monomial(x, 1.0, p, c);
}
