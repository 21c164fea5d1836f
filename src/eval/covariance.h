/* covariance.h: column means, centring, covariance and products of
 * row-major double sample matrices (element (i, j) of an n x p matrix with
 * leading dimension ld is x[i*ld + j], ld >= p), through OpenBLAS.
 *
 * covariance.c includes OpenBLAS's <cblas.h>; it must not include GSL's
 * <gsl/gsl_blas.h>, which declares the same CBLAS names incompatibly.
 * Callers include only this header and may use GSL freely.
 *
 * Preconditions (violations abort via HC_ASSERT): non-NULL pointers,
 * ld >= p, and every dimension below 2^31 (the BLAS integer). */
#ifndef HC_STATS_COVARIANCE_H
#define HC_STATS_COVARIANCE_H

#include <stddef.h>

/* mean[j] = (1/n) sum_i x(i, j) for j < p (double, two passes with one
 * compensation step), then x(i, j) -= mean[j] in place.  n >= 1. */
void hc_center_columns(double *x, size_t n, size_t p, size_t ld, double *mean);

/* cov (p x p, row-major, both triangles filled) = X^T X / divisor for the
 * n x p matrix X (already centred by the caller), one dsyrk.  divisor > 0:
 * n for the biased (Mardia) covariance, n - 1 for the unbiased one. */
void hc_covariance_centered(const double *x, size_t n, size_t p, size_t ld, double divisor,
                            double *cov);

/* y (n x q, row-major, leading dimension q) = X (n x p, leading dimension
 * ldx) times V (p x q, row-major, leading dimension ldv >= q), one dgemm.
 * Used to project samples onto the first q columns of an eigenvector
 * matrix (ldv = its column count). */
void hc_matmul(const double *x, size_t n, size_t p, size_t ldx, const double *v, size_t q,
               size_t ldv, double *y);

#endif
