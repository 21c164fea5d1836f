/* test_normality.c: univariate normality tests against scipy / R reference
 * values, error handling, subsampling, Benjamini-Hochberg, JSON output, and
 * size/power properties on seeded random samples.
 *
 * Reference sources:
 *   - "notes": shared/research/ecosystem.md section 2.3 (scipy test-suite
 *     constants, scipy 1.10.1, R nortest).
 *   - "scipy": produced here with Debian's python3-scipy 1.10.1, e.g.
 *       /usr/bin/python3 -c 'from scipy import stats; import numpy as np;
 *         x=np.array([...]); print(repr(stats.skew(x)), repr(stats.kurtosis(x)),
 *         stats.jarque_bera(x), stats.skewtest(x), stats.kurtosistest(x),
 *         stats.normaltest(x), stats.anderson(x).statistic)'
 *   - "R": produced here with Debian's R 4.2.2 (r-base-core) and
 *     r-cran-nortest 1.0-4:
 *       Rscript -e 'options(digits=17); s <- shapiro.test(x);
 *         a <- nortest::ad.test(x); print(c(s$statistic, s$p.value,
 *         a$statistic, a$p.value))'
 *     R's swilk.c is AS R94 in double precision, so W and p agree to ~1e-12;
 *     scipy's swilk.f is single precision (notes: W to 1e-6, p to 1e-5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "normality.h"
#include "status.h"

/* ---- helpers ------------------------------------------------------------------ */

/* ---- reference data ----------------------------------------------------------- */

static const double x1[20] = {0.11, 7.87, 4.61, 10.14, 7.95, 3.14, 0.46, 4.43, 0.21, 4.75,
                              0.71, 1.52, 3.24, 0.93, 0.42, 4.97, 9.53, 4.55, 0.47, 6.66};
static const double x2[20] = {1.36, 1.14, 2.92, 2.55, 1.46, 1.06, 5.27, -1.11, 3.48, 1.10,
                              0.88, -0.51, 1.46, 0.52, 6.20, 1.69, 0.08, 3.67, 2.81, 3.49};
static const double x4[25] = {0.139, 0.157, 0.175, 0.256, 0.344, 0.413, 0.503, 0.577, 0.614,
                              0.655, 0.954, 1.392, 1.557, 1.648, 1.690, 1.994, 2.174, 2.206,
                              3.245, 3.510, 3.571, 4.354, 4.980, 6.084, 8.351};

/* Deterministic non-normal series used for larger n: sin(1.7 i)^3 + 0.01 i,
 * i = 1..n (R: `i <- 1:n; sin(1.7*i)^3 + 0.01*i`). */
static void gen_sin(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double s = sin(1.7 * (double)(i + 1));
        x[i] = s * s * s + 0.01 * (double)(i + 1);
    }
}

/* Mildly skewed series: exp(0.06 qnorm((i - 0.5)/1000)) + 0.02 sin(i). */
static void gen_q1000(double *x)
{
    for (size_t i = 0; i < 1000; i++)
        x[i] = exp(0.06 * gsl_cdf_ugaussian_Pinv(((double)(i + 1) - 0.5) / 1000.0)) +
               0.02 * sin((double)(i + 1));
}

typedef struct ref_case {
    const char *name;
    double g1, g2, jb, jb_p, skew_z, kurt_z, k2, k2_p; /* scipy */
    double sw_w, sw_p;                                 /* R shapiro.test */
    double ad_a2, ad_p;                                /* R nortest::ad.test */
} ref_case;

static const ref_case ref_x1 = {
    "x1", 0.4860007806485557, -0.9532292834378189, 1.5445275849728313, 0.46196608832591135,
    1.0680136946612904, -1.0035604895956696, 2.14778690826156, 0.34167562594934164,
    0.90047287931756081, 0.042089575222257203, 0.67932952664051882, 0.064408889040382514};
static const ref_case ref_x2 = {
    "x2", 0.5764601818894557, -0.037039367004706225, 1.1088310666035062, 0.5744078853865197,
    1.255927921859525, 0.5622281937289072, 1.8934554867300546, 0.3880086121411857,
    0.95902694603234495, 0.52459793047066738, 0.37777533085359849, 0.37425770873904207};
static const ref_case ref_x4 = {
    "x4", 1.409148810786513, 1.499109411625577, 10.61471928311309, 0.004954992417090045,
    2.918224588369943, 1.895682722102907, 12.10964773104641, 0.0023465153865357257,
    0.83466627531816795, 0.00091349048181295952, 1.338450098137443, 0.0014036790594157535};
static const ref_case ref_n8 = { /* x2[0..7] */
    "x2[:8]", 0.39287692113886763, 0.11403824850594324, 0.2101379409255091, 0.9002624289286524,
    0.6606279917527716, 1.1445484078585542, 1.7464204014188514, 0.4176087871081561,
    0.93606488348110706, 0.5728242732789901, 0.37399766564549353, 0.32144529062702848};
