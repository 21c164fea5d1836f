/* gauss.h: are feature derivatives Gaussian?  The analysis behind
 * `hicache gauss` (docs/gauss.md).
 *
 * For every trajectory file and every feature dataset F [S, T, D] whose
 * name matches the module globs, the derivative approximations of order
 * k = 1..K are the official TaylorSeer/HiCache divided differences between
 * consecutive full steps of a `flux` schedule (N, W as in replay; N = 1
 * makes every step full): at a full step a with previous full step b,
 * d = a - b (step-index units) and, for i < k_a,
 *   D_{i+1}(a) = (D_i(a) - D_i(b)) / d,   D_0(a) = F(a),
 * where k_a grows by one per full step up to K once the warm-up condition
 * hc_schedule_updates_derivatives holds (exactly the recursion of
 * predictors/dcache.c, here in double precision).  D_k(a) is a [T, D] array; the
 * full steps where it is fresh are the order's "derivative steps".
 *
 * Scopes (what one test sees), per (file, module, order):
 *   channel  pooled: n rows drawn without replacement (seeded) from the
 *            (derivative step, token) pairs, tokens spread evenly (each
 *            token floor(n/T) or one more rows, at distinct random steps);
 *            one univariate test per channel on its n values; summarised
 *            over channels;
 *   token    (on request) pooled: n (derivative step, channel) positions,
 *            channels spread evenly; one test per token on its n values;
 *            summarised over tokens;
 *   pca      the channel-scope n x D sample, centred, projected on its
 *            first P principal axes (eigenvectors of the D x D sample
 *            covariance, GSL eigen in double): Mardia and Henze-Zirkler;
 *   step     per derivative step: one moment test (D'Agostino K^2,
 *            Jarque-Bera) per channel on the T tokens of that step.
 * Every scope also has a NULL CALIBRATION: the same statistics on seeded
 * Gaussian samples of the same size with the same mean and covariance.
 * All tests are location/scale (univariate) or affine (multivariate)
 * invariant, so the null is drawn where it is tested: per channel or
 * token N(mean, variance) of that column; in the PCA space N(0, diag of
 * the P eigenvalues), which is the projection of N(mean, covariance); for
 * the step scope one draw of T x D standard normals per (module, order).
 *
 * The tests assume independent samples.  Values of one token at nearby
 * steps are correlated, so when n > T and a token contributes several rows,
 * rejection rates exceed the nominal level even for exactly Gaussian
 * processes (Mardia's skewness and Henze-Zirkler most of all); with n <= T
 * every row comes from a different token, and the step scope has no such
 * dependence either.
 *
 * Seeds: every random choice uses its own MT19937 stream seeded with
 * SplitMix64 of (--seed, file index, FNV-1a of the module name, order,
 * purpose), so a module's numbers do not depend on which other modules
 * were selected. */
#ifndef HC_GAUSS_H
#define HC_GAUSS_H

#include <stddef.h>

#include "mvnormal.h"
#include "status.h"

#define HC_GAUSS_MAX_ORDER 3
#define HC_GAUSS_MAX_QQ_PROJ 8

typedef struct hc_gauss_opts {
    int order;           /* highest order K, 1..HC_GAUSS_MAX_ORDER (default 2) */
    const char *modules; /* comma-separated fnmatch(3) globs over feature names
                            such as "dit/3/attn" ('*' matches '/'); NULL or ""
                            selects every feature (default NULL) */
    int proj;            /* PCA dimension P, 1..64 (default 16; capped at D and
                            at the covariance rank) */
    size_t sample;       /* n, values per pooled test, 20..100000 (default 2000) */
    unsigned long seed;  /* master seed (default 0) */
    int N;               /* flux schedule interval, >= 1 (default 1) */
    int W;               /* flux schedule warm-up full steps, >= 1 (default 1) */
    int per_token;       /* also run the token scope (default 0) */
    double alpha;        /* level of the raw and Benjamini-Hochberg rejections (0.05) */
    int qq_proj;         /* random 1-D projections in the Q-Q and histogram
                            figures, 0..HC_GAUSS_MAX_QQ_PROJ (default 3) */
    int plots;           /* write figure .csv/.gp files, and render them when
                            gnuplot is on PATH (default 1) */
} hc_gauss_opts;

