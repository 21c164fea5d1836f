/* metric_table.h: the metrics an experiment reports per engine, and the one
 * formatting source of every number in table.md, table.tex and the tables'
 * "text" in summary.json. */
#ifndef HC_METRIC_TABLE_H
#define HC_METRIC_TABLE_H

#include <stddef.h>

/* The engines whose cells the report tabulates. */
typedef enum hc_eng { HC_ENG_REPLAY = 0, HC_ENG_LIVE = 1, HC_N_ENG = 2 } hc_eng;
extern const char *const hc_eng_names[HC_N_ENG]; /* "replay", "live" */

/* One metric of an engine: the key in a cell's metrics, table headers,
 * direction (+1 higher is better, -1 lower, 0 none), printf format of the
 * value after multiplying by scale. */
typedef struct hc_report_metric {
    const char *key;
    const char *header; /* Markdown / plain (UTF-8) */
    const char *tex;    /* LaTeX */
    int dir;
    const char *fmt;
    double scale;
} hc_report_metric;

/* At most this many metrics per engine. */
#define HC_REPORT_MAX_METRICS 16

/* The metrics of `eng` in table order; *n gets their number. */
const hc_report_metric *hc_report_metrics(hc_eng eng, int *n);

/* The metric `key` of `eng`, or NULL. */
const hc_report_metric *hc_report_metric_find(hc_eng eng, const char *key);

/* "flops, flops_speedup, ...": the keys of `eng` for messages. */
void hc_report_metric_list(hc_eng eng, char *buf, size_t n);

/* Metric `key` of `eng` formatted as shown in the tables: "—" for a
 * non-finite value (NaN = missing), "%.4g" for an unknown key, no negative
 * zero after rounding. */
void hc_report_format(hc_eng eng, const char *key, double value, char *buf, size_t n);

#endif