static const ref_case ref_n12 = { /* x2[0..11] */
    "x2[:12]", 0.4778426087796166, -0.0036271580097828604, 0.45667369566823307,
    0.7958561322644716, 0.8922297108915548, 0.7750394283477094, 1.3967599724911717,
    0.497390430796118, 0.94806895645712286, 0.60894743788647576, 0.37869465296246041,
    0.34667526105449176};
static const ref_case ref_g100 = {
    "sin100", 0.012274818026364692, -0.48217260308934673, 0.9712212658344924,
    0.6153213465538185, 0.05333699438143882, -1.0201554861613167, 1.0435620509146781,
    0.5934626341047576, 0.98946838967670625, 0.62176807289017511, 0.20628967403412446,
    0.86623564914871587};
static const ref_case ref_q1000 = {
    "q1000", 0.17309351176755014, 0.009303242917473309, 4.997166899703284, 0.08220135853624551,
    2.2349216364089366, 0.1744777641681849, 5.025317211077928, 0.08105246600495784,
    0.99795443247500959, 0.26407674422510752, 0.32151721594482296, 0.5291962627076483};
static const ref_case ref_g5000 = { /* k2_p underflows to 0 in scipy and here */
    "sin5000", 1.6300096196181507e-05, -1.1964991265186078, 298.25211683803417,
    1.7193952421477102e-65, 0.00047124652741539606, -64.24994356330666, 4128.055248110164, 0.0,
    0.95584873237203938, 1.8988865586419614e-36, 54.957449734048168, 3.7e-24};

/* Moment statistics and AD to 1e-9 relative (double-precision formulas on
 * both sides); SW against R's double-precision swilk to 1e-9 relative. */
static void check_case(const double *x, size_t n, const ref_case *c)
{
    hc_normality_result r;
    assert_int_equal(hc_normality_test(x, n, 1, 1, &r), HC_OK);
    assert_int_equal(r.n, n);
    assert_int_equal(r.sw_n, n);
    const double rt = 1e-9, at = 1e-14;
    check_close(r.g1, c->g1, at, rt, c->name, "g1");
    check_close(r.g2, c->g2, at, rt, c->name, "g2");
    check_close(r.jb, c->jb, at, rt, c->name, "jb");
    check_close(r.jb_p, c->jb_p, 0.0, rt, c->name, "jb_p");
    check_close(r.skew_z, c->skew_z, at, rt, c->name, "skew_z");
    check_close(r.kurt_z, c->kurt_z, at, rt, c->name, "kurt_z");
    check_close(r.k2, c->k2, at, rt, c->name, "k2");
    check_close(r.k2_p, c->k2_p, 1e-300, rt, c->name, "k2_p");
    check_close(r.sw_w, c->sw_w, at, rt, c->name, "sw_w");
    check_close(r.sw_p, c->sw_p, 0.0, 1e-8, c->name, "sw_p");
    check_close(r.ad_a2, c->ad_a2, at, rt, c->name, "ad_a2");
    double dn = (double)n;
    check_close(r.ad_astar, c->ad_a2 * (1.0 + 0.75 / dn + 2.25 / (dn * dn)), at, rt, c->name,
                "ad_astar");
    check_close(r.ad_p, c->ad_p, 0.0, 1e-8, c->name, "ad_p");
}

/* ---- tests: reference values -------------------------------------------------- */

static void test_reference_scipy_r(void **state)
{
    (void)state;
    check_case(x1, 20, &ref_x1);
    check_case(x2, 20, &ref_x2);
    check_case(x4, 25, &ref_x4);
    check_case(x2, 8, &ref_n8);
    check_case(x2, 12, &ref_n12);
    double *buf = malloc(5000 * sizeof *buf);
    assert_non_null(buf);
    gen_sin(buf, 100);
    check_case(buf, 100, &ref_g100);
    gen_q1000(buf);
    check_case(buf, 1000, &ref_q1000);
    gen_sin(buf, 5000);
    check_case(buf, 5000, &ref_g5000);
    free(buf);
}

/* The values printed in ecosystem.md section 2.3, with its tolerances:
 * SW W to 1e-6 and p to 1e-5 against scipy's single-precision constants
 * (relative, and to the digits printed where fewer are given), everything
 * else to 1e-9 relative against its 10-digit values. */
