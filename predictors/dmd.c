/* dmd.c: dynamic mode decomposition of rank r over the last m full-step
 * snapshots (Schmid 2010; as a feature-cache forecaster: cache-dit's DMD
 * calibrator, vipshop/cache-dit calibrators/dmd.py @ f86744a; research notes
 * policies.md §3).  Per batch element (hc_method.groups: each element's rows
 * are fitted on their own, as cache-dit does, so one prompt's forecast never
 * depends on another's):
 *
 *   snapshots x_1..x_m (oldest first) at uniformly spaced full steps (spacing
 *   h); X = [x_1..x_{m-1}], Y = [x_2..x_m];
 *   method of snapshots: X^T X = V S^2 V^T (m-1 x m-1, GSL symmv), keep the
 *   r' <= r largest with S_i > 1e-6 S_1; U = X V S^{-1} (never formed);
 *   A~ = U^T Y V S^{-1} = S^{-1} V^T (X^T Y) V S^{-1}  (r' x r');
 *   x~ = U^T x_m = S^{-1} V^T X^T x_m;  A~ = W diag(lambda) W^{-1} (GSL
 *   nonsymmv), b = W^{-1} x~ (complex Gaussian elimination);
 *   forecast at a cached step s, k = (s - newest full step) / h:
 *     x_hat = U W diag(lambda^k) b = X c,  c = V S^{-1} Re(W (lambda^k . b)).
 * So x_hat is a combination of x_1..x_{m-1} whose weights c depend on the
 * data (not HC_PRED_LINEAR).  All inner products X^T X, X^T Y, X^T x_m come
 * from one m x m Gram matrix per element, kept per ring slot and updated with
 * m dot products (double) at each full step.
 *
 * Non-integer horizons: lambda^k = exp(k Log lambda) with the principal
 * logarithm (C cpow), the continuous-time reading of the fitted map; a
 * conjugate pair stays conjugate so the sum is real; a negative real
 * eigenvalue gives |lambda|^k cos(pi k) after the real part is taken.
 * Fallback: TaylorSeer of order O (the divided-difference cache) until the
 * last m full steps are uniformly spaced (the warm-up gap 1 -> N breaks the
 * spacing), and for the whole stream when a fit fails (eigen solver, a
 * singular W, or a non-finite weight).  A group whose snapshots are all zero
 * reuses its newest one.  Workspaces are allocated at init; predict does not
 * allocate.
 *
 * Law: exact (integer k) for a trajectory x_{j+1} = A x_j that stays in an
 * A-invariant subspace of dimension <= r (e.g. x_1 in range(A), rank A <= r),
 * with m - 1 >= r; for fractional k, exact for x(t) = P exp(B t) x0 with the
 * eigenvalues of B h in the principal strip |Im| < pi
 * (tests/test_newpred.c).  Cost: m - 1 multiply-adds per element for the
 * forecast plus the m Gram dot products of a full step spread over its N - 1
 * forecasts. */
#include <complex.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>

#include "predictor.h"

#define DMD_MAX_M 16
#define DMD_MAX_R 8

typedef struct dmd_fit {
    int r;                                     /* r' (0: reuse the newest snapshot) */
    double Vs[DMD_MAX_M][DMD_MAX_R];           /* V S^{-1}, (m-1) x r' */
    double complex lam[DMD_MAX_R], b[DMD_MAX_R];
    double complex W[DMD_MAX_R][DMD_MAX_R];
} dmd_fit;

typedef struct dmd {
    int r, m, groups;
    size_t gn;                                 /* floats per group */
    hc_snapring ring;
    hc_dcache *taylor;
    double *gram;                              /* [groups][m][m] by ring slot */
    dmd_fit *fit;                              /* [groups] */
    int fitted, spacing, slot[DMD_MAX_M];      /* slots oldest..newest of the fit */
    gsl_eigen_symmv_workspace *sym;
    gsl_eigen_nonsymmv_workspace *ns[DMD_MAX_R + 1];
    gsl_matrix *G, *Gv, *A[DMD_MAX_R + 1];
    gsl_vector *Ge;
    gsl_vector_complex *ev[DMD_MAX_R + 1];
    gsl_matrix_complex *evec[DMD_MAX_R + 1];
} dmd;

