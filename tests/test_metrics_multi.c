/* test_metrics_multi.c: hc_metrics_multi (the fused pass replay scores all
 * methods with) gives bit for bit hc_metrics_compute's values, on the AVX2
 * path and the scalar one, for every row length around the block size and
 * every method count, with forecasts that hold NaN and Inf, and with the
 * truth's sums given or computed.  Exact comparison (memcmp of the
 * doubles): the sums must be in the same order, not merely close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "metrics.h"
#include "testutil.h"

static void check_case(gsl_rng *r, size_t n, int M, int special)
{
    float *y = malloc((n + 1) * sizeof *y), *p[6];
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
    double want[6][HC_N_METRICS], got[6][HC_N_METRICS], ts[2];
    for (int m = 0; m < M; m++) hc_metrics_compute(p[m], y, n, want[m]);
    hc_metrics_truth(y, n, ts);
    for (int simd = 0; simd < 2; simd++)
        for (int given = 0; given < 2; given++) {
            memset(got, 0xff, sizeof got);
            hc_metrics_multi_with(simd, (const float *const *)p, M, y, n, given ? ts : NULL, got);
            for (int m = 0; m < M; m++)
                if (memcmp(got[m], want[m], sizeof want[m]) != 0) {
                    print_error("n %zu, M %d, method %d, simd %d, ts given %d: rel_l1 %.17g/%.17g rel_l2 %.17g/%.17g "
                                "cosine %.17g/%.17g max_abs %.17g/%.17g (got/want)\n",
                                n, M, m, simd, given, got[m][0], want[m][0], got[m][1], want[m][1], got[m][2],
                                want[m][2], got[m][3], want[m][3]);
                    fail();
                }
        }
    for (int m = 0; m < M; m++) free(p[m]);
    free(y);
}

static void test_bitwise(void **state)
{
    (void)state;
    gsl_rng *r = make_rng(11);
    const size_t ns[] = {0, 1, 3, 4, 15, 16, 17, 31, 32, 33, 1000, 4099, 100003};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int M = 1; M <= 5; M++)
            for (int special = 0; special < 2; special++) check_case(r, ns[k], M, special);
    gsl_rng_free(r);
}

/* A sum in another order (what a vectorised reduction would do) differs
 * from the sequential one in the last bits on these data: the check above
 * can tell the orders apart. */
static void test_order_matters(void **state)
{
    (void)state;
    gsl_rng *r = make_rng(12);
    size_t n = 100003;
    float *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = (float)(gsl_rng_uniform(r) - 0.5);
    double seq = 0, lanes[4] = {0};
    for (size_t i = 0; i < n; i++) seq += (double)y[i] * y[i];
    for (size_t i = 0; i < n; i++) lanes[i % 4] += (double)y[i] * y[i];
    double ts[2];
    hc_metrics_truth(y, n, ts);
    assert_true(ts[1] == seq);
    assert_true((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) != seq);
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
