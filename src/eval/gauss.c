/* gauss.c: Gaussianity of feature derivatives on trajectories (gauss.h,
 * docs/gauss.md).
 *
 * One pass per module: every full step's row is read once, the divided
 * differences of all orders are updated in place, and each fresh order
 * scatters the rows of its seeded subsample into an n x D matrix (and,
 * on request, an n x T one) and computes its per-step statistics.  The
 * pooled statistics, the null calibrations, the PCA and the figures follow
 * on those matrices.  Every buffer is allocated once per module. */
#include "gauss.h"

#include <fnmatch.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_vector.h>

#include "outfile.h"
#include "plot.h"
#include "predictor.h"
#include "provenance.h"
#include "covariance.h"
#include "normality.h"
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

static const char *const set_names[2] = {"real", "null"};

/* The four univariate tests, in the order of the hc_gauss_uni_stat fractions. */
enum { T_JB, T_K2, T_SW, T_AD, N_TESTS };

/* Histogram of standardised values: HIST_BINS bins over [-HIST_LIM, HIST_LIM]. */
#define HIST_BINS 60
#define HIST_LIM 6.0

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

enum purpose { P_ROWS = 1, P_POSITIONS, P_NULL_CHANNEL, P_NULL_TOKEN, P_NULL_PCA, P_NULL_STEP,
               P_PROJECTIONS, P_SHAPIRO };

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

static unsigned long purpose_seed(unsigned long item, enum purpose p)
{
    return (unsigned long)(splitmix64(((uint64_t)item << 8) ^ (uint64_t)p) & 0xFFFFFFFFUL);
}

/* ---- small numeric helpers ----------------------------------------------------------- */

/* Median of v[0..m-1] (copied into tmp, which is reordered); NaN if m == 0. */
static double median_of(const double *v, size_t m, double *tmp, int absolute)
{
    if (m == 0) return NAN;
    for (size_t i = 0; i < m; i++) tmp[i] = absolute ? fabs(v[i]) : v[i];
    return gsl_stats_median(tmp, 1, m);
}

static double frac_below(const double *p, size_t m, double alpha)
{
    if (m == 0) return NAN;
    size_t k = 0;
    for (size_t i = 0; i < m; i++) k += p[i] < alpha;
    return (double)k / (double)m;
}

/* Fraction of the m hypotheses with p-values p rejected by BH at alpha. */
static hc_status frac_bh(const double *p, size_t m, double alpha, size_t *idx, double *out)
{
    if (m == 0) {
        *out = NAN;
        return HC_OK;
    }
    size_t k;
    HC_TRY(hc_benjamini_hochberg_ws(p, m, alpha, idx, NULL, &k));
    *out = (double)k / (double)m;
    return HC_OK;
}

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

/* ---- per-module work space ------------------------------------------------------------- */

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

/* Scratch shared by every scope of one module (sizes fixed at allocation). */
typedef struct work {
    size_t cols;        /* max(D, T): columns of any univariate scope */
    size_t n_max;       /* largest pooled sample */
    hc_normality_ws *ws;
    double *g1, *g2, *w, *astar, *p[N_TESTS]; /* [cols] per tested column */
    int *col;           /* [cols] column of each tested entry */
    double *cmean, *csd;/* [cols] column mean and sd (null draws) */
    double *tmp;        /* [max(cols, n_max)] */
    size_t *idx;        /* [cols] */
    double *colbuf;     /* [n_max] one null column */
    /* step scope, [D] each */
    double *smean, *sm2, *sm3, *sm4, *smin, *smax;
} work;

static void work_free(work *w)
{
    if (!w) return;
    hc_normality_ws_free(w->ws);
    double *d[] = {w->g1, w->g2, w->w, w->astar, w->p[0], w->p[1], w->p[2], w->p[3], w->cmean,
                   w->csd, w->tmp, w->colbuf, w->smean, w->sm2, w->sm3, w->sm4, w->smin, w->smax};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) free(d[i]);
    free(w->col);
    free(w->idx);
    memset(w, 0, sizeof *w);
}

static hc_status work_alloc(work *w, size_t T, size_t D, size_t n_max)
{
    memset(w, 0, sizeof *w);
    w->cols = D > T ? D : T;
    w->n_max = n_max;
    size_t c = w->cols, big = c > n_max ? c : n_max;
    double **cols[] = {&w->g1, &w->g2, &w->w, &w->astar, &w->p[0], &w->p[1], &w->p[2], &w->p[3],
                       &w->cmean, &w->csd};
    int bad = 0;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) bad |= !(*cols[i] = malloc(c * sizeof(double)));
    double **perd[] = {&w->smean, &w->sm2, &w->sm3, &w->sm4, &w->smin, &w->smax};
    for (size_t i = 0; i < sizeof perd / sizeof perd[0]; i++) bad |= !(*perd[i] = malloc(D * sizeof(double)));
    bad |= !(w->tmp = malloc(big * sizeof *w->tmp));
    bad |= !(w->colbuf = malloc(n_max * sizeof *w->colbuf));
    bad |= !(w->col = malloc(c * sizeof *w->col));
    bad |= !(w->idx = malloc(c * sizeof *w->idx));
    if (bad) {
        work_free(w);
        return hc_fail(HC_ENOMEM, "gauss: cannot allocate work space for %zu tokens x %zu channels", T, D);
    }
    hc_status st = hc_normality_ws_alloc(n_max < HC_NORMALITY_MIN_N ? HC_NORMALITY_MIN_N : n_max, &w->ws);
    if (st != HC_OK) work_free(w);
    return st;
}

/* ---- step scope: moment tests per channel over the T tokens of one step ------------------ */

