/* test_conformance.c: every registered predictor type (hc_pred_types[], so a
 * new predictor is tested without editing this file) against the contract of
 * predictor.h and weights.h:
 *   1. capabilities are coherent with the type's callbacks, keys and parsing;
 *   2. N = 1 is full compute: every step full, output = the true features;
 *   3. reset restores the first run bit for bit, and a reset instance agrees
 *      with a freshly allocated one;
 *   4. cache_bytes matches the heap that alloc() really takes (mallinfo2,
 *      or ASan's allocator in a sanitized build);
 *   5. HC_PRED_LINEAR types: hc_weights_compute reproduces the forecasts;
 *   6. HC_PRED_RANGE types: prepare + predict_range over ranges cut at
 *      random, written in reverse order, give predict()'s bits (f32 and
 *      16-bit caches);
 * and, at every forecast, the output is finite, covers all of [T*D] and
 * nothing outside it is written.  Wrapping types (HC_PRED_WRAPS_BASE) run
 * over every valid base.  Only predictor.h / weights.h APIs are used. */
#include <malloc.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "predictor.h"
#include "weights.h"
#include "testutil.h"

/* S steps of T tokens x D channels: T*D*4 = 64 KiB per snapshot, large
 * enough that allocator bookkeeping is negligible next to a feature cache */
enum { S = 30, T = 256, D = 64, NLAB = 4, GUARD = 64, MAX_METHODS = 64 };
#define TD ((size_t)T * D)

/* ---- the synthetic trajectories ---------------------------------------------------- */

static float *traj_a, *traj_b; /* [S][T*D] float32 row-major */
static int labels[T];          /* the fixed labelling: token t -> cluster t mod NLAB */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(uint64_t *x) { return (double)(splitmix(x) >> 11) * 0x1p-53 * 2 - 1; } /* [-1, 1) */

/* F[s][e] = a + b u + c u^2 + 0.3 sin(w u + phi) + 0.01 noise, u = s/(S-1),
 * coefficients per element: smooth in s, as a diffusion feature, plus noise */
static float *make_traj(uint64_t seed)
{
    float *F = malloc((size_t)S * TD * sizeof *F);
    assert_non_null(F);
    for (size_t e = 0; e < TD; e++) {
        double a = unif(&seed), b = unif(&seed), c = unif(&seed), w = 3 * unif(&seed), phi = 3 * unif(&seed);
        for (int s = 0; s < S; s++) {
            double u = (double)s / (S - 1);
            F[(size_t)s * TD + e] = (float)(a + b * u + c * u * u + 0.3 * sin(w * u + phi) + 0.01 * unif(&seed));
        }
    }
    return F;
}

/* ---- the methods under test ----------------------------------------------------------- */

typedef struct method_id {
    const hc_pred_type *type, *base; /* base: NULL unless the type wraps one */
} method_id;

static method_id methods[MAX_METHODS];
static int n_methods;

/* A valid base: exposes D_0, is neither full compute nor a wrapper itself. */
static int is_valid_base(const hc_pred_type *t)
{
    return (t->caps & HC_PRED_ORDER0) && !(t->caps & (HC_PRED_NO_CACHE | HC_PRED_WRAPS_BASE));
}

static int in_list(const char *list, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, key, n) == 0) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    hc_init();
    traj_a = make_traj(1);
    traj_b = make_traj(2);
    for (int t = 0; t < T; t++) labels[t] = t % NLAB;
    for (const hc_pred_type *const *t = hc_pred_types; *t; t++) {
        if (!((*t)->caps & HC_PRED_WRAPS_BASE)) {
            methods[n_methods++] = (method_id){*t, NULL};
            continue;
        }
        for (const hc_pred_type *const *b = hc_pred_types; *b; b++)
            if (is_valid_base(*b)) methods[n_methods++] = (method_id){*t, *b};
    }
    return n_methods > 0 && n_methods < MAX_METHODS ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(traj_a);
    free(traj_b);
    return 0;
}

/* (N, W, O, sched): O is given only to types that accept it */
typedef struct setting {
    int N, W, O;
    const char *sched;
} setting;

