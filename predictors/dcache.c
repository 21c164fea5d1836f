/* dcache.c: the divided-difference cache every Taylor-style predictor shares,
 * and the fused forecast kernel.
 *
 * Full step at index a (official `derivative_approximation`):
 *   step 0 resets the cache;
 *   with fewer than two full steps so far: D_0 = F;
 *   else, with d = a - (previous full step) in step-index units and
 *   k = min(O, valid orders) if the warm-up condition holds (else 0):
 *     cur = F; for i < k: next = (cur - D_i_old) / d; D_i = cur; cur = next;
 *     D_k = cur; valid orders = k + 1   (higher orders are dropped).
 * Cached step s: x = s - a > 0 and F_hat = sum_k c_k(x) D_k, p = valid - 1. */
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "pool.h"
#include "predictor.h"

struct hc_dcache {
    hc_method m;
    hc_coef_fn coef;
    size_t n;                        /* elements per order (T*D) */
    size_t stride;                   /* floats between orders: padded, see alloc */
    hc_cache_dtype dt;               /* entries: float (D) or uint16_t (H) */
    void *block;                     /* (O+1) x stride entries, one allocation */
    float *D[HC_MAX_ORDER + 1];      /* float32 cache: the orders; else NULL */
    uint16_t *H[HC_MAX_ORDER + 1];   /* 16-bit cache: the orders; else NULL */
    int valid;                       /* orders D_0..D_{valid-1} hold data */
    int n_full;                      /* full steps seen since the reset */
    int last, prev;                  /* last two full steps */
    double fc[HC_MAX_ORDER + 1];     /* the prepared forecast: coefficients c_0..c_fp */
    int fp;
};

/* elements per conversion chunk of a 16-bit cache (stack buffers) */
#define HC_CHUNK 256

/* The update of elements [e0, e1) at a full step with k orders recomputed
 * (official `derivative_approximation`): k = 0 copies F into D_0.  A
 * 16-bit cache runs the same float32 recursion on converted entries and
 * stores the results rounded.  Elementwise: any split gives the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static void update_kernel(float *const *D, const float *restrict feat, float d, int k, size_t e0, size_t e1)
{
    /* orders 1..3 spelled out over restrict pointers (the caches and the
     * fresh row never overlap) so that the loop over elements vectorises */
    float *restrict d0 = D[0], *restrict d1 = k >= 1 ? D[1] : NULL;
    float *restrict d2 = k >= 2 ? D[2] : NULL, *restrict d3 = k >= 3 ? D[3] : NULL;
    switch (k) {
    case 1:
        for (size_t e = e0; e < e1; e++) {
            float cur = feat[e], n0 = (cur - d0[e]) / d;
            d0[e] = cur;
            d1[e] = n0;
        }
        return;
    case 2:
        for (size_t e = e0; e < e1; e++) {
            float cur = feat[e], n0 = (cur - d0[e]) / d, n1 = (n0 - d1[e]) / d;
            d0[e] = cur;
            d1[e] = n0;
            d2[e] = n1;
        }
        return;
    case 3:
        for (size_t e = e0; e < e1; e++) {
            float cur = feat[e], n0 = (cur - d0[e]) / d, n1 = (n0 - d1[e]) / d, n2 = (n1 - d2[e]) / d;
            d0[e] = cur;
            d1[e] = n0;
            d2[e] = n1;
            d3[e] = n2;
        }
        return;
    default:
        for (size_t e = e0; e < e1; e++) {
            float cur = feat[e];
            for (int i = 0; i < k; i++) {
                float next = (cur - D[i][e]) / d;
                D[i][e] = cur;
                cur = next;
            }
            D[k][e] = cur;
        }
    }
}

static void update_range(hc_dcache *c, const float *feat, int k, size_t e0, size_t e1)
{
    const float d = (float)(c->last - c->prev);
    if (c->dt == HC_CACHE_F32) {
        if (k == 0) memcpy(c->D[0] + e0, feat + e0, (e1 - e0) * sizeof *feat);
        else update_kernel(c->D, feat, d, k, e0, e1);
        return;
    }
    float buf[HC_MAX_ORDER + 1][HC_CHUNK];
    for (size_t a = e0; a < e1; a += HC_CHUNK) {
        size_t len = e1 - a < HC_CHUNK ? e1 - a : HC_CHUNK;
        if (k == 0) {
            hc_cache_store(c->dt, c->H[0] + a, feat + a, len);
            continue;
        }
        for (int i = 0; i < k; i++) hc_cache_load(c->dt, buf[i], c->H[i] + a, len);
        for (size_t e = 0; e < len; e++) {
            float cur = feat[a + e];
            for (int i = 0; i < k; i++) {
                float next = (cur - buf[i][e]) / d;
                buf[i][e] = cur;
                cur = next;
            }
            buf[k][e] = cur;
        }
        for (int i = 0; i <= k; i++) hc_cache_store(c->dt, c->H[i] + a, buf[i], len);
    }
}

