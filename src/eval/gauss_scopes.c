/* gauss_scopes.c: the statistics of the `hicache gauss` scopes on one
 * sample (gauss.h, gauss_internal.h): per step (moment tests over the
 * tokens of a step), per channel or token (four univariate tests), pca
 * (Mardia, Henze-Zirkler on the leading principal axes), each followed by
 * its null calibration on seeded Gaussian samples of the same size, mean
 * and covariance.  Every buffer comes from the caller's work space. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>

#include "covariance.h"
#include "gauss_internal.h"
#include "mvnormal.h"

/* ---- summaries ------------------------------------------------------------------------------------------- */

/* Median of v[0..m-1] (copied into tmp, which is reordered); NaN if m == 0. */
double gauss_median_of(const double *v, size_t m, double *tmp, int absolute)
{
    if (m == 0) return NAN;
    for (size_t i = 0; i < m; i++) tmp[i] = absolute ? fabs(v[i]) : v[i];
    return gsl_stats_median(tmp, 1, m);
}

static double frac_below(const double *p, size_t m, double alpha)
{
    if (m == 0) return NAN;
    size_t k = 0;
    for (size_t i = 0; i < m; i++) k += p[i] < alpha;
    return (double)k / (double)m;
}

/* Fraction of the m hypotheses with p-values p rejected by BH at alpha. */
static hc_status frac_bh(const double *p, size_t m, double alpha, size_t *idx, double *out)
{
    if (m == 0) {
        *out = NAN;
        return HC_OK;
    }
    size_t k;
    HC_TRY(hc_benjamini_hochberg_ws(p, m, alpha, idx, NULL, &k));
    *out = (double)k / (double)m;
    return HC_OK;
}

/* ---- work space ------------------------------------------------------------------------------ */

void gauss_work_free(gauss_work *w)
{
    if (!w) return;
    hc_normality_ws_free(w->ws);
    double *d[] = {w->g1, w->g2, w->w, w->astar, w->p[0], w->p[1], w->p[2], w->p[3], w->cmean,
                   w->csd, w->tmp, w->colbuf, w->smean, w->sm2, w->sm3, w->sm4, w->smin, w->smax};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) free(d[i]);
    free(w->col);
    free(w->idx);
    memset(w, 0, sizeof *w);
}

hc_status gauss_work_alloc(gauss_work *w, size_t T, size_t D, size_t n_max)
{
    memset(w, 0, sizeof *w);
    w->cols = D > T ? D : T;
    w->n_max = n_max;
    size_t c = w->cols, big = c > n_max ? c : n_max;
    double **cols[] = {&w->g1, &w->g2, &w->w, &w->astar, &w->p[0], &w->p[1], &w->p[2], &w->p[3],
                       &w->cmean, &w->csd};
    int bad = 0;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) bad |= !(*cols[i] = malloc(c * sizeof(double)));
    double **perd[] = {&w->smean, &w->sm2, &w->sm3, &w->sm4, &w->smin, &w->smax};
    for (size_t i = 0; i < sizeof perd / sizeof perd[0]; i++) bad |= !(*perd[i] = malloc(D * sizeof(double)));
    bad |= !(w->tmp = malloc(big * sizeof *w->tmp));
    bad |= !(w->colbuf = malloc(n_max * sizeof *w->colbuf));
    bad |= !(w->col = malloc(c * sizeof *w->col));
    bad |= !(w->idx = malloc(c * sizeof *w->idx));
    if (bad) {
        gauss_work_free(w);
        return hc_fail(HC_ENOMEM, "gauss: cannot allocate work space for %zu tokens x %zu channels", T, D);
    }
    hc_status st = hc_normality_ws_alloc(n_max < HC_NORMALITY_MIN_N ? HC_NORMALITY_MIN_N : n_max, &w->ws);
    if (st != HC_OK) gauss_work_free(w);
    return st;
}

/* ---- step scope: moment tests per channel over the T tokens of one step ------------------ */

