/* snapring.c: a ring of full-step snapshots and the snapshot combination
 * shared by the window predictors (adams, spectrum, foca, dmd), and the
 * Chebyshev ridge fit of spectrum (double precision, GSL Cholesky on a
 * stack matrix: no allocation). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>

#include "predictor.h"

hc_status hc_snapring_init(hc_snapring *r, int cap, size_t n, hc_cache_dtype dtype)
{
    HC_ASSERT(cap >= 1 && cap <= 32 && n > 0);
    memset(r, 0, sizeof *r);
    r->cap = cap;
    r->n = n;
    r->head = -1;
    r->dtype = dtype;
    r->block = malloc((size_t)cap * n * hc_cache_dtype_size(dtype));
    if (!r->block) return hc_fail(HC_ENOMEM, "out of memory for %d snapshots of %zu floats", cap, n);
    return HC_OK;
}

void hc_snapring_release(hc_snapring *r)
{
    free(r->block);
    r->block = NULL;
}

void hc_snapring_clear(hc_snapring *r)
{
    r->count = 0;
    r->head = -1;
}

/* the entries of slot i (float or uint16_t) */
static void *slot_data(const hc_snapring *r, int i)
{
    return (char *)r->block + (size_t)i * r->n * hc_cache_dtype_size(r->dtype);
}

void hc_snapring_push(hc_snapring *r, const float *feat, int step)
{
    r->head = (r->head + 1) % r->cap;
    hc_cache_store(r->dtype, slot_data(r, r->head), feat, r->n);
    r->step[r->head] = step;
    if (r->count < r->cap) r->count++;
}

const float *hc_snapring_get(const hc_snapring *r, int j, int *step)
{
    HC_ASSERT(j >= 0 && j < r->count);
    int slot = (r->head - j + r->cap) % r->cap;
    if (step) *step = r->step[slot];
    return r->dtype == HC_CACHE_F32 ? r->block + (size_t)slot * r->n : NULL;
}

size_t hc_snapring_bytes(const hc_snapring *r) { return (size_t)r->cap * r->n * hc_cache_dtype_size(r->dtype); }

/* the j-th newest snapshot's entries, any dtype */
static const void *ring_entries(const hc_snapring *r, int j)
{
    HC_ASSERT(j >= 0 && j < r->count);
    return slot_data(r, (r->head - j + r->cap) % r->cap);
}

void hc_snapring_combine(float *out, const hc_snapring *r, const double *w, int n)
{
    HC_ASSERT(n >= 1 && n <= r->count);
    const void *S[HC_MAX_ORDER + 1];
    double c[HC_MAX_ORDER + 1];
    /* the first (up to) HC_MAX_ORDER+1 terms in one fused pass, the rest added */
    int first = n < HC_MAX_ORDER + 1 ? n : HC_MAX_ORDER + 1;
    for (int j = 0; j < first; j++) {
        S[j] = ring_entries(r, j);
        c[j] = w[j];
    }
    hc_forecast_apply_typed(out, S, r->dtype, c, first - 1, r->n);
    for (int j = first; j < n; j++) {
        const float k = (float)w[j];
        if (r->dtype == HC_CACHE_F32) {
            const float *s = ring_entries(r, j);
            for (size_t e = 0; e < r->n; e++) out[e] += k * s[e];
            continue;
        }
        float buf[256];
        const uint16_t *s = ring_entries(r, j);
        for (size_t e0 = 0; e0 < r->n; e0 += 256) {
            size_t len = r->n - e0 < 256 ? r->n - e0 : 256;
            hc_cache_load(r->dtype, buf, s + e0, len);
            for (size_t e = 0; e < len; e++) out[e0 + e] += k * buf[e];
        }
    }
}

/* T_0..T_M at t (three-term recurrence; valid outside [-1, 1] too) */
static void cheb(double t, int M, double *T)
{
    T[0] = 1.0;
    if (M >= 1) T[1] = t;
    for (int m = 2; m <= M; m++) T[m] = 2.0 * t * T[m - 1] - T[m - 2];
}

hc_status hc_ridge_cheb(const double *tau, int n, int M, double lam, double tau_star, const double *h, double *w,
                        double *coef)
{
    HC_ASSERT(n >= 1 && n <= 32 && M >= 0 && M <= HC_MAX_ORDER && lam >= 0);
    double X[32][HC_MAX_ORDER + 1], A[(HC_MAX_ORDER + 1) * (HC_MAX_ORDER + 1)], z[HC_MAX_ORDER + 1];
    const int P = M + 1;
    for (int j = 0; j < n; j++) cheb(tau[j], M, X[j]);
    for (int a = 0; a < P; a++)
        for (int b = 0; b < P; b++) {
            double s = a == b ? lam : 0.0;
            for (int j = 0; j < n; j++) s += X[j][a] * X[j][b];
            A[a * P + b] = s;
        }
    gsl_matrix_view Av = gsl_matrix_view_array(A, (size_t)P, (size_t)P);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_linalg_cholesky_decomp1(&Av.matrix);
    gsl_set_error_handler(old);
    if (st) return hc_fail(HC_EINVAL, "ridge fit: X^T X + lam I is singular (%d nodes, degree %d, lam %g)", n, M, lam);
    cheb(tau_star, M, z);
    gsl_vector_view zv = gsl_vector_view_array(z, (size_t)P);
    gsl_linalg_cholesky_svx(&Av.matrix, &zv.vector); /* z = A^{-1} t* */
    for (int j = 0; j < n; j++) {
        double s = 0;
        for (int a = 0; a < P; a++) s += X[j][a] * z[a];
        w[j] = s;
    }
    if (h && coef) { /* C = A^{-1} X^T h */
        double y[HC_MAX_ORDER + 1];
        for (int a = 0; a < P; a++) {
            y[a] = 0;
            for (int j = 0; j < n; j++) y[a] += X[j][a] * h[j];
        }
        gsl_vector_view yv = gsl_vector_view_array(y, (size_t)P);
        gsl_linalg_cholesky_svx(&Av.matrix, &yv.vector);
        for (int a = 0; a < P; a++) coef[a] = y[a];
    }
    return HC_OK;
}

/* ---- predictor states that start with a ring ---- */

hc_status hc_ring_state_alloc(size_t size, int cap, size_t n, hc_cache_dtype dtype, void **state)
{
    hc_snapring *r = calloc(1, size);
    if (!r) return hc_fail(HC_ENOMEM, "out of memory");
    hc_status st = hc_snapring_init(r, cap, n, dtype);
    if (st != HC_OK) {
        free(r);
        return st;
    }
    *state = r;
    return HC_OK;
}

void hc_ring_state_reset(void *state) { hc_snapring_clear(state); }

void hc_ring_state_observe(void *state, const hc_step_ctx *ctx, const float *feat)
{
    if (ctx->step == 0) hc_snapring_clear(state);
    hc_snapring_push(state, feat, ctx->step);
}

size_t hc_ring_state_bytes(const void *state) { return hc_snapring_bytes(state); }

void hc_ring_state_free(void *state)
{
    if (!state) return;
    hc_snapring_release(state);
    free(state);
}