/* X: derivative [T, D] float64 row-major.  Needs T >= HC_NORMALITY_MIN_N. */
static hc_status step_stats(const double *X, size_t T, size_t D, double alpha, work *w,
                            hc_gauss_step *out)
{
    double ss = 0.0;
    for (size_t c = 0; c < D; c++) {
        w->smean[c] = w->sm2[c] = w->sm3[c] = w->sm4[c] = 0.0;
        w->smin[c] = INFINITY;
        w->smax[c] = -INFINITY;
    }
    for (size_t t = 0; t < T; t++) {
        const double *x = X + t * D;
        for (size_t c = 0; c < D; c++) {
            double v = x[c];
            w->smean[c] += v;
            ss += v * v;
            if (v < w->smin[c]) w->smin[c] = v;
            if (v > w->smax[c]) w->smax[c] = v;
        }
    }
    for (size_t c = 0; c < D; c++) w->smean[c] /= (double)T;
    for (size_t t = 0; t < T; t++) {
        const double *x = X + t * D;
        for (size_t c = 0; c < D; c++) {
            double d = x[c] - w->smean[c], d2 = d * d;
            w->sm2[c] += d2;
            w->sm3[c] += d2 * d;
            w->sm4[c] += d2 * d2;
        }
    }
    size_t m = 0;
    for (size_t c = 0; c < D; c++) {
        if (w->smin[c] == w->smax[c]) continue;
        double m2 = w->sm2[c] / (double)T, m3 = w->sm3[c] / (double)T, m4 = w->sm4[c] / (double)T;
        double g1 = m3 / (m2 * sqrt(m2)), g2 = m4 / (m2 * m2) - 3.0, jb;
        if (!isfinite(g1) || !isfinite(g2)) continue;
        HC_TRY(hc_jarque_bera(g1, g2, T, &jb, &w->p[T_JB][m]));
        HC_TRY(hc_dagostino(g1, g2, T, NULL, NULL, NULL, &w->p[T_K2][m]));
        w->g1[m] = g1;
        w->g2[m] = g2;
        m++;
    }
    double *v = out->v;
    v[HC_GS_N] = (double)T;
    v[HC_GS_M] = (double)m;
    v[HC_GS_RMS] = sqrt(ss / ((double)T * (double)D));
    v[HC_GS_G1_MEDIAN] = median_of(w->g1, m, w->tmp, 0);
    v[HC_GS_G2_MEDIAN] = median_of(w->g2, m, w->tmp, 0);
    v[HC_GS_JB_RAW] = frac_below(w->p[T_JB], m, alpha);
    v[HC_GS_K2_RAW] = frac_below(w->p[T_K2], m, alpha);
    HC_TRY(frac_bh(w->p[T_JB], m, alpha, w->idx, &v[HC_GS_JB_BH]));
    HC_TRY(frac_bh(w->p[T_K2], m, alpha, w->idx, &v[HC_GS_K2_BH]));
    return HC_OK;
}

/* ---- channel and token scopes ------------------------------------------------------------ */

static hc_status summarise_uni(work *w, size_t n, size_t m, size_t n_const, double alpha,
                               hc_gauss_uni *u)
{
    double *v = u->v;
    v[HC_GU_N] = (double)n;
    v[HC_GU_M] = (double)m;
    v[HC_GU_CONSTANT] = (double)n_const;
    v[HC_GU_G1_MEDIAN] = median_of(w->g1, m, w->tmp, 0);
    v[HC_GU_G1_ABSMEDIAN] = median_of(w->g1, m, w->tmp, 1);
    v[HC_GU_G2_MEDIAN] = median_of(w->g2, m, w->tmp, 0);
    v[HC_GU_W_MEDIAN] = median_of(w->w, m, w->tmp, 0);
    v[HC_GU_ASTAR_MEDIAN] = median_of(w->astar, m, w->tmp, 0);
    for (int i = 0; i < N_TESTS; i++) {
        v[HC_GU_JB_RAW + i] = frac_below(w->p[i], m, alpha);
        HC_TRY(frac_bh(w->p[i], m, alpha, w->idx, &v[HC_GU_JB_BH + i]));
    }
    return HC_OK;
}

static void store_test(work *w, size_t m, const hc_normality_result *r)
{
    w->g1[m] = r->g1;
    w->g2[m] = r->g2;
    w->w[m] = r->sw_w;
    w->astar[m] = r->ad_astar;
    w->p[T_JB][m] = r->jb_p;
    w->p[T_K2][m] = r->k2_p;
    w->p[T_SW][m] = r->sw_p;
    w->p[T_AD][m] = r->ad_p;
}

/* Test every column of the n x ncol matrix X (leading dimension ncol), then
 * the null: for each non-constant column, n draws from N(its mean, its sd)
 * with generator rng.  best/worst (may be NULL) receive the columns with the
 * largest and smallest W (-1 if none). */
static hc_status run_uni(work *w, const double *X, size_t n, size_t ncol, double alpha,
                         unsigned long sw_seed, gsl_rng *rng, hc_gauss_uni out[2], int *best,
                         double *best_w, int *worst, double *worst_w)
{
    size_t m = 0, n_const = 0;
    hc_normality_result r;
    if (best) *best = *worst = -1;
    for (size_t c = 0; c < ncol; c++) {
        double lo = INFINITY, hi = -INFINITY, s = 0.0;
        for (size_t i = 0; i < n; i++) {
            double v = X[i * ncol + c];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
            s += v;
        }
        if (lo == hi) {
            n_const++;
            continue;
        }
        double mean = s / (double)n, ss = 0.0;
        for (size_t i = 0; i < n; i++) ss += (X[i * ncol + c] - mean) * (X[i * ncol + c] - mean);
        HC_TRY(hc_normality_test_ws(w->ws, X + c, n, ncol, sw_seed, &r));
        store_test(w, m, &r);
        w->col[m] = (int)c;
        w->cmean[m] = mean;
        w->csd[m] = sqrt(ss / (double)(n - 1));
        if (best && (*best < 0 || r.sw_w > *best_w)) {
            *best = (int)c;
            *best_w = r.sw_w;
        }
        if (worst && (*worst < 0 || r.sw_w < *worst_w)) {
            *worst = (int)c;
            *worst_w = r.sw_w;
        }
        m++;
    }
    HC_TRY(summarise_uni(w, n, m, n_const, alpha, &out[HC_GAUSS_REAL]));
    for (size_t k = 0; k < m; k++) {
        for (size_t i = 0; i < n; i++) w->colbuf[i] = w->cmean[k] + gsl_ran_gaussian_ziggurat(rng, w->csd[k]);
        HC_TRY(hc_normality_test_ws(w->ws, w->colbuf, n, 1, sw_seed, &r));
        store_test(w, k, &r);
    }
    return summarise_uni(w, n, m, n_const, alpha, &out[HC_GAUSS_NULL]);
}

/* ---- pca scope ------------------------------------------------------------------------------- */

static void mv_store(const hc_mvnormality_result *r, double explained, hc_gauss_mv *out)
{
    double *v = out->v;
    out->ok = 1;
    v[HC_GM_N] = (double)r->n;
    v[HC_GM_P] = (double)r->p;
    v[HC_GM_EXPLAINED] = explained;
    v[HC_GM_MARDIA_SKEW] = r->mardia_skew;
    v[HC_GM_MARDIA_SKEW_P] = r->mardia_skew_p;
    v[HC_GM_MARDIA_SKEW_SMALL] = r->mardia_skew_small;
    v[HC_GM_MARDIA_SKEW_SMALL_P] = r->mardia_skew_small_p;
    v[HC_GM_MARDIA_KURT_Z] = r->mardia_kurt_z;
    v[HC_GM_MARDIA_KURT_P] = r->mardia_kurt_p;
    v[HC_GM_HZ] = r->hz;
    v[HC_GM_HZ_P] = r->hz_p;
}

static void add_note(hc_gauss_item *it, const char *fmt, const char *detail)
{
    size_t len = strlen(it->note);
    if (len + 3 >= sizeof it->note) return;
    if (len) {
        memcpy(it->note + len, "; ", 3);
        len += 2;
    }
    snprintf(it->note + len, sizeof it->note - len, fmt, detail);
}