static void test_reference_notes(void **state)
{
    (void)state;
    hc_normality_result r;
    assert_int_equal(hc_normality_test(x1, 20, 1, 0, &r), HC_OK);
    check_close(r.sw_w, 0.90047299861907959, 1e-6, 0, "notes x1", "sw_w");
    check_close(r.sw_p, 0.042089745402336121, 1e-5, 0, "notes x1", "sw_p");
    check_close(r.ad_a2, 0.6793295266, 1e-9, 0, "notes x1", "ad_a2");
    check_close(r.ad_astar, 0.7086256125, 1e-9, 0, "notes x1", "ad_astar");
    check_close(r.ad_p, 0.06440888904, 1e-10, 0, "notes x1", "ad_p");
    check_close(r.g1, 0.4860007806, 1e-9, 0, "notes x1", "g1");
    check_close(r.g2, -0.9532292834, 1e-9, 0, "notes x1", "g2");
    check_close(r.jb, 1.5445275850, 1e-9, 0, "notes x1", "jb");
    check_close(r.jb_p, 0.4619660883, 1e-9, 0, "notes x1", "jb_p");
    check_close(r.skew_z, 1.0680136947, 1e-9, 0, "notes x1", "skew_z");
    check_close(r.kurt_z, -1.0035604896, 1e-9, 0, "notes x1", "kurt_z");
    check_close(r.k2, 2.1477869083, 1e-9, 0, "notes x1", "k2");
    check_close(r.k2_p, 0.3416756259, 1e-9, 0, "notes x1", "k2_p");
    check_close(2.0 * gsl_cdf_ugaussian_Q(fabs(r.skew_z)), 0.2855143344, 1e-9, 0, "notes x1", "skew p");
    check_close(2.0 * gsl_cdf_ugaussian_Q(fabs(r.kurt_z)), 0.3155905068, 1e-9, 0, "notes x1", "kurt p");

    assert_int_equal(hc_normality_test(x2, 20, 1, 0, &r), HC_OK);
    check_close(r.sw_w, 0.9590270, 1e-6, 0, "notes x2", "sw_w");
    check_close(r.sw_p, 0.52460, 1e-5, 0, "notes x2", "sw_p");
    check_close(r.ad_a2, 0.3777753309, 1e-9, 0, "notes x2", "ad_a2");
    check_close(r.ad_astar, 0.3940668920, 1e-9, 0, "notes x2", "ad_astar");
    check_close(r.ad_p, 0.3742577087, 1e-9, 0, "notes x2", "ad_p");
    check_close(r.g1, 0.5764601819, 1e-9, 0, "notes x2", "g1");
    check_close(r.g2, -0.0370393670, 1e-9, 0, "notes x2", "g2");
    check_close(r.jb, 1.1088310666, 1e-9, 0, "notes x2", "jb");
    check_close(r.jb_p, 0.5744078854, 1e-9, 0, "notes x2", "jb_p");
    check_close(r.skew_z, 1.2559279219, 1e-9, 0, "notes x2", "skew_z");
    check_close(r.kurt_z, 0.5622281937, 1e-9, 0, "notes x2", "kurt_z");
    check_close(r.k2, 1.8934554867, 1e-9, 0, "notes x2", "k2");
    check_close(r.k2_p, 0.3880086121, 1e-9, 0, "notes x2", "k2_p");

    assert_int_equal(hc_normality_test(x4, 25, 1, 0, &r), HC_OK);
    check_close(r.sw_w, 0.83467, 1e-5, 0, "notes x4", "sw_w");   /* 5 digits printed */
    check_close(r.sw_p, 0.000914, 1e-6, 0, "notes x4", "sw_p");  /* 3 digits printed */
    check_close(r.ad_a2, 1.3384500981, 1e-9, 0, "notes x4", "ad_a2");
    check_close(r.ad_astar, 1.3834220214, 1e-9, 0, "notes x4", "ad_astar");
    check_close(r.ad_p, 0.001403679059, 1e-12, 0, "notes x4", "ad_p");
    check_close(r.g1, 1.4091488108, 1e-9, 0, "notes x4", "g1");
    check_close(r.g2, 1.4991094116, 1e-9, 0, "notes x4", "g2");
    check_close(r.jb, 10.6147192831, 1e-9, 0, "notes x4", "jb");
    check_close(r.jb_p, 0.0049549924, 1e-10, 0, "notes x4", "jb_p");
    check_close(r.skew_z, 2.9182245884, 1e-9, 0, "notes x4", "skew_z");
    check_close(r.kurt_z, 1.8956827221, 1e-9, 0, "notes x4", "kurt_z");
    check_close(r.k2, 12.1096477310, 1e-9, 0, "notes x4", "k2");
    check_close(r.k2_p, 0.0023465154, 1e-10, 0, "notes x4", "k2_p");

    /* nortest::ad.test(c(0, rep(1, 9))): A = 3.208057 (notes), p from R */
    const double v[10] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    double a2, astar, p;
    assert_int_equal(hc_anderson_darling(v, 10, 1, &a2, &astar, &p), HC_OK);
    check_close(a2, 3.208057, 5e-7, 0, "v", "ad_a2");
    check_close(a2, 3.2080568130544318, 0, 1e-9, "v (R)", "ad_a2");
    check_close(p, 8.5595584141511611e-09, 0, 1e-8, "v (R)", "ad_p");
}

/* Shapiro-Wilk in the small-sample branches (n = 3 exact, 4..11 with the
 * gamma transform) against R's shapiro.test. */
