/* gauss.c: Gaussianity of feature derivatives on trajectories, the
 * statistics (gauss.h, docs/gauss.md); the outputs are written by
 * analysis/gauss_report.c.
 *
 * One pass per module: every full step's row is read once, the divided
 * differences of all orders are updated in place, and each fresh order
 * scatters the rows of its seeded subsample into an n x D matrix (and,
 * on request, an n x T one) and computes its per-step statistics.  The
 * pooled statistics, the null calibrations (gauss_scopes.c), the figure
 * data and the PCA follow on those matrices.  Every buffer is allocated
 * once per module. */
#include "gauss.h"

#include <fnmatch.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>

#include "gauss_internal.h"
#include "predictor.h"
#include "traj.h"

/* ---- names ------------------------------------------------------------------ */

const char *const hc_gauss_uni_names[HC_GU_COUNT] = {
    "n",           "m",           "constant",    "g1_median",   "g1_absmedian", "g2_median",
    "w_median",    "astar_median", "jb_raw_frac", "k2_raw_frac", "sw_raw_frac",  "ad_raw_frac",
    "jb_bh_frac",  "k2_bh_frac",  "sw_bh_frac",  "ad_bh_frac",
};

const char *const hc_gauss_mv_names[HC_GM_COUNT] = {
    "n",           "p",           "explained",           "mardia_skew",
    "mardia_skew_p", "mardia_skew_small", "mardia_skew_small_p", "mardia_kurt_z",
    "mardia_kurt_p", "hz",        "hz_p",
};

const char *const hc_gauss_step_names[HC_GS_COUNT] = {
    "n", "m", "rms", "g1_median", "g2_median", "jb_raw_frac", "k2_raw_frac", "jb_bh_frac", "k2_bh_frac",
};

const char *const hc_gauss_purpose_names[HC_GP_END] = {
    NULL, "rows", "positions", "null_channel", "null_token", "null_pca", "null_step", "projections",
    "shapiro_subsample",
};

const char hc_gauss_seed_derivation[] =
    "item seed = SplitMix64 chain over (master, file index, FNV-1a(module), order); "
    "each purpose p seeds MT19937 with SplitMix64((item << 8) ^ p)";

/* ---- options ------------------------------------------------------------------- */

void hc_gauss_defaults(hc_gauss_opts *o)
{
    memset(o, 0, sizeof *o);
    o->order = 2;
    o->modules = NULL;
    o->proj = 16;
    o->sample = 2000;
    o->seed = 0;
    o->N = 1;
    o->W = 1;
    o->per_token = 0;
    o->alpha = 0.05;
    o->qq_proj = 3;
    o->plots = 1;
}

hc_status hc_gauss_validate(const hc_gauss_opts *o)
{
    static const struct {
        const char *name;
        long lo, hi;
        size_t off;
    } ints[] = {
        {"--order", 1, HC_GAUSS_MAX_ORDER, offsetof(hc_gauss_opts, order)},
        {"--proj", 1, 64, offsetof(hc_gauss_opts, proj)},
        {"--N", 1, 1000, offsetof(hc_gauss_opts, N)},
        {"--W", 1, 1000, offsetof(hc_gauss_opts, W)},
        {"--qq-proj", 0, HC_GAUSS_MAX_QQ_PROJ, offsetof(hc_gauss_opts, qq_proj)},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int v = *(const int *)((const char *)o + ints[i].off);
        if (v < ints[i].lo || v > ints[i].hi)
            return hc_fail(HC_EINVAL, "%s: %d out of range [%ld, %ld]", ints[i].name, v, ints[i].lo,
                           ints[i].hi);
    }
    if (o->sample < 20 || o->sample > 100000)
        return hc_fail(HC_EINVAL, "--sample: %zu out of range [20, 100000]", o->sample);
    if (!(o->alpha > 0.0 && o->alpha < 1.0))
        return hc_fail(HC_EINVAL, "--alpha: %g out of range (0, 1)", o->alpha);
    return HC_OK;
}

