/* report_internal.h: shared by the files of the report (report.c, tables.c,
 * figures.c).  Not installed. */
#ifndef HC_REPORT_INTERNAL_H
#define HC_REPORT_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "report.h"
#include "sbuf.h"

/* ---- tables (tables.c) ---- */

/* The uncertainty of one metric of a row (intervals.c): a 95% paired
 * percentile-bootstrap interval of its mean over units (live: images of
 * every seed; replay: file x module, the mean a ratio of sums over their
 * records), the difference to the baseline row on the same units with its
 * interval, Wilcoxon signed-rank and paired t p-values on the units'
 * differences, Holm-adjusted over the table, and the mark. */
typedef struct rep_ci {
    int n;                   /* units (0: no per-sample values; FD: images) */
    double lo, hi;           /* NaN: none */
    double delta, dlo, dhi;  /* NaN: no baseline, or this is it */
    double p_w, p_t;         /* NaN: no test */
    double p_w_holm, p_t_holm;
    int mark;                /* +1 significantly better than the baseline, -1 worse */
} rep_ci;

/* A row's metrics over its cells (seeds): mean and sample std of the finite
 * values (NaN: none, std: fewer than two), and the mean as shown; the
 * intervals (rep_table_intervals) and the half-width as shown ("" none). */
typedef struct rep_stats {
    double mean[HC_REPORT_MAX_METRICS];
    double sd[HC_REPORT_MAX_METRICS];
    char text[HC_REPORT_MAX_METRICS][64];
    rep_ci ci[HC_REPORT_MAX_METRICS];
    char hw[HC_REPORT_MAX_METRICS][64];
} rep_stats;

void rep_row_stats(const hc_results *r, const hc_res_row *w, rep_stats *st);

/* The table of one engine: its rows in row order, their stats and, per
 * column, whether the row holds the best value. */
typedef struct rep_table {
    hc_eng eng;
    char caption[2048];
    int n_rows;
    int *rows;                              /* indices into hc_results.rows */
    rep_stats *stats;                       /* [n_rows] */
    unsigned char (*best)[HC_RES_MAX_COLS]; /* [n_rows][column] */
} rep_table;

/* One table per engine run, in engine order. */
hc_status rep_tables_build(const hc_results *r, rep_table **out, int *n);
void rep_tables_free(rep_table *t, int n);
cJSON *rep_tables_json(const hc_results *r, const rep_table *t, int n);
void rep_write_md(sbuf *b, const hc_results *r, const rep_table *t, int n);
void rep_write_tex(sbuf *b, const hc_results *r, const rep_table *t, int n);
hc_status rep_write_results_csv(const hc_results *r, hc_outset *set, const char *path);

/* ---- intervals (intervals.c) ---- */

#define REP_ALPHA 0.05  /* significance level of the marks, after Holm */

/* The interval of metric `key` over the cells [n] of one row (same engine),
 * paired with the cells of baseline row `base` (-1: none) by seed. */
void rep_cells_ci(const hc_results *r, const int *cells, int n, int base, const char *key, rep_ci *out);
/* Every row's intervals and tests, Holm over the table, marks, half-widths. */
void rep_table_intervals(const hc_results *r, rep_table *t);
/* 1 if key has per-sample values in an engine's cells (the interval metrics). */
int rep_has_interval(hc_eng eng, const char *key);
/* The legend line of table.md ("" when the table has no intervals). */
void rep_interval_legend(const hc_results *r, const rep_table *t, char *buf, size_t n);
/* DIR/per_sample.csv: cell,method,seed,unit,metric,value. */
hc_status rep_write_per_sample_csv(const hc_results *r, hc_outset *set, const char *path);

/* ---- figures (figures.c) ---- */

typedef struct rep_fig_out {
    char name[200];
    hc_fig_type type;
    int points;
    int rendered;
} rep_fig_out;

typedef struct rep_figs {
    rep_fig_out *list;
    int n, cap;
    hc_report_counts counts;
} rep_figs;

/* Write the declared figures into fig_dir (created by the caller), every
 * file a member of `set`. */
hc_status rep_write_figures(const hc_results *r, hc_outset *set, const char *fig_dir, int render, int quiet,
                            rep_figs *out);

#endif