static void test_shapiro_small_n(void **state)
{
    (void)state;
    static const struct {
        const double *x;
        size_t n;
        double w, p;
    } c[] = {
        {x1, 4, 0.97237733934054671, 0.85614553474603472},
        {x1, 5, 0.91581452219663906, 0.50330700098576742},
        {x1, 6, 0.95540921800050504, 0.78375388470257401},
        {x2, 8, 0.93606488348110706, 0.5728242732789901},
        {x4, 11, 0.93378555912868333, 0.45040426965757235},
        {x2, 12, 0.94806895645712286, 0.60894743788647576},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        double w, p;
        assert_int_equal(hc_shapiro_wilk(c[i].x, c[i].n, 1, &w, &p), HC_OK);
        char name[32];
        snprintf(name, sizeof name, "sw n=%zu", c[i].n);
        check_close(w, c[i].w, 0, 1e-9, name, "W");
        check_close(p, c[i].p, 0, 1e-8, name, "p");
    }
    /* n = 3: W = 0.964285714 (R), p = (6/pi)(asin sqrt W - pi/3) = 0.6368868450 (R) */
    const double t[3] = {1, 2, 4};
    double w, p;
    assert_int_equal(hc_shapiro_wilk(t, 3, 1, &w, &p), HC_OK);
    check_close(w, 0.96428571428571419, 0, 1e-12, "sw n=3", "W");
    check_close(p, 0.6368868450289632, 0, 1e-10, "sw n=3", "p");
    /* equally spaced triple: W = 1, p = 1 */
    const double e[3] = {5, 6, 7};
    assert_int_equal(hc_shapiro_wilk(e, 3, 1, &w, &p), HC_OK);
    check_close(w, 1.0, 1e-12, 0, "sw 5,6,7", "W");
    check_close(p, 1.0, 1e-6, 0, "sw 5,6,7", "p");
}

/* Population moments agree with GSL's (n-1)-sd convention after the
 * conversion in ecosystem.md 2.2; and with the notes' GSL numbers on x1. */
static void test_moments_vs_gsl(void **state)
{
    (void)state;
    double g1, g2;
    assert_int_equal(hc_moments_g1g2(x1, 20, 1, &g1, &g2), HC_OK);
    check_close(gsl_stats_skew(x1, 1, 20), 0.4500102177, 1e-9, 0, "x1", "gsl skew");
    check_close(gsl_stats_kurtosis(x1, 1, 20), -1.1527894283, 1e-9, 0, "x1", "gsl kurt");
    gsl_rng *rng = make_rng(7);
    double y[301];
    for (size_t i = 0; i < 301; i++) y[i] = 3.0 + gsl_ran_exponential(rng, 2.0);
    gsl_rng_free(rng);
    double n = 301.0;
    assert_int_equal(hc_moments_g1g2(y, 301, 1, &g1, &g2), HC_OK);
    check_close(g1, gsl_stats_skew(y, 1, 301) * pow(n / (n - 1.0), 1.5), 0, 1e-12, "exp", "g1");
    check_close(g2, (gsl_stats_kurtosis(y, 1, 301) + 3.0) * pow(n / (n - 1.0), 2.0) - 3.0, 1e-12,
                1e-12, "exp", "g2");
    /* NULL outputs are allowed */
    assert_int_equal(hc_moments_g1g2(y, 301, 1, NULL, &g2), HC_OK);
    /* shift and scale invariance */
    double z[301];
    for (size_t i = 0; i < 301; i++) z[i] = 1e6 + 1e-3 * y[i];
    double h1, h2;
    assert_int_equal(hc_moments_g1g2(z, 301, 1, &h1, &h2), HC_OK);
    check_close(h1, g1, 1e-6, 0, "shifted", "g1");
    check_close(h2, g2, 1e-6, 0, "shifted", "g2");
}

/* ---- tests: arguments and errors ---------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    hc_normality_result r;
    hc_errclear();
    assert_int_equal(hc_normality_test(x1, 7, 1, 0, &r), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "n >= 8"));
    assert_int_equal(hc_normality_test(x1, 20, 0, 0, &r), HC_EINVAL);

    double c[30];
    for (size_t i = 0; i < 30; i++) c[i] = 0.1;
    hc_errclear();
    assert_int_equal(hc_normality_test(c, 30, 1, 0, &r), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "constant"));
    assert_null(strchr(hc_errmsg(), '\n'));

    double d[20];
    memcpy(d, x1, sizeof d);
    d[13] = NAN;
    hc_errclear();
    assert_int_equal(hc_normality_test(d, 20, 1, 0, &r), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "13"));
    d[13] = INFINITY;
    assert_int_equal(hc_normality_test(d, 20, 1, 0, &r), HC_EINVAL);

    d[13] = 1e200; /* finite, but m4 overflows */
    hc_errclear();
    assert_int_equal(hc_normality_test(d, 20, 1, 0, &r), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "overflow"));
    assert_int_equal(hc_moments_g1g2(d, 20, 1, NULL, NULL), HC_EINVAL);

    double w, p;
    assert_int_equal(hc_shapiro_wilk(x1, 2, 1, &w, &p), HC_EINVAL);
    double *big = calloc(HC_SW_MAX_N + 1, sizeof *big);
    assert_non_null(big);
    big[0] = 1.0;
    assert_int_equal(hc_shapiro_wilk(big, HC_SW_MAX_N + 1, 1, &w, &p), HC_EINVAL);
    free(big);
    assert_int_equal(hc_shapiro_wilk(c, 30, 1, &w, &p), HC_EINVAL);
    assert_int_equal(hc_anderson_darling(x1, 7, 1, NULL, NULL, &p), HC_EINVAL);
    assert_int_equal(hc_anderson_darling(c, 30, 1, NULL, NULL, &p), HC_EINVAL);
    assert_int_equal(hc_moments_g1g2(x1, 1, 1, NULL, NULL), HC_EINVAL);
    double jb;
    assert_int_equal(hc_jarque_bera(NAN, 0.0, 20, &jb, &p), HC_EINVAL);
    assert_int_equal(hc_jarque_bera(0.1, 0.0, 0, &jb, &p), HC_EINVAL);
    assert_int_equal(hc_dagostino(0.1, 0.1, 7, NULL, NULL, NULL, NULL), HC_EINVAL);
    double out[4];
    assert_int_equal(hc_subsample(x1, 3, 1, 4, 1, out), HC_EINVAL);
}

