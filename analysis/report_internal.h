/* report_internal.h: shared by the files of the report (report.c, tables.c,
 * figures.c).  Not installed. */
#ifndef HC_REPORT_INTERNAL_H
#define HC_REPORT_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "report.h"
#include "sbuf.h"

/* ---- tables (tables.c) ---- */

/* A row's metrics over its cells (seeds): mean and sample std of the finite
 * values (NaN: none, std: fewer than two), and the mean as shown. */
typedef struct rep_stats {
    double mean[HC_REPORT_MAX_METRICS];
    double sd[HC_REPORT_MAX_METRICS];
    char text[HC_REPORT_MAX_METRICS][64];
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
