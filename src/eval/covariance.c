/* covariance.c: centring, covariance (dsyrk) and projection (dgemm) with
 * OpenBLAS; see covariance.h.  Keep GSL's BLAS header out of this file. */
#include "covariance.h"

#include <limits.h>

#include <cblas.h>

#include "status.h"

static blasint bi(size_t v)
{
    HC_ASSERT(v <= (size_t)INT_MAX);
    return (blasint)v;
}

void hc_center_columns(double *x, size_t n, size_t p, size_t ld, double *mean)
{
    HC_ASSERT(x != NULL && mean != NULL && n >= 1 && ld >= p);
    for (size_t j = 0; j < p; j++) mean[j] = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++) mean[j] += x[i * ld + j];
    for (size_t j = 0; j < p; j++) mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++) x[i * ld + j] -= mean[j];
    /* one compensation step: the residual mean of the centred columns */
    for (size_t j = 0; j < p; j++) {
        double c = 0.0;
        for (size_t i = 0; i < n; i++) c += x[i * ld + j];
        c /= (double)n;
        mean[j] += c;
        for (size_t i = 0; i < n; i++) x[i * ld + j] -= c;
    }
}

void hc_covariance_centered(const double *x, size_t n, size_t p, size_t ld, double divisor,
                            double *cov)
{
    HC_ASSERT(x != NULL && cov != NULL && ld >= p && divisor > 0.0);
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, bi(p), bi(n), 1.0 / divisor, x, bi(ld),
                0.0, cov, bi(p));
    for (size_t i = 0; i < p; i++)
        for (size_t j = i + 1; j < p; j++) cov[i * p + j] = cov[j * p + i];
}

void hc_matmul(const double *x, size_t n, size_t p, size_t ldx, const double *v, size_t q,
               size_t ldv, double *y)
{
    HC_ASSERT(x != NULL && v != NULL && y != NULL && ldx >= p && ldv >= q);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bi(n), bi(q), bi(p), 1.0, x, bi(ldx),
                v, bi(ldv), 0.0, y, bi(q));
}
