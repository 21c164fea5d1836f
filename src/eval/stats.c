/* stats.c: bootstrap intervals, Wilcoxon signed-rank, paired t, Holm, KID
 * and the FD bootstrap (see stats.h).  GSL only. */
#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- bootstrap ------------------------------------------------------------------------- */

void hc_boot_indices(int n, int B, unsigned long seed, int *idx)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    HC_ASSERT(r);
    gsl_rng_set(r, seed);
    for (size_t k = 0; k < (size_t)B * (size_t)n; k++) {
        uint64_t u = (uint64_t)gsl_rng_get(r) & 0xffffffffu;
        idx[k] = (int)((u * (uint64_t)n) >> 32);
    }
    gsl_rng_free(r);
}

double hc_quantile_sorted(const double *x, int n, double p)
{
    if (n <= 0) return NAN;
    double h = (n - 1) * p;
    int lo = (int)floor(h);
    if (lo >= n - 1) return x[n - 1];
    if (lo < 0) return x[0];
    return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

/* sum(v[idx]) / sum(w[idx]) over one resample (w NULL: / n) */
static double ratio_at(const double *v, const double *w, const int *ix, int n)
{
    double s = 0, sw = 0;
    for (int i = 0; i < n; i++) {
        s += v[ix[i]];
        sw += w ? w[ix[i]] : 1.0;
    }
    return sw > 0 ? s / sw : NAN;
}

void hc_boot_ratio_ci(const double *a, const double *aw, const double *b, const double *bw, int n, const int *idx,
                      int B, double level, double *work, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n < 1 || B < 1) return;
    for (int k = 0; k < B; k++) {
        const int *ix = idx + (size_t)k * (size_t)n;
        double v = ratio_at(a, aw, ix, n);
        if (b) v -= ratio_at(b, bw, ix, n);
        if (!isfinite(v)) return;
        work[k] = v;
    }
    qsort(work, (size_t)B, sizeof *work, cmp_double);
    *lo = hc_quantile_sorted(work, B, (1 - level) / 2);
    *hi = hc_quantile_sorted(work, B, (1 + level) / 2);
}

/* ---- Wilcoxon signed-rank ----------------------------------------------------------------- */

typedef struct absval {
    double a;
    int sign;
} absval;

static int cmp_abs(const void *x, const void *y)
{
    const absval *p = x, *q = y;
    return (p->a > q->a) - (p->a < q->a);
}

/* Exact two-sided p of R+ = r (integer) for n untied nonzero differences:
 * the null distribution of R+ counted by subset sums (exact in double up to
 * n = 50: counts below 2^50). */
static hc_status exact_p(int n, long r, double *p)
{
    long top = (long)n * (n + 1) / 2;
    double *c = calloc((size_t)top + 1, sizeof *c);
    if (!c) return hc_fail(HC_ENOMEM, "out of memory");
    c[0] = 1;
    for (int k = 1; k <= n; k++)
        for (long s = (long)k * (k + 1) / 2; s >= k; s--) c[s] += c[s - k];
    double total = ldexp(1.0, n), pl = 0, pg = 0;
    for (long s = 0; s <= top; s++) {
        if (s <= r) pl += c[s];
        if (s >= r) pg += c[s];
    }
    free(c);
    if (r == top / 2) *p = 1.0;
    else *p = fmin(1.0, 2 * fmin(pl, pg) / total);
    return HC_OK;
}

hc_status hc_wilcoxon(const double *d, int n, int correction, hc_wilcoxon_result *out)
{
    memset(out, 0, sizeof *out);
    out->statistic = out->p = out->z = NAN;
    absval *v = malloc(((size_t)n + 1) * sizeof *v);
    if (!v) return hc_fail(HC_ENOMEM, "out of memory");
    int m = 0, zeros = 0;
    for (int i = 0; i < n; i++) {
        if (d[i] == 0) zeros++;
        else v[m++] = (absval){fabs(d[i]), d[i] > 0 ? 1 : -1};
    }
    out->n_used = m;
    if (m == 0) {
        free(v);
        return HC_OK;
    }
    qsort(v, (size_t)m, sizeof *v, cmp_abs);
    double rp = 0, rm = 0, tie_sum = 0;
    int ties = 0;
    for (int i = 0; i < m;) {
        int j = i;
        while (j + 1 < m && v[j + 1].a == v[i].a) j++;
        double rank = 0.5 * (i + j) + 1, t = j - i + 1;
        if (t > 1) {
            ties = 1;
            tie_sum += t * (t * t - 1);
        }
        for (int k = i; k <= j; k++) *(v[k].sign > 0 ? &rp : &rm) += rank;
        i = j + 1;
    }
    free(v);
    out->statistic = fmin(rp, rm);
    if (n <= 50 && !zeros && !ties) {
        out->mode = HC_WILCOXON_EXACT;
        return exact_p(m, (long)rp, &out->p);
    }
    out->mode = HC_WILCOXON_APPROX;
    double mn = m * (m + 1.0) * 0.25;
    double se = sqrt((m * (m + 1.0) * (2.0 * m + 1.0) - 0.5 * tie_sum) / 24.0);
    double T = out->statistic;
    double cc = correction ? 0.5 * ((T > mn) - (T < mn)) : 0;
    out->z = (T - mn - cc) / se;
    out->p = 2 * gsl_cdf_ugaussian_Q(fabs(out->z));
    return HC_OK;
}

