/* predictor.h: feature forecasters, their method specs and schedules.
 *
 * A method is written `name:key=value,...`, e.g. `taylor:N=5,W=3,O=2` or
 * `hicache:N=7,O=2,sigma=0.5` or `clusca:base=hicache,K=16,gamma=0.005`.
 * Every method carries the schedule keys N (interval), W (warm-up full
 * steps) and sched (flux | dit | mod); `full` is no caching.
 *
 * A predictor type is a const struct of function pointers listed in one
 * registry table (hc_pred_types); adding a predictor is one file in
 * predictors/ plus one row in that table (predictors/registry.c).
 *
 * Semantics follow the official TaylorSeer/HiCache code (see
 * docs/predictors.md): a cache of divided differences D_0..D_O in step-index
 * units is refreshed at each full step, and a cached step s is forecast at
 * the positive horizon x = s - (last full step). */
#ifndef HC_PREDICTOR_H
#define HC_PREDICTOR_H

#include <stddef.h>

#include "policy.h"
#include "status.h"

#define HC_MAX_ORDER 8
#define HC_SPEC_MAX 256

/* ---- schedules ------------------------------------------------------------ */

typedef enum hc_sched_kind {
    HC_SCHED_FLUX = 0, /* count-up: s < W full, then a counter; full when it reaches N-1 */
    HC_SCHED_DIT = 1,  /* DiT code: the same counter on the count-down index S-1-s */
    HC_SCHED_MOD = 2   /* FORA: full iff s mod N == 0 */
} hc_sched_kind;

typedef struct hc_schedule {
    hc_sched_kind kind;
    int N; /* interval, >= 1 (N = 1: every step full) */
    int W; /* warm-up full steps, >= 1 */
} hc_schedule;

/* full[s] = 1 for full steps, 0 for cached ones, s < S; returns the number
 * of full steps.  Step 0 is always full. */
int hc_schedule_mask(const hc_schedule *sc, int S, unsigned char *full);

/* Whether the derivative recursion may run at a full step (official:
 * step > W-2 in sampling order; always for `mod`). */
int hc_schedule_updates_derivatives(const hc_schedule *sc, int step);

const char *hc_sched_name(hc_sched_kind k);

/* ---- methods ---------------------------------------------------------------- */

typedef struct hc_pred_type hc_pred_type;

/* Storage of a predictor's feature cache (key `cache`): float32, or 16 bits
 * (binary16 or bfloat16, rounded to nearest even; half.h).  The math stays
 * float32: entries convert on load and round on store. */
typedef enum hc_cache_dtype { HC_CACHE_F32 = 0, HC_CACHE_F16 = 1, HC_CACHE_BF16 = 2 } hc_cache_dtype;

/* A parsed method spec: the type plus every parameter any type uses; each
 * type reads only its own keys. */
typedef struct hc_method {
    char spec[HC_SPEC_MAX];     /* as given */
    const hc_pred_type *type;
    hc_schedule sched;
    int order;                  /* O: highest difference order */
    double sigma;               /* Hermite / dual-scaling contraction */
    /* ClusCa */
    const hc_pred_type *base;   /* base predictor */
    int K;                      /* clusters */
    double gamma;               /* propagation ratio */
    unsigned long seed;         /* fresh-token RNG seed */
    int fresh_all;              /* 1: every module gets fresh tokens; 0: *mlp modules only */
    int kmeans_iters;           /* max Lloyd iterations per full step */
    int groups;                 /* token groups clustered separately in one tensor (batch
                                   elements), K clusters each; set by the engine (0 = 1) */
    /* snapshot-window predictors (dmd, spectrum) */
    int rank;                   /* r: DMD truncation rank */
    int snaps;                  /* m: DMD snapshots */
    int degree;                 /* M: Chebyshev degree (spectrum) */
    double lam;                 /* lam: ridge penalty (spectrum) */
    int window;                 /* window: snapshots in the ridge fit (spectrum) */
    hc_policy policy;           /* `@POLICY`: type NULL = the fixed schedule above decides */
    hc_cache_dtype cache;       /* cache=f32 (default) | f16 | bf16: types with HC_PRED_HALF */
} hc_method;

/* Parse a spec PREDICTOR[@POLICY] (policy.h); HC_EINVAL with a message
 * listing valid names/keys/ranges. */
hc_status hc_method_parse(const char *spec, hc_method *out);

/* An upper bound of the horizon of a cached step (below it; replay's
 * by-horizon table): N for a fixed schedule, max_skip (or 1000) for a policy. */
int hc_method_max_horizon(const hc_method *m);

/* Capabilities of a parsed method: its type's, plus those of a wrapped
 * base that the engine must serve (labels, fresh tokens). */