/* The PCA workspace of one module (D x D covariance and eigenvectors). */
typedef struct pca_ws {
    size_t D, n_max, P;
    double *mean;            /* [D] */
    gsl_matrix *cov, *evec;  /* D x D */
    gsl_vector *eval;        /* D */
    gsl_eigen_symmv_workspace *eig;
    double *Y;               /* [n_max x P] */
} pca_ws;

static void pca_free(pca_ws *p)
{
    free(p->mean);
    gsl_matrix_free(p->cov);
    gsl_matrix_free(p->evec);
    gsl_vector_free(p->eval);
    if (p->eig) gsl_eigen_symmv_free(p->eig);
    free(p->Y);
    memset(p, 0, sizeof *p);
}

static hc_status pca_alloc(pca_ws *p, size_t D, size_t n_max, size_t P)
{
    memset(p, 0, sizeof *p);
    p->D = D;
    p->n_max = n_max;
    p->P = P;
    p->mean = malloc(D * sizeof *p->mean);
    p->cov = gsl_matrix_alloc(D, D);
    p->evec = gsl_matrix_alloc(D, D);
    p->eval = gsl_vector_alloc(D);
    p->eig = gsl_eigen_symmv_alloc(D);
    p->Y = malloc(n_max * P * sizeof *p->Y);
    if (!p->mean || !p->cov || !p->evec || !p->eval || !p->eig || !p->Y) {
        pca_free(p);
        return hc_fail(HC_ENOMEM, "gauss: cannot allocate the PCA of %zu channels", D);
    }
    return HC_OK;
}

/* A: the n x D channel sample (centred in place here).  Fills it->pca. */
static hc_status run_pca(pca_ws *p, double *A, size_t n, int P_req, gsl_rng *rng, hc_gauss_item *it)
{
    const size_t D = p->D;
    hc_center_columns(A, n, D, D, p->mean);
    hc_covariance_centered(A, n, D, D, (double)(n - 1), p->cov->data);
    if (gsl_eigen_symmv(p->cov, p->eval, p->evec, p->eig) != GSL_SUCCESS) {
        add_note(it, "pca: %s", "eigendecomposition failed");
        return HC_OK;
    }
    gsl_eigen_symmv_sort(p->eval, p->evec, GSL_EIGEN_SORT_VAL_DESC);
    const double *lam = p->eval->data;
    double trace = 0.0;
    for (size_t j = 0; j < D; j++) trace += lam[j] > 0.0 ? lam[j] : 0.0;
    size_t P = (size_t)P_req < D ? (size_t)P_req : D;
    if (P > n - 2) P = n - 2;
    size_t rank = 0;
    while (rank < P && lam[rank] > 1e-10 * lam[0] && lam[rank] > 0.0) rank++;
    if (rank < P) {
        char why[96];
        snprintf(why, sizeof why, "covariance rank %zu < P=%d; PCA uses %zu dims", rank, P_req, rank);
        add_note(it, "%s", why);
        P = rank;
    } else if (P < (size_t)P_req) {
        char why[96];
        snprintf(why, sizeof why, "P=%d capped at %zu", P_req, P);
        add_note(it, "%s", why);
    }
    if (P == 0) {
        add_note(it, "pca: %s", "no variance");
        return HC_OK;
    }
    double explained = 0.0;
    for (size_t j = 0; j < P; j++) explained += lam[j];
    explained = trace > 0.0 ? explained / trace : NAN;

    hc_mvnormality_result r;
    hc_matmul(A, n, D, D, p->evec->data, P, p->evec->tda, p->Y);
    hc_status st = hc_mvnormality_test(p->Y, n, P, P, &r);
    if (st == HC_ENUM) {
        add_note(it, "pca real: %s", hc_errmsg());
        return HC_OK;
    }
    HC_TRY(st);
    mv_store(&r, explained, &it->pca[HC_GAUSS_REAL]);
    /* null: N(0, diag(lam_1..lam_P)), the projection of N(mean, covariance) */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < P; j++) p->Y[i * P + j] = gsl_ran_gaussian_ziggurat(rng, sqrt(lam[j]));
    st = hc_mvnormality_test(p->Y, n, P, P, &r);
    if (st == HC_ENUM) {
        add_note(it, "pca null: %s", hc_errmsg());
        return HC_OK;
    }
    HC_TRY(st);
    mv_store(&r, explained, &it->pca[HC_GAUSS_NULL]);
    return HC_OK;
}

/* ---- figures --------------------------------------------------------------------------------- */

/* Characters safe in a figure name. */
static void sanitize(char *dst, size_t n, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++) {
        char c = src[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '-';
        dst[i] = ok ? c : '_';
    }
    dst[i] = '\0';
}

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

typedef struct run_ctx {
    const hc_gauss_opts *o;
    const char *out_dir;
    char fig_dir[1024];
    int render;          /* gnuplot available and plots on */
    hc_gauss_result *res;
} run_ctx;

/* Write (and render) the Q-Q and histogram figures of one item from the
 * uncentred n x D sample A.  series: scratch of (qq_proj + 3) x n doubles;
 * u: [D]. */