static const setting settings[] = {
    {3, 3, 1, "flux"}, {7, 3, 2, "flux"}, {5, 2, 2, "dit"}, {4, 1, 3, "mod"}, {2, 1, 0, "flux"}, {6, 2, 2, "mod"},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

/* id's method at the given setting; a type without a cache (full) takes no
 * schedule and parses bare whatever the setting. */
static hc_method method_at(const method_id *id, int N, int W, int O, const char *sched)
{
    char spec[HC_SPEC_MAX];
    int len = snprintf(spec, sizeof spec, "%s:N=%d,W=%d,sched=%s", id->type->name, N, W, sched);
    if (id->type->caps & HC_PRED_NO_CACHE) len = snprintf(spec, sizeof spec, "%s", id->type->name);
    if (id->base) len += snprintf(spec + len, sizeof spec - (size_t)len, ",base=%s", id->base->name);
    if (in_list(id->type->keys, "O") || (id->base && in_list(id->base->keys, "O")))
        snprintf(spec + len, sizeof spec - (size_t)len, ",O=%d", O);
    hc_method m;
    if (hc_method_parse(spec, &m) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
    return m;
}

/* ---- driving a predictor over a trajectory ------------------------------------------ */

typedef struct fresh_ud {
    const float *F; /* the trajectory being driven */
    int step;       /* the step being forecast */
    int calls;
} fresh_ud;

/* ctx.fresh: the true rows of the requested tokens at the current step */
static hc_status fresh_rows(void *ud, const int *tok, int n, float *rows)
{
    fresh_ud *f = ud;
    assert_true(n >= 0 && n <= T);
    for (int i = 0; i < n; i++) {
        assert_true(tok[i] >= 0 && tok[i] < T);
        memcpy(rows + (size_t)i * D, f->F + (size_t)f->step * TD + (size_t)tok[i] * D, D * sizeof *rows);
    }
    f->calls++;
    return HC_OK;
}

/* A quiet NaN with a payload: the forecast must overwrite every element, and
 * the guard zones on either side of [T*D] must keep it. */
static float sentinel(void)
{
    uint32_t u = 0x7fc0beefu;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Drive p over F[S][T*D] following full[]: out[s] = F[s] at full steps (fed
 * to observe), the forecast at cached ones.  Engine context as the driver
 * gives it: labels for HC_PRED_LABELS, fresh rows for HC_PRED_FRESH; a type
 * without HC_PRED_FRESH also gets the callback and must never call it.
 * Checks after every forecast: finite, all of [T*D] written, no write
 * outside it; for HC_PRED_ORDER0 after every full step: D_0 holds F. */
static void drive(hc_predictor *p, const hc_method *m, const unsigned char *full, const float *F, float *out)
{
    unsigned caps = hc_method_caps(m);
    static float buf[GUARD + TD + GUARD];
    const float nan_mark = sentinel();
    fresh_ud ud = {F, 0, 0};
    hc_step_ctx ctx = {0};
    ctx.labels = caps & HC_PRED_LABELS ? labels : NULL;
    ctx.n_clusters = NLAB;
    ctx.fresh = fresh_rows;
    ctx.fresh_ud = &ud;
    ctx.fresh_ok = 1;
    for (int s = 0; s < S; s++) {
        const float *f = F + (size_t)s * TD;
        ctx.step = ud.step = s;
        if (full[s]) {
            p->type->observe(p->state, &ctx, f);
            memcpy(out + (size_t)s * TD, f, TD * sizeof *out);
            hc_cache_dtype dt;
            if (p->type->order0 && memcmp(p->type->order0(p->state, &dt), f, TD * sizeof *f) != 0)
                fail_msg("%s: D_0 is not the full-step feature after step %d", m->spec, s);
            continue;
        }
        for (size_t i = 0; i < GUARD + TD + GUARD; i++) buf[i] = nan_mark;
        if (p->type->predict(p->state, &ctx, buf + GUARD) != HC_OK) fail_msg("%s step %d: %s", m->spec, s, hc_errmsg());
        for (size_t i = 0; i < GUARD; i++)
            if (memcmp(&buf[i], &nan_mark, sizeof nan_mark) || memcmp(&buf[GUARD + TD + i], &nan_mark, sizeof nan_mark))
                fail_msg("%s step %d: predict wrote outside [T*D]", m->spec, s);
        for (size_t e = 0; e < TD; e++)
            if (!isfinite(buf[GUARD + e]))
                fail_msg("%s step %d: forecast[%zu] = %g (not finite or not written)", m->spec, s, e,
                         (double)buf[GUARD + e]);
        memcpy(out + (size_t)s * TD, buf + GUARD, TD * sizeof *out);
    }
    if (!(caps & HC_PRED_FRESH) && ud.calls) fail_msg("%s: called ctx.fresh without HC_PRED_FRESH", m->spec);
    int cached = 0;
    for (int s = 0; s < S; s++) cached += !full[s];
    if ((caps & HC_PRED_FRESH) && cached && !ud.calls)
        fail_msg("%s: declares HC_PRED_FRESH but never asked for fresh rows in %d cached steps", m->spec, cached);
}

static hc_predictor *alloc_pred(const hc_method *m)
{
    hc_predictor *p;
    if (hc_predictor_alloc(m, T, D, 3, &p) != HC_OK) fail_msg("%s: %s", m->spec, hc_errmsg());
    return p;
}

/* ---- 1. capabilities ------------------------------------------------------------------ */

static void parses(const char *spec, hc_method *m)
{
    if (hc_method_parse(spec, m) != HC_OK) fail_msg("'%s' does not parse: %s", spec, hc_errmsg());
}

static void capabilities_coherent(void **state)
{
    (void)state;
    int n_types = 0;
    for (const hc_pred_type *const *tp = hc_pred_types; *tp; tp++, n_types++) {
        const hc_pred_type *t = *tp;
        char spec[HC_SPEC_MAX];
        hc_method m;
        assert_non_null(t->name);
        if (!t->display || !t->summary || !t->keys || !t->defaults || !t->alloc || !t->observe || !t->predict ||
            !t->reset || !t->cache_bytes || !t->free)
            fail_msg("%s: a required field or callback is NULL", t->name);
        assert_ptr_equal(hc_pred_type_find(t->name), t);
        if (!(t->caps & HC_PRED_ORDER0) != !t->order0)
            fail_msg("%s: HC_PRED_ORDER0 is %s but order0 is %s", t->name, t->caps & HC_PRED_ORDER0 ? "set" : "clear",
                     t->order0 ? "given" : "NULL");
        if (!(t->caps & HC_PRED_RANGE) != !(t->prepare && t->predict_range))
            fail_msg("%s: HC_PRED_RANGE is %s but prepare/predict_range are %s", t->name,
                     t->caps & HC_PRED_RANGE ? "set" : "clear", t->prepare ? "given" : "NULL");
        if ((t->caps & HC_PRED_RANGE) && (t->caps & HC_PRED_FRESH))
            fail_msg("%s: HC_PRED_RANGE with HC_PRED_FRESH (ranges never ask for fresh rows)", t->name);
        if (!(t->caps & HC_PRED_WRAPS_BASE) != !in_list(t->keys, "base"))
            fail_msg("%s: HC_PRED_WRAPS_BASE disagrees with keys '%s'", t->name, t->keys);
        /* defaults parse, bare and spelled out */
        parses(t->name, &m);
        assert_ptr_equal(m.type, t);
        if (t->defaults[0]) {
            snprintf(spec, sizeof spec, "%s:%s", t->name, t->defaults);
            parses(spec, &m);
        }
        /* a wrapper's own caps are a subset of what hc_method_caps reports */
        assert_int_equal(hc_method_caps(&m) & t->caps, t->caps);
        if (t->caps & HC_PRED_NO_CACHE) { /* every step full: N=1 only; W, sched accepted without effect */
            static const char *const given[] = {"N=5", "N=1000,W=2,sched=mod", "N=3,sched=dit", "O=2", "N=1,K=3"};
            for (size_t i = 0; i < sizeof given / sizeof given[0]; i++) {
                snprintf(spec, sizeof spec, "%s:%s", t->name, given[i]);
                if (hc_method_parse(spec, &m) != HC_EINVAL) fail_msg("'%s' (HC_PRED_NO_CACHE) was accepted", spec);
            }
            snprintf(spec, sizeof spec, "%s:N=1", t->name);
            parses(spec, &m);
            if (m.sched.N != 1) fail_msg("'%s' (HC_PRED_NO_CACHE) parsed to N=%d, want 1", spec, m.sched.N);
            snprintf(spec, sizeof spec, "%s:W=2,sched=dit", t->name);
            parses(spec, &m);
            if (m.sched.N != 1) fail_msg("'%s' (HC_PRED_NO_CACHE) parsed to N=%d, want 1", spec, m.sched.N);
        }
        { /* the canonical description parses back to itself */
            char d1[512], d2[512];
            hc_method m2;
            hc_method_describe(&m, d1, sizeof d1);
            if (hc_method_parse(d1, &m2) != HC_OK) fail_msg("description '%s' does not parse: %s", d1, hc_errmsg());
            hc_method_describe(&m2, d2, sizeof d2);
            assert_string_equal(d1, d2);
        }
        if (t->caps & HC_PRED_WRAPS_BASE) /* base=u parses iff u is a valid base */
            for (const hc_pred_type *const *u = hc_pred_types; *u; u++) {
                snprintf(spec, sizeof spec, "%s:base=%s", t->name, (*u)->name);
                hc_status st = hc_method_parse(spec, &m);
                if (is_valid_base(*u) ? st != HC_OK : st != HC_EINVAL)
                    fail_msg("'%s': status %d, want %s", spec, (int)st, is_valid_base(*u) ? "OK" : "EINVAL");
                if (st == HC_OK) assert_ptr_equal(m.base, *u);
            }
    }
    printf("%d predictor types, %d methods (wrappers over every valid base)\n", n_types, n_methods);
}

/* ---- 2. N = 1 ------------------------------------------------------------------------------ */

static void n1_is_full_compute(void **state)
{
    (void)state;
    static const char *const scheds[] = {"flux", "dit", "mod"};
    float *out = malloc((size_t)S * TD * sizeof *out);
    unsigned char full[S];
    for (int i = 0; i < n_methods; i++)
        for (size_t k = 0; k < 3; k++)
            for (int W = 1; W <= 3; W += 2) {
                hc_method m = method_at(&methods[i], 1, W, 2, scheds[k]);
                assert_int_equal(m.sched.N, 1);
                if (hc_schedule_mask(&m.sched, S, full) != S) fail_msg("%s: N=1 has cached steps", m.spec);
                hc_predictor *p = alloc_pred(&m);
                drive(p, &m, full, traj_a, out);
                assert_memory_equal(out, traj_a, (size_t)S * TD * sizeof *out);
                hc_predictor_free(p);
            }
    /* HC_PRED_NO_CACHE: every step full at any setting */
    for (int i = 0; i < n_methods; i++)
        for (size_t j = 0; j < N_SETTINGS; j++) {
            const setting *st = &settings[j];
            hc_method m = method_at(&methods[i], st->N, st->W, st->O, st->sched);
            if ((m.type->caps & HC_PRED_NO_CACHE) && hc_schedule_mask(&m.sched, S, full) != S)
                fail_msg("%s: HC_PRED_NO_CACHE but cached steps", m.spec);
        }
    free(out);
}

/* ---- 3. reset ------------------------------------------------------------------------------ */

static void reset_restores(void **state)
{
    (void)state;
    size_t bytes = (size_t)S * TD * sizeof(float);
    float *first = malloc(bytes), *again = malloc(bytes), *scratch = malloc(bytes);
    unsigned char full[S];
    for (int i = 0; i < n_methods; i++)
        for (size_t j = 0; j < N_SETTINGS; j++) {
            const setting *st = &settings[j];
            hc_method m = method_at(&methods[i], st->N, st->W, st->O, st->sched);
            hc_schedule_mask(&m.sched, S, full);
            hc_predictor *p = alloc_pred(&m);
            size_t cb = p->type->cache_bytes(p->state);
            drive(p, &m, full, traj_a, first);
            /* run, reset, run again */
            p->type->reset(p->state);
            drive(p, &m, full, traj_a, again);
            if (memcmp(first, again, bytes)) fail_msg("%s: run after reset differs from the first run", m.spec);
            /* a different run in between, then reset */
            drive(p, &m, full, traj_b, scratch);
            p->type->reset(p->state);
            drive(p, &m, full, traj_a, again);
            if (memcmp(first, again, bytes)) fail_msg("%s: reset after another run does not restore it", m.spec);
            /* a freshly allocated instance agrees with the reset one */
            hc_predictor *q = alloc_pred(&m);
            drive(q, &m, full, traj_a, scratch);
            if (memcmp(first, scratch, bytes)) fail_msg("%s: fresh instance differs from the reset one", m.spec);
            assert_int_equal(p->type->cache_bytes(p->state), cb); /* the cache does not grow */
            hc_predictor_free(q);
            hc_predictor_free(p);
        }
    free(first);
    free(again);
    free(scratch);
}

/* ---- 4. cache_bytes --------------------------------------------------------------------------- */

/* Under AddressSanitizer malloc is ASan's and mallinfo2 sees nothing: ask
 * ASan's allocator instead (bytes requested, no chunk headers). */
#if defined(__SANITIZE_ADDRESS__)
#define HC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HC_ASAN 1
#endif
#endif
#ifdef HC_ASAN
size_t __sanitizer_get_current_allocated_bytes(void); /* gcc's and clang's ASan runtimes export it */
#endif

static size_t heap_in_use(void)
{
#ifdef HC_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd; /* arena chunks + mmapped chunks (>= 128 KiB by default) */
#endif
}

/* cache_bytes is "the memory a cache of this method costs", so it must be
 * real memory: never more than alloc() took from the heap (cache_bytes <=
 * measured).  And it must be nearly all of it: beyond the feature cache a
 * state holds only O(1) bookkeeping (structs, an RNG, malloc headers, page
 * rounding of mmapped blocks) and O(K) per-cluster arrays, which at T*D =
 * 16384 floats (64 KiB per snapshot) is well under 10% of even an order-0
 * cache; so cache_bytes >= 0.9 * measured.  A type failing this either
 * under-reports memory it holds or reports memory it does not hold. */
static void cache_bytes_measured(void **state)
{
    (void)state;
    int bad = 0;
    for (int i = 0; i < n_methods; i++)
        for (size_t j = 0; j < N_SETTINGS; j++) {
            const setting *st = &settings[j];
            hc_method m = method_at(&methods[i], st->N, st->W, st->O, st->sched);
            size_t before = heap_in_use();
            hc_predictor *p = alloc_pred(&m);
            size_t measured = heap_in_use() - before;
            size_t cb = p->type->cache_bytes(p->state);
            hc_predictor_free(p);
            int ok = cb <= measured && (double)cb >= 0.9 * (double)measured;
            if (!ok || j == 0)
                printf("%-44s cache_bytes %8zu  measured %8zu  ratio %.4f%s\n", m.spec, cb, measured,
                       (double)cb / (double)measured, ok ? "" : "  <-- FAIL");
            bad += !ok;
        }
    if (bad) fail_msg("%d method(s) whose cache_bytes does not match the heap alloc() takes", bad);
}

/* ---- 5. the weights view --------------------------------------------------------------------- */

/* F_hat(a+x) = sum_j w_j(x) F(f_j), evaluated in double on the snapshots.
 * Both sides carry float32 rounding: the predictor's divided differences
 * and kernel, and the weights (themselves a float32 impulse response).  Each
 * is a short sum (O+1 terms, O <= 3) of terms that cancel, so the error is
 * a modest multiple of eps32 = 6e-8 times the size of the terms; measured
 * worst about 3 eps32, allowed about 33 eps32:
 * |forecast - ref| <= 2e-6 * sum_j |w_j F(f_j)| + 1e-7. */
static void weights_reproduce(void **state)
{
    (void)state;
    size_t bytes = (size_t)S * TD * sizeof(float);
    float *out = malloc(bytes);
    unsigned char full[S];
    double worst = 0;
    int n_checked = 0;
    for (int i = 0; i < n_methods; i++)
        for (size_t j = 0; j < N_SETTINGS; j++) {
            const setting *st = &settings[j];
            hc_method m = method_at(&methods[i], st->N, st->W, st->O, st->sched);
            if (!(hc_method_caps(&m) & HC_PRED_LINEAR) || m.sched.N < 2) continue;
            hc_schedule_mask(&m.sched, S, full);
            hc_predictor *p = alloc_pred(&m);
            drive(p, &m, full, traj_a, out);
            hc_predictor_free(p);
            for (int a = 0; a + 1 < S; a++) {
                if (!full[a] || full[a + 1]) continue;
                hc_weights *w;
                if (hc_weights_compute(&m, S, a, &w) != HC_OK) fail_msg("%s anchor %d: %s", m.spec, a, hc_errmsg());
                assert_int_equal(w->snap_step[w->n_snap - 1], a);
                for (int x = 1; x <= w->n_h; x++) {
                    const double *wx = w->w + (size_t)(x - 1) * w->n_snap;
                    assert_int_equal(full[a + x], 0);
                    for (size_t e = 0; e < TD; e++) {
                        double ref = 0, mag = 0;
                        for (int k = 0; k < w->n_snap; k++) {
                            double term = wx[k] * traj_a[(size_t)w->snap_step[k] * TD + e];
                            ref += term;
                            mag += fabs(term);
                        }
                        double got = out[(size_t)(a + x) * TD + e], tol = 2e-6 * mag + 1e-7;
                        if (fabs(got - ref) / tol > worst) worst = fabs(got - ref) / tol;
                        if (!(fabs(got - ref) <= tol))
                            fail_msg("%s anchor %d x=%d elem %zu: forecast %.9g, weights give %.9g (tol %.3g)",
                                     m.spec, a, x, e, got, ref, tol);
                    }
                    n_checked++;
                }
                hc_weights_free(w);
            }
        }
    printf("weights view: %d (method, anchor, horizon) forecasts checked; worst |diff|/tol = %.3g\n", n_checked, worst);
    assert_true(n_checked > 0);
    free(out);
}

/* ---- 6. range forecasts ------------------------------------------------------------------- */

/* Method m over traj_a: at every cached step predict() and, on the same
 * state, prepare() + predict_range() over ranges cut at random points and
 * written last range first; the two must be the same bits. */
static int ranges_of(const hc_method *m, uint64_t *seed)
{
    unsigned char full[S];
    hc_schedule_mask(&m->sched, S, full);
    hc_predictor *p = alloc_pred(m);
    float *whole = malloc(TD * sizeof *whole), *parts = malloc(TD * sizeof *parts);
    hc_step_ctx ctx = {0};
    int checked = 0;
    for (int s = 0; s < S; s++) {
        ctx.step = s;
        if (full[s]) {
            p->type->observe(p->state, &ctx, traj_a + (size_t)s * TD);
            continue;
        }
        if (p->type->predict(p->state, &ctx, whole) != HC_OK) fail_msg("%s: %s", m->spec, hc_errmsg());
        if (p->type->prepare(p->state, &ctx) != HC_OK) fail_msg("%s: %s", m->spec, hc_errmsg());
        size_t cut[9] = {0};
        int nc = 1 + (int)(splitmix(seed) % 7);
        for (int k = 1; k < nc; k++) cut[k] = splitmix(seed) % TD;
        cut[nc] = TD;
        for (int k = 1; k < nc; k++) /* sort the cuts (insertion) */
            for (int j = k; j > 1 && cut[j] < cut[j - 1]; j--) {
                size_t t = cut[j];
                cut[j] = cut[j - 1];
                cut[j - 1] = t;
            }
        memset(parts, 0xff, TD * sizeof *parts);
        for (int k = nc - 1; k >= 0; k--) p->type->predict_range(p->state, cut[k], cut[k + 1] - cut[k], parts + cut[k]);
        if (memcmp(whole, parts, TD * sizeof *whole))
            fail_msg("%s step %d: predict_range over %d ranges differs from predict", m->spec, s, nc);
        checked++;
    }
    free(whole);
    free(parts);
    hc_predictor_free(p);
    return checked;
}

static void ranges_match_predict(void **state)
{
    (void)state;
    uint64_t seed = 77;
    int checked = 0, types = 0;
    static const char *const caches[] = {"", ",cache=f16", ",cache=bf16"};
    for (int i = 0; i < n_methods; i++) {
        if (!(methods[i].type->caps & HC_PRED_RANGE)) continue;
        types++;
        for (size_t j = 0; j < N_SETTINGS; j++)
            for (int c = 0; c < ((methods[i].type->caps & HC_PRED_HALF) ? 3 : 1); c++) {
                const setting *st = &settings[j];
                hc_method m = method_at(&methods[i], st->N, st->W, st->O, st->sched);
                if (m.type->caps & HC_PRED_NO_CACHE) continue;
                char spec[HC_SPEC_MAX + 16];
                snprintf(spec, sizeof spec, "%s%s", m.spec, caches[c]);
                if (hc_method_parse(spec, &m) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
                checked += ranges_of(&m, &seed);
            }
    }
    printf("range forecasts: %d types, %d cached steps checked\n", types, checked);
    assert_true(types >= 2 && checked > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capabilities_coherent),
        cmocka_unit_test(n1_is_full_compute),
        cmocka_unit_test(reset_restores),
        cmocka_unit_test(cache_bytes_measured),
        cmocka_unit_test(weights_reproduce),
        cmocka_unit_test(ranges_match_predict),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