unsigned hc_method_caps(const hc_method *m);

/* A method's forecast cost (hc_pred_type.cost, or the default). */
void hc_method_cost(const hc_method *m, size_t rows, int groups, double *terms, double *fresh_rows);

/* Canonical "name:key=value,..." with every key resolved (for outputs). */
void hc_method_describe(const hc_method *m, char *buf, size_t n);

/* Paper-style label: "TaylorSeer (N=7, O=2)", "HiCache (N=7, O=2, σ=0.5)". */
void hc_method_label(const hc_method *m, char *buf, size_t n);

/* ---- per-step context --------------------------------------------------------- */

/* Compute the true module output for `n` tokens (indices tok[0..n-1]) at the
 * current step into rows[n][D] (float32 row-major).  Replay copies them from
 * the trajectory; a live model runs the module on those tokens. */
typedef hc_status (*hc_fresh_fn)(void *ud, const int *tok, int n, float *rows);

typedef struct hc_step_ctx {
    int step;               /* sampling-order step index */
    const int *labels;      /* token -> cluster, [T], valid since the last full step (or NULL) */
    int n_clusters;
    hc_fresh_fn fresh;      /* may be NULL: no fresh tokens available */
    void *fresh_ud;
    int fresh_ok;           /* this module takes fresh tokens (ClusCa's module rule) */
} hc_step_ctx;

/* ---- predictor types ------------------------------------------------------------- */

/* Capabilities: what a type needs from the engine, or offers to it.  The
 * cache driver (src/engine/driver.h) reads these and nothing else: no engine
 * compares a method's name or looks at its fields. */
enum hc_pred_caps {
    HC_PRED_NO_CACHE = 1u << 0,   /* never forecasts: every step is full (full compute) */
    HC_PRED_FRESH = 1u << 1,      /* predict() may ask ctx->fresh for true rows of chosen tokens */
    HC_PRED_LABELS = 1u << 2,     /* predict() needs token cluster labels (ctx->labels) from the
                                     last full step, on the clustering input the engine provides */
    HC_PRED_ORDER0 = 1u << 3,     /* order0() exposes a mutable D_0: usable as another type's base */
    HC_PRED_WRAPS_BASE = 1u << 4, /* wraps the base= type (hc_method.base) and edits its D_0 */
    HC_PRED_LINEAR = 1u << 5,     /* the forecast is a fixed linear combination of past full-step
                                     features (hc_weights_compute applies) */
    HC_PRED_HALF = 1u << 6,       /* keeps its cache in hc_method.cache's dtype (cache=f16|bf16) */
    HC_PRED_RANGE = 1u << 7       /* forecasts in pieces: prepare() + predict_range() */
};

struct hc_pred_type {
    const char *name;
    unsigned caps;        /* hc_pred_caps */
    const char *display;  /* paper-style name: "TaylorSeer", "HiCache" */
    const char *summary;
    const char *keys;     /* accepted keys besides N, W, sched: "O,sigma" */
    const char *defaults; /* "O=2,sigma=0.5" */
    /* Allocate state for one module stream of T tokens x D channels;
     * `stream` distinguishes modules (seeds per-module randomness). */
    hc_status (*alloc)(const hc_method *m, size_t T, size_t D, unsigned long stream, void **state);
    /* Full step: the true feature F [T, D] float32 row-major. */
    void (*observe)(void *state, const hc_step_ctx *ctx, const float *feat);
    /* Cached step: forecast [T, D] into out.  May call ctx->fresh. */
    hc_status (*predict)(void *state, const hc_step_ctx *ctx, float *out);
    /* Forget everything (a new sampling run). */
    void (*reset)(void *state);
    /* Bytes of feature cache held (the memory a cache of this method costs). */
    size_t (*cache_bytes)(const void *state);
    /* Mutable order-0 cache D_0 [T, D] or NULL if the type has none
     * (ClusCa edits it in place): entries of *dtype (float, or uint16_t
     * binary16/bfloat16 for cache=f16|bf16). */
    void *(*order0)(void *state, hc_cache_dtype *dtype);
    void (*free)(void *state);
    /* Cost of a forecast over `rows` rows (NULL: the default, O+1 multiply-
     * adds per element and no fresh rows): multiply-adds per element, and the
     * rows the engine must compute for real when the module takes fresh
     * tokens (`groups` batch elements). */
    void (*cost)(const hc_method *m, size_t rows, int groups, double *terms, double *fresh_rows);
    /* Basis coefficients c_0..c_p at horizon x for divided-difference
     * types (NULL otherwise): the forecast is sum_k c_k D_k. */
    void (*coef)(const hc_method *m, double x, int p, double *c);
    /* Forecast in pieces (types with HC_PRED_RANGE; NULL otherwise):
     * prepare() does what predict() decides once per step (coefficients,
     * weights), then predict_range(state, e0, n, out) writes elements
     * [e0, e0 + n) of that forecast to out[0..n): bit for bit predict()'s
     * out[e0..e0+n).  predict_range only reads the state, so ranges may come
     * in any order and from several threads at once, until the next
     * observe, prepare or predict.  Such a type never asks for fresh rows. */
    hc_status (*prepare)(void *state, const hc_step_ctx *ctx);
    void (*predict_range)(const void *state, size_t e0, size_t n, float *out);
};