static void free_state(void *state)
{
    dmd *d = state;
    if (!d) return;
    hc_snapring_release(&d->ring);
    hc_dcache_free(d->taylor);
    free(d->gram);
    free(d->fit);
    if (d->sym) gsl_eigen_symmv_free(d->sym);
    if (d->G) gsl_matrix_free(d->G);
    if (d->Gv) gsl_matrix_free(d->Gv);
    if (d->Ge) gsl_vector_free(d->Ge);
    for (int k = 1; k <= d->r; k++) {
        if (d->ns[k]) gsl_eigen_nonsymmv_free(d->ns[k]);
        if (d->A[k]) gsl_matrix_free(d->A[k]);
        if (d->ev[k]) gsl_vector_complex_free(d->ev[k]);
        if (d->evec[k]) gsl_matrix_complex_free(d->evec[k]);
    }
    free(d);
}

static hc_status alloc(const hc_method *m, size_t T, size_t D, unsigned long stream, void **state)
{
    (void)stream;
    if (m->rank > m->snaps - 1)
        return hc_fail(HC_EINVAL, "method '%s': r=%d needs at least r+1 snapshots (m=%d)", m->spec, m->rank, m->snaps);
    dmd *d = calloc(1, sizeof *d);
    if (!d) return hc_fail(HC_ENOMEM, "out of memory");
    d->r = m->rank;
    d->m = m->snaps;
    d->groups = m->groups >= 1 && T % (size_t)m->groups == 0 ? m->groups : 1;
    d->gn = T / (size_t)d->groups * D;
    hc_status st = hc_snapring_init(&d->ring, d->m, T * D, m->cache);
    if (st == HC_OK) st = hc_dcache_alloc(m, T * D, hc_coef_taylor, &d->taylor);
    if (st != HC_OK) {
        free_state(d);
        return st;
    }
    int mm = d->m - 1;
    d->gram = calloc((size_t)d->groups * d->m * d->m, sizeof *d->gram);
    d->fit = calloc((size_t)d->groups, sizeof *d->fit);
    d->sym = gsl_eigen_symmv_alloc((size_t)mm);
    d->G = gsl_matrix_alloc((size_t)mm, (size_t)mm);
    d->Gv = gsl_matrix_alloc((size_t)mm, (size_t)mm);
    d->Ge = gsl_vector_alloc((size_t)mm);
    int ok = d->gram && d->fit && d->sym && d->G && d->Gv && d->Ge;
    for (int k = 1; ok && k <= d->r; k++) {
        d->ns[k] = gsl_eigen_nonsymmv_alloc((size_t)k);
        d->A[k] = gsl_matrix_alloc((size_t)k, (size_t)k);
        d->ev[k] = gsl_vector_complex_alloc((size_t)k);
        d->evec[k] = gsl_matrix_complex_alloc((size_t)k, (size_t)k);
        ok = d->ns[k] && d->A[k] && d->ev[k] && d->evec[k];
    }
    if (!ok) {
        free_state(d);
        return hc_fail(HC_ENOMEM, "out of memory for DMD workspaces");
    }
    *state = d;
    return HC_OK;
}

static void reset(void *state)
{
    dmd *d = state;
    hc_snapring_clear(&d->ring);
    hc_dcache_reset(d->taylor);
    d->fitted = 0;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t e = 0; e < n; e++) s += (double)a[e] * b[e];
    return s;
}

/* a 16-bit ring (cache=f16|bf16): entries [off, off+len) of slot i as float32 */
#define DMD_CHUNK 256
static void load_slot(const dmd *d, int i, size_t off, size_t len, float *dst)
{
    const uint16_t *src = (const uint16_t *)(const void *)d->ring.block + (size_t)i * d->ring.n + off;
    hc_cache_load(d->ring.dtype, dst, src, len);
}

/* the Gram entry of slots i and j in group g: dot() of the stored snapshots
 * (a 16-bit ring: of their float32 values, converted in chunks) */
static double gram_dot(const dmd *d, int i, int j, int g)
{
    size_t off = (size_t)g * d->gn;
    if (d->ring.dtype == HC_CACHE_F32)
        return dot(d->ring.block + (size_t)i * d->ring.n + off, d->ring.block + (size_t)j * d->ring.n + off, d->gn);
    float x[DMD_CHUNK], y[DMD_CHUNK];
    double s = 0;
    for (size_t e0 = 0; e0 < d->gn; e0 += DMD_CHUNK) {
        size_t len = d->gn - e0 < DMD_CHUNK ? d->gn - e0 : DMD_CHUNK;
        load_slot(d, i, off + e0, len, x);
        load_slot(d, j, off + e0, len, y);
        for (size_t e = 0; e < len; e++) s += (double)x[e] * y[e]; /* dot()'s order: one running sum */
    }
    return s;
}

