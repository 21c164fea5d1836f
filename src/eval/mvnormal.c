/* mvnormal.c: Mardia's multivariate skewness/kurtosis and the Henze-Zirkler
 * test (definitions in mvnormal.h).  Uses GSL for Cholesky, triangular
 * solves, the Gram blocks and the CDFs; this file must not include
 * OpenBLAS's <cblas.h>, which clashes with <gsl/gsl_blas.h>. */
#include "mvnormal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

/* Rows of the Gram matrix formed per dgemm call. */
#define GRAM_BLOCK 256

double hc_henze_zirkler_p(double hz, size_t p_, double beta)
{
    const double p = (double)p_;
    const double b2 = beta * beta, b4 = b2 * b2, b8 = b4 * b4;
    const double a = 1.0 + 2.0 * b2;
    const double wb = (1.0 + b2) * (1.0 + 3.0 * b2);
    const double mu = 1.0 - pow(a, -p / 2.0) *
                                (1.0 + p * b2 / a + p * (p + 2.0) * b4 / (2.0 * a * a));
    const double var =
        2.0 * pow(1.0 + 4.0 * b2, -p / 2.0) +
        2.0 * pow(a, -p) *
            (1.0 + 2.0 * p * b4 / (a * a) + 3.0 * p * (p + 2.0) * b8 / (4.0 * a * a * a * a)) -
        4.0 * pow(wb, -p / 2.0) *
            (1.0 + 3.0 * p * b4 / (2.0 * wb) + p * (p + 2.0) * b8 / (2.0 * wb * wb));
    /* lognormal with mean mu and variance var */
    const double s2 = log1p(var / (mu * mu));
    const double zeta = log(mu) - 0.5 * s2;
    if (!(hz > 0.0)) return 1.0;
    return gsl_cdf_lognormal_Q(hz, zeta, sqrt(s2));
}

/* The argument and value checks of hc_mvnormality_test. */
static hc_status check_sample(const double *x, size_t n, size_t p, size_t ld)
{
    if (p == 0) return hc_fail(HC_EINVAL, "mvnormality: need p >= 1 variables");
    if (ld < p) return hc_fail(HC_EINVAL, "mvnormality: ld=%zu is smaller than p=%zu", ld, p);
    if (n <= p || n < 3)
        return hc_fail(HC_EINVAL, "mvnormality: need n > p and n >= 3, got n=%zu, p=%zu", n, p);
    if (n > SIZE_MAX / sizeof(double) / (p > GRAM_BLOCK ? p : GRAM_BLOCK))
        return hc_fail(HC_EINVAL, "mvnormality: n=%zu is too large", n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++)
            if (!isfinite(x[i * ld + j]))
                return hc_fail(HC_EINVAL, "mvnormality: value (%zu, %zu) is not finite (%g)",
                               i, j, x[i * ld + j]);
    return HC_OK;
}

/* z <- the rows of x (n x p, stride ld) minus their mean: a two-pass mean
 * with one compensation step.  mean (length p) must come zeroed. */
static void centre_rows(const double *x, size_t n, size_t p, size_t ld, gsl_vector *mean,
                        gsl_matrix *z)
{
    const double dn = (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++) mean->data[j] += x[i * ld + j];
    gsl_vector_scale(mean, 1.0 / dn);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++) gsl_matrix_set(z, i, j, x[i * ld + j] - mean->data[j]);
    for (size_t j = 0; j < p; j++) {
        double c = 0.0;
        for (size_t i = 0; i < n; i++) c += gsl_matrix_get(z, i, j);
        c /= dn;
        for (size_t i = 0; i < n; i++) *gsl_matrix_ptr(z, i, j) -= c;
    }
}

/* Whiten the centred rows z (n x p) in place: S = Z^T Z / n (lower
 * triangle, in s), Cholesky S = L L^T, Z <- Z L^-T, so that
 * z_i . z_j = (x_i - m)^T S^-1 (x_j - m); diag_i <- G_ii = z_i . z_i.
 * work holds 3p doubles.  HC_ENUM if S is not (numerically) positive definite. */