void hc_gauss_defaults(hc_gauss_opts *o);

/* Check ranges; HC_EINVAL naming the option (CLI spelling). */
hc_status hc_gauss_validate(const hc_gauss_opts *o);

/* ---- univariate summaries (channel and token scopes) -------------------------
 * Statistics of one set ("real" or "null"); the names are the `stat` column
 * of gauss.csv and the keys of summary.json. */
typedef enum hc_gauss_uni_stat {
    HC_GU_N,          /* n: values per test */
    HC_GU_M,          /* m: tests run (channels or tokens) */
    HC_GU_CONSTANT,   /* constant columns, not tested */
    HC_GU_G1_MEDIAN,  /* median over tests of population skewness g1 */
    HC_GU_G1_ABSMEDIAN, /* median of |g1| */
    HC_GU_G2_MEDIAN,  /* median of excess kurtosis g2 */
    HC_GU_W_MEDIAN,   /* median Shapiro-Wilk W */
    HC_GU_ASTAR_MEDIAN, /* median Anderson-Darling A* */
    HC_GU_JB_RAW,     /* fraction of tests with p < alpha, unadjusted */
    HC_GU_K2_RAW,
    HC_GU_SW_RAW,
    HC_GU_AD_RAW,
    HC_GU_JB_BH,      /* fraction rejected by Benjamini-Hochberg at alpha */
    HC_GU_K2_BH,
    HC_GU_SW_BH,
    HC_GU_AD_BH,
    HC_GU_COUNT
} hc_gauss_uni_stat;

extern const char *const hc_gauss_uni_names[HC_GU_COUNT];

typedef struct hc_gauss_uni {
    double v[HC_GU_COUNT];
} hc_gauss_uni;

/* ---- multivariate (pca scope) --------------------------------------------------- */
typedef enum hc_gauss_mv_stat {
    HC_GM_N,                   /* rows */
    HC_GM_P,                   /* projected dimensions used */
    HC_GM_EXPLAINED,           /* fraction of the total variance they hold */
    HC_GM_MARDIA_SKEW,         /* n b1 / 6 */
    HC_GM_MARDIA_SKEW_P,
    HC_GM_MARDIA_SKEW_SMALL,   /* small-sample corrected */
    HC_GM_MARDIA_SKEW_SMALL_P,
    HC_GM_MARDIA_KURT_Z,
    HC_GM_MARDIA_KURT_P,
    HC_GM_HZ,                  /* Henze-Zirkler */
    HC_GM_HZ_P,
    HC_GM_COUNT
} hc_gauss_mv_stat;

extern const char *const hc_gauss_mv_names[HC_GM_COUNT];

typedef struct hc_gauss_mv {
    int ok;                 /* 0: not computed (item note says why) */
    double v[HC_GM_COUNT];
} hc_gauss_mv;

/* ---- per-step (step scope) ------------------------------------------------------- */
typedef enum hc_gauss_step_stat {
    HC_GS_N,          /* tokens per test (T) */
    HC_GS_M,          /* channels tested (non-constant) */
    HC_GS_RMS,        /* root mean square of the derivative over T x D */
    HC_GS_G1_MEDIAN,
    HC_GS_G2_MEDIAN,
    HC_GS_JB_RAW,
    HC_GS_K2_RAW,
    HC_GS_JB_BH,
    HC_GS_K2_BH,
    HC_GS_COUNT
} hc_gauss_step_stat;

extern const char *const hc_gauss_step_names[HC_GS_COUNT];

typedef struct hc_gauss_step {
    int step;               /* sampling step, -1 for the null reference */
    double v[HC_GS_COUNT];
} hc_gauss_step;

/* Index of the real and null sets in the arrays below. */
enum { HC_GAUSS_REAL = 0, HC_GAUSS_NULL = 1 };