static hc_status figures(run_ctx *cx, hc_gauss_item *it, const char *file_stem, const double *A, size_t n,
                         size_t D, gsl_rng *rng, double *series, double *u)
{
    const int R = cx->o->qq_proj;
    const int ns = R + 3; /* projections, best, worst, null */
    char names[HC_GAUSS_MAX_QQ_PROJ + 3][48];
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
        snprintf(names[r], sizeof names[r], "projection %d", r + 1);
    }
    const int chans[2] = {it->best_channel, it->worst_channel};
    for (int k = 0; k < 2; k++) {
        double *y = series + (size_t)(R + k) * n;
        for (size_t i = 0; i < n; i++) y[i] = A[i * D + (size_t)chans[k]];
        snprintf(names[R + k], sizeof names[R + k], "%s channel %d (W=%.4f)", k ? "worst" : "best",
                 chans[k], k ? it->worst_w : it->best_w);
    }
    double *yn = series + (size_t)(R + 2) * n;
    for (size_t i = 0; i < n; i++) yn[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
    snprintf(names[R + 2], sizeof names[R + 2], "null Gaussian sample");
    for (int k = 0; k < ns; k++) standardise_sort(series + (size_t)k * n, n);

    char stem[64], mod[96], base[200];
    sanitize(stem, sizeof stem, file_stem);
    sanitize(mod, sizeof mod, it->module);
    snprintf(base, sizeof base, "f%zu-%s-%s-o%d", it->file_index, stem, mod, it->order);
    snprintf(it->fig_qq, sizeof it->fig_qq, "%s_qq", base);
    snprintf(it->fig_hist, sizeof it->fig_hist, "%s_hist", base);
    char title[512];
    snprintf(title, sizeof title, "%s: %s, order %d (n = %zu)", file_stem, it->module, it->order, n);
    for (char *q = title; *q; q++)
        if (*q == '"' || *q == '\\') *q = '\'';

    /* Q-Q: rank, Blom normal quantile, one column per series */
    hc_outfile *f;
    HC_TRY(hc_plot_csv_open(cx->fig_dir, it->fig_qq, &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "rank,normal_quantile");
    for (int k = 0; k < ns; k++) fprintf(fp, ",%s", names[k]);
    fputc('\n', fp);
    for (size_t i = 0; i < n; i++) {
        fprintf(fp, "%zu,%.6g", i + 1, gsl_cdf_ugaussian_Pinv(((double)i + 0.625) / ((double)n + 0.25)));
        for (int k = 0; k < ns; k++) fprintf(fp, ",%.6g", series[(size_t)k * n + i]);
        fputc('\n', fp);
    }
    HC_TRY(hc_outfile_commit(f));
    char body[4096];
    snprintf(body, sizeof body,
             "set title \"%s: Q-Q against N(0,1)\" noenhanced\n"
             "set key top left noenhanced autotitle columnheader\n"
             "set xlabel \"N(0,1) quantile\"\n"
             "set ylabel \"standardised sample quantile\"\n"
             "set grid\n"
             "plot for [i=3:%d] \"%s.csv\" using 2:i with points pt 7 ps 0.4, "
             "x with lines lc \"black\" dt 2 title \"y = x\"\n",
             title, ns + 2, it->fig_qq);
    HC_TRY(hc_plot_write_script(cx->fig_dir, it->fig_qq, HC_PLOT_DEFAULT_SIZE, body));

    /* histogram densities per series against the N(0,1) density */
    HC_TRY(hc_plot_csv_open(cx->fig_dir, it->fig_hist, &f));
    fp = hc_outfile_fp(f);
    fprintf(fp, "bin_center");
    for (int k = 0; k < ns; k++) fprintf(fp, ",%s", names[k]);
    fprintf(fp, ",normal density\n");
    const double width = 2.0 * HIST_LIM / HIST_BINS;
    size_t lo[HC_GAUSS_MAX_QQ_PROJ + 3] = {0};
    for (int b = 0; b < HIST_BINS; b++) {
        double left = -HIST_LIM + b * width, right = left + width, center = left + 0.5 * width;
        fprintf(fp, "%.4g", center);
        for (int k = 0; k < ns; k++) { /* series are sorted: walk a cursor */
            const double *y = series + (size_t)k * n;
            while (lo[k] < n && y[lo[k]] < left) lo[k]++;
            size_t hi = lo[k];
            while (hi < n && (y[hi] < right || (b == HIST_BINS - 1 && y[hi] <= right))) hi++;
            fprintf(fp, ",%.6g", (double)(hi - lo[k]) / ((double)n * width));
            lo[k] = hi;
        }
        fprintf(fp, ",%.6g\n", gsl_ran_ugaussian_pdf(center));
    }
    HC_TRY(hc_outfile_commit(f));
    int cols = ns <= 3 ? ns : 3, rows = (ns + cols - 1) / cols;
    size_t len = (size_t)snprintf(body, sizeof body,
                                  "set multiplot layout %d,%d title \"%s: histograms of standardised "
                                  "values (range +-%g)\" noenhanced\n"
                                  "set style fill solid 0.5 border -1\n"
                                  "set xrange [%g:%g]\nset yrange [0:*]\nset key top right noenhanced\n",
                                  rows, cols, title, HIST_LIM, -HIST_LIM, HIST_LIM);
    for (int k = 0; k < ns && len < sizeof body; k++)
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "set title \"%s\" noenhanced\n"
                                "plot \"%s.csv\" using 1:%d with boxes lc rgb \"#4477aa\" notitle, "
                                "\"\" using 1:%d with lines lw 2 lc \"black\" title \"N(0,1)\"\n",
                                names[k], it->fig_hist, k + 2, ns + 2);
    HC_ASSERT(len < sizeof body);
    HC_TRY(hc_plot_write_script(cx->fig_dir, it->fig_hist, (hc_plot_size){1200, 400 * rows}, body));
    cx->res->n_figures += 2;
    if (cx->render) {
        HC_TRY(hc_plot_render(cx->fig_dir, it->fig_qq));
        HC_TRY(hc_plot_render(cx->fig_dir, it->fig_hist));
        cx->res->n_rendered += 2;
    }
    return HC_OK;
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

typedef struct module_bufs {
    unsigned char *full;
    int *krun;
    float *row;
    double *state;          /* (K+1) x T x D */
    order_buf ord[HC_GAUSS_MAX_ORDER + 1];
    double *series, *u;
    size_t *extra;          /* [max(T, D)] selection scratch */
    work w;
    pca_ws pca;
    gsl_rng *rng;
} module_bufs;

static void module_bufs_free(module_bufs *b)
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
    work_free(&b->w);
    pca_free(&b->pca);
    if (b->rng) gsl_rng_free(b->rng);
    memset(b, 0, sizeof *b);
}

static void rng_seed(gsl_rng *r, unsigned long item, enum purpose p) { gsl_rng_set(r, purpose_seed(item, p)); }

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

