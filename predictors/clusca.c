/* clusca.c: ClusCa over any base predictor with an order-0 cache.
 * At a cached step, one random token per cluster (clusters from the
 * engine's k-means at the last full step) takes its true value into D_0,
 * then every token is blended D_0 <- (1-gamma) D_0 + gamma * fresh(cluster);
 * the base then forecasts from the edited D_0 and its unchanged D_1..D_O.
 * The edits persist until the next full step, as in the official code (so
 * they also enter the next D_1 = (F - D_0) / d).  Modules take fresh tokens
 * when ctx->fresh_ok (by default the *mlp modules, as the official code
 * recomputes MLP outputs only); other modules are pure base forecasts.
 * An empty cluster gets no fresh token (the official mask-and-argmax would
 * silently pick token 0). */
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "predictor.h"

typedef struct clusca {
    const hc_pred_type *base;
    void *bst;
    size_t T, D;
    int K;
    float gamma;
    gsl_rng *rng;
    int *tok;      /* [K] chosen token per cluster, -1 if empty */
    int *count;    /* [K] */
    int *list;     /* [K] compacted chosen tokens */
    int *slot;     /* [K] cluster -> row in rows, -1 if none */
    float *rows;   /* [K, D] fresh values */
    float *row;    /* [D] one D_0 row as float32 (a 16-bit base cache) */
    unsigned long seed;
} clusca;

static void free_state(void *state)
{
    clusca *c = state;
    if (!c) return;
    if (c->bst) c->base->free(c->bst);
    if (c->rng) gsl_rng_free(c->rng);
    free(c->tok);
    free(c->count);
    free(c->list);
    free(c->slot);
    free(c->rows);
    free(c->row);
    free(c);
}