/* ---- paired t, Holm ----------------------------------------------------------------------- */

void hc_ttest_paired(const double *d, int n, double *t, double *p)
{
    *t = *p = NAN;
    if (n < 2) return;
    double mu = 0, ss = 0;
    for (int i = 0; i < n; i++) mu += d[i];
    mu /= n;
    for (int i = 0; i < n; i++) ss += (d[i] - mu) * (d[i] - mu);
    double se = sqrt(ss / (n - 1) / n);
    if (se == 0) {
        if (mu != 0) *t = mu > 0 ? INFINITY : -INFINITY, *p = 0;
        return;
    }
    *t = mu / se;
    *p = 2 * gsl_cdf_tdist_Q(fabs(*t), n - 1);
}

typedef struct pidx {
    double p;
    int i;
} pidx;

static int cmp_pidx(const void *a, const void *b)
{
    const pidx *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

void hc_holm(const double *p, int m, double *adj)
{
    pidx *s = malloc(((size_t)m + 1) * sizeof *s);
    HC_ASSERT(s);
    int k = 0;
    for (int i = 0; i < m; i++)
        if (!isnan(p[i])) s[k++] = (pidx){p[i], i};
    for (int i = 0; i < m; i++)
        if (isnan(p[i])) adj[i] = NAN;
    qsort(s, (size_t)k, sizeof *s, cmp_pidx);
    double run = 0;
    for (int j = 0; j < k; j++) {
        run = fmax(run, fmin(1.0, (k - j) * s[j].p));
        adj[s[j].i] = run;
    }
    free(s);
}

/* ---- KID ------------------------------------------------------------------------------------ */

/* rows [r0, r1) of the kernel between a [na, d] and b [nb, d] into K [(r1 - r0), nb] */
static void poly_kernel(const gsl_matrix *a, int r0, int r1, const gsl_matrix *b, gsl_matrix *K)
{
    gsl_matrix_const_view av = gsl_matrix_const_submatrix(a, (size_t)r0, 0, (size_t)(r1 - r0), a->size2);
    gsl_matrix_view kv = gsl_matrix_submatrix(K, 0, 0, (size_t)(r1 - r0), b->size1);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0 / (double)a->size2, &av.matrix, b, 0.0, &kv.matrix);
    for (int i = 0; i < r1 - r0; i++)
        for (size_t j = 0; j < b->size1; j++) {
            double v = gsl_matrix_get(K, (size_t)i, j) + 1;
            gsl_matrix_set(K, (size_t)i, j, v * v * v);
        }
}

static gsl_matrix *to_matrix(const float *x, int n, int d)
{
    gsl_matrix *m = gsl_matrix_alloc((size_t)n, (size_t)d);
    if (m)
        for (size_t i = 0; i < (size_t)n * (size_t)d; i++) m->data[i] = x[i];
    return m;
}

/* Row sums of the kernel of a with b, without the diagonal when a == b
 * (same), into rs [na]; column sums into cs [nb] (may be NULL). */
