/* test_stats.c: src/eval/stats.h against scipy/numpy reference values
 * (tests/data/stats_refs.json, written by /usr/bin/python3
 * tools/make_stats_refs.py) and against laws that need no reference.
 *
 * Tolerances: Wilcoxon and paired t statistics and p-values 1e-9 absolute
 * (the bar; the differences are ~1e-15); Holm 1e-15; bootstrap
 * intervals on the same fixed resamples 1e-9 absolute (sums in a different
 * order); KID 1e-9 relative; the FD bootstrap 1e-9 relative for n > d,
 * 1e-6 for n <= d (rank-deficient covariances: see the test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "testutil.h"

#include "outfile.h"
#include "quality.h"
#include "stats.h"

#define REFS HC_TEST_DATA "/stats_refs.json"

static cJSON *refs;
static double max_wil, max_t; /* max |diff| against scipy, printed at the end */

static int load_refs(void **state)
{
    hc_test_setup(state);
    char *s = NULL;
    if (hc_read_text(REFS, &s, NULL) != HC_OK) {
        fprintf(stderr, "%s\n", hc_errmsg());
        return -1;
    }
    refs = cJSON_Parse(s);
    free(s);
    if (!refs) fprintf(stderr, "%s: not valid JSON\n", REFS);
    return refs ? 0 : -1;
}

static int free_refs(void **state)
{
    (void)state;
    cJSON_Delete(refs);
    printf("max |diff| vs scipy: wilcoxon %.3g, paired t %.3g\n", max_wil, max_t);
    return 0;
}

static const cJSON *cases(const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(refs, key);
    assert_true(cJSON_IsArray(a));
    assert_true(cJSON_GetArraySize(a) > 0);
    return a;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsNumber(x));
    return x->valuedouble;
}

/* o[k] as a new array of doubles; *n gets its length */
static double *arr(const cJSON *o, const char *k, int *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k), *v;
    assert_true(cJSON_IsArray(a));
    *n = cJSON_GetArraySize(a);
    double *x = malloc(((size_t)*n + 1) * sizeof *x);
    assert_non_null(x);
    int i = 0;
    cJSON_ArrayForEach(v, a) x[i++] = v->valuedouble;
    return x;
}

static float *farr(const cJSON *o, const char *k, int *n)
{
    double *x = arr(o, k, n);
    float *f = malloc(((size_t)*n + 1) * sizeof *f);
    assert_non_null(f);
    for (int i = 0; i < *n; i++) f[i] = (float)x[i];
    free(x);
    return f;
}

static void track(double *mx, double got, double want)
{
    double e = fabs(got - want);
    if (e > *mx) *mx = e;
}

static void test_wilcoxon_refs(void **state)
{
    (void)state;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("wilcoxon"))
    {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        int n;
        double *d = arr(c, "d", &n);
        hc_wilcoxon_result r;
        assert_int_equal(hc_wilcoxon(d, n, cJSON_IsTrue(cJSON_GetObjectItem(c, "correction")), &r), HC_OK);
        const char *mode = cJSON_GetObjectItem(c, "mode")->valuestring;
        assert_int_equal(r.mode, strcmp(mode, "exact") == 0 ? HC_WILCOXON_EXACT : HC_WILCOXON_APPROX);
        check_close(r.statistic, num(c, "statistic"), 1e-9, 0, name, "statistic");
        check_close(r.p, num(c, "p"), 1e-9, 0, name, "p");
        track(&max_wil, r.statistic, num(c, "statistic"));
        track(&max_wil, r.p, num(c, "p"));
        free(d);
    }
}

static void test_wilcoxon_laws(void **state)
{
    (void)state;
    hc_wilcoxon_result r;
    /* every difference zero: no test */
    double z[5] = {0, 0, 0, 0, 0};
    assert_int_equal(hc_wilcoxon(z, 5, 0, &r), HC_OK);
    assert_true(isnan(r.p));
    assert_int_equal(r.n_used, 0);
    /* all positive, n = 10: exact p = 2 / 2^10 */
    double d[10];
    for (int i = 0; i < 10; i++) d[i] = i + 1;
    assert_int_equal(hc_wilcoxon(d, 10, 0, &r), HC_OK);
    check_close(r.p, 2.0 / 1024, 1e-15, 0, "all positive", "p");
    /* symmetric under sign flip */
    hc_wilcoxon_result q;
    for (int i = 0; i < 10; i++) d[i] = (i % 3 ? 1 : -1) * (0.5 + i);
    assert_int_equal(hc_wilcoxon(d, 10, 0, &r), HC_OK);
    for (int i = 0; i < 10; i++) d[i] = -d[i];
    assert_int_equal(hc_wilcoxon(d, 10, 0, &q), HC_OK);
    check_close(q.p, r.p, 1e-15, 0, "sign flip", "p");
}

