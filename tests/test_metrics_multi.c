/* test_metrics_multi.c: the summation order of metrics.h, bit for bit.
 * A reference written here from the header's definition (blocks of
 * HC_METRIC_BLOCK, 8 lanes, the stated lane combination, blocks added in
 * order) against hc_metrics_compute, hc_metrics_multi on the AVX2 path and
 * the scalar one (truth's sums given or computed), and the row scored in
 * pieces (hc_metrics_block at block boundaries, hc_msum_add, finish) as
 * replay's threads do; for row lengths around the lane and block sizes,
 * 1..9 methods, forecasts holding NaN, Inf and zeros.  Exact comparison
 * (memcmp of the doubles): the sums must be in the same order, not merely
 * close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "metrics.h"
#include "testutil.h"

/* The definition, written out: terms in double, 8 lanes per block. */
static void ref_metrics(const float *p, const float *y, size_t n, double out[HC_N_METRICS])
{
    double tot[6] = {0}, mx = 0;
    for (size_t b = 0; b < n; b += HC_METRIC_BLOCK) {
        double s[6][8] = {{0}};
        for (size_t i = b; i < n && i < b + HC_METRIC_BLOCK; i++) {
            size_t j = (i - b) % 8;
            double d = (double)p[i] - (double)y[i];
            s[0][j] += fabs(d);
            s[1][j] += d * d;
            s[2][j] += (double)p[i] * (double)p[i];
            s[3][j] += (double)p[i] * (double)y[i];
            s[4][j] += fabs((double)y[i]);
            s[5][j] += (double)y[i] * (double)y[i];
            if (fabs(d) > mx) mx = fabs(d);
        }
        for (int k = 0; k < 6; k++)
            tot[k] += ((s[k][0] + s[k][4]) + (s[k][2] + s[k][6])) + ((s[k][1] + s[k][5]) + (s[k][3] + s[k][7]));
    }
    out[HC_REL_L1] = tot[4] > 0 ? tot[0] / tot[4] : (tot[0] > 0 ? INFINITY : 0);
    out[HC_REL_L2] = tot[5] > 0 ? sqrt(tot[1] / tot[5]) : (tot[1] > 0 ? INFINITY : 0);
    out[HC_COSINE] = (tot[2] > 0 && tot[5] > 0) ? tot[3] / sqrt(tot[2] * tot[5]) : (tot[2] == tot[5] ? 1.0 : 0.0);
    out[HC_MAX_ABS] = mx;
}

static void expect_same(const double *got, const double *want, const char *how, size_t n, int M, int m)
{
    if (memcmp(got, want, HC_N_METRICS * sizeof *got) == 0) return;
    print_error("%s, n %zu, M %d, method %d: rel_l1 %.17g/%.17g rel_l2 %.17g/%.17g cosine %.17g/%.17g "
                "max_abs %.17g/%.17g (got/want)\n",
                how, n, M, m, got[0], want[0], got[1], want[1], got[2], want[2], got[3], want[3]);
    fail();
}

/* The row in pieces of whole blocks (random sizes), blocks added in order. */
static void pieces(gsl_rng *r, float *const *p, int M, const float *y, size_t n, double (*got)[HC_N_METRICS])
{
    hc_msum acc[9], bs[9];
    memset(acc, 0, sizeof acc);
    double ts[2] = {0, 0}, bt[2];
    const float *pb[9];
    size_t nb = (n + HC_METRIC_BLOCK - 1) / HC_METRIC_BLOCK;
    for (size_t b = 0; b < nb;) {
        size_t take = 1 + gsl_rng_uniform_int(r, 3); /* a "chunk" of 1..3 blocks */
        for (size_t k = b; k < b + take && k < nb; k++) {
            size_t e0 = k * HC_METRIC_BLOCK, len = n - e0 < HC_METRIC_BLOCK ? n - e0 : HC_METRIC_BLOCK;
            for (int m = 0; m < M; m++) pb[m] = p[m] + e0;
            hc_metrics_block(pb, M, y + e0, len, bs, bt);
            for (int m = 0; m < M; m++) hc_msum_add(&acc[m], &bs[m]);
            ts[0] += bt[0];
            ts[1] += bt[1];
        }
        b += take;
    }
    for (int m = 0; m < M; m++) hc_metrics_finish(&acc[m], ts, got[m]);
}

