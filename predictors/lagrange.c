/* lagrange.c: exact polynomial extrapolation through the last O+1 full-step
 * snapshots at their true step indices (Lagrange form).  The textbook
 * alternative to TaylorSeer's divided-difference recursion: on a uniform
 * grid both are exact on degree-O polynomials, but their weights differ
 * (TaylorSeer's order-2 weights at N=6, x=3 are 1.625, -0.75, 0.125;
 * Lagrange's are 1.875, -1.25, 0.375). */
#include <stdlib.h>
#include <string.h>

#include "predictor.h"

typedef struct lagrange {
    int O, count, head;          /* ring of O+1 snapshots; head = newest */
    size_t n;
    hc_cache_dtype dt;           /* of the snapshot entries */
    void *block;
    void *snap[HC_MAX_ORDER + 1];
    int step[HC_MAX_ORDER + 1];
    const void *fD[HC_MAX_ORDER + 1];  /* the prepared forecast: newest first */
    double fw[HC_MAX_ORDER + 1];
} lagrange;

static hc_status alloc(const hc_method *m, size_t T, size_t D, unsigned long stream, void **state)
{
    (void)stream;
    lagrange *l = calloc(1, sizeof *l);
    if (!l) return hc_fail(HC_ENOMEM, "out of memory");
    l->O = m->order;
    l->n = T * D;
    l->dt = m->cache;
    l->block = malloc((size_t)(l->O + 1) * l->n * hc_cache_dtype_size(l->dt));
    if (!l->block) {
        free(l);
        return hc_fail(HC_ENOMEM, "out of memory for %d snapshots of %zu floats", m->order + 1, T * D);
    }
    for (int k = 0; k <= l->O; k++) l->snap[k] = (char *)l->block + (size_t)k * l->n * hc_cache_dtype_size(l->dt);
    l->head = -1;
    *state = l;
    return HC_OK;
}

static void reset(void *state)
{
    lagrange *l = state;
    l->count = 0;
    l->head = -1;
}

static void observe(void *state, const hc_step_ctx *ctx, const float *feat)
{
    lagrange *l = state;
    if (ctx->step == 0) reset(l);
    l->head = (l->head + 1) % (l->O + 1);
    hc_cache_store(l->dt, l->snap[l->head], feat, l->n);
    l->step[l->head] = ctx->step;
    if (l->count < l->O + 1) l->count++;
}

static hc_status prepare(void *state, const hc_step_ctx *ctx)
{
    lagrange *l = state;
    HC_ASSERT(l->count >= 1);
    const void **D = l->fD;
    double *w = l->fw;
    double s = ctx->step;
    for (int j = 0; j < l->count; j++) {
        int sj = (l->head - j + l->O + 1) % (l->O + 1);
        D[j] = l->snap[sj];
        w[j] = 1.0;
        for (int i = 0; i < l->count; i++) {
            if (i == j) continue;
            int si = (l->head - i + l->O + 1) % (l->O + 1);
            w[j] *= (s - l->step[si]) / (double)(l->step[sj] - l->step[si]);
        }
    }
    return HC_OK;
}

static hc_status predict(void *state, const hc_step_ctx *ctx, float *out)
{
    lagrange *l = state;
    HC_TRY(prepare(l, ctx));
    hc_forecast_apply_typed(out, l->fD, l->dt, l->fw, l->count - 1, l->n);
    return HC_OK;
}

static void predict_range(const void *state, size_t e0, size_t n, float *out)
{
    const lagrange *l = state;
    hc_forecast_apply_span(out, l->fD, l->dt, l->fw, l->count - 1, e0, n);
}

static size_t cache_bytes(const void *state)
{
    const lagrange *l = state;
    return (size_t)(l->O + 1) * l->n * hc_cache_dtype_size(l->dt);
}

static void free_state(void *state)
{
    lagrange *l = state;
    if (!l) return;
    free(l->block);
    free(l);
}

const hc_pred_type hc_pred_lagrange = {
    .name = "lagrange",
    .display = "Lagrange",
    .summary = "exact polynomial extrapolation through the last O+1 full-step snapshots",
    .keys = "O",
    .defaults = "O=2",
    .caps = HC_PRED_LINEAR | HC_PRED_HALF | HC_PRED_RANGE,
    .alloc = alloc,
    .observe = observe,
    .predict = predict,
    .reset = reset,
    .cache_bytes = cache_bytes,
    .order0 = NULL,
    .free = free_state,
    .prepare = prepare,
    .predict_range = predict_range,
};