static hc_status analyse_module(run_ctx *cx, hc_traj *traj, size_t entry, size_t file_index,
                                const char *file, const char *file_stem)
{
    const hc_gauss_opts *o = cx->o;
    const hc_traj_entry *e = hc_traj_entry_at(traj, entry);
    const int S = (int)e->dims[0], K = o->order;
    const size_t T = (size_t)e->dims[1], D = (size_t)e->dims[2], TD = T * D;
    const hc_schedule sc = {HC_SCHED_FLUX, o->N, o->W};
    hc_gauss_item *items = NULL;
    HC_TRY(add_items(cx->res, K, &items));

    module_bufs b = {0};
    hc_status st = HC_OK;
    b.full = malloc((size_t)S);
    b.krun = malloc((size_t)S * sizeof *b.krun);
    b.row = malloc(TD * sizeof *b.row);
    b.state = malloc((size_t)(K + 1) * TD * sizeof *b.state);
    b.rng = gsl_rng_alloc(gsl_rng_mt19937);
    b.extra = malloc((T > D ? T : D) * sizeof *b.extra);
    if (!b.full || !b.krun || !b.row || !b.state || !b.rng || !b.extra) {
        st = hc_fail(HC_ENOMEM, "gauss: %s %s: cannot allocate %d x %zu x %zu doubles", file, e->name, K + 1,
                     T, D);
        goto done;
    }
    hc_schedule_mask(&sc, S, b.full);
    plan_orders(&sc, S, K, b.full, b.krun);

    /* plan each order: derivative steps, subsample selections, matrices */
    size_t n_max = HC_NORMALITY_MIN_N;
    for (int k = 1; k <= K; k++) {
        hc_gauss_item *it = &items[k - 1];
        order_buf *ob = &b.ord[k];
        it->file_index = file_index;
        it->file = file;
        snprintf(it->module, sizeof it->module, "%s", e->name);
        it->order = k;
        it->T = (int)T;
        it->D = (int)D;
        it->best_channel = it->worst_channel = -1;
        it->seed = item_seed(o->seed, file_index, e->name, k);
        for (int s = 0; s < S; s++) ob->m += b.krun[s] >= k;
        it->n_steps = ob->m;
        it->steps = malloc(((size_t)ob->m + 1) * sizeof *it->steps);
        it->step_rows = malloc(((size_t)ob->m + 1) * sizeof *it->step_rows);
        if (!it->steps || !it->step_rows) {
            st = hc_fail(HC_ENOMEM, "gauss: out of memory");
            goto done;
        }
        for (int s = 0, j = 0; s < S; s++)
            if (b.krun[s] >= k) it->steps[j++] = s;
        if (ob->m == 0) {
            char why[128];
            snprintf(why, sizeof why, "no derivative steps of order %d (the schedule has %d full steps)", k,
                     hc_schedule_mask(&sc, S, b.full));
            add_note(it, "%s", why);
            continue;
        }
        it->step_ok = T >= HC_NORMALITY_MIN_N;
        if (!it->step_ok) add_note(it, "%s", "step scope needs >= 8 tokens");
        size_t M = (size_t)ob->m * T;
        ob->n = M < o->sample ? M : o->sample;
        if (ob->n < HC_NORMALITY_MIN_N) {
            char why[128];
            snprintf(why, sizeof why, "only %zu (step, token) pairs: pooled scopes skipped", M);
            add_note(it, "%s", why);
            ob->n = 0;
        } else {
            ob->sel = malloc(ob->n * sizeof *ob->sel);
            ob->A = malloc(ob->n * D * sizeof *ob->A);
            if (!ob->sel || !ob->A) {
                st = hc_fail(HC_ENOMEM, "gauss: cannot allocate a %zu x %zu sample", ob->n, D);
                goto done;
            }
            rng_seed(b.rng, it->seed, P_ROWS);
            select_balanced(b.rng, (size_t)ob->m, T, ob->n, ob->sel, b.extra);
            if (ob->n > n_max) n_max = ob->n;
            if (ob->n > T) {
                char why[192];
                snprintf(why, sizeof why, "n=%zu > T=%zu: tokens repeat across steps (correlated rows inflate "
                         "pooled rejections; see the step scope)", ob->n, T);
                add_note(it, "%s", why);
            }
        }
        if (o->per_token && ob->n) {
            size_t Mq = (size_t)ob->m * D;
            ob->nq = Mq < o->sample ? Mq : o->sample;
            if (ob->nq < HC_NORMALITY_MIN_N) {
                add_note(it, "%s", "too few (step, channel) positions for the token scope");
                ob->nq = 0;
            } else {
                ob->selq = malloc(ob->nq * sizeof *ob->selq);
                ob->B = malloc(ob->nq * T * sizeof *ob->B);
                if (!ob->selq || !ob->B) {
                    st = hc_fail(HC_ENOMEM, "gauss: cannot allocate a %zu x %zu sample", ob->nq, T);
                    goto done;
                }
                rng_seed(b.rng, it->seed, P_POSITIONS);
                select_balanced(b.rng, (size_t)ob->m, D, ob->nq, ob->selq, b.extra);
                if (ob->nq > n_max) n_max = ob->nq;
            }
        }
    }
    if ((size_t)S > n_max) n_max = (size_t)S; /* step medians use colbuf/tmp */
    if ((st = work_alloc(&b.w, T, D, n_max)) != HC_OK) goto done;
    if ((st = pca_alloc(&b.pca, D, n_max, (size_t)o->proj)) != HC_OK) goto done;
    b.series = malloc((size_t)(o->qq_proj + 3) * n_max * sizeof *b.series);
    b.u = malloc(D * sizeof *b.u);
    if (!b.series || !b.u) {
        st = hc_fail(HC_ENOMEM, "gauss: out of memory");
        goto done;
    }

    /* the pass: each full step read once */
    int last = -1;
    for (int s = 0; s < S; s++) {
        if (b.krun[s] < 0) continue;
        if ((st = hc_traj_read_row(traj, entry, s, b.row)) != HC_OK) goto done;
        for (size_t i = 0; i < TD; i++)
            if (!isfinite(b.row[i])) {
                st = hc_fail(HC_EFORMAT, "%s: %s step %d: value %zu (token %zu, channel %zu) is not finite",
                             file, e->name, s, i, i / D, i % D);
                goto done;
            }
        const int k = b.krun[s];
        if (k == 0) {
            for (size_t i = 0; i < TD; i++) b.state[i] = b.row[i];
        } else {
            const double d = (double)(s - last);
            double *const st0 = b.state;
            for (size_t i = 0; i < TD; i++) {
                double cur = b.row[i];
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
        for (int q = 1; q <= k; q++) {
            order_buf *ob = &b.ord[q];
            hc_gauss_item *it = &items[q - 1];
            const double *X = b.state + (size_t)q * TD;
            const size_t j = (size_t)ob->j;
            for (; ob->cur < ob->n && ob->sel[ob->cur] / T == j; ob->cur++)
                memcpy(ob->A + ob->cur * D, X + (ob->sel[ob->cur] % T) * D, D * sizeof *X);
            for (; ob->curq < ob->nq && ob->selq[ob->curq] / D == j; ob->curq++) {
                const size_t c = ob->selq[ob->curq] % D;
                double *dst = ob->B + ob->curq * T;
                for (size_t t = 0; t < T; t++) dst[t] = X[t * D + c];
            }
            it->step_rows[j].step = s;
            if (it->step_ok && (st = step_stats(X, T, D, o->alpha, &b.w, &it->step_rows[j])) != HC_OK) goto done;
            ob->j++;
        }
    }

    /* pooled scopes per order */
    for (int k = 1; k <= K; k++) {
        order_buf *ob = &b.ord[k];
        hc_gauss_item *it = &items[k - 1];
        HC_ASSERT(ob->j == ob->m && ob->cur == ob->n && ob->curq == ob->nq);
        if (it->step_ok && ob->m > 0) { /* step-scope null: T x D standard normals */
            rng_seed(b.rng, it->seed, P_NULL_STEP);
            for (size_t i = 0; i < TD; i++) b.state[i] = gsl_ran_gaussian_ziggurat(b.rng, 1.0);
            it->step_null.step = -1;
            if ((st = step_stats(b.state, T, D, o->alpha, &b.w, &it->step_null)) != HC_OK) goto done;
        }
        if (it->step_ok && ob->m > 0) { /* medians over the derivative steps */
            double *col = b.w.colbuf, *tmp = b.w.tmp;
            it->step_median.step = -1;
            for (int i = 0; i < HC_GS_COUNT; i++) {
                size_t m = 0;
                for (int j = 0; j < ob->m; j++)
                    if (!isnan(it->step_rows[j].v[i])) col[m++] = it->step_rows[j].v[i];
                it->step_median.v[i] = median_of(col, m, tmp, 0);
            }
        }
        if (!ob->n) continue;
        rng_seed(b.rng, it->seed, P_NULL_CHANNEL);
        st = run_uni(&b.w, ob->A, ob->n, D, o->alpha, purpose_seed(it->seed, P_SHAPIRO), b.rng, it->chan,
                     &it->best_channel, &it->best_w, &it->worst_channel, &it->worst_w);
        if (st != HC_OK) goto done;
        it->uni_ok = 1;
        if (it->chan[HC_GAUSS_REAL].v[HC_GU_M] == 0) add_note(it, "%s", "every channel is constant");
        if (ob->nq) {
            rng_seed(b.rng, it->seed, P_NULL_TOKEN);
            st = run_uni(&b.w, ob->B, ob->nq, T, o->alpha, purpose_seed(it->seed, P_SHAPIRO), b.rng, it->tok,
                         NULL, NULL, NULL, NULL);
            if (st != HC_OK) goto done;
            it->tok_ok = 1;
        }
        if (o->plots && it->best_channel >= 0) {
            rng_seed(b.rng, it->seed, P_PROJECTIONS);
            if ((st = figures(cx, it, file_stem, ob->A, ob->n, D, b.rng, b.series, b.u)) != HC_OK) goto done;
        }
        rng_seed(b.rng, it->seed, P_NULL_PCA);
        if ((st = run_pca(&b.pca, ob->A, ob->n, o->proj, b.rng, it)) != HC_OK) goto done;
    }
done:
    module_bufs_free(&b);
    return st;
}

/* ---- outputs --------------------------------------------------------------------------------------- */

static void csv_row(FILE *fp, const hc_gauss_item *it, const char *scope, int step, const char *set,
                    const char *stat, double value)
{
    hc_csv_field(fp, it->file);
    fprintf(fp, ",%s,%d,%s,%d,%s,%s,%.10g\n", it->module, it->order, scope, step, set, stat, value);
}

static void csv_item(FILE *fp, const hc_gauss_item *it)
{
    for (int s = 0; s < 2; s++) {
        for (int i = 0; it->uni_ok && i < HC_GU_COUNT; i++)
            csv_row(fp, it, "channel", -1, set_names[s], hc_gauss_uni_names[i], it->chan[s].v[i]);
        for (int i = 0; it->tok_ok && i < HC_GU_COUNT; i++)
            csv_row(fp, it, "token", -1, set_names[s], hc_gauss_uni_names[i], it->tok[s].v[i]);
        for (int i = 0; it->pca[s].ok && i < HC_GM_COUNT; i++)
            csv_row(fp, it, "pca", -1, set_names[s], hc_gauss_mv_names[i], it->pca[s].v[i]);
    }
    if (!it->step_ok || it->n_steps == 0) return;
    for (int j = 0; j < it->n_steps; j++)
        for (int i = 0; i < HC_GS_COUNT; i++)
            csv_row(fp, it, "step", it->step_rows[j].step, "real", hc_gauss_step_names[i], it->step_rows[j].v[i]);
    for (int i = 0; i < HC_GS_COUNT; i++)
        csv_row(fp, it, "step", -1, "real_median", hc_gauss_step_names[i], it->step_median.v[i]);
    for (int i = 0; i < HC_GS_COUNT; i++)
        csv_row(fp, it, "step", -1, "null", hc_gauss_step_names[i], it->step_null.v[i]);
}

static cJSON *json_values(const double *v, const char *const *names, int n)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < n; i++)
        if (!cJSON_AddNumberToObject(o, names[i], v[i])) {
            cJSON_Delete(o);
            return NULL;
        }
    return o;
}