/* b = W^{-1} x (complex, partial pivoting); 0 if W is singular */
static int csolve(int n, double complex W[DMD_MAX_R][DMD_MAX_R], const double *x, double complex *b)
{
    double complex M[DMD_MAX_R][DMD_MAX_R + 1];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) M[i][j] = W[i][j];
        M[i][n] = x[i];
    }
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int i = c + 1; i < n; i++)
            if (cabs(M[i][c]) > cabs(M[p][c])) p = i;
        if (!(cabs(M[p][c]) > 1e-300)) return 0;
        for (int j = 0; j <= n; j++) {
            double complex t = M[c][j];
            M[c][j] = M[p][j];
            M[p][j] = t;
        }
        for (int i = c + 1; i < n; i++) {
            double complex f = M[i][c] / M[c][c];
            for (int j = c; j <= n; j++) M[i][j] -= f * M[c][j];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double complex s = M[i][n];
        for (int j = i + 1; j < n; j++) s -= M[i][j] * b[j];
        b[i] = s / M[i][i];
    }
    return 1;
}

/* Fit one group from its Gram (slots d->slot[0..m-1], oldest first). */
static int fit_group(dmd *d, const double *gram, dmd_fit *f)
{
    const int m = d->m, mm = m - 1;
#define GR(i, j) gram[d->slot[i] * m + d->slot[j]]
    for (int i = 0; i < mm; i++)
        for (int j = 0; j < mm; j++) gsl_matrix_set(d->G, (size_t)i, (size_t)j, GR(i, j));
    if (gsl_eigen_symmv(d->G, d->Ge, d->Gv, d->sym) != GSL_SUCCESS) return 0;
    gsl_eigen_symmv_sort(d->Ge, d->Gv, GSL_EIGEN_SORT_VAL_DESC);
    double s1 = gsl_vector_get(d->Ge, 0);
    f->r = 0;
    for (int i = 0; i < d->r && s1 > 0; i++)
        if (gsl_vector_get(d->Ge, (size_t)i) > 1e-12 * s1) f->r = i + 1;
    const int r = f->r;
    if (r == 0) return 1; /* all-zero window: reuse */
    for (int i = 0; i < mm; i++)
        for (int k = 0; k < r; k++)
            f->Vs[i][k] = gsl_matrix_get(d->Gv, (size_t)i, (size_t)k) / sqrt(gsl_vector_get(d->Ge, (size_t)k));
    double xt[DMD_MAX_R];
    for (int a = 0; a < r; a++) {
        xt[a] = 0;
        for (int i = 0; i < mm; i++) xt[a] += f->Vs[i][a] * GR(i, mm);
        for (int b = 0; b < r; b++) {
            double s = 0;
            for (int i = 0; i < mm; i++)
                for (int j = 0; j < mm; j++) s += f->Vs[i][a] * GR(i, j + 1) * f->Vs[j][b];
            gsl_matrix_set(d->A[r], (size_t)a, (size_t)b, s);
        }
    }
#undef GR
    if (gsl_eigen_nonsymmv(d->A[r], d->ev[r], d->evec[r], d->ns[r]) != GSL_SUCCESS) return 0;
    for (int a = 0; a < r; a++) {
        gsl_complex l = gsl_vector_complex_get(d->ev[r], (size_t)a);
        f->lam[a] = GSL_REAL(l) + I * GSL_IMAG(l);
        for (int b = 0; b < r; b++) {
            gsl_complex w = gsl_matrix_complex_get(d->evec[r], (size_t)a, (size_t)b);
            f->W[a][b] = GSL_REAL(w) + I * GSL_IMAG(w);
        }
    }
    if (!csolve(r, f->W, xt, f->b)) return 0;
    for (int a = 0; a < r; a++)
        if (!isfinite(creal(f->b[a])) || !isfinite(cimag(f->b[a]))) return 0;
    return 1;
}

static void observe(void *state, const hc_step_ctx *ctx, const float *feat)
{
    dmd *d = state;
    if (ctx->step == 0) reset(d);
    hc_dcache_observe(d->taylor, ctx, feat);
    hc_snapring_push(&d->ring, feat, ctx->step);
    const int m = d->m, h = d->ring.head;
    for (int g = 0; g < d->groups; g++) { /* the new slot's row and column of each Gram */
        double *gr = d->gram + (size_t)g * m * m;
        for (int j = 0; j < d->ring.count; j++) {
            int sj = (h - j + m) % m;
            gr[h * m + sj] = gr[sj * m + h] = gram_dot(d, h, sj, g);
        }
    }
    d->fitted = 0;
    if (d->ring.count < m) return;
    int s0, s1;
    hc_snapring_get(&d->ring, 0, &s0);
    hc_snapring_get(&d->ring, 1, &s1);
    d->spacing = s0 - s1;
    for (int j = 1; j < m; j++) { /* the last m full steps uniformly spaced? */
        int a, b;
        hc_snapring_get(&d->ring, j - 1, &a);
        hc_snapring_get(&d->ring, j, &b);
        if (a - b != d->spacing) return;
    }
    for (int i = 0; i < m; i++) d->slot[i] = (h - (m - 1 - i) + m) % m;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int ok = 1;
    for (int g = 0; g < d->groups && ok; g++) ok = fit_group(d, d->gram + (size_t)g * m * m, &d->fit[g]);
    gsl_set_error_handler(old);
    d->fitted = ok;
}