static hc_status kernel_sums(const gsl_matrix *a, const gsl_matrix *b, int same, double *rs, double *cs)
{
    const int blk = 256, na = (int)a->size1, nb = (int)b->size1;
    gsl_matrix *K = gsl_matrix_alloc((size_t)(na < blk ? na : blk), (size_t)nb);
    if (!K) return hc_fail(HC_ENOMEM, "out of memory");
    if (cs) memset(cs, 0, (size_t)nb * sizeof *cs);
    for (int r0 = 0; r0 < na; r0 += blk) {
        int r1 = r0 + blk < na ? r0 + blk : na;
        poly_kernel(a, r0, r1, b, K);
        for (int i = r0; i < r1; i++) {
            double s = 0;
            for (int j = 0; j < nb; j++) {
                double k = gsl_matrix_get(K, (size_t)(i - r0), (size_t)j);
                if (same && i == j) continue;
                s += k;
                if (cs) cs[j] += k;
            }
            rs[i] = s;
        }
    }
    gsl_matrix_free(K);
    return HC_OK;
}

static double var1(const double *x, int n)
{
    double mu = 0, ss = 0;
    for (int i = 0; i < n; i++) mu += x[i];
    mu /= n;
    for (int i = 0; i < n; i++) ss += (x[i] - mu) * (x[i] - mu);
    return ss / (n - 1);
}

hc_status hc_kid(const float *x, int n, const float *y, int m, int d, double *kid, double *se)
{
    *kid = *se = NAN;
    if (n < 2 || m < 2) return hc_fail(HC_EINVAL, "KID needs at least 2 samples on each side (got %d and %d)", n, m);
    gsl_matrix *X = to_matrix(x, n, d), *Y = to_matrix(y, m, d);
    double *sxx = malloc((size_t)n * sizeof *sxx), *sxy = malloc((size_t)n * sizeof *sxy);
    double *syy = malloc((size_t)m * sizeof *syy), *syx = malloc((size_t)m * sizeof *syx);
    hc_status s = X && Y && sxx && sxy && syy && syx ? HC_OK : hc_fail(HC_ENOMEM, "out of memory");
    if (s == HC_OK) s = kernel_sums(X, X, 1, sxx, NULL);
    if (s == HC_OK) s = kernel_sums(X, Y, 0, sxy, syx);
    if (s == HC_OK) s = kernel_sums(Y, Y, 1, syy, NULL);
    if (s == HC_OK) {
        double txx = 0, tyy = 0, txy = 0;
        for (int i = 0; i < n; i++) txx += sxx[i], txy += sxy[i];
        for (int j = 0; j < m; j++) tyy += syy[j];
        *kid = txx / ((double)n * (n - 1)) + tyy / ((double)m * (m - 1)) - 2 * txy / ((double)n * m);
        /* first-order projections of the U-statistic (stats.h) */
        for (int i = 0; i < n; i++) sxx[i] = sxx[i] / (n - 1) - sxy[i] / m;
        for (int j = 0; j < m; j++) syy[j] = syy[j] / (m - 1) - syx[j] / n;
        *se = sqrt(4 * var1(sxx, n) / n + 4 * var1(syy, m) / m);
    }
    gsl_matrix_free(X);
    gsl_matrix_free(Y);
    free(sxx), free(sxy), free(syy), free(syx);
    return s;
}

/* ---- FD bootstrap --------------------------------------------------------------------------- */

/* R = A^(1/2) for symmetric PSD A [d, d] (negative eigenvalues clipped). */
static hc_status sqrtm_psd(const double *A, int d, gsl_matrix *R)
{
    size_t n = (size_t)d;
    gsl_matrix *a = gsl_matrix_alloc(n, n), *V = gsl_matrix_alloc(n, n);
    gsl_vector *e = gsl_vector_alloc(n);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(n);
    hc_status s = a && V && e && ws ? HC_OK : hc_fail(HC_ENOMEM, "out of memory");
    if (s == HC_OK) {
        memcpy(a->data, A, n * n * sizeof *A);
        if (gsl_eigen_symmv(a, e, V, ws) != GSL_SUCCESS) s = hc_fail(HC_ENUM, "eigen decomposition failed");
    }
    if (s == HC_OK) {
        for (size_t i = 0; i < n; i++) {
            double l = gsl_vector_get(e, i), r = l > 0 ? sqrt(sqrt(l)) : 0;
            for (size_t k = 0; k < n; k++) gsl_matrix_set(a, k, i, gsl_matrix_get(V, k, i) * r);
        }
        gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, a, a, 0.0, R); /* V L^(1/2) V^T */
    }
    gsl_matrix_free(a);
    gsl_matrix_free(V);
    gsl_vector_free(e);
    if (ws) gsl_eigen_symmv_free(ws);
    return s;
}

