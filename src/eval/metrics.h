/* metrics.h: error of a forecast p against the truth y, both n floats
 * (float32, any layout; the same layout for both), accumulated in double.
 *   rel_l1  sum|p - y| / sum|y|          (0/0 = 0, x/0 = inf)
 *   rel_l2  ||p - y||_2 / ||y||_2        (0/0 = 0, x/0 = inf)
 *   cosine  <p, y> / (||p|| ||y||)       (both zero: 1; one zero: 0)
 *   max_abs max |p - y|
 *
 * The order of every sum is part of the definition, so that results are
 * the same bits however a row is split (chunks, threads, SIMD or not):
 * the row is cut into blocks of HC_METRIC_BLOCK elements from element 0;
 * in a block starting at b, lane j (0..7) sums the terms of elements
 * b+j, b+j+8, ... in element order, and the block's value is
 *   ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
 * the row's sum adds the block values in block order, from 0.  Each term
 * is computed in double from the float32 inputs (d = (double)p - y, |d|,
 * d*d, p*p, p*y, |y|, y*y).  This is at least as accurate as one
 * sequential sum (8-way and blocked partial sums) and lets a pass over a
 * row run at memory speed.
 * Reference values from numpy: tests/test_metrics.c. */
#ifndef HC_METRICS_H
#define HC_METRICS_H

#include <stddef.h>

/* The metrics, in output order. */
typedef enum hc_metric { HC_REL_L1 = 0, HC_REL_L2, HC_COSINE, HC_MAX_ABS, HC_N_METRICS } hc_metric;
extern const char *const hc_metric_names[HC_N_METRICS];

#define HC_METRIC_BLOCK 4096 /* elements per block of the sums (a multiple of 8) */

/* Sums of one forecast: {sum|d|, sum d^2, sum p^2, sum p*y} and max|d|. */
typedef struct hc_msum {
    double s[4];
    double mx;
} hc_msum;

void hc_metrics_compute(const float *p, const float *y, size_t n, double out[HC_N_METRICS]);

/* The truth's sums: ts = {sum |y|, sum y^2} (the order above). */
void hc_metrics_truth(const float *y, size_t n, double ts[2]);
/* M forecasts p[0..M) against one truth y, all n floats: out[m] is bit for
 * bit hc_metrics_compute(p[m], y, n).  ts: the truth's sums from
 * hc_metrics_truth, or NULL to compute them here. */
void hc_metrics_multi(const float *const *p, int M, const float *y, size_t n, const double ts[2],
                      double (*out)[HC_N_METRICS]);
/* The same with the AVX2 path off (simd = 0) for tests. */
void hc_metrics_multi_with(int simd, const float *const *p, int M, const float *y, size_t n, const double ts[2],
                           double (*out)[HC_N_METRICS]);

/* ---- pieces: a row scored block by block (replay's chunked, threaded pass) ----
 * One block: n <= HC_METRIC_BLOCK elements starting at a block boundary of
 * the row (only the row's last block may be short).  bs[m] gets forecast
 * m's block values; bt (unless NULL) the truth's {sum|y|, sum y^2}. */
void hc_metrics_block(const float *const *p, int M, const float *y, size_t n, hc_msum *bs, double bt[2]);
/* acc += block (in block order; the maximum is order independent).  Start
 * from a zeroed hc_msum. */
void hc_msum_add(hc_msum *acc, const hc_msum *block);
/* The metrics from a row's sums and its truth's sums. */
void hc_metrics_finish(const hc_msum *acc, const double ts[2], double out[HC_N_METRICS]);

#endif