/* X: derivative [T, D] float64 row-major.  Needs T >= HC_NORMALITY_MIN_N. */
hc_status gauss_step_stats(const double *X, size_t T, size_t D, double alpha, gauss_work *w,
                            hc_gauss_step *out)
{
    double ss = 0.0;
    for (size_t c = 0; c < D; c++) {
        w->smean[c] = w->sm2[c] = w->sm3[c] = w->sm4[c] = 0.0;
        w->smin[c] = INFINITY;
        w->smax[c] = -INFINITY;
    }
    for (size_t t = 0; t < T; t++) {
        const double *x = X + t * D;
        for (size_t c = 0; c < D; c++) {
            double v = x[c];
            w->smean[c] += v;
            ss += v * v;
            if (v < w->smin[c]) w->smin[c] = v;
            if (v > w->smax[c]) w->smax[c] = v;
        }
    }
    for (size_t c = 0; c < D; c++) w->smean[c] /= (double)T;
    for (size_t t = 0; t < T; t++) {
        const double *x = X + t * D;
        for (size_t c = 0; c < D; c++) {
            double d = x[c] - w->smean[c], d2 = d * d;
            w->sm2[c] += d2;
            w->sm3[c] += d2 * d;
            w->sm4[c] += d2 * d2;
        }
    }
    size_t m = 0;
    for (size_t c = 0; c < D; c++) {
        if (w->smin[c] == w->smax[c]) continue;
        double m2 = w->sm2[c] / (double)T, m3 = w->sm3[c] / (double)T, m4 = w->sm4[c] / (double)T;
        double g1 = m3 / (m2 * sqrt(m2)), g2 = m4 / (m2 * m2) - 3.0, jb;
        if (!isfinite(g1) || !isfinite(g2)) continue;
        HC_TRY(hc_jarque_bera(g1, g2, T, &jb, &w->p[GAUSS_T_JB][m]));
        HC_TRY(hc_dagostino(g1, g2, T, NULL, NULL, NULL, &w->p[GAUSS_T_K2][m]));
        w->g1[m] = g1;
        w->g2[m] = g2;
        m++;
    }
    double *v = out->v;
    v[HC_GS_N] = (double)T;
    v[HC_GS_M] = (double)m;
    v[HC_GS_RMS] = sqrt(ss / ((double)T * (double)D));
    v[HC_GS_G1_MEDIAN] = gauss_median_of(w->g1, m, w->tmp, 0);
    v[HC_GS_G2_MEDIAN] = gauss_median_of(w->g2, m, w->tmp, 0);
    v[HC_GS_JB_RAW] = frac_below(w->p[GAUSS_T_JB], m, alpha);
    v[HC_GS_K2_RAW] = frac_below(w->p[GAUSS_T_K2], m, alpha);
    HC_TRY(frac_bh(w->p[GAUSS_T_JB], m, alpha, w->idx, &v[HC_GS_JB_BH]));
    HC_TRY(frac_bh(w->p[GAUSS_T_K2], m, alpha, w->idx, &v[HC_GS_K2_BH]));
    return HC_OK;
}

/* ---- channel and token scopes ------------------------------------------------------------ */

static hc_status summarise_uni(gauss_work *w, size_t n, size_t m, size_t n_const, double alpha,
                               hc_gauss_uni *u)
{
    double *v = u->v;
    v[HC_GU_N] = (double)n;
    v[HC_GU_M] = (double)m;
    v[HC_GU_CONSTANT] = (double)n_const;
    v[HC_GU_G1_MEDIAN] = gauss_median_of(w->g1, m, w->tmp, 0);
    v[HC_GU_G1_ABSMEDIAN] = gauss_median_of(w->g1, m, w->tmp, 1);
    v[HC_GU_G2_MEDIAN] = gauss_median_of(w->g2, m, w->tmp, 0);
    v[HC_GU_W_MEDIAN] = gauss_median_of(w->w, m, w->tmp, 0);
    v[HC_GU_ASTAR_MEDIAN] = gauss_median_of(w->astar, m, w->tmp, 0);
    for (int i = 0; i < GAUSS_N_TESTS; i++) {
        v[HC_GU_JB_RAW + i] = frac_below(w->p[i], m, alpha);
        HC_TRY(frac_bh(w->p[i], m, alpha, w->idx, &v[HC_GU_JB_BH + i]));
    }
    return HC_OK;
}