typedef struct fd_work {
    int n, d, small;          /* small: n <= d (Gram n x n), else d x d */
    const float *f;
    const double *mu_r;
    double tr_r;
    gsl_matrix *Z, *Y, *G;    /* Z = F R [n, d]; Y: a centred resample; G: its Gram */
    gsl_vector *e;
    gsl_eigen_symm_workspace *ws;
    double *mf;               /* [d] */
} fd_work;

/* FD of the resample ix [n] of the rows of f. */
static hc_status fd_at(fd_work *w, const int *ix, double *fd)
{
    const int n = w->n, d = w->d;
    double dm = 0, trs = 0;
    for (int k = 0; k < d; k++) {
        double mf = 0, mz = 0;
        for (int i = 0; i < n; i++) mf += w->f[(size_t)ix[i] * d + k], mz += gsl_matrix_get(w->Z, (size_t)ix[i], (size_t)k);
        mf /= n;
        mz /= n;
        double vv = 0;
        for (int i = 0; i < n; i++) {
            double c = w->f[(size_t)ix[i] * d + k] - mf;
            vv += c * c;
            gsl_matrix_set(w->Y, (size_t)i, (size_t)k, gsl_matrix_get(w->Z, (size_t)ix[i], (size_t)k) - mz);
        }
        trs += vv / (n - 1);
        dm += (mf - w->mu_r[k]) * (mf - w->mu_r[k]);
    }
    if (w->small) gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0 / (n - 1), w->Y, w->Y, 0.0, w->G);
    else gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0 / (n - 1), w->Y, w->Y, 0.0, w->G);
    if (gsl_eigen_symm(w->G, w->e, w->ws) != GSL_SUCCESS) return hc_fail(HC_ENUM, "eigen decomposition failed");
    double tq = 0;
    for (size_t i = 0; i < w->e->size; i++) tq += gsl_vector_get(w->e, i) > 0 ? sqrt(gsl_vector_get(w->e, i)) : 0;
    *fd = dm + w->tr_r + trs - 2 * tq;
    return HC_OK;
}

hc_status hc_fd_boot(const float *f, int n, int d, const double *mu_r, const double *cov_r, const int *idx, int B,
                     double level, double *point, double *lo, double *hi)
{
    *point = *lo = *hi = NAN;
    if (n < 2) return hc_fail(HC_EINVAL, "FD needs at least 2 samples (got %d)", n);
    fd_work w = {n, d, n <= d, f, mu_r, 0, NULL, NULL, NULL, NULL, NULL, NULL};
    size_t g = (size_t)(w.small ? n : d);
    gsl_matrix *R = gsl_matrix_alloc((size_t)d, (size_t)d), *F = gsl_matrix_alloc((size_t)n, (size_t)d);
    w.Z = gsl_matrix_alloc((size_t)n, (size_t)d);
    w.Y = gsl_matrix_alloc((size_t)n, (size_t)d);
    w.G = gsl_matrix_alloc(g, g);
    w.e = gsl_vector_alloc(g);
    w.ws = gsl_eigen_symm_alloc(g);
    double *boot = malloc(((size_t)B + 1) * sizeof *boot);
    int *id = malloc((size_t)n * sizeof *id);
    hc_status s = R && F && w.Z && w.Y && w.G && w.e && w.ws && boot && id ? HC_OK : hc_fail(HC_ENOMEM, "out of memory");
    if (s == HC_OK) s = sqrtm_psd(cov_r, d, R);
    if (s == HC_OK) {
        for (int k = 0; k < d; k++) w.tr_r += cov_r[(size_t)k * d + k];
        for (size_t i = 0; i < (size_t)n * (size_t)d; i++) F->data[i] = f[i];
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, F, R, 0.0, w.Z);
        for (int i = 0; i < n; i++) id[i] = i;
        s = fd_at(&w, id, point);
    }
    for (int k = 0; k < B && s == HC_OK; k++) s = fd_at(&w, idx + (size_t)k * (size_t)n, &boot[k]);
    if (s == HC_OK && B > 0) {
        qsort(boot, (size_t)B, sizeof *boot, cmp_double);
        *lo = hc_quantile_sorted(boot, B, (1 - level) / 2);
        *hi = hc_quantile_sorted(boot, B, (1 + level) / 2);
    }
    gsl_matrix_free(R);
    gsl_matrix_free(F);
    gsl_matrix_free(w.Z);
    gsl_matrix_free(w.Y);
    gsl_matrix_free(w.G);
    gsl_vector_free(w.e);
    if (w.ws) gsl_eigen_symm_free(w.ws);
    free(boot);
    free(id);
    return s;
}