/* NULL-terminated registry. */
extern const hc_pred_type *const hc_pred_types[];
const hc_pred_type *hc_pred_type_find(const char *name);
/* "full, reuse, taylor, ..." */
void hc_pred_type_list(char *buf, size_t n);

/* ---- a predictor instance ------------------------------------------------------------- */

typedef struct hc_predictor {
    const hc_pred_type *type;
    void *state;
} hc_predictor;

hc_status hc_predictor_alloc(const hc_method *m, size_t T, size_t D, unsigned long stream,
                             hc_predictor **out);
void hc_predictor_free(hc_predictor *p);

/* ---- shared machinery for the divided-difference family ------------------------------ */

/* Coefficients c_0..c_p of D_0..D_p at horizon x (c_0 = 1). */
typedef void (*hc_coef_fn)(const hc_method *m, double x, int p, double *c);

typedef struct hc_dcache hc_dcache;

/* The official TaylorSeer cache: D_0..D_O [T*D] in m->cache's dtype (float32
 * by default), the last two full steps, and the number of valid orders.  A
 * 16-bit cache updates in float32 from the converted entries and stores the
 * results rounded. */
hc_status hc_dcache_alloc(const hc_method *m, size_t n_elem, hc_coef_fn coef, hc_dcache **out);
void hc_dcache_free(hc_dcache *c);

/* Generic type callbacks over an hc_dcache state (used by every basis). */
hc_status hc_dcache_type_alloc(const hc_method *m, size_t T, size_t D, hc_coef_fn coef, void **state);

/* Define the callbacks of a divided-difference type from its coefficient
 * function: one line per predictor file. */
#define HC_DCACHE_TYPE_ALLOC(fn_name, coef)                                                 \
    static hc_status fn_name(const hc_method *m, size_t T, size_t D, unsigned long stream, \
                             void **state)                                                 \
    {                                                                                      \
        (void)stream;                                                                      \
        return hc_dcache_type_alloc(m, T, D, coef, state);                                 \
    }
#define HC_DCACHE_CAPS (HC_PRED_ORDER0 | HC_PRED_LINEAR | HC_PRED_HALF | HC_PRED_RANGE)
#define HC_DCACHE_CALLBACKS                                                                \
    .observe = hc_dcache_observe, .predict = hc_dcache_predict, .reset = hc_dcache_reset,  \
    .cache_bytes = hc_dcache_bytes, .order0 = hc_dcache_order0, .free = hc_dcache_free_state, \
    .prepare = hc_dcache_prepare, .predict_range = hc_dcache_predict_range
void hc_dcache_observe(void *state, const hc_step_ctx *ctx, const float *feat);
hc_status hc_dcache_predict(void *state, const hc_step_ctx *ctx, float *out);
hc_status hc_dcache_prepare(void *state, const hc_step_ctx *ctx);
void hc_dcache_predict_range(const void *state, size_t e0, size_t n, float *out);
void hc_dcache_reset(void *state);
size_t hc_dcache_bytes(const void *state);
void *hc_dcache_order0(void *state, hc_cache_dtype *dtype);
void hc_dcache_free_state(void *state);

/* Number of valid orders (n; D_0..D_{n-1}) and last full step, for tests.
 * hc_dcache_order needs a float32 cache (hc_dcache_order0 gives D_0's entries
 * of any dtype, and the dtype); hc_dcache_load copies D_k[e0..e0+n) out as float32, any dtype. */
int hc_dcache_valid(const hc_dcache *c);
int hc_dcache_last_full(const hc_dcache *c);
const float *hc_dcache_order(const hc_dcache *c, int k);
void hc_dcache_load(const hc_dcache *c, int k, size_t e0, size_t n, float *dst);
/* out[e] = sum_{k<=p} coef[k] D_k[e] (hc_forecast_apply over the cache, any dtype) */
void hc_dcache_apply(const hc_dcache *c, const double *coef, int p, float *out);

/* ---- bases (double precision, GSL) ----------------------------------------------------
 * c_k = scale^k * H_k(arg) / k!   (physicists' Hermite, H_1 = 2x), k = 0..p */