static void store_test(gauss_work *w, size_t m, const hc_normality_result *r)
{
    w->g1[m] = r->g1;
    w->g2[m] = r->g2;
    w->w[m] = r->sw_w;
    w->astar[m] = r->ad_astar;
    w->p[GAUSS_T_JB][m] = r->jb_p;
    w->p[GAUSS_T_K2][m] = r->k2_p;
    w->p[GAUSS_T_SW][m] = r->sw_p;
    w->p[GAUSS_T_AD][m] = r->ad_p;
}

/* Test every column of the n x ncol matrix X (leading dimension ncol), then
 * the null: for each non-constant column, n draws from N(its mean, its sd)
 * with generator rng.  best/worst (may be NULL) receive the columns with the
 * largest and smallest W (-1 if none). */
hc_status gauss_run_uni(gauss_work *w, const double *X, size_t n, size_t ncol, double alpha,
                         unsigned long sw_seed, gsl_rng *rng, hc_gauss_uni out[2], int *best,
                         double *best_w, int *worst, double *worst_w)
{
    size_t m = 0, n_const = 0;
    hc_normality_result r;
    if (best) *best = *worst = -1;
    for (size_t c = 0; c < ncol; c++) {
        double lo = INFINITY, hi = -INFINITY, s = 0.0;
        for (size_t i = 0; i < n; i++) {
            double v = X[i * ncol + c];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
            s += v;
        }
        if (lo == hi) {
            n_const++;
            continue;
        }
        double mean = s / (double)n, ss = 0.0;
        for (size_t i = 0; i < n; i++) ss += (X[i * ncol + c] - mean) * (X[i * ncol + c] - mean);
        HC_TRY(hc_normality_test_ws(w->ws, X + c, n, ncol, sw_seed, &r));
        store_test(w, m, &r);
        w->col[m] = (int)c;
        w->cmean[m] = mean;
        w->csd[m] = sqrt(ss / (double)(n - 1));
        if (best && (*best < 0 || r.sw_w > *best_w)) {
            *best = (int)c;
            *best_w = r.sw_w;
        }
        if (worst && (*worst < 0 || r.sw_w < *worst_w)) {
            *worst = (int)c;
            *worst_w = r.sw_w;
        }
        m++;
    }
    HC_TRY(summarise_uni(w, n, m, n_const, alpha, &out[HC_GAUSS_REAL]));
    for (size_t k = 0; k < m; k++) {
        for (size_t i = 0; i < n; i++) w->colbuf[i] = w->cmean[k] + gsl_ran_gaussian_ziggurat(rng, w->csd[k]);
        HC_TRY(hc_normality_test_ws(w->ws, w->colbuf, n, 1, sw_seed, &r));
        store_test(w, k, &r);
    }
    return summarise_uni(w, n, m, n_const, alpha, &out[HC_GAUSS_NULL]);
}

/* ---- pca scope ------------------------------------------------------------------------------- */

static void mv_store(const hc_mvnormality_result *r, double explained, hc_gauss_mv *out)
{
    double *v = out->v;
    out->ok = 1;
    v[HC_GM_N] = (double)r->n;
    v[HC_GM_P] = (double)r->p;
    v[HC_GM_EXPLAINED] = explained;
    v[HC_GM_MARDIA_SKEW] = r->mardia_skew;
    v[HC_GM_MARDIA_SKEW_P] = r->mardia_skew_p;
    v[HC_GM_MARDIA_SKEW_SMALL] = r->mardia_skew_small;
    v[HC_GM_MARDIA_SKEW_SMALL_P] = r->mardia_skew_small_p;
    v[HC_GM_MARDIA_KURT_Z] = r->mardia_kurt_z;
    v[HC_GM_MARDIA_KURT_P] = r->mardia_kurt_p;
    v[HC_GM_HZ] = r->hz;
    v[HC_GM_HZ_P] = r->hz_p;
}

void gauss_add_note(hc_gauss_item *it, const char *fmt, const char *detail)
{
    size_t len = strlen(it->note);
    if (len + 3 >= sizeof it->note) return;
    if (len) {
        memcpy(it->note + len, "; ", 3);
        len += 2;
    }
    snprintf(it->note + len, sizeof it->note - len, fmt, detail);
}

