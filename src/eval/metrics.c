/* metrics.c: forecast error metrics (metrics.h). */
#include "metrics.h"

#include <math.h>

const char *const hc_metric_names[HC_N_METRICS] = {"rel_l1", "rel_l2", "cosine", "max_abs"};

void hc_metrics_compute(const float *p, const float *y, size_t n, double out[HC_N_METRICS])
{
    double l1 = 0, y1 = 0, l2 = 0, y2 = 0, p2 = 0, py = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)p[i] - y[i], ad = fabs(d);
        l1 += ad;
        y1 += fabs(y[i]);
        l2 += d * d;
        y2 += (double)y[i] * y[i];
        p2 += (double)p[i] * p[i];
        py += (double)p[i] * y[i];
        if (ad > mx) mx = ad;
    }
    out[HC_REL_L1] = y1 > 0 ? l1 / y1 : (l1 > 0 ? INFINITY : 0);
    out[HC_REL_L2] = y2 > 0 ? sqrt(l2 / y2) : (l2 > 0 ? INFINITY : 0);
    out[HC_COSINE] = (p2 > 0 && y2 > 0) ? py / sqrt(p2 * y2) : (p2 == y2 ? 1.0 : 0.0);
    out[HC_MAX_ABS] = mx;
}