/* AD p-value formula: branch boundaries and the cap above A* = 10. */
static void test_ad_p_branches(void **state)
{
    (void)state;
    check_close(hc_anderson_darling_p(0.1), 1.0 - exp(-13.436 + 10.114 - 2.2373), 1e-15, 0, "ad", "0.1");
    check_close(hc_anderson_darling_p(0.3), 1.0 - exp(-8.318 + 12.8388 - 5.39442), 1e-15, 0, "ad", "0.3");
    check_close(hc_anderson_darling_p(0.5), exp(0.9177 - 2.1395 - 0.345), 1e-15, 0, "ad", "0.5");
    check_close(hc_anderson_darling_p(2.0), exp(1.2937 - 11.418 + 0.0744), 1e-15, 0, "ad", "2");
    check_close(hc_anderson_darling_p(50.0), 3.7e-24, 0, 1e-12, "ad", "50");
    check_close(hc_anderson_darling_p(500.0), 3.7e-24, 0, 1e-12, "ad", "500");
    /* monotone non-increasing over a grid */
    double prev = 1.0;
    for (double a = 0.0; a < 12.0; a += 0.001) {
        double p = hc_anderson_darling_p(a);
        assert_true(p >= 0.0 && p <= 1.0);
        assert_true(p <= prev + 5e-3); /* the published fit jumps up 0.0025 at 0.6 */
        prev = p;
    }
}

/* A strided view gives the same result as the packed copy. */
static void test_stride(void **state)
{
    (void)state;
    double y[75];
    for (size_t i = 0; i < 25; i++) {
        y[3 * i] = -1e30;
        y[3 * i + 1] = x4[i];
        y[3 * i + 2] = 1e30;
    }
    hc_normality_result a, b;
    assert_int_equal(hc_normality_test(x4, 25, 1, 0, &a), HC_OK);
    assert_int_equal(hc_normality_test(y + 1, 25, 3, 0, &b), HC_OK);
    assert_memory_equal(&a, &b, sizeof a);
}

/* ---- tests: subsampling ------------------------------------------------------- */

static void test_subsample(void **state)
{
    (void)state;
    enum { N = 12000, K = 5000 };
    double *x = malloc(2 * N * sizeof *x);
    double *s1 = malloc(K * sizeof *s1), *s2 = malloc(K * sizeof *s2);
    assert_true(x && s1 && s2);
    for (size_t i = 0; i < N; i++) {
        x[2 * i] = (double)i; /* value = index, to check selection */
        x[2 * i + 1] = -1.0;
    }
    assert_int_equal(hc_subsample(x, N, 2, K, 99, s1), HC_OK);
    assert_int_equal(hc_subsample(x, N, 2, K, 99, s2), HC_OK);
    assert_memory_equal(s1, s2, K * sizeof *s1);
    for (size_t i = 0; i < K; i++) {
        assert_true(s1[i] >= 0.0 && s1[i] < N); /* never the interleaved -1 */
        if (i) assert_true(s1[i] > s1[i - 1]); /* distinct, in order */
    }
    /* roughly uniform: the mean index of the sample is near (N-1)/2;
     * sd of the mean ~ N/sqrt(12 K) * sqrt(1 - K/N) ~ 37 */
    double m = 0.0;
    for (size_t i = 0; i < K; i++) m += s1[i];
    m /= K;
    assert_true(fabs(m - (N - 1) / 2.0) < 200.0);
    assert_int_equal(hc_subsample(x, N, 2, K, 100, s2), HC_OK);
    assert_true(memcmp(s1, s2, K * sizeof *s1) != 0);
    /* k == n takes everything; k == 0 takes nothing */
    assert_int_equal(hc_subsample(x, 10, 2, 10, 5, s2), HC_OK);
    for (size_t i = 0; i < 10; i++) assert_true(s2[i] == (double)i);
    assert_int_equal(hc_subsample(x, 10, 2, 0, 5, s2), HC_OK);

    /* hc_normality_test above 5000: SW on the seeded subsample */
    gsl_rng *rng = make_rng(3);
    for (size_t i = 0; i < N; i++) x[i] = gsl_ran_gaussian(rng, 2.0);
    gsl_rng_free(rng);
    hc_normality_result r1, r2, r3;
    assert_int_equal(hc_normality_test(x, N, 1, 42, &r1), HC_OK);
    assert_int_equal(hc_normality_test(x, N, 1, 42, &r2), HC_OK);
    assert_int_equal(hc_normality_test(x, N, 1, 43, &r3), HC_OK);
    assert_int_equal(r1.n, N);
    assert_int_equal(r1.sw_n, K);
    assert_memory_equal(&r1, &r2, sizeof r1);
    assert_true(r1.sw_w != r3.sw_w);
    assert_true(r1.g1 == r3.g1 && r1.ad_a2 == r3.ad_a2); /* full-sample tests unaffected */
    double w, p;
    assert_int_equal(hc_subsample(x, N, 1, K, 42, s1), HC_OK);
    assert_int_equal(hc_shapiro_wilk(s1, K, 1, &w, &p), HC_OK);
    assert_true(w == r1.sw_w && p == r1.sw_p);
    free(x);
    free(s1);
    free(s2);
}