static hc_status whiten(gsl_matrix *z, gsl_matrix *s, gsl_vector *work, gsl_vector *diag)
{
    const size_t n = z->size1, p = z->size2;
    gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0 / (double)n, z, 0.0, s);
    if (gsl_linalg_cholesky_decomp1(s) != GSL_SUCCESS)
        return hc_fail(HC_ENUM, "mvnormality: covariance of the %zu x %zu sample is not "
                       "positive definite (constant or collinear columns?)", n, p);
    double rcond = 0.0;
    if (gsl_linalg_cholesky_rcond(s, &rcond, work) != GSL_SUCCESS || !(rcond >= HC_MV_MIN_RCOND))
        return hc_fail(HC_ENUM, "mvnormality: covariance of the %zu x %zu sample is "
                       "numerically singular (rcond %.3g < %g)", n, p, rcond, HC_MV_MIN_RCOND);
    gsl_blas_dtrsm(CblasRight, CblasLower, CblasTrans, CblasNonUnit, 1.0, s, z);
    for (size_t i = 0; i < n; i++) {
        gsl_vector_const_view row = gsl_matrix_const_row(z, i);
        double d;
        gsl_blas_ddot(&row.vector, &row.vector, &d);
        gsl_vector_set(diag, i, d);
    }
    return HC_OK;
}

/* Sums over the Gram matrix G of the whitened rows that the statistics need. */
typedef struct gram_sums {
    double cube_off;  /* sum_{i>j} G_ij^3 */
    double cube_diag; /* sum_i G_ii^3 */
    double kurt;      /* sum_i G_ii^2 */
    double pair_off;  /* sum_{i>j} exp(hz_pair D_ij) */
    double dsum;      /* sum_i exp(hz_diag G_ii) */
} gram_sums;

/* The sums over the strict lower triangle (i > j), to be doubled by the
 * caller, plus the diagonal, forming G in row blocks [i0, i1) against
 * columns [0, i1) in g (blk x n) with one dgemm each. */
static void gram_pass(const gsl_matrix *z, const gsl_vector *diag, gsl_matrix *g, size_t blk,
                      double hz_pair, double hz_diag, gram_sums *out)
{
    const size_t n = z->size1, p = z->size2;
    double cube_off = 0.0, cube_diag = 0.0, kurt = 0.0, pair_off = 0.0, dsum = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += blk) {
        size_t i1 = i0 + blk < n ? i0 + blk : n;
        gsl_matrix_const_view zr = gsl_matrix_const_submatrix(z, i0, 0, i1 - i0, p);
        gsl_matrix_const_view zc = gsl_matrix_const_submatrix(z, 0, 0, i1, p);
        gsl_matrix_view gb = gsl_matrix_submatrix(g, 0, 0, i1 - i0, i1);
        gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, &zr.matrix, &zc.matrix, 0.0, &gb.matrix);
        for (size_t i = i0; i < i1; i++) {
            const double *gi = gsl_matrix_const_ptr(&gb.matrix, i - i0, 0);
            const double dii = diag->data[i];
            double c = 0.0, e = 0.0;
            for (size_t j = 0; j < i; j++) {
                double gij = gi[j];
                c += gij * gij * gij;
                double dij = dii + diag->data[j] - 2.0 * gij;
                if (dij < 0.0) dij = 0.0; /* rounding */
                e += exp(hz_pair * dij);
            }
            cube_off += c;
            pair_off += e;
            cube_diag += dii * dii * dii;
            kurt += dii * dii;
            dsum += exp(hz_diag * dii);
        }
    }
    *out = (gram_sums){cube_off, cube_diag, kurt, pair_off, dsum};
}