/* the update on ranges of whole 64-element blocks, one per pool thread */
typedef struct up_job {
    hc_dcache *c;
    const float *feat;
    int k, w;
} up_job;

/* thread t of w's share of n elements: [*e0, *e1), whole 64-element blocks */
static void split64(size_t n, int t, int w, size_t *e0, size_t *e1)
{
    size_t blocks = (n + 63) / 64;
    *e0 = blocks * (size_t)t / (size_t)w * 64;
    *e1 = blocks * (size_t)(t + 1) / (size_t)w * 64;
    if (*e1 > n) *e1 = n;
}

static void update_chunk(void *ud, int t)
{
    const up_job *j = ud;
    size_t e0, e1;
    split64(j->c->n, t, j->w, &e0, &e1);
    if (e1 > e0) update_range(j->c, j->feat, j->k, e0, e1);
}

static void update(hc_dcache *c, const float *feat, int k)
{
    int w = hc_pool_width();
    if (w <= 1 || c->n < ((size_t)1 << 16)) {
        update_range(c, feat, k, 0, c->n);
        return;
    }
    up_job j = {c, feat, k, w};
    hc_pool_run(w, update_chunk, &j);
}

hc_status hc_dcache_alloc(const hc_method *m, size_t n_elem, hc_coef_fn coef, hc_dcache **out)
{
    HC_ASSERT(m->order >= 0 && m->order <= HC_MAX_ORDER && n_elem > 0);
    *out = NULL;
    hc_dcache *c = calloc(1, sizeof *c);
    if (!c) return hc_fail(HC_ENOMEM, "out of memory");
    c->m = *m;
    c->coef = coef;
    c->n = n_elem;
    /* orders sit one cache line (16 floats) further apart than a multiple of
     * 64 bytes, so the O+1 streams of the forecast kernel never alias modulo
     * 4 KiB (which costs bandwidth when T*D*4 is a multiple of 4096) */
    c->stride = (n_elem + 15) / 16 * 16 + 16; /* entries (a 16-bit cache: half the bytes) */
    c->dt = m->cache;
    c->block = malloc((size_t)(m->order + 1) * c->stride * hc_cache_dtype_size(c->dt));
    if (!c->block) {
        free(c);
        return hc_fail(HC_ENOMEM, "out of memory for a %d-order cache of %zu floats", m->order, n_elem);
    }
    for (int k = 0; k <= m->order; k++) {
        if (c->dt == HC_CACHE_F32) c->D[k] = (float *)c->block + (size_t)k * c->stride;
        else c->H[k] = (uint16_t *)c->block + (size_t)k * c->stride;
    }
    *out = c;
    return HC_OK;
}

void hc_dcache_free(hc_dcache *c)
{
    if (!c) return;
    free(c->block);
    free(c);
}

hc_status hc_dcache_type_alloc(const hc_method *m, size_t T, size_t D, hc_coef_fn coef, void **state)
{
    hc_dcache *c;
    HC_TRY(hc_dcache_alloc(m, T * D, coef, &c));
    *state = c;
    return HC_OK;
}

void hc_dcache_reset(void *state)
{
    hc_dcache *c = state;
    c->valid = 0;
    c->n_full = 0;
    c->last = c->prev = -1;
}

void hc_dcache_observe(void *state, const hc_step_ctx *ctx, const float *feat)
{
    hc_dcache *c = state;
    if (ctx->step == 0) hc_dcache_reset(c);
    HC_ASSERT(c->n_full == 0 || ctx->step > c->last);
    c->prev = c->last;
    c->last = ctx->step;
    c->n_full++;
    int k = c->n_full < 2 ? 0
            : hc_schedule_updates_derivatives(&c->m.sched, ctx->step) ? (c->m.order < c->valid ? c->m.order : c->valid)
                                                                       : 0;
    update(c, feat, k);
    if (c->n_full < 2 && c->dt == HC_CACHE_F32) { /* D_0 = F; the valid orders stay */
        if (c->valid < 1) c->valid = 1;
        return;
    }
    c->valid = k + 1;
}