/* Does `name` match one of the comma-separated globs (NULL/"" = all)? */
static int module_selected(const char *globs, const char *name)
{
    if (!globs || !globs[0]) return 1;
    char pat[256];
    for (const char *p = globs;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > 0 && len < sizeof pat) {
            memcpy(pat, p, len);
            pat[len] = '\0';
            if (fnmatch(pat, name, 0) == 0) return 1;
        }
        if (!comma) return 0;
        p = comma + 1;
    }
}

/* ---- seeds ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001B3ULL;
    return h;
}

static unsigned long item_seed(unsigned long master, size_t file_index, const char *module, int order)
{
    uint64_t x = splitmix64((uint64_t)master);
    x = splitmix64(x ^ (uint64_t)file_index);
    x = splitmix64(x ^ fnv1a(module));
    x = splitmix64(x ^ (uint64_t)order);
    return (unsigned long)(x & 0xFFFFFFFFUL);
}

static unsigned long purpose_seed(unsigned long item, hc_gauss_purpose p)
{
    return (unsigned long)(splitmix64(((uint64_t)item << 8) ^ (uint64_t)p) & 0xFFFFFFFFUL);
}

/* ---- subsamples ------------------------------------------------------------------------------------ */

/* Select k of the indices 0..M-1 uniformly without replacement, in
 * increasing order (Knuth's Algorithm S). */
static void select_indices(gsl_rng *r, size_t M, size_t k, size_t *out)
{
    size_t need = k;
    for (size_t i = 0; i < M && need > 0; i++)
        if ((double)(M - i) * gsl_rng_uniform(r) < (double)need) out[k - need--] = i;
    HC_ASSERT(need == 0);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Select n of the m x G cells (step j, group g), flat index j*G + g, with
 * the groups (tokens, or channels) spread as evenly as possible: every group
 * gets floor(n/G) cells and a uniformly chosen n mod G of them one more, at
 * distinct steps chosen uniformly.  So when n <= G no two cells share a
 * group (no within-token dependence across steps).  out[n] is sorted;
 * extra: scratch of G.  Needs n <= m G. */
static void select_balanced(gsl_rng *r, size_t m, size_t G, size_t n, size_t *out, size_t *extra)
{
    HC_ASSERT(n <= m * G);
    const size_t q = n / G, rem = n % G;
    select_indices(r, G, rem, extra);
    size_t pos = 0, e = 0;
    for (size_t g = 0; g < G; g++) {
        size_t k = q;
        if (e < rem && extra[e] == g) {
            k++;
            e++;
        }
        size_t need = k;
        for (size_t j = 0; j < m && need > 0; j++)
            if ((double)(m - j) * gsl_rng_uniform(r) < (double)need) {
                out[pos++] = j * G + g;
                need--;
            }
    }
    HC_ASSERT(pos == n);
    qsort(out, n, sizeof *out, cmp_size);
}

/* ---- per-order buffers ------------------------------------------------------------------ */

/* One derivative order of the module being analysed. */
typedef struct order_buf {
    int m;              /* derivative steps */
    int j;              /* derivative steps seen so far in the pass */
    size_t n;           /* channel-scope rows (0: too few) */
    size_t *sel;        /* [n] selected j*T + t, increasing */
    double *A;          /* [n x D] row-major */
    size_t cur;         /* next entry of sel to fill */
    size_t nq;          /* token-scope positions (0: off or too few) */
    size_t *selq;       /* [nq] selected j*D + c, increasing */
    double *B;          /* [nq x T] row-major */
    size_t curq;
} order_buf;

/* ---- figure data ---------------------------------------------------------------------------------- */

/* Mean 0, sd 1 (n-1), then sorted; constant series become all zeros. */
static void standardise_sort(double *y, size_t n)
{
    double s = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++) s += y[i];
    double mean = s / (double)n;
    for (size_t i = 0; i < n; i++) ss += (y[i] - mean) * (y[i] - mean);
    double sd = sqrt(ss / (double)(n - 1));
    for (size_t i = 0; i < n; i++) y[i] = sd > 0.0 ? (y[i] - mean) / sd : 0.0;
    gsl_sort(y, 1, n);
}

