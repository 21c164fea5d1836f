/* metrics.h: error of a forecast p against the truth y, both n floats
 * (float32, any layout; the same layout for both), accumulated in double.
 *   rel_l1  sum|p - y| / sum|y|          (0/0 = 0, x/0 = inf)
 *   rel_l2  ||p - y||_2 / ||y||_2        (0/0 = 0, x/0 = inf)
 *   cosine  <p, y> / (||p|| ||y||)       (both zero: 1; one zero: 0)
 *   max_abs max |p - y|
 * Reference values from numpy: tests/test_metrics.c. */
#ifndef HC_METRICS_H
#define HC_METRICS_H

#include <stddef.h>

/* The metrics, in output order. */
typedef enum hc_metric { HC_REL_L1 = 0, HC_REL_L2, HC_COSINE, HC_MAX_ABS, HC_N_METRICS } hc_metric;
extern const char *const hc_metric_names[HC_N_METRICS];

void hc_metrics_compute(const float *p, const float *y, size_t n, double out[HC_N_METRICS]);

/* The truth's sums: ts = {sum |y|, sum y^2} in element order, in double. */
void hc_metrics_truth(const float *y, size_t n, double ts[2]);
/* M forecasts p[0..M) against one truth y, all n floats: out[m] is
 * bit for bit hc_metrics_compute(p[m], y, n) (every sum in element order;
 * AVX2 for the elementwise terms where the CPU has it).  ts: the truth's
 * sums from hc_metrics_truth, or NULL to compute them here. */
void hc_metrics_multi(const float *const *p, int M, const float *y, size_t n, const double ts[2],
                      double (*out)[HC_N_METRICS]);
/* The same with the AVX2 path off (simd = 0) for tests. */
void hc_metrics_multi_with(int simd, const float *const *p, int M, const float *y, size_t n, const double ts[2],
                           double (*out)[HC_N_METRICS]);

#endif