hc_status hc_dcache_prepare(void *state, const hc_step_ctx *ctx)
{
    hc_dcache *c = state;
    HC_ASSERT(c->valid >= 1 && ctx->step > c->last);
    memset(c->fc, 0, sizeof c->fc);
    int p = c->valid - 1 < c->m.order ? c->valid - 1 : c->m.order;
    if (p >= 1) c->coef(&c->m, (double)(ctx->step - c->last), p, c->fc);
    c->fc[0] = 1.0;
    c->fp = p;
    return HC_OK;
}

hc_status hc_dcache_predict(void *state, const hc_step_ctx *ctx, float *out)
{
    hc_dcache *c = state;
    HC_TRY(hc_dcache_prepare(c, ctx));
    hc_dcache_apply(c, c->fc, c->fp, out);
    return HC_OK;
}

void hc_dcache_predict_range(const void *state, size_t e0, size_t n, float *out)
{
    const hc_dcache *c = state;
    HC_ASSERT(e0 + n <= c->n);
    const void *D[HC_MAX_ORDER + 1];
    for (int k = 0; k <= c->fp; k++) D[k] = c->dt == HC_CACHE_F32 ? (const void *)c->D[k] : (const void *)c->H[k];
    hc_forecast_apply_span(out, D, c->dt, c->fc, c->fp, e0, n);
}

void hc_dcache_apply(const hc_dcache *c, const double *coef, int p, float *out)
{
    HC_ASSERT(p >= 0 && p <= c->m.order);
    if (c->dt == HC_CACHE_F32) hc_forecast_apply(out, (const float *const *)c->D, coef, p, c->n);
    else hc_forecast_apply_typed(out, (const void *const *)c->H, c->dt, coef, p, c->n);
}

size_t hc_dcache_bytes(const void *state)
{
    const hc_dcache *c = state;
    return (size_t)(c->m.order + 1) * c->stride * hc_cache_dtype_size(c->dt);
}

void *hc_dcache_order0(void *state, hc_cache_dtype *dtype)
{
    hc_dcache *c = state;
    *dtype = c->dt;
    return c->dt == HC_CACHE_F32 ? (void *)c->D[0] : (void *)c->H[0];
}
void hc_dcache_free_state(void *state) { hc_dcache_free(state); }
int hc_dcache_valid(const hc_dcache *c) { return c->valid; }
int hc_dcache_last_full(const hc_dcache *c) { return c->last; }
const float *hc_dcache_order(const hc_dcache *c, int k)
{
    HC_ASSERT(k >= 0 && k <= c->m.order && c->dt == HC_CACHE_F32);
    return c->D[k];
}

void hc_dcache_load(const hc_dcache *c, int k, size_t e0, size_t n, float *dst)
{
    HC_ASSERT(k >= 0 && k <= c->m.order && e0 + n <= c->n);
    if (c->dt == HC_CACHE_F32) memcpy(dst, c->D[k] + e0, n * sizeof *dst);
    else hc_cache_load(c->dt, dst, c->H[k] + e0, n);
}

/* ---- fused kernel ----------------------------------------------------------
 * One pass: each element reads p+1 inputs and writes one output, so the
 * kernel is bandwidth-bound; the per-order cases let the compiler keep all
 * coefficients in registers and vectorise. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static void forecast_kernel(float *restrict out, const float *const *D, const double *c, int p, size_t n)
{
    HC_ASSERT(p >= 0 && p <= HC_MAX_ORDER);
    float k[HC_MAX_ORDER + 1];
    for (int i = 0; i <= p; i++) k[i] = (float)c[i];
    const float *restrict d0 = D[0];
    const float *restrict d1 = p >= 1 ? D[1] : NULL;
    const float *restrict d2 = p >= 2 ? D[2] : NULL;
    const float *restrict d3 = p >= 3 ? D[3] : NULL;
    const float *restrict d4 = p >= 4 ? D[4] : NULL;
    switch (p) {
    case 0:
        if (k[0] == 1.0f) memcpy(out, d0, n * sizeof *out);
        else for (size_t e = 0; e < n; e++) out[e] = k[0] * d0[e];
        return;
    case 1:
        for (size_t e = 0; e < n; e++) out[e] = k[0] * d0[e] + k[1] * d1[e];
        return;
    case 2:
        for (size_t e = 0; e < n; e++) out[e] = k[0] * d0[e] + k[1] * d1[e] + k[2] * d2[e];
        return;
    case 3:
        for (size_t e = 0; e < n; e++)
            out[e] = k[0] * d0[e] + k[1] * d1[e] + k[2] * d2[e] + k[3] * d3[e];
        return;
    case 4:
        for (size_t e = 0; e < n; e++)
            out[e] = k[0] * d0[e] + k[1] * d1[e] + k[2] * d2[e] + k[3] * d3[e] + k[4] * d4[e];
        return;
    default:
        for (size_t e = 0; e < n; e++) {
            float acc = k[0] * d0[e];
            for (int i = 1; i <= p; i++) acc += k[i] * D[i][e];
            out[e] = acc;
        }
    }
}

/* ---- cache dtypes ---- */