/* One (file, module, order). */
typedef struct hc_gauss_item {
    size_t file_index;
    const char *file;        /* path as given (owned by the result) */
    char module[192];        /* feature name, e.g. "dit/3/attn" */
    int order;
    int T, D;                /* tokens, channels of the module */
    int n_steps;             /* derivative steps of this order */
    int *steps;              /* their step indices [n_steps] */
    char note[512];          /* caveats and why something was skipped ("" if none) */
    int uni_ok;              /* channel (and token) scopes computed */
    hc_gauss_uni chan[2];    /* [HC_GAUSS_REAL], [HC_GAUSS_NULL] */
    int tok_ok;
    hc_gauss_uni tok[2];
    hc_gauss_mv pca[2];
    int step_ok;             /* step scope computed (needs T >= 8) */
    hc_gauss_step *step_rows;/* [n_steps] real, per derivative step */
    hc_gauss_step step_median; /* median over the derivative steps of each
                                  step_rows statistic (step = -1) */
    hc_gauss_step step_null; /* null reference at n = T */
    int best_channel, worst_channel;   /* largest and smallest W; -1 if none */
    double best_w, worst_w;
    unsigned long seed;      /* the item's base seed (before purposes) */
    char fig_qq[256];        /* figure base names under DIR/fig ("" if none) */
    char fig_hist[256];
} hc_gauss_item;

typedef struct hc_gauss_result {
    size_t n_items;
    hc_gauss_item *items;
    size_t n_files;
    char **files;
    int gnuplot_missing;     /* plots requested but gnuplot is not on PATH */
    size_t n_figures;        /* figures written (.csv + .gp) */
    size_t n_rendered;       /* of which rendered to .png + .pdf */
} hc_gauss_result;

/* ---- seeds ------------------------------------------------------------------------
 * The purposes of the random streams of one item, and how their seeds are
 * derived (written to summary.json). */
typedef enum hc_gauss_purpose {
    HC_GP_ROWS = 1,      /* channel-scope rows */
    HC_GP_POSITIONS,     /* token-scope positions */
    HC_GP_NULL_CHANNEL,
    HC_GP_NULL_TOKEN,
    HC_GP_NULL_PCA,
    HC_GP_NULL_STEP,
    HC_GP_PROJECTIONS,   /* figure directions and null sample */
    HC_GP_SHAPIRO,       /* Shapiro-Wilk subsample */
    HC_GP_END
} hc_gauss_purpose;

extern const char *const hc_gauss_purpose_names[HC_GP_END]; /* [0] is NULL */
extern const char hc_gauss_seed_derivation[];

/* ---- figures ------------------------------------------------------------------------
 * The data behind an item's Q-Q and histogram figures, handed to the
 * figure writer (analysis/gauss_report.c) once per item that has a channel
 * sample, before the pca scope.  R = o->qq_proj; series k is
 * series[k n .. k n + n - 1], standardised (mean 0, sd 1 with divisor n-1;
 * a constant series is all zeros) and sorted ascending:
 *   k < R    the sample projected on random unit direction k+1,
 *   R, R+1   the best and the worst channel by Shapiro-Wilk W
 *            (item->best_channel, item->worst_channel),
 *   R+2      a null N(0,1) sample. */
typedef struct hc_gauss_qq {
    hc_gauss_item *item;  /* the writer sets item->fig_qq and item->fig_hist */
    size_t n;             /* values per series (the channel-scope n) */
    int n_proj;           /* R */
    const double *series; /* [(R + 3) x n] */
} hc_gauss_qq;

typedef hc_status (*hc_gauss_figure_fn)(void *ctx, const hc_gauss_qq *qq);

/* ---- running ------------------------------------------------------------------------ */

/* The statistics alone: analyse the trajectories into *out (free with
 * hc_gauss_result_free); nothing is written.  When o->plots and figure is
 * not NULL, figure(figure_ctx, ...) is called per item as described above
 * (its error ends the run); n_figures, n_rendered and gnuplot_missing are
 * left 0 for the caller.  Each (module, step) row is read once; memory per
 * module is about (K+1) T D + n (D + T) + D^2 doubles.  Errors: those of
 * hc_traj_open / read (naming the file), HC_EINVAL (bad options; a file
 * with no feature matching the globs), HC_EFORMAT (a non-finite feature
 * value, naming file, module and step), HC_ENOMEM; *out is NULL then. */
hc_status hc_gauss_analyse(const char *const *paths, size_t n_paths, const hc_gauss_opts *o,
                           hc_gauss_figure_fn figure, void *figure_ctx, hc_gauss_result **out);


/* Free; NULL is a no-op. */
void hc_gauss_result_free(hc_gauss_result *r);

#endif