/* The series of an item's figures (hc_gauss_qq) from the uncentred n x D
 * sample A, in the order of their random draws.  series: [(R + 3) x n];
 * u: scratch [D]. */
static void qq_series(int R, const hc_gauss_item *it, const double *A, size_t n, size_t D, gsl_rng *rng,
                      double *series, double *u)
{
    for (int r = 0; r < R; r++) {
        double norm = 0.0;
        for (size_t c = 0; c < D; c++) {
            u[c] = gsl_ran_gaussian_ziggurat(rng, 1.0);
            norm += u[c] * u[c];
        }
        norm = sqrt(norm);
        double *y = series + (size_t)r * n;
        for (size_t i = 0; i < n; i++) {
            double s = 0.0;
            for (size_t c = 0; c < D; c++) s += A[i * D + c] * u[c];
            y[i] = s / norm;
        }
    }
    const int chans[2] = {it->best_channel, it->worst_channel};
    for (int k = 0; k < 2; k++) {
        double *y = series + (size_t)(R + k) * n;
        for (size_t i = 0; i < n; i++) y[i] = A[i * D + (size_t)chans[k]];
    }
    double *yn = series + (size_t)(R + 2) * n;
    for (size_t i = 0; i < n; i++) yn[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
    for (int k = 0; k < R + 3; k++) standardise_sort(series + (size_t)k * n, n);
}

/* ---- the schedule ---------------------------------------------------------------------------------- */

/* krun[s]: the highest order refreshed at step s (0 if none; -1 if s is not
 * full), replaying the recursion of predictors/dcache.c with order K. */
static void plan_orders(const hc_schedule *sc, int S, int K, const unsigned char *full, int *krun)
{
    int n_full = 0, valid = 0;
    for (int s = 0; s < S; s++) {
        if (!full[s]) {
            krun[s] = -1;
            continue;
        }
        n_full++;
        if (n_full < 2) {
            if (valid < 1) valid = 1;
            krun[s] = 0;
            continue;
        }
        int k = hc_schedule_updates_derivatives(sc, s) ? (K < valid ? K : valid) : 0;
        valid = k + 1;
        krun[s] = k;
    }
}

/* ---- one module ---------------------------------------------------------------------------------------- */

/* The module being analysed: one feature dataset [S, T, D] of one file,
 * its K items and every buffer of its pass (allocated once). */
typedef struct module {
    const hc_gauss_opts *o;
    hc_traj *traj;
    size_t entry;
    const hc_traj_entry *e;
    size_t file_index;
    const char *file;       /* path as stored in the result */
    int S, K;
    size_t T, D, TD;
    hc_schedule sc;
    hc_gauss_item *items;   /* [K]: order k at items[k - 1] */
    unsigned char *full;
    int *krun;
    float *row;
    double *state;          /* (K+1) x T x D */
    order_buf ord[HC_GAUSS_MAX_ORDER + 1];
    double *series, *u;
    size_t *extra;          /* [max(T, D)] selection scratch */
    gauss_work w;
    gauss_pca pca;
    gsl_rng *rng;
} module;

static void module_free(module *b)
{
    free(b->full);
    free(b->krun);
    free(b->row);
    free(b->state);
    for (int k = 0; k <= HC_GAUSS_MAX_ORDER; k++) {
        free(b->ord[k].sel);
        free(b->ord[k].A);
        free(b->ord[k].selq);
        free(b->ord[k].B);
    }
    free(b->series);
    free(b->u);
    free(b->extra);
    gauss_work_free(&b->w);
    gauss_pca_free(&b->pca);
    if (b->rng) gsl_rng_free(b->rng);
    memset(b, 0, sizeof *b);
}

static void rng_seed(gsl_rng *r, unsigned long item, hc_gauss_purpose p) { gsl_rng_set(r, purpose_seed(item, p)); }

/* Append K zeroed items for this module to the result; returns the first. */
static hc_status add_items(hc_gauss_result *res, int K, hc_gauss_item **first)
{
    hc_gauss_item *it = realloc(res->items, (res->n_items + (size_t)K) * sizeof *it);
    if (!it) return hc_fail(HC_ENOMEM, "gauss: out of memory for results");
    res->items = it;
    memset(it + res->n_items, 0, (size_t)K * sizeof *it);
    *first = it + res->n_items;
    res->n_items += (size_t)K;
    return HC_OK;
}

/* The seeded subsamples of order k's pooled scopes (ob->m > 0): channel
 * rows, and token positions when asked for; raises *n_max to the largest. */
static hc_status plan_samples(module *b, int k, size_t *n_max)
{
    const hc_gauss_opts *o = b->o;
    const size_t T = b->T, D = b->D;
    hc_gauss_item *it = &b->items[k - 1];
    order_buf *ob = &b->ord[k];
    size_t M = (size_t)ob->m * T;
    ob->n = M < o->sample ? M : o->sample;
    if (ob->n < HC_NORMALITY_MIN_N) {
        char why[128];
        snprintf(why, sizeof why, "only %zu (step, token) pairs: pooled scopes skipped", M);
        gauss_add_note(it, "%s", why);
        ob->n = 0;
    } else {
        ob->sel = malloc(ob->n * sizeof *ob->sel);
        ob->A = malloc(ob->n * D * sizeof *ob->A);
        if (!ob->sel || !ob->A) return hc_fail(HC_ENOMEM, "gauss: cannot allocate a %zu x %zu sample", ob->n, D);
        rng_seed(b->rng, it->seed, HC_GP_ROWS);
        select_balanced(b->rng, (size_t)ob->m, T, ob->n, ob->sel, b->extra);
        if (ob->n > *n_max) *n_max = ob->n;
        if (ob->n > T) {
            char why[192];
            snprintf(why, sizeof why, "n=%zu > T=%zu: tokens repeat across steps (correlated rows inflate "
                     "pooled rejections; see the step scope)", ob->n, T);
            gauss_add_note(it, "%s", why);
        }
    }
    if (o->per_token && ob->n) {
        size_t Mq = (size_t)ob->m * D;
        ob->nq = Mq < o->sample ? Mq : o->sample;
        if (ob->nq < HC_NORMALITY_MIN_N) {
            gauss_add_note(it, "%s", "too few (step, channel) positions for the token scope");
            ob->nq = 0;
        } else {
            ob->selq = malloc(ob->nq * sizeof *ob->selq);
            ob->B = malloc(ob->nq * T * sizeof *ob->B);
            if (!ob->selq || !ob->B)
                return hc_fail(HC_ENOMEM, "gauss: cannot allocate a %zu x %zu sample", ob->nq, T);
            rng_seed(b->rng, it->seed, HC_GP_POSITIONS);
            select_balanced(b->rng, (size_t)ob->m, D, ob->nq, ob->selq, b->extra);
            if (ob->nq > *n_max) *n_max = ob->nq;
        }
    }
    return HC_OK;
}

/* Plan order k: its item, its derivative steps and its samples. */
static hc_status plan_order(module *b, int k, size_t *n_max)
{
    const int S = b->S;
    hc_gauss_item *it = &b->items[k - 1];
    order_buf *ob = &b->ord[k];
    it->file_index = b->file_index;
    it->file = b->file;
    snprintf(it->module, sizeof it->module, "%s", b->e->name);
    it->order = k;
    it->T = (int)b->T;
    it->D = (int)b->D;
    it->best_channel = it->worst_channel = -1;
    it->seed = item_seed(b->o->seed, b->file_index, b->e->name, k);
    for (int s = 0; s < S; s++) ob->m += b->krun[s] >= k;
    it->n_steps = ob->m;
    it->steps = malloc(((size_t)ob->m + 1) * sizeof *it->steps);
    it->step_rows = malloc(((size_t)ob->m + 1) * sizeof *it->step_rows);
    if (!it->steps || !it->step_rows) return hc_fail(HC_ENOMEM, "gauss: out of memory");
    for (int s = 0, j = 0; s < S; s++)
        if (b->krun[s] >= k) it->steps[j++] = s;
    if (ob->m == 0) {
        char why[128];
        snprintf(why, sizeof why, "no derivative steps of order %d (the schedule has %d full steps)", k,
                 hc_schedule_mask(&b->sc, S, b->full));
        gauss_add_note(it, "%s", why);
        return HC_OK;
    }
    it->step_ok = b->T >= HC_NORMALITY_MIN_N;
    if (!it->step_ok) gauss_add_note(it, "%s", "step scope needs >= 8 tokens");
    return plan_samples(b, k, n_max);
}

/* 1. the schedule and the per-step order plan, 2. each order's plan,
 * 3. the work spaces sized for the largest sample. */
static hc_status module_plan(module *b)
{
    const size_t T = b->T, D = b->D;
    b->full = malloc((size_t)b->S);
    b->krun = malloc((size_t)b->S * sizeof *b->krun);
    b->row = malloc(b->TD * sizeof *b->row);
    b->state = malloc((size_t)(b->K + 1) * b->TD * sizeof *b->state);
    b->rng = gsl_rng_alloc(gsl_rng_mt19937);
    b->extra = malloc((T > D ? T : D) * sizeof *b->extra);
    if (!b->full || !b->krun || !b->row || !b->state || !b->rng || !b->extra)
        return hc_fail(HC_ENOMEM, "gauss: %s %s: cannot allocate %d x %zu x %zu doubles", b->file, b->e->name,
                       b->K + 1, T, D);
    hc_schedule_mask(&b->sc, b->S, b->full);
    plan_orders(&b->sc, b->S, b->K, b->full, b->krun);

    size_t n_max = HC_NORMALITY_MIN_N;
    for (int k = 1; k <= b->K; k++) HC_TRY(plan_order(b, k, &n_max));
    if ((size_t)b->S > n_max) n_max = (size_t)b->S; /* step medians use colbuf/tmp */
    HC_TRY(gauss_work_alloc(&b->w, T, D, n_max));
    HC_TRY(gauss_pca_alloc(&b->pca, D, n_max, (size_t)b->o->proj));
    b->series = malloc((size_t)(b->o->qq_proj + 3) * n_max * sizeof *b->series);
    b->u = malloc(D * sizeof *b->u);
    if (!b->series || !b->u) return hc_fail(HC_ENOMEM, "gauss: out of memory");
    return HC_OK;
}

/* Order q is fresh at step s (its j-th derivative step): scatter its
 * selected rows and positions, then its step-scope statistics. */
static hc_status scatter_order(module *b, int q, int s)
{
    const size_t T = b->T, D = b->D;
    order_buf *ob = &b->ord[q];
    hc_gauss_item *it = &b->items[q - 1];
    const double *X = b->state + (size_t)q * b->TD;
    const size_t j = (size_t)ob->j;
    for (; ob->cur < ob->n && ob->sel[ob->cur] / T == j; ob->cur++)
        memcpy(ob->A + ob->cur * D, X + (ob->sel[ob->cur] % T) * D, D * sizeof *X);
    for (; ob->curq < ob->nq && ob->selq[ob->curq] / D == j; ob->curq++) {
        const size_t c = ob->selq[ob->curq] % D;
        double *dst = ob->B + ob->curq * T;
        for (size_t t = 0; t < T; t++) dst[t] = X[t * D + c];
    }
    it->step_rows[j].step = s;
    if (it->step_ok) HC_TRY(gauss_step_stats(X, T, D, b->o->alpha, &b->w, &it->step_rows[j]));
    ob->j++;
    return HC_OK;
}

/* The pass: each full step read once, the divided differences updated in
 * place, each fresh order scattered. */
static hc_status module_pass(module *b)
{
    const size_t D = b->D, TD = b->TD;
    int last = -1;
    for (int s = 0; s < b->S; s++) {
        if (b->krun[s] < 0) continue;
        HC_TRY(hc_traj_read_row(b->traj, b->entry, s, b->row));
        for (size_t i = 0; i < TD; i++)
            if (!isfinite(b->row[i]))
                return hc_fail(HC_EFORMAT, "%s: %s step %d: value %zu (token %zu, channel %zu) is not finite",
                               b->file, b->e->name, s, i, i / D, i % D);
        const int k = b->krun[s];
        if (k == 0) {
            for (size_t i = 0; i < TD; i++) b->state[i] = b->row[i];
        } else {
            const double d = (double)(s - last);
            double *const st0 = b->state;
            for (size_t i = 0; i < TD; i++) {
                double cur = b->row[i];
                for (int q = 0; q < k; q++) {
                    double *Dq = st0 + (size_t)q * TD;
                    double next = (cur - Dq[i]) / d;
                    Dq[i] = cur;
                    cur = next;
                }
                st0[(size_t)k * TD + i] = cur;
            }
        }
        last = s;
        for (int q = 1; q <= k; q++) HC_TRY(scatter_order(b, q, s));
    }
    return HC_OK;
}

/* After the pass, order k's step null and step medians, then its pooled
 * scopes: channel, token, the figure data, pca (which centres A). */
static hc_status pooled_scopes(module *b, int k, hc_gauss_figure_fn figure, void *figure_ctx)
{
    const hc_gauss_opts *o = b->o;
    const size_t T = b->T, D = b->D;
    order_buf *ob = &b->ord[k];
    hc_gauss_item *it = &b->items[k - 1];
    HC_ASSERT(ob->j == ob->m && ob->cur == ob->n && ob->curq == ob->nq);
    if (it->step_ok && ob->m > 0) { /* step-scope null: T x D standard normals */
        rng_seed(b->rng, it->seed, HC_GP_NULL_STEP);
        for (size_t i = 0; i < b->TD; i++) b->state[i] = gsl_ran_gaussian_ziggurat(b->rng, 1.0);
        it->step_null.step = -1;
        HC_TRY(gauss_step_stats(b->state, T, D, o->alpha, &b->w, &it->step_null));
    }
    if (it->step_ok && ob->m > 0) { /* medians over the derivative steps */
        double *col = b->w.colbuf, *tmp = b->w.tmp;
        it->step_median.step = -1;
        for (int i = 0; i < HC_GS_COUNT; i++) {
            size_t m = 0;
            for (int j = 0; j < ob->m; j++)
                if (!isnan(it->step_rows[j].v[i])) col[m++] = it->step_rows[j].v[i];
            it->step_median.v[i] = gauss_median_of(col, m, tmp, 0);
        }
    }
    if (!ob->n) return HC_OK;
    rng_seed(b->rng, it->seed, HC_GP_NULL_CHANNEL);
    HC_TRY(gauss_run_uni(&b->w, ob->A, ob->n, D, o->alpha, purpose_seed(it->seed, HC_GP_SHAPIRO), b->rng,
                         it->chan, &it->best_channel, &it->best_w, &it->worst_channel, &it->worst_w));
    it->uni_ok = 1;
    if (it->chan[HC_GAUSS_REAL].v[HC_GU_M] == 0) gauss_add_note(it, "%s", "every channel is constant");
    if (ob->nq) {
        rng_seed(b->rng, it->seed, HC_GP_NULL_TOKEN);
        HC_TRY(gauss_run_uni(&b->w, ob->B, ob->nq, T, o->alpha, purpose_seed(it->seed, HC_GP_SHAPIRO), b->rng,
                             it->tok, NULL, NULL, NULL, NULL));
        it->tok_ok = 1;
    }
    if (o->plots && figure && it->best_channel >= 0) {
        rng_seed(b->rng, it->seed, HC_GP_PROJECTIONS);
        qq_series(o->qq_proj, it, ob->A, ob->n, D, b->rng, b->series, b->u);
        const hc_gauss_qq qq = {.item = it, .n = ob->n, .n_proj = o->qq_proj, .series = b->series};
        HC_TRY(figure(figure_ctx, &qq));
    }
    rng_seed(b->rng, it->seed, HC_GP_NULL_PCA);
    return gauss_run_pca(&b->pca, ob->A, ob->n, o->proj, b->rng, it);
}

static hc_status analyse_module(const hc_gauss_opts *o, hc_traj *traj, size_t entry, size_t file_index,
                                const char *file, hc_gauss_result *res, hc_gauss_figure_fn figure,
                                void *figure_ctx)
{
    const hc_traj_entry *e = hc_traj_entry_at(traj, entry);
    module b = {.o = o, .traj = traj, .entry = entry, .e = e, .file_index = file_index, .file = file};
    b.S = (int)e->dims[0];
    b.K = o->order;
    b.T = (size_t)e->dims[1];
    b.D = (size_t)e->dims[2];
    b.TD = b.T * b.D;
    b.sc = (hc_schedule){HC_SCHED_FLUX, o->N, o->W};
    HC_TRY(add_items(res, b.K, &b.items));
    hc_status st = module_plan(&b);
    if (st == HC_OK) st = module_pass(&b);
    for (int k = 1; st == HC_OK && k <= b.K; k++) st = pooled_scopes(&b, k, figure, figure_ctx);
    module_free(&b);
    return st;
}

/* ---- driver ---------------------------------------------------------------------------------------------- */

void hc_gauss_result_free(hc_gauss_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_items; i++) {
        free(r->items[i].steps);
        free(r->items[i].step_rows);
    }
    free(r->items);
    for (size_t i = 0; i < r->n_files; i++) free(r->files[i]);
    free(r->files);
    free(r);
}