/* snapshot weights c[0..m-1] (oldest first) of group g at k spacings */
static int weights(const dmd *d, const dmd_fit *f, double k, double *c)
{
    const int m = d->m, r = f->r;
    for (int i = 0; i < m; i++) c[i] = 0;
    if (r == 0) {
        c[m - 1] = 1;
        return 1;
    }
    double z[DMD_MAX_R];
    for (int a = 0; a < r; a++) {
        double complex s = 0;
        for (int b = 0; b < r; b++) s += f->W[a][b] * cpow(f->lam[b], k) * f->b[b];
        z[a] = creal(s);
    }
    for (int i = 0; i < m - 1; i++) {
        for (int a = 0; a < r; a++) c[i] += f->Vs[i][a] * z[a];
        if (!isfinite(c[i])) return 0;
    }
    return 1;
}

/* o[e] = sum_i w[i] S_i[e] over group g of a 16-bit ring (the float32
 * loop of predict on converted chunks: the same double accumulation) */
static void combine_16(const dmd *d, int g, const double *w, float *o)
{
    float buf[DMD_MAX_M][DMD_CHUNK];
    for (size_t e0 = 0; e0 < d->gn; e0 += DMD_CHUNK) {
        size_t len = d->gn - e0 < DMD_CHUNK ? d->gn - e0 : DMD_CHUNK;
        for (int i = 0; i < d->m; i++) load_slot(d, d->slot[i], (size_t)g * d->gn + e0, len, buf[i]);
        for (size_t e = 0; e < len; e++) {
            double acc = 0;
            for (int i = 0; i < d->m; i++) acc += w[i] * buf[i][e];
            o[e0 + e] = (float)acc;
        }
    }
}

static hc_status predict(void *state, const hc_step_ctx *ctx, float *out)
{
    dmd *d = state;
    HC_ASSERT(d->ring.count >= 1);
    int s0;
    hc_snapring_get(&d->ring, 0, &s0);
    HC_ASSERT(ctx->step > s0);
    double k = (double)(ctx->step - s0) / d->spacing;
    int ok = d->fitted;
    for (int g = 0; g < d->groups && ok; g++) {
        double w[DMD_MAX_M];
        ok = weights(d, &d->fit[g], k, w);
        if (!ok) break;
        float *o = out + (size_t)g * d->gn;
        if (d->ring.dtype != HC_CACHE_F32) {
            combine_16(d, g, w, o);
            continue;
        }
        const float *S[DMD_MAX_M];
        for (int i = 0; i < d->m; i++) S[i] = d->ring.block + (size_t)d->slot[i] * d->ring.n + (size_t)g * d->gn;
        for (size_t e = 0; e < d->gn; e++) {
            double acc = 0;
            for (int i = 0; i < d->m; i++) acc += w[i] * S[i][e];
            o[e] = (float)acc;
        }
    }
    if (!ok) return hc_dcache_predict(d->taylor, ctx, out);
    return HC_OK;
}

static size_t cache_bytes(const void *state)
{
    const dmd *d = state;
    return hc_snapring_bytes(&d->ring) + hc_dcache_bytes(d->taylor);
}

/* forecast: m-1 multiply-adds per element (the newest snapshot's weight is
 * 0); a full step adds m Gram dot products per element, charged here spread
 * over the N-1 forecasts that follow it */
static void cost(const hc_method *m, size_t rows, int groups, double *terms, double *fresh_rows)
{
    (void)rows;
    (void)groups;
    *terms = (m->snaps - 1) + (double)m->snaps / (m->sched.N > 1 ? m->sched.N - 1 : 1);
    *fresh_rows = 0;
}

const hc_pred_type hc_pred_dmd = {
    .name = "dmd",
    .display = "DMD",
    .summary = "dynamic mode decomposition of rank r over the last m uniformly spaced full-step snapshots",
    .keys = "r,m,O",
    .defaults = "r=2,m=4,O=1",
    .caps = HC_PRED_HALF,
    .alloc = alloc,
    .observe = observe,
    .predict = predict,
    .reset = reset,
    .cache_bytes = cache_bytes,
    .order0 = NULL,
    .free = free_state,
    .cost = cost,
};