/* ---- tests: Benjamini-Hochberg ------------------------------------------------ */

/* Independent reference: BH-adjusted p-values (R p.adjust "BH"),
 * adj_(i) = min_{j >= i} m p_(j) / j; reject iff adj <= alpha. */
static size_t bh_brute(const double *p, size_t m, double alpha, bool *rej)
{
    size_t count = 0;
    for (size_t i = 0; i < m; i++) {
        double adj = INFINITY;
        for (size_t j = 0; j < m; j++) {
            if (p[j] < p[i]) continue;
            size_t rank = 0; /* rank of p[j]: number of p <= p[j] */
            for (size_t k = 0; k < m; k++)
                if (p[k] <= p[j]) rank++;
            double a = (double)m * p[j] / (double)rank;
            if (a < adj) adj = a;
        }
        rej[i] = adj <= alpha;
        count += rej[i];
    }
    return count;
}

static void test_benjamini_hochberg(void **state)
{
    (void)state;
    /* R: p.adjust(p, "BH") <= 0.05 rejects exactly entries 1, 4 and 8 (1-based) */
    const double p[12] = {0.010, 0.040, 0.030, 0.005, 0.200, 0.041,
                          0.9,   0.0001, 0.039, 0.6,  0.038, 0.05};
    bool rej[12];
    size_t k;
    assert_int_equal(hc_benjamini_hochberg(p, 12, 0.05, rej, &k), HC_OK);
    assert_int_equal(k, 3);
    for (size_t i = 0; i < 12; i++) assert_int_equal(rej[i], i == 0 || i == 3 || i == 7);

    /* step-up: every p fails its own Bonferroni-like step except the last */
    const double q[4] = {0.047, 0.04, 0.046, 0.045};
    assert_int_equal(hc_benjamini_hochberg(q, 4, 0.05, rej, &k), HC_OK);
    assert_int_equal(k, 4);
    assert_int_equal(hc_benjamini_hochberg(q, 4, 0.01, NULL, &k), HC_OK);
    assert_int_equal(k, 0);
    /* equality with the step k alpha / m counts as a rejection */
    const double e[2] = {0.05, 0.025};
    assert_int_equal(hc_benjamini_hochberg(e, 1, 0.05, rej, &k), HC_OK);
    assert_int_equal(k, 1);
    assert_int_equal(hc_benjamini_hochberg(e, 2, 0.05, rej, &k), HC_OK);
    assert_int_equal(k, 2);
    assert_true(rej[0] && rej[1]);
    assert_int_equal(hc_benjamini_hochberg(NULL, 0, 0.05, NULL, &k), HC_OK);
    assert_int_equal(k, 0);

    /* random mixtures of nulls and signals, with ties, against the brute force */
    gsl_rng *rng = make_rng(11);
    double r[200];
    bool a[200], b[200];
    for (int rep = 0; rep < 50; rep++) {
        size_t m = 1 + gsl_rng_uniform_int(rng, 200);
        for (size_t i = 0; i < m; i++) {
            double u = gsl_rng_uniform(rng);
            r[i] = gsl_rng_uniform(rng) < 0.3 ? u * 1e-3 : u;
            if (i && gsl_rng_uniform(rng) < 0.1) r[i] = r[i - 1]; /* ties */
            if (gsl_rng_uniform(rng) < 0.02) r[i] = (i & 1) ? 0.0 : 1.0;
        }
        double alpha = 0.01 + 0.2 * gsl_rng_uniform(rng);
        assert_int_equal(hc_benjamini_hochberg(r, m, alpha, a, &k), HC_OK);
        assert_int_equal(k, bh_brute(r, m, alpha, b));
        assert_memory_equal(a, b, m * sizeof a[0]);
    }
    gsl_rng_free(rng);

    const double bad[2] = {0.5, 1.5};
    assert_int_equal(hc_benjamini_hochberg(bad, 2, 0.05, NULL, &k), HC_EINVAL);
    const double nan2[2] = {0.5, NAN};
    assert_int_equal(hc_benjamini_hochberg(nan2, 2, 0.05, NULL, &k), HC_EINVAL);
    assert_int_equal(hc_benjamini_hochberg(p, 12, 0.0, NULL, &k), HC_EINVAL);
    assert_int_equal(hc_benjamini_hochberg(p, 12, 1.5, NULL, &k), HC_EINVAL);
}