/* {"real": {...}, "null": {...}} */
static cJSON *json_pair(const double *real, const double *null, const char *const *names, int n)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddItemToObject(o, "real", json_values(real, names, n));
    cJSON_AddItemToObject(o, "null", json_values(null, names, n));
    return o;
}

static cJSON *json_item(const hc_gauss_item *it)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "file", it->file);
    cJSON_AddStringToObject(o, "module", it->module);
    cJSON_AddNumberToObject(o, "order", it->order);
    cJSON_AddNumberToObject(o, "tokens", it->T);
    cJSON_AddNumberToObject(o, "channels", it->D);
    cJSON_AddItemToObject(o, "steps", cJSON_CreateIntArray(it->steps, it->n_steps));
    cJSON_AddNumberToObject(o, "seed", (double)it->seed);
    cJSON_AddStringToObject(o, "note", it->note);
    if (it->uni_ok)
        cJSON_AddItemToObject(o, "channel", json_pair(it->chan[0].v, it->chan[1].v, hc_gauss_uni_names, HC_GU_COUNT));
    if (it->tok_ok)
        cJSON_AddItemToObject(o, "token", json_pair(it->tok[0].v, it->tok[1].v, hc_gauss_uni_names, HC_GU_COUNT));
    if (it->pca[0].ok && it->pca[1].ok)
        cJSON_AddItemToObject(o, "pca", json_pair(it->pca[0].v, it->pca[1].v, hc_gauss_mv_names, HC_GM_COUNT));
    if (it->step_ok && it->n_steps > 0) {
        cJSON *st = cJSON_AddObjectToObject(o, "step");
        cJSON *arr = st ? cJSON_AddArrayToObject(st, "real") : NULL;
        for (int j = 0; arr && j < it->n_steps; j++) {
            cJSON *r = json_values(it->step_rows[j].v, hc_gauss_step_names, HC_GS_COUNT);
            if (r) cJSON_AddNumberToObject(r, "step", it->step_rows[j].step);
            cJSON_AddItemToArray(arr, r);
        }
        if (st) {
            cJSON_AddItemToObject(st, "real_median", json_values(it->step_median.v, hc_gauss_step_names, HC_GS_COUNT));
            cJSON_AddItemToObject(st, "null", json_values(it->step_null.v, hc_gauss_step_names, HC_GS_COUNT));
        }
    }
    if (it->best_channel >= 0) {
        cJSON *q = cJSON_AddObjectToObject(o, "qq");
        if (q) {
            cJSON_AddNumberToObject(q, "best_channel", it->best_channel);
            cJSON_AddNumberToObject(q, "best_w", it->best_w);
            cJSON_AddNumberToObject(q, "worst_channel", it->worst_channel);
            cJSON_AddNumberToObject(q, "worst_w", it->worst_w);
            if (it->fig_qq[0]) {
                cJSON_AddStringToObject(q, "qq_figure", it->fig_qq);
                cJSON_AddStringToObject(q, "hist_figure", it->fig_hist);
            }
        }
    }
    return o;
}