size_t hc_cache_dtype_size(hc_cache_dtype t) { return t == HC_CACHE_F32 ? sizeof(float) : sizeof(uint16_t); }

const char *hc_cache_dtype_name(hc_cache_dtype t)
{
    return t == HC_CACHE_F16 ? "f16" : t == HC_CACHE_BF16 ? "bf16" : "f32";
}

void hc_cache_store(hc_cache_dtype t, void *dst, const float *src, size_t n)
{
    switch (t) {
    case HC_CACHE_F32: memcpy(dst, src, n * sizeof *src); return;
    case HC_CACHE_F16: hc_float_to_half_n(src, dst, n); return;
    case HC_CACHE_BF16: hc_float_to_bf16_n(src, dst, n); return;
    }
}

void hc_cache_load(hc_cache_dtype t, float *dst, const void *src, size_t n)
{
    switch (t) {
    case HC_CACHE_F32: memcpy(dst, src, n * sizeof *dst); return;
    case HC_CACHE_F16:
        if (hc_half_have_f16c_cached()) hc_half_to_float_n_f16c(src, dst, n);
        else hc_half_to_float_n_scalar(src, dst, n);
        return;
    case HC_CACHE_BF16: hc_bf16_to_float_n(src, dst, n); return;
    }
}

/* elements [e0, e0 + n) of the forecast into out[0..n): float32 streams
 * through the kernel above, 16-bit ones converted on the fly (half.h's
 * lincomb: the kernel's operations on the converted floats) */
void hc_forecast_apply_span(float *restrict out, const void *const *D, hc_cache_dtype t, const double *c, int p,
                            size_t e0, size_t n)
{
    if (t == HC_CACHE_F32) {
        const float *Dt[HC_MAX_ORDER + 1];
        for (int k = 0; k <= p; k++) Dt[k] = (const float *)D[k] + e0;
        forecast_kernel(out, Dt, c, p, n);
        return;
    }
    HC_ASSERT(p >= 0 && p <= HC_MAX_ORDER);
    float k[HC_MAX_ORDER + 1];
    const uint16_t *Ht[HC_MAX_ORDER + 1];
    for (int i = 0; i <= p; i++) {
        k[i] = (float)c[i];
        Ht[i] = (const uint16_t *)D[i] + e0;
    }
    if (t == HC_CACHE_F16) hc_half_lincomb(out, Ht, k, p, n);
    else hc_bf16_lincomb(out, Ht, k, p, n);
}

/* the kernel on chunks of whole 64-float blocks, one per pool thread (each
 * element's arithmetic is the same whatever the chunking) */
typedef struct fc_job {
    float *out;
    const void *const *D;
    hc_cache_dtype t;
    const double *c;
    int p, w;
    size_t n;
} fc_job;

static void forecast_chunk(void *ud, int t)
{
    const fc_job *j = ud;
    size_t e0, e1;
    split64(j->n, t, j->w, &e0, &e1);
    if (e1 <= e0) return;
    hc_forecast_apply_span(j->out + e0, j->D, j->t, j->c, j->p, e0, e1 - e0);
}

void hc_forecast_apply_typed(float *restrict out, const void *const *D, hc_cache_dtype dtype, const double *c, int p,
                             size_t n)
{
    int w = hc_pool_width();
    if (w <= 1 || n < ((size_t)1 << 16)) {
        hc_forecast_apply_span(out, D, dtype, c, p, 0, n);
        return;
    }
    fc_job j = {out, D, dtype, c, p, w, n};
    hc_pool_run(w, forecast_chunk, &j);
}

void hc_forecast_apply(float *restrict out, const float *const *D, const double *c, int p, size_t n)
{
    hc_forecast_apply_typed(out, (const void *const *)D, HC_CACHE_F32, c, p, n);
}
