/* quality.c: PSNR, SSIM, feature statistics and the Frechet distance.
 * GSL only (no cblas.h in this translation unit). */
#include "quality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>

static float clampf(float v) { return v < -1 ? -1 : v > 1 ? 1 : v; }

double hc_psnr(const float *a, const float *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)clampf(a[i]) - clampf(b[i]);
        se += d * d;
    }
    double mse = se / (double)n;
    return mse > 0 ? 10.0 * log10(4.0 / mse) : INFINITY;
}

double hc_ssim(const float *a, const float *b, int H, int W)
{
    enum { K = 11 };
    double w[K][K], ws = 0;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double di = i - K / 2, dj = j - K / 2;
            w[i][j] = exp(-(di * di + dj * dj) / (2 * 1.5 * 1.5));
            ws += w[i][j];
        }
    const double L = 2.0, C1 = (0.01 * L) * (0.01 * L), C2 = (0.03 * L) * (0.03 * L);
    double sum = 0;
    int cnt = 0;
    for (int y = 0; y + K <= H; y++)
        for (int x = 0; x + K <= W; x++) {
            double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
            for (int i = 0; i < K; i++)
                for (int j = 0; j < K; j++) {
                    double g = w[i][j] / ws, va = clampf(a[(y + i) * W + x + j]), vb = clampf(b[(y + i) * W + x + j]);
                    ma += g * va;
                    mb += g * vb;
                    saa += g * va * va;
                    sbb += g * vb * vb;
                    sab += g * va * vb;
                }
            double va = saa - ma * ma, vb = sbb - mb * mb, cab = sab - ma * mb;
            sum += ((2 * ma * mb + C1) * (2 * cab + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
            cnt++;
        }
    return cnt ? sum / cnt : NAN;
}

hc_status hc_feature_stats(const float *x, int n, int d, double *mean, double *cov)
{
    if (n < 2) return hc_fail(HC_EINVAL, "feature statistics need at least 2 samples (got %d)", n);
    memset(mean, 0, (size_t)d * sizeof *mean);
    memset(cov, 0, (size_t)d * d * sizeof *cov);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++) mean[k] += x[(size_t)i * d + k];
    for (int k = 0; k < d; k++) mean[k] /= n;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++) {
            double xk = x[(size_t)i * d + k] - mean[k];
            for (int l = 0; l <= k; l++) cov[(size_t)k * d + l] += xk * (x[(size_t)i * d + l] - mean[l]);
        }
    for (int k = 0; k < d; k++)
        for (int l = 0; l <= k; l++) {
            cov[(size_t)k * d + l] /= (n - 1);
            cov[(size_t)l * d + k] = cov[(size_t)k * d + l];
        }
    return HC_OK;
}

/* symmetric PSD square root of A (d x d) into R */
static hc_status sqrtm_sym(const gsl_matrix *A, gsl_matrix *R, gsl_eigen_symmv_workspace *ws)
{
    size_t d = A->size1;
    gsl_matrix *a = gsl_matrix_alloc(d, d), *V = gsl_matrix_alloc(d, d), *T = gsl_matrix_alloc(d, d);
    gsl_vector *e = gsl_vector_alloc(d);
    hc_status s = HC_OK;
    if (!a || !V || !T || !e) { s = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
    gsl_matrix_memcpy(a, A);
    if (gsl_eigen_symmv(a, e, V, ws) != GSL_SUCCESS) { s = hc_fail(HC_ENUM, "eigen decomposition failed"); goto done; }
    for (size_t i = 0; i < d; i++) {
        double l = gsl_vector_get(e, i);
        double r = l > 0 ? sqrt(l) : 0;
        for (size_t k = 0; k < d; k++) gsl_matrix_set(T, k, i, gsl_matrix_get(V, k, i) * r);
    }
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, T, V, 0.0, R);
done:
    gsl_matrix_free(a);
    gsl_matrix_free(V);
    gsl_matrix_free(T);
    gsl_vector_free(e);
    return s;
}

hc_status hc_frechet(const double *mu1, const double *cov1, const double *mu2, const double *cov2, int d, double *fd)
{
    size_t n = (size_t)d;
    gsl_matrix_const_view S1 = gsl_matrix_const_view_array(cov1, n, n), S2 = gsl_matrix_const_view_array(cov2, n, n);
    gsl_matrix *R = gsl_matrix_alloc(n, n), *M = gsl_matrix_alloc(n, n), *T = gsl_matrix_alloc(n, n);
    gsl_vector *e = gsl_vector_alloc(n);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(n);
    gsl_eigen_symm_workspace *ws2 = gsl_eigen_symm_alloc(n);
    hc_status s = HC_OK;
    if (!R || !M || !T || !e || !ws || !ws2) { s = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
    /* tr (S1 S2)^(1/2) = sum sqrt(eig(R S2 R)), R = S1^(1/2): symmetric PSD */
    if ((s = sqrtm_sym(&S1.matrix, R, ws)) != HC_OK) goto done;
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, R, &S2.matrix, 0.0, T);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, T, R, 0.0, M);
    if (gsl_eigen_symm(M, e, ws2) != GSL_SUCCESS) { s = hc_fail(HC_ENUM, "eigen decomposition failed"); goto done; }
    double tr_sqrt = 0, tr1 = 0, tr2 = 0, dm = 0;
    for (size_t i = 0; i < n; i++) {
        double l = gsl_vector_get(e, i);
        tr_sqrt += l > 0 ? sqrt(l) : 0;
        tr1 += cov1[i * n + i];
        tr2 += cov2[i * n + i];
        dm += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    }
    *fd = dm + tr1 + tr2 - 2 * tr_sqrt;
done:
    gsl_matrix_free(R);
    gsl_matrix_free(M);
    gsl_matrix_free(T);
    gsl_vector_free(e);
    if (ws) gsl_eigen_symmv_free(ws);
    if (ws2) gsl_eigen_symm_free(ws2);
    return s;
}
