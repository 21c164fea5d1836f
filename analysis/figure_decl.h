/* figure_decl.h: a declared figure of an experiment report (validated by
 * the experiment config; drawn by the report, report.h). */
#ifndef HC_FIGURE_DECL_H
#define HC_FIGURE_DECL_H

#include "metric_table.h"

/* scatter: metric x against metric y, one point per row;
 * pareto:  a scatter with the non-dominated front;
 * line:    a method key (results.h: hc_res_row_keys) against metric y;
 * curve:   replay error against "step" or "horizon", one series per row. */
typedef enum hc_fig_type { HC_FIG_SCATTER = 0, HC_FIG_PARETO, HC_FIG_LINE, HC_FIG_CURVE, HC_FIG_N_TYPES } hc_fig_type;
extern const char *const hc_fig_type_names[HC_FIG_N_TYPES]; /* "scatter", "pareto", "line", "curve" */

typedef struct hc_fig_decl {
    char name[64];    /* file base: letters, digits, '_' and '-' */
    hc_fig_type type;
    hc_eng eng;
    char x[32], y[32];
    int by_entry;     /* series: one per method entry (1) or one series (0) */
    int logx, logy;
    int by_kind;      /* curve: one more figure per module kind */
    char title[256];  /* "" = a default title; no quotes or backslashes */
} hc_fig_decl;

#endif