void hc_basis_hermite(double arg, double scale, int p, double *c);
/* c_k = scale^k * x^k / k!, k = 0..p */
void hc_basis_monomial(double x, double scale, int p, double *c);
/* TaylorSeer's coefficients as an hc_coef_fn: c_k = x^k / k! (the method unused) */
void hc_coef_taylor(const hc_method *m, double x, int p, double *c);

/* ---- a ring of full-step snapshots (adams, spectrum, foca, dmd) ----------------------- */

typedef struct hc_snapring {
    int cap, count, head;        /* head = newest */
    size_t n;                    /* floats per snapshot */
    float *block;                /* cap x n, one allocation (f32); 16-bit entries otherwise */
    int step[32];                /* sampling-order step of each slot */
    hc_cache_dtype dtype;        /* of block's entries */
} hc_snapring;

/* cap <= 32; dtype F32 keeps float snapshots (block, hc_snapring_get's data);
 * a 16-bit ring's hc_snapring_get returns NULL (steps only) and its data is
 * read through hc_snapring_combine. */
hc_status hc_snapring_init(hc_snapring *r, int cap, size_t n, hc_cache_dtype dtype);
void hc_snapring_release(hc_snapring *r);
void hc_snapring_clear(hc_snapring *r);
void hc_snapring_push(hc_snapring *r, const float *feat, int step);
/* j-th newest snapshot (j = 0: newest), j < count */
const float *hc_snapring_get(const hc_snapring *r, int j, int *step);
size_t hc_snapring_bytes(const hc_snapring *r);

/* A predictor state whose first member is an hc_snapring (adams, spectrum,
 * foca): allocation of `size` zeroed bytes with the ring of cap snapshots of
 * n floats, and the hc_pred_type hooks that touch only the ring (observe
 * pushes the snapshot, clearing the ring at step 0). */
hc_status hc_ring_state_alloc(size_t size, int cap, size_t n, hc_cache_dtype dtype, void **state);
void hc_ring_state_reset(void *state);
void hc_ring_state_observe(void *state, const hc_step_ctx *ctx, const float *feat);
size_t hc_ring_state_bytes(const void *state);
void hc_ring_state_free(void *state);

/* out[e] = sum_{j<n} w[j] * S_j[e] (float32, e < len; any n >= 1): the
 * snapshot combination of the window predictors, S_j the j-th newest. */
void hc_snapring_combine(float *out, const hc_snapring *r, const double *w, int n);

/* Ridge fit on Chebyshev polynomials (spectrum): nodes tau[0..n-1], degree
 * M (the caller keeps M <= n-1 when lam = 0), penalty lam.  w[j] gets the
 * weight of value j in the forecast at tau_star (sum_m C_m T_m(tau_star),
 * C = (X^T X + lam I)^{-1} X^T h, X_jm = T_m(tau_j)); if h is non-NULL,
 * coef[0..M] gets C for the values h[0..n-1].  n <= 32, M <= 8. */
hc_status hc_ridge_cheb(const double *tau, int n, int M, double lam, double tau_star, const double *h, double *w,
                        double *coef);

/* ---- the fused forecast kernel ------------------------------------------------------- */

/* out[e] = sum_{k=0..p} c[k] * D[k][e] for e < n: one pass over the
 * (p+1) input streams, float32 math, no allocation.  p <= HC_MAX_ORDER. */
void hc_forecast_apply(float *restrict out, const float *const *D, const double *c, int p, size_t n);

/* The same over caches of any dtype: D[k] points at entries of `dtype`
 * (float or uint16_t); 16-bit entries convert to float32 on the fly (in
 * stack chunks), then the float32 kernel runs, so the result is exactly
 * that of hc_forecast_apply on the converted values.  F32 is
 * hc_forecast_apply. */
void hc_forecast_apply_typed(float *restrict out, const void *const *D, hc_cache_dtype dtype, const double *c, int p,
                             size_t n);
/* Elements [e0, e0 + n) of that forecast into out[0..n), on this thread
 * (what predict_range implementations call): the same bits. */
void hc_forecast_apply_span(float *restrict out, const void *const *D, hc_cache_dtype dtype, const double *c, int p,
                            size_t e0, size_t n);

/* Bytes per cache entry (4 or 2), and the key's value ("f32", "f16", "bf16"). */
size_t hc_cache_dtype_size(hc_cache_dtype t);
const char *hc_cache_dtype_name(hc_cache_dtype t);
/* dst[i] (dtype entries) = src[i] rounded, and back: i < n, no overlap. */
void hc_cache_store(hc_cache_dtype t, void *dst, const float *src, size_t n);
void hc_cache_load(hc_cache_dtype t, float *dst, const void *src, size_t n);

#endif