/* The statistics and p-values from the Gram sums (formulas in mvnormal.h). */
static void finish_result(const gram_sums *g, size_t n, size_t p, double beta,
                          hc_mvnormality_result *out)
{
    const double dn = (double)n, dp = (double)p;
    const double bb = beta * beta;
    hc_mvnormality_result r = {0};
    r.n = n;
    r.p = p;
    r.mardia_b1 = (2.0 * g->cube_off + g->cube_diag) / (dn * dn);
    r.mardia_b2 = g->kurt / dn;
    r.mardia_skew = dn * r.mardia_b1 / 6.0;
    r.mardia_skew_df = dp * (dp + 1.0) * (dp + 2.0) / 6.0;
    r.mardia_skew_p = gsl_cdf_chisq_Q(r.mardia_skew, r.mardia_skew_df);
    const double k = (dp + 1.0) * (dn + 1.0) * (dn + 3.0) /
                     (dn * ((dn + 1.0) * (dp + 1.0) - 6.0));
    r.mardia_skew_small = k * r.mardia_skew;
    r.mardia_skew_small_p = gsl_cdf_chisq_Q(r.mardia_skew_small, r.mardia_skew_df);
    r.mardia_kurt_z = (r.mardia_b2 - dp * (dp + 2.0)) / sqrt(8.0 * dp * (dp + 2.0) / dn);
    r.mardia_kurt_p = 2.0 * gsl_cdf_ugaussian_Q(fabs(r.mardia_kurt_z));
    r.hz_beta = beta;
    r.hz = dn * ((dn + 2.0 * g->pair_off) / (dn * dn) -
                 2.0 * pow(1.0 + bb, -dp / 2.0) * g->dsum / dn +
                 pow(1.0 + 2.0 * bb, -dp / 2.0));
    r.hz_p = hc_henze_zirkler_p(r.hz, p, beta);
    *out = r;
}

hc_status hc_mvnormality_test(const double *x, size_t n, size_t p, size_t ld,
                              hc_mvnormality_result *out)
{
    HC_ASSERT(out != NULL);
    HC_ASSERT(x != NULL || n == 0);
    HC_TRY(check_sample(x, n, p, ld));

    const double dn = (double)n, dp = (double)p;
    const size_t blk = n < GRAM_BLOCK ? n : GRAM_BLOCK;
    hc_status st = HC_OK;
    gsl_matrix *z = gsl_matrix_alloc(n, p);   /* centred, then whitened rows */
    gsl_matrix *s = gsl_matrix_alloc(p, p);   /* covariance, then its Cholesky factor */
    gsl_matrix *g = gsl_matrix_alloc(blk, n); /* one row block of the Gram matrix */
    gsl_vector *mean = gsl_vector_calloc(p);
    gsl_vector *diag = gsl_vector_alloc(n);   /* G_ii */
    gsl_vector *work = gsl_vector_alloc(3 * p);
    if (!z || !s || !g || !mean || !diag || !work) {
        st = hc_fail(HC_ENOMEM, "mvnormality: cannot allocate work space for n=%zu, p=%zu", n, p);
        goto done;
    }

    centre_rows(x, n, p, ld, mean, z);
    if ((st = whiten(z, s, work, diag)) != HC_OK) goto done;

    const double beta = M_SQRT1_2 * pow(dn * (2.0 * dp + 1.0) / 4.0, 1.0 / (dp + 4.0));
    const double bb = beta * beta;
    gram_sums sums;
    gram_pass(z, diag, g, blk, -0.5 * bb, -bb / (2.0 * (1.0 + bb)), &sums);
    finish_result(&sums, n, p, beta, out);

done:
    gsl_matrix_free(z);
    gsl_matrix_free(s);
    gsl_matrix_free(g);
    gsl_vector_free(mean);
    gsl_vector_free(diag);
    gsl_vector_free(work);
    return st;
}

hc_status hc_mvnormality_to_json(const hc_mvnormality_result *r, cJSON *obj)
{
    HC_ASSERT(r != NULL);
    if (!cJSON_IsObject(obj))
        return hc_fail(HC_EINVAL, "mvnormality json: target is not a JSON object");
    const struct {
        const char *key;
        double val;
    } f[] = {
        {"n", (double)r->n},
        {"p", (double)r->p},
        {"mardia_skew", r->mardia_skew},
        {"mardia_skew_p", r->mardia_skew_p},
        {"mardia_skew_small", r->mardia_skew_small},
        {"mardia_skew_small_p", r->mardia_skew_small_p},
        {"mardia_kurt_z", r->mardia_kurt_z},
        {"mardia_kurt_p", r->mardia_kurt_p},
        {"hz", r->hz},
        {"hz_p", r->hz_p},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!cJSON_AddNumberToObject(obj, f[i].key, f[i].val))
            return hc_fail(HC_ENOMEM, "mvnormality json: cannot add key %s", f[i].key);
    return HC_OK;
}