static hc_status write_json(const run_ctx *cx, const hc_gauss_result *res, const char *path)
{
    const hc_gauss_opts *o = cx->o;
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return hc_fail(HC_ENOMEM, "gauss: out of memory");
    cJSON_AddItemToObject(doc, "provenance", hc_provenance_json());
    cJSON *cfg = cJSON_AddObjectToObject(doc, "config");
    if (cfg) {
        cJSON *tr = cJSON_AddArrayToObject(cfg, "traj");
        for (size_t i = 0; tr && i < res->n_files; i++) cJSON_AddItemToArray(tr, cJSON_CreateString(res->files[i]));
        cJSON_AddNumberToObject(cfg, "order", o->order);
        cJSON_AddStringToObject(cfg, "modules", o->modules && o->modules[0] ? o->modules : "*");
        cJSON_AddNumberToObject(cfg, "proj", o->proj);
        cJSON_AddNumberToObject(cfg, "sample", (double)o->sample);
        cJSON_AddNumberToObject(cfg, "seed", (double)o->seed);
        cJSON *sc = cJSON_AddObjectToObject(cfg, "schedule");
        if (sc) {
            cJSON_AddStringToObject(sc, "kind", hc_sched_name(HC_SCHED_FLUX));
            cJSON_AddNumberToObject(sc, "N", o->N);
            cJSON_AddNumberToObject(sc, "W", o->W);
        }
        cJSON_AddBoolToObject(cfg, "per_token", o->per_token);
        cJSON_AddNumberToObject(cfg, "alpha", o->alpha);
        cJSON_AddNumberToObject(cfg, "qq_proj", o->qq_proj);
        cJSON_AddBoolToObject(cfg, "plots", o->plots);
        cJSON_AddBoolToObject(cfg, "rendered", o->plots && !res->gnuplot_missing);
    }
    cJSON *seeds = cJSON_AddObjectToObject(doc, "seeds");
    if (seeds) {
        cJSON_AddNumberToObject(seeds, "master", (double)o->seed);
        cJSON_AddStringToObject(seeds, "derivation",
                                "item seed = SplitMix64 chain over (master, file index, FNV-1a(module), order); "
                                "each purpose p seeds MT19937 with SplitMix64((item << 8) ^ p)");
        static const struct {
            const char *name;
            enum purpose p;
        } purposes[] = {{"rows", P_ROWS},           {"positions", P_POSITIONS}, {"null_channel", P_NULL_CHANNEL},
                        {"null_token", P_NULL_TOKEN}, {"null_pca", P_NULL_PCA}, {"null_step", P_NULL_STEP},
                        {"projections", P_PROJECTIONS}, {"shapiro_subsample", P_SHAPIRO}};
        cJSON *pp = cJSON_AddObjectToObject(seeds, "purposes");
        for (size_t i = 0; pp && i < sizeof purposes / sizeof purposes[0]; i++)
            cJSON_AddNumberToObject(pp, purposes[i].name, purposes[i].p);
    }
    cJSON *arr = cJSON_AddArrayToObject(doc, "results");
    for (size_t i = 0; arr && i < res->n_items; i++) cJSON_AddItemToArray(arr, json_item(&res->items[i]));
    hc_status st = hc_write_json(path, doc);
    cJSON_Delete(doc);
    return st;
}

/* ---- Markdown ---------------------------------------------------------------------------------------- */

/* A table column: a statistic of a scope shown as real and null side by
 * side (paired) or once. */
typedef enum { SC_CHANNEL, SC_TOKEN, SC_PCA, SC_STEP } md_scope;
typedef struct md_col {
    const char *header;
    int stat;
    int paired;
} md_col;

static const md_col uni_cols[] = {
    {"n", HC_GU_N, 0},
    {"tested", HC_GU_M, 0},
    {"median g1", HC_GU_G1_MEDIAN, 1},
    {"median g2", HC_GU_G2_MEDIAN, 1},
    {"median W", HC_GU_W_MEDIAN, 1},
    {"median A*", HC_GU_ASTAR_MEDIAN, 1},
    {"SW rejected (BH)", HC_GU_SW_BH, 1},
    {"AD rejected (BH)", HC_GU_AD_BH, 1},
    {"K2 rejected (BH)", HC_GU_K2_BH, 1},
    {"SW p<alpha (raw)", HC_GU_SW_RAW, 1},
};

static const md_col mv_cols[] = {
    {"n", HC_GM_N, 0},
    {"P", HC_GM_P, 0},
    {"explained", HC_GM_EXPLAINED, 0},
    {"Mardia skew", HC_GM_MARDIA_SKEW, 1},
    {"skew p", HC_GM_MARDIA_SKEW_P, 1},
    {"Mardia kurt z", HC_GM_MARDIA_KURT_Z, 1},
    {"kurt p", HC_GM_MARDIA_KURT_P, 1},
    {"HZ", HC_GM_HZ, 1},
    {"HZ p", HC_GM_HZ_P, 1},
};

static const md_col step_cols[] = {
    {"T", HC_GS_N, 0},
    {"rms", HC_GS_RMS, 0},
    {"median g1", HC_GS_G1_MEDIAN, 1},
    {"median g2", HC_GS_G2_MEDIAN, 1},
    {"K2 p<alpha (raw)", HC_GS_K2_RAW, 1},
    {"K2 rejected (BH)", HC_GS_K2_BH, 1},
    {"JB rejected (BH)", HC_GS_JB_BH, 1},
};

static void md_num(FILE *fp, double v)
{
    if (isnan(v)) fputs(" n/a |", fp);
    else fprintf(fp, " %.4g |", v);
}

static void md_table(FILE *fp, const hc_gauss_result *res, md_scope scope, const md_col *cols, size_t ncols)
{
    fputs("| file | module | order | steps |", fp);
    for (size_t c = 0; c < ncols; c++) {
        if (cols[c].paired) fprintf(fp, " %s | null |", cols[c].header);
        else fprintf(fp, " %s |", cols[c].header);
    }
    fputs("\n|---|---|---:|---:|", fp);
    for (size_t c = 0; c < ncols; c++) fputs(cols[c].paired ? "---:|---:|" : "---:|", fp);
    fputc('\n', fp);
    for (size_t i = 0; i < res->n_items; i++) {
        const hc_gauss_item *it = &res->items[i];
        const double *real = NULL, *null = NULL;
        if (scope == SC_CHANNEL && it->uni_ok) real = it->chan[0].v, null = it->chan[1].v;
        if (scope == SC_TOKEN && it->tok_ok) real = it->tok[0].v, null = it->tok[1].v;
        if (scope == SC_PCA && it->pca[0].ok && it->pca[1].ok) real = it->pca[0].v, null = it->pca[1].v;
        if (scope == SC_STEP && it->step_ok && it->n_steps > 0) real = it->step_median.v, null = it->step_null.v;
        fprintf(fp, "| %s | %s | %d | %d |", it->file, it->module, it->order, it->n_steps);
        for (size_t c = 0; c < ncols; c++) {
            md_num(fp, real ? real[cols[c].stat] : NAN);
            if (cols[c].paired) md_num(fp, null ? null[cols[c].stat] : NAN);
        }
        fputc('\n', fp);
    }
}

