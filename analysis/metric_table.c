/* metric_table.c: the metric catalogue and its formatting (see metric_table.h). */
#include "metric_table.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const hc_eng_names[HC_N_ENG] = {"replay", "live"};

static const hc_report_metric live_metrics[] = {
    {"flops", "FLOPs (G)", "FLOPs (G)", -1, "%.3f", 1e-9},
    {"flops_speedup", "FLOPs speedup", "FLOPs speedup", +1, "%.2f×", 1},
    {"seconds", "Latency (s)", "Latency (s)", -1, "%.3g", 1},
    {"wall_speedup", "Latency speedup", "Latency speedup", +1, "%.2f×", 1},
    {"rel_l2", "rel-L2", "rel-$L_2$", -1, "%.4f", 1},
    {"psnr", "PSNR (dB)", "PSNR (dB)", +1, "%.2f", 1},
    {"ssim", "SSIM", "SSIM", +1, "%.4f", 1},
    {"fd", "FD", "FD", -1, "%.2f", 1},
    {"class_acc", "Class acc. (%)", "Class acc. (\\%)", +1, "%.1f", 100},
    {"full_steps", "Full steps", "Full steps", 0, "%.0f", 1},
    {"steps", "Steps", "Steps", 0, "%.0f", 1},
    {"kid", "KID", "KID", -1, "%.4g", 1},
    {"cache_mib", "Cache (MiB)", "Cache (MiB)", -1, "%.2f", 1},
};
static const hc_report_metric replay_metrics[] = {
    {"rel_l2", "rel-L2", "rel-$L_2$", -1, "%.4f", 1},
    {"rel_l2_median", "rel-L2 median", "rel-$L_2$ median", -1, "%.4f", 1},
    {"rel_l2_p95", "rel-L2 p95", "rel-$L_2$ p95", -1, "%.4f", 1},
    {"rel_l1", "rel-L1", "rel-$L_1$", -1, "%.4f", 1},
    {"cosine", "Cosine", "Cosine", +1, "%.5f", 1},
    {"max_abs", "Max abs", "Max abs", -1, "%.4g", 1},
    {"flops_speedup", "FLOPs speedup", "FLOPs speedup", +1, "%.2f×", 1},
    {"full_steps", "Full steps", "Full steps", 0, "%.0f", 1},
    {"steps", "Steps", "Steps", 0, "%.0f", 1},
    {"cache_mib", "Cache (MiB)", "Cache (MiB)", -1, "%.2f", 1},
};
#define N_LIVE_M ((int)(sizeof live_metrics / sizeof live_metrics[0]))
#define N_REPLAY_M ((int)(sizeof replay_metrics / sizeof replay_metrics[0]))
_Static_assert(N_LIVE_M <= HC_REPORT_MAX_METRICS && N_REPLAY_M <= HC_REPORT_MAX_METRICS, "HC_REPORT_MAX_METRICS");

const hc_report_metric *hc_report_metrics(hc_eng eng, int *n)
{
    *n = eng == HC_ENG_LIVE ? N_LIVE_M : N_REPLAY_M;
    return eng == HC_ENG_LIVE ? live_metrics : replay_metrics;
}

const hc_report_metric *hc_report_metric_find(hc_eng eng, const char *key)
{
    int n;
    const hc_report_metric *m = hc_report_metrics(eng, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(m[i].key, key) == 0) return &m[i];
    return NULL;
}

void hc_report_metric_list(hc_eng eng, char *buf, size_t n)
{
    int k;
    const hc_report_metric *m = hc_report_metrics(eng, &k);
    buf[0] = 0;
    for (int i = 0; i < k; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s", i ? ", " : "", m[i].key);
    }
}

void hc_report_format(hc_eng eng, const char *key, double value, char *buf, size_t n)
{
    const hc_report_metric *m = hc_report_metric_find(eng, key);
    if (!isfinite(value)) {
        snprintf(buf, n, "—");
        return;
    }
    double v = value * (m ? m->scale : 1);
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    snprintf(buf, n, m ? m->fmt : "%.4g", v);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    if (strcmp(buf, "-0") == 0 || strncmp(buf, "-0.", 3) == 0) { /* no negative zero after rounding */
        int zero = 1;
        for (const char *c = buf + 1; *c; c++)
            if (*c >= '1' && *c <= '9') zero = 0;
        if (zero) memmove(buf, buf + 1, strlen(buf));
    }
}