static hc_status alloc(const hc_method *m, size_t T, size_t D, unsigned long stream, void **state)
{
    HC_ASSERT(m->base && (m->base->caps & HC_PRED_ORDER0) && m->base->order0);
    clusca *c = calloc(1, sizeof *c);
    if (!c) return hc_fail(HC_ENOMEM, "out of memory");
    c->base = m->base;
    c->T = T;
    c->D = D;
    /* K clusters per group (batch element): up to K x groups fresh tokens */
    size_t cap = (size_t)m->K * (size_t)(m->groups > 1 ? m->groups : 1);
    c->K = (int)(cap < T ? cap : T);
    c->gamma = (float)m->gamma;
    c->seed = m->seed * 2654435761UL + stream;
    hc_status st = m->base->alloc(m, T, D, stream, &c->bst);
    if (st != HC_OK) {
        free(c);
        return st;
    }
    size_t K = (size_t)c->K;
    c->rng = gsl_rng_alloc(gsl_rng_mt19937);
    c->tok = malloc(K * sizeof *c->tok);
    c->count = malloc(K * sizeof *c->count);
    c->list = malloc(K * sizeof *c->list);
    c->slot = malloc(K * sizeof *c->slot);
    c->rows = malloc(K * D * sizeof *c->rows);
    c->row = malloc(D * sizeof *c->row);
    if (!c->rng || !c->tok || !c->count || !c->list || !c->slot || !c->rows || !c->row) {
        free_state(c);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    gsl_rng_set(c->rng, c->seed);
    *state = c;
    return HC_OK;
}

static void reset(void *state)
{
    clusca *c = state;
    c->base->reset(c->bst);
    gsl_rng_set(c->rng, c->seed);
}

static void observe(void *state, const hc_step_ctx *ctx, const float *feat)
{
    clusca *c = state;
    if (ctx->step == 0) gsl_rng_set(c->rng, c->seed);
    c->base->observe(c->bst, ctx, feat);
}

/* The D_0 edits of predict on a 16-bit base cache: fresh rows stored
 * rounded; the blend in float32 on the converted row, stored rounded. */
static void edit_16(clusca *c, void *D0, hc_cache_dtype dt, const int *lab, int K, int n)
{
    const size_t D = c->D, es = hc_cache_dtype_size(dt);
    char *base = D0;
    for (int i = 0; i < n; i++) hc_cache_store(dt, base + (size_t)c->list[i] * D * es, c->rows + (size_t)i * D, D);
    if (!(c->gamma > 0)) return;
    const float g = c->gamma, h = 1.0f - c->gamma;
    for (size_t t = 0; t < c->T; t++) {
        int k = lab[t];
        if (k < 0 || k >= K || c->slot[k] < 0) continue;
        const float *f = c->rows + (size_t)c->slot[k] * D;
        hc_cache_load(dt, c->row, base + t * D * es, D);
        for (size_t j = 0; j < D; j++) c->row[j] = h * c->row[j] + g * f[j];
        hc_cache_store(dt, base + t * D * es, c->row, D);
    }
}

static hc_status predict(void *state, const hc_step_ctx *ctx, float *out)
{
    clusca *c = state;
    if (ctx->labels && ctx->fresh && ctx->fresh_ok) {
        int K = ctx->n_clusters < c->K ? ctx->n_clusters : c->K;
        const int *lab = ctx->labels;
        /* one uniformly random member per cluster (reservoir sampling) */
        for (int k = 0; k < K; k++) c->count[k] = 0, c->tok[k] = -1;
        for (size_t t = 0; t < c->T; t++) {
            int k = lab[t];
            if (k < 0 || k >= K) continue;
            if (gsl_rng_uniform_int(c->rng, (unsigned long)++c->count[k]) == 0) c->tok[k] = (int)t;
        }
        int n = 0;
        for (int k = 0; k < K; k++) {
            c->slot[k] = c->tok[k] >= 0 ? n : -1;
            if (c->tok[k] >= 0) c->list[n++] = c->tok[k];
        }
        HC_TRY(ctx->fresh(ctx->fresh_ud, c->list, n, c->rows));
        hc_cache_dtype dt;
        void *D0raw = c->base->order0(c->bst, &dt);
        if (dt != HC_CACHE_F32) {
            edit_16(c, D0raw, dt, lab, K, n);
            return c->base->predict(c->bst, ctx, out);
        }
        float *D0 = D0raw;
        const size_t D = c->D;
        for (int i = 0; i < n; i++) memcpy(D0 + (size_t)c->list[i] * D, c->rows + (size_t)i * D, D * sizeof *D0);
        if (c->gamma > 0) {
            const float g = c->gamma, h = 1.0f - c->gamma;
            for (size_t t = 0; t < c->T; t++) {
                int k = lab[t];
                if (k < 0 || k >= K || c->slot[k] < 0) continue;
                const float *f = c->rows + (size_t)c->slot[k] * D;
                float *d = D0 + t * D;
                for (size_t j = 0; j < D; j++) d[j] = h * d[j] + g * f[j];
            }
        }
    }
    return c->base->predict(c->bst, ctx, out);
}

static size_t cache_bytes(const void *state)
{
    const clusca *c = state;
    return c->base->cache_bytes(c->bst) + (size_t)c->K * c->D * sizeof(float);
}

/* One fresh row per cluster, K clusters per group (batch element); the
 * forecast itself costs what its base's does (O+1 terms). */
static void cost(const hc_method *m, size_t rows, int groups, double *terms, double *fresh_rows)
{
    double k = (double)m->K * (groups > 1 ? groups : 1);
    *terms = m->order + 1;
    *fresh_rows = k < (double)rows ? k : (double)rows;
}

const hc_pred_type hc_pred_clusca = {
    .name = "clusca",
    .display = "ClusCa",
    .summary = "ClusCa: one fresh token per k-means cluster blended into D_0 of a base predictor",
    .keys = "base,K,gamma,seed,fresh,iters",
    .defaults = "K=16,gamma=0.005,seed=0,fresh=mlp,iters=10",
    .caps = HC_PRED_FRESH | HC_PRED_LABELS | HC_PRED_WRAPS_BASE | HC_PRED_HALF,
    .alloc = alloc,
    .observe = observe,
    .predict = predict,
    .reset = reset,
    .cache_bytes = cache_bytes,
    .cost = cost,
    .order0 = NULL, /* not a base for another ClusCa */
    .free = free_state,
};