/* ---- tests: JSON -------------------------------------------------------------- */

static void test_json(void **state)
{
    (void)state;
    static const char *const keys[] = {"n",      "g1",     "g2", "jb",   "jb_p",
                                       "skew_z", "kurt_z", "k2", "k2_p", "sw_w",
                                       "sw_p",   "ad_a2",  "ad_astar", "ad_p"};
    hc_normality_result r;
    assert_int_equal(hc_normality_test(x4, 25, 1, 0, &r), HC_OK);
    cJSON *o = cJSON_CreateObject();
    assert_non_null(o);
    assert_int_equal(hc_normality_to_json(&r, o), HC_OK);
    assert_int_equal(cJSON_GetArraySize(o), sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        cJSON *it = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
        if (!cJSON_IsNumber(it)) {
            print_error("missing numeric key %s\n", keys[i]);
            fail();
        }
    }
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "n")->valuedouble == 25.0);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "sw_w")->valuedouble == r.sw_w);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "ad_p")->valuedouble == r.ad_p);
    cJSON *arr = cJSON_CreateArray();
    assert_int_equal(hc_normality_to_json(&r, arr), HC_EINVAL);
    cJSON_Delete(arr);
    cJSON_Delete(o);
}

/* ---- tests: size and power ---------------------------------------------------- */

/* Under H0, each test at alpha = 0.05 rejects a Binomial(400, ~0.05) number
 * of 400 seeded Gaussian samples; require the count inside the central
 * 99.9% interval.  JB is asymptotic (conservative at moderate n), so it is
 * checked at n = 500 only; SW and AD are also checked at n = 30. */
static void test_size_gaussian(void **state)
{
    (void)state;
    enum { SEEDS = 400, N = 500, NS = 30 };
    unsigned lo, hi;
    binom_interval(SEEDS, 0.05, 0.0005, &lo, &hi);
    unsigned c_jb = 0, c_k2 = 0, c_sw = 0, c_ad = 0, c_sz = 0, c_kz = 0, c_sw30 = 0, c_ad30 = 0;
    double x[N];
    for (unsigned s = 1; s <= SEEDS; s++) {
        gsl_rng *rng = make_rng(1000 + s);
        for (size_t i = 0; i < N; i++) x[i] = 5.0 + 3.0 * gsl_ran_gaussian_ziggurat(rng, 1.0);
        gsl_rng_free(rng);
        hc_normality_result r;
        assert_int_equal(hc_normality_test(x, N, 1, s, &r), HC_OK);
        c_jb += r.jb_p < 0.05;
        c_k2 += r.k2_p < 0.05;
        c_sw += r.sw_p < 0.05;
        c_ad += r.ad_p < 0.05;
        c_sz += fabs(r.skew_z) > 1.959963984540054;
        c_kz += fabs(r.kurt_z) > 1.959963984540054;
        assert_int_equal(hc_normality_test(x, NS, 1, s, &r), HC_OK);
        c_sw30 += r.sw_p < 0.05;
        c_ad30 += r.ad_p < 0.05;
    }
    print_message("size at alpha=0.05 over %d seeds (99.9%% interval [%u, %u]): "
                  "jb %u k2 %u skew_z %u kurt_z %u sw %u ad %u; n=30: sw %u ad %u\n",
                  SEEDS, lo, hi, c_jb, c_k2, c_sz, c_kz, c_sw, c_ad, c_sw30, c_ad30);
    const unsigned counts[] = {c_jb, c_k2, c_sz, c_kz, c_sw, c_ad, c_sw30, c_ad30};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        assert_in_range(counts[i], lo, hi);
    }
}

typedef enum { ALT_UNIFORM, ALT_LAPLACE, ALT_MIXTURE } alt_kind;

static double draw_alt(gsl_rng *rng, alt_kind k)
{
    switch (k) {
    case ALT_UNIFORM: return gsl_rng_uniform(rng);
    case ALT_LAPLACE: return gsl_ran_laplace(rng, 1.0);
    case ALT_MIXTURE:
        return (gsl_rng_uniform(rng) < 0.5 ? -2.0 : 2.0) + gsl_ran_gaussian_ziggurat(rng, 1.0);
    }
    return 0.0;
}

/* Uniform, Laplace and a bimodal mixture 0.5 N(-2,1) + 0.5 N(2,1) at
 * n = 500 are rejected at alpha = 0.01 by SW, AD, K^2 and JB on every one
 * of 20 seeds (their power there is essentially 1). */
