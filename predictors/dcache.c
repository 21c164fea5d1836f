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

#include "pool.h"
#include "predictor.h"

struct hc_dcache {
    hc_method m;
    hc_coef_fn coef;
    size_t n;                        /* elements per order (T*D) */
    size_t stride;                   /* floats between orders: padded, see alloc */
    float *block;                    /* (O+1) x n, one allocation */
    float *D[HC_MAX_ORDER + 1];
    int valid;                       /* orders D_0..D_{valid-1} hold data */
    int n_full;                      /* full steps seen since the reset */
    int last, prev;                  /* last two full steps */
};

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
    c->stride = (n_elem + 15) / 16 * 16 + 16;
    c->block = malloc((size_t)(m->order + 1) * c->stride * sizeof *c->block);
    if (!c->block) {
        free(c);
        return hc_fail(HC_ENOMEM, "out of memory for a %d-order cache of %zu floats", m->order, n_elem);
    }
    for (int k = 0; k <= m->order; k++) c->D[k] = c->block + (size_t)k * c->stride;
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
    if (c->n_full < 2) {
        memcpy(c->D[0], feat, c->n * sizeof *feat);
        if (c->valid < 1) c->valid = 1;
        return;
    }
    int k = hc_schedule_updates_derivatives(&c->m.sched, ctx->step)
                ? (c->m.order < c->valid ? c->m.order : c->valid)
                : 0;
    if (k == 0) {
        memcpy(c->D[0], feat, c->n * sizeof *feat);
    } else {
        const float d = (float)(c->last - c->prev);
        float *const *D = c->D;
        for (size_t e = 0; e < c->n; e++) {
            float cur = feat[e];
            for (int i = 0; i < k; i++) {
                float next = (cur - D[i][e]) / d;
                D[i][e] = cur;
                cur = next;
            }
            D[k][e] = cur;
        }
    }
    c->valid = k + 1;
}

hc_status hc_dcache_predict(void *state, const hc_step_ctx *ctx, float *out)
{
    hc_dcache *c = state;
    HC_ASSERT(c->valid >= 1 && ctx->step > c->last);
    double coef[HC_MAX_ORDER + 1] = {1.0};
    int p = c->valid - 1 < c->m.order ? c->valid - 1 : c->m.order;
    if (p >= 1) c->coef(&c->m, (double)(ctx->step - c->last), p, coef);
    coef[0] = 1.0;
    hc_forecast_apply(out, (const float *const *)c->D, coef, p, c->n);
    return HC_OK;
}

size_t hc_dcache_bytes(const void *state)
{
    const hc_dcache *c = state;
    return (size_t)(c->m.order + 1) * c->stride * sizeof(float);
}

float *hc_dcache_order0(void *state) { return ((hc_dcache *)state)->D[0]; }
void hc_dcache_free_state(void *state) { hc_dcache_free(state); }
int hc_dcache_valid(const hc_dcache *c) { return c->valid; }
int hc_dcache_last_full(const hc_dcache *c) { return c->last; }
const float *hc_dcache_order(const hc_dcache *c, int k)
{
    HC_ASSERT(k >= 0 && k <= c->m.order);
    return c->D[k];
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

/* the kernel on chunks of whole 64-float blocks, one per pool thread (each
 * element's arithmetic is the same whatever the chunking) */
typedef struct fc_job {
    float *out;
    const float *const *D;
    const double *c;
    int p, w;
    size_t n;
} fc_job;

static void forecast_chunk(void *ud, int t)
{
    const fc_job *j = ud;
    size_t blocks = (j->n + 63) / 64;
    size_t e0 = blocks * (size_t)t / (size_t)j->w * 64, e1 = blocks * (size_t)(t + 1) / (size_t)j->w * 64;
    if (e1 > j->n) e1 = j->n;
    if (e1 <= e0) return;
    const float *Dt[HC_MAX_ORDER + 1];
    for (int k = 0; k <= j->p; k++) Dt[k] = j->D[k] + e0;
    forecast_kernel(j->out + e0, Dt, j->c, j->p, e1 - e0);
}

void hc_forecast_apply(float *restrict out, const float *const *D, const double *c, int p, size_t n)
{
    int w = hc_pool_width();
    if (w <= 1 || n < ((size_t)1 << 16)) {
        forecast_kernel(out, D, c, p, n);
        return;
    }
    fc_job j = {out, D, c, p, w, n};
    hc_pool_run(w, forecast_chunk, &j);
}