/* Analyse every feature of file fi that matches the globs. */
static hc_status analyse_file(const hc_gauss_opts *o, hc_traj *traj, size_t fi, hc_gauss_result *res,
                              hc_gauss_figure_fn figure, void *figure_ctx)
{
    size_t n_sel = 0;
    for (size_t ei = 0; ei < hc_traj_num_features(traj); ei++) {
        const hc_traj_entry *e = hc_traj_entry_at(traj, ei);
        if (!module_selected(o->modules, e->name)) continue;
        n_sel++;
        HC_TRY(analyse_module(o, traj, ei, fi, res->files[fi], res, figure, figure_ctx));
    }
    if (n_sel > 0) return HC_OK;
    char list[512] = "";
    size_t len = 0;
    for (size_t ei = 0; ei < hc_traj_num_features(traj) && len < sizeof list; ei++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", ei ? ", " : "",
                                hc_traj_entry_at(traj, ei)->name);
    return hc_fail(HC_EINVAL, "%s: no feature dataset matches --modules '%s' (features: %s)", res->files[fi],
                   o->modules ? o->modules : "", list);
}

hc_status hc_gauss_analyse(const char *const *paths, size_t n_paths, const hc_gauss_opts *o,
                           hc_gauss_figure_fn figure, void *figure_ctx, hc_gauss_result **out)
{
    *out = NULL;
    HC_TRY(hc_gauss_validate(o));
    if (n_paths == 0) return hc_fail(HC_EINVAL, "no trajectory given (--traj FILE)");
    hc_gauss_result *res = calloc(1, sizeof *res);
    if (!res || !(res->files = calloc(n_paths, sizeof *res->files))) {
        free(res);
        return hc_fail(HC_ENOMEM, "gauss: out of memory");
    }
    hc_traj *traj = NULL;
    hc_status st = HC_OK;
    for (size_t fi = 0; fi < n_paths && st == HC_OK; fi++) {
        if (!(res->files[fi] = strdup(paths[fi]))) {
            st = hc_fail(HC_ENOMEM, "gauss: out of memory");
            break;
        }
        res->n_files = fi + 1;
        if ((st = hc_traj_open(paths[fi], &traj)) != HC_OK) break;
        st = analyse_file(o, traj, fi, res, figure, figure_ctx);
        hc_traj_close(traj);
        traj = NULL;
    }
    if (st != HC_OK) {
        hc_gauss_result_free(res);
        return st;
    }
    *out = res;
    return HC_OK;
}