static void test_power_alternatives(void **state)
{
    (void)state;
    enum { N = 500, SEEDS = 20 };
    static const char *const names[] = {"uniform", "laplace", "mixture"};
    double x[N];
    for (int k = ALT_UNIFORM; k <= ALT_MIXTURE; k++) {
        for (unsigned s = 1; s <= SEEDS; s++) {
            gsl_rng *rng = make_rng(77 * s + (unsigned)k);
            for (size_t i = 0; i < N; i++) x[i] = draw_alt(rng, (alt_kind)k);
            gsl_rng_free(rng);
            hc_normality_result r;
            assert_int_equal(hc_normality_test(x, N, 1, s, &r), HC_OK);
            if (!(r.sw_p < 0.01 && r.ad_p < 0.01 && r.k2_p < 0.01 && r.jb_p < 0.01)) {
                print_error("%s seed %u not rejected: sw_p %g ad_p %g k2_p %g jb_p %g\n",
                            names[k], s, r.sw_p, r.ad_p, r.k2_p, r.jb_p);
                fail();
            }
            /* direction of the kurtosis departure */
            if (k == ALT_LAPLACE) assert_true(r.g2 > 1.0 && r.kurt_z > 3.0);
            else assert_true(r.g2 < -0.8 && r.kurt_z < -3.0);
        }
    }
}

/* The workspace form: bit-identical results for every size (one workspace
 * reused across sizes, the Shapiro-Wilk weight cache switching between
 * them, the subsample branch above 5000), strides, size limits; and the
 * scratch form of Benjamini-Hochberg agrees with the allocating one. */
static void test_workspace(void **state)
{
    (void)state;
    gsl_rng *r = make_rng(5);
    const size_t nmax = 7000;
    double *x = malloc(nmax * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < nmax; i++) x[i] = gsl_ran_gaussian(r, 1.0) + gsl_ran_exponential(r, 0.3);
    hc_normality_ws *ws;
    assert_int_equal(hc_normality_ws_alloc(nmax, &ws), HC_OK);
    static const size_t sizes[] = {8, 20, 1000, 20, 5000, 7000, 5001, 11, 3500};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (size_t stride = 1; stride <= 2; stride++) {
            size_t n = sizes[k];
            if (n * stride > nmax) continue;
            hc_normality_result a, b;
            memset(&a, 0, sizeof a);
            memset(&b, 0, sizeof b);
            assert_int_equal(hc_normality_test(x, n, stride, 9, &a), HC_OK);
            assert_int_equal(hc_normality_test_ws(ws, x, n, stride, 9, &b), HC_OK);
            assert_memory_equal(&a, &b, sizeof a);
        }
    /* the subsample depends on the seed, and the workspace result follows it */
    hc_normality_result a, b;
    assert_int_equal(hc_normality_test_ws(ws, x, 7000, 1, 1, &a), HC_OK);
    assert_int_equal(hc_normality_test_ws(ws, x, 7000, 1, 2, &b), HC_OK);
    assert_true(a.sw_w != b.sw_w);
    assert_true(a.g1 == b.g1 && a.ad_a2 == b.ad_a2);
    hc_normality_ws_free(ws);

    hc_normality_ws *small;
    assert_int_equal(hc_normality_ws_alloc(100, &small), HC_OK);
    assert_int_equal(hc_normality_test_ws(small, x, 101, 1, 0, &a), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "workspace size 100"));
    assert_int_equal(hc_normality_test_ws(small, x, 7, 1, 0, &a), HC_EINVAL);
    double c[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(hc_normality_test_ws(small, c, 10, 1, 0, &a), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "constant"));
    hc_normality_ws_free(small);
    assert_int_equal(hc_normality_ws_alloc(7, &small), HC_EINVAL);
    hc_normality_ws_free(NULL);

    /* Benjamini-Hochberg with caller scratch */
    double p[300];
    for (size_t i = 0; i < 300; i++) p[i] = i % 7 == 0 ? gsl_rng_uniform(r) * 1e-3 : gsl_rng_uniform(r);
    bool ra[300], rb[300];
    size_t ka, kb, idx[300];
    assert_int_equal(hc_benjamini_hochberg(p, 300, 0.05, ra, &ka), HC_OK);
    assert_int_equal(hc_benjamini_hochberg_ws(p, 300, 0.05, idx, rb, &kb), HC_OK);
    assert_int_equal(ka, kb);
    assert_true(ka > 0);
    assert_memory_equal(ra, rb, sizeof ra);
    assert_int_equal(hc_benjamini_hochberg_ws(p, 300, 0.0, idx, rb, &kb), HC_EINVAL);
    free(x);
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_scipy_r),
        cmocka_unit_test(test_reference_notes),
        cmocka_unit_test(test_shapiro_small_n),
        cmocka_unit_test(test_moments_vs_gsl),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ad_p_branches),
        cmocka_unit_test(test_stride),
        cmocka_unit_test(test_subsample),
        cmocka_unit_test(test_benjamini_hochberg),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_size_gaussian),
        cmocka_unit_test(test_power_alternatives),
        cmocka_unit_test(test_workspace),
    };
    return cmocka_run_group_tests(tests, hc_test_setup, NULL);
}