static void test_ttest_refs(void **state)
{
    (void)state;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("ttest"))
    {
        int n, m;
        double *x = arr(c, "x", &n), *y = arr(c, "y", &m);
        assert_int_equal(n, m);
        for (int i = 0; i < n; i++) x[i] -= y[i];
        double t, p;
        hc_ttest_paired(x, n, &t, &p);
        check_close(t, num(c, "t"), 1e-9, 1e-12, "ttest", "t");
        check_close(p, num(c, "p"), 1e-9, 0, "ttest", "p");
        track(&max_t, t, num(c, "t"));
        track(&max_t, p, num(c, "p"));
        free(x);
        free(y);
    }
    double t, p, c3[3] = {2, 2, 2}, z3[3] = {0, 0, 0};
    hc_ttest_paired(c3, 3, &t, &p);
    assert_true(isinf(t) && p == 0);
    hc_ttest_paired(z3, 3, &t, &p);
    assert_true(isnan(t) && isnan(p));
}

static void test_holm_refs(void **state)
{
    (void)state;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("holm"))
    {
        int n, m;
        double *p = arr(c, "p", &n), *want = arr(c, "adj", &m), adj[64];
        assert_true(n == m && n <= 64);
        hc_holm(p, n, adj);
        for (int i = 0; i < n; i++) check_close(adj[i], want[i], 1e-15, 0, "holm", "adj");
        free(p);
        free(want);
    }
    double p[4] = {0.01, NAN, 0.02, 0.5}, adj[4];
    hc_holm(p, 4, adj);
    assert_true(isnan(adj[1]));
    check_close(adj[0], 0.03, 1e-15, 0, "holm nan", "adj0");
    check_close(adj[2], 0.04, 1e-15, 0, "holm nan", "adj2");
}

static void check_ci(const char *what, double lo, double hi, const cJSON *want)
{
    check_close(lo, cJSON_GetArrayItem(want, 0)->valuedouble, 1e-9, 0, what, "lo");
    check_close(hi, cJSON_GetArrayItem(want, 1)->valuedouble, 1e-9, 0, what, "hi");
}

static void test_bootstrap_refs(void **state)
{
    (void)state;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("bootstrap"))
    {
        int n = (int)num(c, "n"), B = (int)num(c, "B"), k;
        int *idx = malloc((size_t)n * B * sizeof *idx);
        double *work = malloc((size_t)B * sizeof *work), lo, hi;
        assert_true(idx && work);
        hc_boot_indices(n, B, (unsigned long)num(c, "seed"), idx);
        /* the same resamples as numpy's MT19937 (legacy seeding) */
        const cJSON *head = cJSON_GetObjectItem(c, "idx_head"), *tail = cJSON_GetObjectItem(c, "idx_tail");
        for (int i = 0; i < n; i++) {
            assert_int_equal(idx[i], cJSON_GetArrayItem(head, i)->valueint);
            assert_int_equal(idx[(size_t)(B - 1) * n + i], cJSON_GetArrayItem(tail, i)->valueint);
        }
        double *a = arr(c, "a", &k), *b = arr(c, "b", &k), *as = arr(c, "a_sum", &k), *aw = arr(c, "a_w", &k);
        double *bs = arr(c, "b_sum", &k), *bw = arr(c, "b_w", &k);
        double level = num(c, "level");
        hc_boot_ratio_ci(a, NULL, NULL, NULL, n, idx, B, level, work, &lo, &hi);
        check_ci("mean", lo, hi, cJSON_GetObjectItem(c, "mean_ci"));
        hc_boot_ratio_ci(a, NULL, NULL, NULL, n, idx, B, 0.90, work, &lo, &hi);
        check_ci("mean 90%", lo, hi, cJSON_GetObjectItem(c, "mean_ci90"));
        hc_boot_ratio_ci(a, NULL, b, NULL, n, idx, B, level, work, &lo, &hi);
        check_ci("paired delta", lo, hi, cJSON_GetObjectItem(c, "delta_ci"));
        hc_boot_ratio_ci(as, aw, bs, bw, n, idx, B, level, work, &lo, &hi);
        check_ci("ratio delta", lo, hi, cJSON_GetObjectItem(c, "ratio_delta_ci"));
        free(a), free(b), free(as), free(aw), free(bs), free(bw), free(idx), free(work);
    }
    /* quantile type 7 */
    double s[5] = {1, 2, 3, 4, 10};
    check_close(hc_quantile_sorted(s, 5, 0.5), 3, 0, 0, "quantile", "median");
    check_close(hc_quantile_sorted(s, 5, 0.9), 7.6, 1e-15, 0, "quantile", "p90");
}