static hc_status write_md(const run_ctx *cx, const hc_gauss_result *res, const char *path)
{
    const hc_gauss_opts *o = cx->o;
    hc_outfile *f;
    HC_TRY(hc_outfile_open(path, &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "# Gaussianity of feature derivatives (hicache gauss)\n\n");
    fprintf(fp, "Divided differences of orders 1..%d between consecutive full steps of the flux schedule "
                "N=%d, W=%d; pooled samples of n <= %zu values per test (seed %lu); PCA to P=%d dims; "
                "alpha = %g.  **real**: the derivative sample; **null**: seeded Gaussian samples of the same "
                "size with the same mean and covariance (what \"Gaussian\" looks like at this n and P).\n\n",
            o->order, o->N, o->W, o->sample, o->seed, o->proj, o->alpha);
    fprintf(fp, "## Per channel\n\nOne test per channel on n (derivative step, token) values; medians "
                "over channels; rejected = fraction of channels rejected by Benjamini-Hochberg at alpha "
                "(raw: unadjusted p < alpha, about alpha under the null).\n\n");
    md_table(fp, res, SC_CHANNEL, uni_cols, sizeof uni_cols / sizeof uni_cols[0]);
    if (o->per_token) {
        fprintf(fp, "\n## Per token\n\nOne test per token on n (derivative step, channel) values; medians "
                    "over tokens.\n\n");
        md_table(fp, res, SC_TOKEN, uni_cols, sizeof uni_cols / sizeof uni_cols[0]);
    }
    fprintf(fp, "\n## Multivariate (PCA projection)\n\nMardia's skewness (chi^2) and kurtosis (z) and "
                "Henze-Zirkler on the n x P projection onto the leading principal axes; explained = "
                "fraction of the total variance in those axes.\n\n");
    md_table(fp, res, SC_PCA, mv_cols, sizeof mv_cols / sizeof mv_cols[0]);
    fprintf(fp, "\n## Per step\n\nAt each derivative step, D'Agostino K2 and Jarque-Bera per channel over "
                "the T tokens of that step (no dependence across steps); medians over the steps of the "
                "per-step medians and fractions; null: T x D standard normals.\n\n");
    md_table(fp, res, SC_STEP, step_cols, sizeof step_cols / sizeof step_cols[0]);
    int any_note = 0;
    for (size_t i = 0; i < res->n_items; i++)
        if (res->items[i].note[0]) {
            if (!any_note++) fprintf(fp, "\n## Notes\n\n");
            fprintf(fp, "- %s %s order %d: %s\n", res->items[i].file, res->items[i].module, res->items[i].order,
                    res->items[i].note);
        }
    fprintf(fp, "\nEvery step's statistics are in gauss.csv (scope `step`); figures in fig/.\n");
    return hc_outfile_commit(f);
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

/* "dir/name.h5" -> "name" */
static void file_stem(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
}

hc_status hc_gauss_run(const char *const *paths, size_t n_paths, const hc_gauss_opts *o,
                       const char *out_dir, hc_gauss_result **out)
{
    if (out) *out = NULL;
    HC_TRY(hc_gauss_validate(o));
    if (n_paths == 0) return hc_fail(HC_EINVAL, "no trajectory given (--traj FILE)");
    run_ctx cx = {.o = o, .out_dir = out_dir};
    hc_gauss_result *res = calloc(1, sizeof *res);
    if (!res || !(res->files = calloc(n_paths, sizeof *res->files))) {
        free(res);
        return hc_fail(HC_ENOMEM, "gauss: out of memory");
    }
    cx.res = res;
    hc_outfile *csv = NULL;
    hc_traj *traj = NULL;
    char path[1200], json_path[1200];
    int wrote_json = 0;
    hc_status st = hc_mkdir_p(out_dir);
    if (st == HC_OK && o->plots) {
        st = hc_path_join(cx.fig_dir, sizeof cx.fig_dir, out_dir, "fig");
        if (st == HC_OK) st = hc_mkdir_p(cx.fig_dir);
        res->gnuplot_missing = !hc_plot_gnuplot_available();
        cx.render = !res->gnuplot_missing;
    }
    if (st == HC_OK) st = hc_path_join(path, sizeof path, out_dir, "gauss.csv");
    if (st == HC_OK) st = hc_outfile_open(path, &csv);
    if (st != HC_OK) goto fail;
    fprintf(hc_outfile_fp(csv), "file,module,order,scope,step,set,stat,value\n");

    for (size_t fi = 0; fi < n_paths; fi++) {
        if (!(res->files[fi] = strdup(paths[fi]))) {
            st = hc_fail(HC_ENOMEM, "gauss: out of memory");
            goto fail;
        }
        res->n_files = fi + 1;
        if ((st = hc_traj_open(paths[fi], &traj)) != HC_OK) goto fail;
        char stem[256];
        file_stem(paths[fi], stem, sizeof stem);
        size_t n_sel = 0, first_new = res->n_items;
        for (size_t ei = 0; ei < hc_traj_num_features(traj); ei++) {
            const hc_traj_entry *e = hc_traj_entry_at(traj, ei);
            if (!module_selected(o->modules, e->name)) continue;
            n_sel++;
            if ((st = analyse_module(&cx, traj, ei, fi, res->files[fi], stem)) != HC_OK) goto fail;
        }
        if (n_sel == 0) {
            char list[512] = "";
            size_t len = 0;
            for (size_t ei = 0; ei < hc_traj_num_features(traj) && len < sizeof list; ei++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", ei ? ", " : "",
                                        hc_traj_entry_at(traj, ei)->name);
            st = hc_fail(HC_EINVAL, "%s: no feature dataset matches --modules '%s' (features: %s)", paths[fi],
                         o->modules ? o->modules : "", list);
            goto fail;
        }
        for (size_t i = first_new; i < res->n_items; i++) csv_item(hc_outfile_fp(csv), &res->items[i]);
        hc_traj_close(traj);
        traj = NULL;
    }
    /* the summaries, then the csv: a failure removes what this run wrote */
    if ((st = hc_path_join(json_path, sizeof json_path, out_dir, "summary.json")) != HC_OK ||
        (st = write_json(&cx, res, json_path)) != HC_OK)
        goto fail;
    wrote_json = 1;
    if ((st = hc_path_join(path, sizeof path, out_dir, "summary.md")) != HC_OK ||
        (st = write_md(&cx, res, path)) != HC_OK)
        goto fail;
    st = hc_outfile_commit(csv);
    csv = NULL;
    if (st != HC_OK) {
        unlink(path);
        goto fail;
    }
    if (out) *out = res;
    else hc_gauss_result_free(res);
    return HC_OK;

fail:
    hc_traj_close(traj);
    hc_outfile_abort(csv);
    if (wrote_json) unlink(json_path);
    hc_gauss_result_free(res);
    return st;
}