void gauss_pca_free(gauss_pca *p)
{
    free(p->mean);
    gsl_matrix_free(p->cov);
    gsl_matrix_free(p->evec);
    gsl_vector_free(p->eval);
    if (p->eig) gsl_eigen_symmv_free(p->eig);
    free(p->Y);
    memset(p, 0, sizeof *p);
}

hc_status gauss_pca_alloc(gauss_pca *p, size_t D, size_t n_max, size_t P)
{
    memset(p, 0, sizeof *p);
    p->D = D;
    p->n_max = n_max;
    p->P = P;
    p->mean = malloc(D * sizeof *p->mean);
    p->cov = gsl_matrix_alloc(D, D);
    p->evec = gsl_matrix_alloc(D, D);
    p->eval = gsl_vector_alloc(D);
    p->eig = gsl_eigen_symmv_alloc(D);
    p->Y = malloc(n_max * P * sizeof *p->Y);
    if (!p->mean || !p->cov || !p->evec || !p->eval || !p->eig || !p->Y) {
        gauss_pca_free(p);
        return hc_fail(HC_ENOMEM, "gauss: cannot allocate the PCA of %zu channels", D);
    }
    return HC_OK;
}

/* A: the n x D channel sample (centred in place here).  Fills it->pca. */
hc_status gauss_run_pca(gauss_pca *p, double *A, size_t n, int P_req, gsl_rng *rng, hc_gauss_item *it)
{
    const size_t D = p->D;
    hc_center_columns(A, n, D, D, p->mean);
    hc_covariance_centered(A, n, D, D, (double)(n - 1), p->cov->data);
    if (gsl_eigen_symmv(p->cov, p->eval, p->evec, p->eig) != GSL_SUCCESS) {
        gauss_add_note(it, "pca: %s", "eigendecomposition failed");
        return HC_OK;
    }
    gsl_eigen_symmv_sort(p->eval, p->evec, GSL_EIGEN_SORT_VAL_DESC);
    const double *lam = p->eval->data;
    double trace = 0.0;
    for (size_t j = 0; j < D; j++) trace += lam[j] > 0.0 ? lam[j] : 0.0;
    size_t P = (size_t)P_req < D ? (size_t)P_req : D;
    if (P > n - 2) P = n - 2;
    size_t rank = 0;
    while (rank < P && lam[rank] > 1e-10 * lam[0] && lam[rank] > 0.0) rank++;
    if (rank < P) {
        char why[96];
        snprintf(why, sizeof why, "covariance rank %zu < P=%d; PCA uses %zu dims", rank, P_req, rank);
        gauss_add_note(it, "%s", why);
        P = rank;
    } else if (P < (size_t)P_req) {
        char why[96];
        snprintf(why, sizeof why, "P=%d capped at %zu", P_req, P);
        gauss_add_note(it, "%s", why);
    }
    if (P == 0) {
        gauss_add_note(it, "pca: %s", "no variance");
        return HC_OK;
    }
    double explained = 0.0;
    for (size_t j = 0; j < P; j++) explained += lam[j];
    explained = trace > 0.0 ? explained / trace : NAN;

    hc_mvnormality_result r;
    hc_matmul(A, n, D, D, p->evec->data, P, p->evec->tda, p->Y);
    hc_status st = hc_mvnormality_test(p->Y, n, P, P, &r);
    if (st == HC_ENUM) {
        gauss_add_note(it, "pca real: %s", hc_errmsg());
        return HC_OK;
    }
    HC_TRY(st);
    mv_store(&r, explained, &it->pca[HC_GAUSS_REAL]);
    /* null: N(0, diag(lam_1..lam_P)), the projection of N(mean, covariance) */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < P; j++) p->Y[i * P + j] = gsl_ran_gaussian_ziggurat(rng, sqrt(lam[j]));
    st = hc_mvnormality_test(p->Y, n, P, P, &r);
    if (st == HC_ENUM) {
        gauss_add_note(it, "pca null: %s", hc_errmsg());
        return HC_OK;
    }
    HC_TRY(st);
    mv_store(&r, explained, &it->pca[HC_GAUSS_NULL]);
    return HC_OK;
}