static void test_kid_refs(void **state)
{
    (void)state;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("kid"))
    {
        int n = (int)num(c, "n"), m = (int)num(c, "m"), d = (int)num(c, "d"), k;
        float *x = farr(c, "x", &k), *y = farr(c, "y", &k);
        double kid, se;
        assert_int_equal(hc_kid(x, n, y, m, d, &kid, &se), HC_OK);
        check_close(kid, num(c, "kid"), 1e-12, 1e-9, "kid", "value");
        check_close(se, num(c, "se"), 1e-12, 1e-9, "kid", "se");
        free(x);
        free(y);
    }
    float one[2] = {1, 2};
    double kid, se;
    assert_int_equal(hc_kid(one, 1, one, 1, 2, &kid, &se), HC_EINVAL);
}

static void test_fd_boot_refs(void **state)
{
    (void)state;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("fd_boot"))
    {
        int n = (int)num(c, "n"), d = (int)num(c, "d"), B = (int)num(c, "B"), k;
        float *f = farr(c, "f", &k);
        double *mu = arr(c, "mu_r", &k), *cov = arr(c, "cov_r", &k);
        int *idx = malloc((size_t)n * B * sizeof *idx);
        assert_non_null(idx);
        hc_boot_indices(n, B, (unsigned long)num(c, "seed"), idx);
        double point, lo, hi;
        assert_int_equal(hc_fd_boot(f, n, d, mu, cov, idx, B, 0.95, &point, &lo, &hi), HC_OK);
        check_close(point, num(c, "point"), 1e-9, 1e-9, "fd boot", "point");
        const cJSON *ci = cJSON_GetObjectItem(c, "ci");
        /* resamples with repeated rows are rank-deficient: scipy's sqrtm
         * then carries sqrt(eps)-sized noise (the Gram route here does not) */
        double rt = n <= d ? 1e-6 : 1e-9;
        check_close(lo, cJSON_GetArrayItem(ci, 0)->valuedouble, 1e-9, rt, "fd boot", "lo");
        check_close(hi, cJSON_GetArrayItem(ci, 1)->valuedouble, 1e-9, rt, "fd boot", "hi");
        /* the point agrees with quality.h's Frechet distance, whose d x d
         * eigenvalues of a rank-deficient product (n <= d) carry ~1e-15
         * noise that sqrt lifts to ~1e-8 each: 1e-6 relative */
        double *mf = calloc((size_t)d, sizeof *mf), *cf = calloc((size_t)d * d, sizeof *cf), fd;
        assert_int_equal(hc_feature_stats(f, n, d, mf, cf), HC_OK);
        assert_int_equal(hc_frechet(mf, cf, mu, cov, d, &fd), HC_OK);
        check_close(point, fd, 1e-9, 1e-6, "fd boot", "vs hc_frechet");
        free(mf), free(cf), free(f), free(mu), free(cov), free(idx);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilcoxon_refs), cmocka_unit_test(test_wilcoxon_laws),
        cmocka_unit_test(test_ttest_refs),    cmocka_unit_test(test_holm_refs),
        cmocka_unit_test(test_bootstrap_refs), cmocka_unit_test(test_kid_refs),
        cmocka_unit_test(test_fd_boot_refs),
    };
    return cmocka_run_group_tests(tests, load_refs, free_refs);
}