static void check_case(gsl_rng *r, size_t n, int M, int special)
{
    float *y = malloc((n + 1) * sizeof *y), *p[9];
    for (size_t i = 0; i < n; i++) y[i] = (float)(gsl_rng_uniform(r) - 0.5) * (i % 7 == 0 ? 100.0f : 1.0f);
    for (int m = 0; m < M; m++) {
        p[m] = malloc((n + 1) * sizeof *p[m]);
        for (size_t i = 0; i < n; i++) p[m][i] = y[i] + (float)(gsl_rng_uniform(r) - 0.5) * 0.01f * (float)(m + 1);
        if (special && n > 3) { /* non-finite forecasts (a diverging predictor), a zero forecast */
            if (m == 0) p[m][n / 2] = NAN;
            if (m == 1) p[m][n - 1] = INFINITY;
            if (m == 2) memset(p[m], 0, n * sizeof *p[m]);
        }
    }
    double want[9][HC_N_METRICS], got[9][HC_N_METRICS], ts[2];
    for (int m = 0; m < M; m++) {
        ref_metrics(p[m], y, n, want[m]);
        hc_metrics_compute(p[m], y, n, got[m]);
        expect_same(got[m], want[m], "hc_metrics_compute", n, M, m);
    }
    hc_metrics_truth(y, n, ts);
    const char *how[2][2] = {{"scalar", "scalar, truth given"}, {"simd", "simd, truth given"}};
    for (int simd = 0; simd < 2; simd++)
        for (int given = 0; given < 2; given++) {
            memset(got, 0xff, sizeof got);
            hc_metrics_multi_with(simd, (const float *const *)p, M, y, n, given ? ts : NULL, got);
            for (int m = 0; m < M; m++) expect_same(got[m], want[m], how[simd][given], n, M, m);
        }
    memset(got, 0xff, sizeof got);
    pieces(r, p, M, y, n, got);
    for (int m = 0; m < M; m++) expect_same(got[m], want[m], "block pieces", n, M, m);
    for (int m = 0; m < M; m++) free(p[m]);
    free(y);
}

static void test_bitwise(void **state)
{
    (void)state;
    gsl_rng *r = make_rng(11);
    const size_t B = HC_METRIC_BLOCK;
    const size_t ns[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 33, 1000, B - 1, B, B + 1, B + 7, 2 * B + 9, 100003};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int M = 1; M <= 9; M++)
            for (int special = 0; special < 2; special++) check_case(r, ns[k], M, special);
    gsl_rng_free(r);
}

/* Another order (one sequential sum, or 4 lanes) differs from the defined
 * one in the last bits on these data: the checks above can tell orders
 * apart.  The defined order is also closer to the exact sum (long double
 * here) than the sequential one. */
static void test_order_matters(void **state)
{
    (void)state;
    gsl_rng *r = make_rng(12);
    size_t n = 100003;
    float *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = (float)(gsl_rng_uniform(r) - 0.5);
    double seq = 0, lanes[4] = {0};
    long double exact = 0;
    for (size_t i = 0; i < n; i++) seq += (double)y[i] * y[i];
    for (size_t i = 0; i < n; i++) lanes[i % 4] += (double)y[i] * y[i];
    for (size_t i = 0; i < n; i++) exact += (long double)((double)y[i] * y[i]);
    double ts[2];
    hc_metrics_truth(y, n, ts);
    assert_true(ts[1] != seq);
    assert_true(ts[1] != (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));
    assert_true(fabsl((long double)ts[1] - exact) <= fabsl((long double)seq - exact));
    free(y);
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitwise),
        cmocka_unit_test(test_order_matters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
