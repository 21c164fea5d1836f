/* gauss_report.h: the outputs of `hicache gauss` (src/eval/gauss.h):
 * gauss.csv, summary.json, summary.md and the Q-Q and histogram figures
 * under fig/.  hc_gauss_run (declared in gauss.h for its callers) is
 * defined in gauss_report.c: it runs hc_gauss_analyse with the figure
 * writer below, then the writers of the tables. */
#ifndef HC_GAUSS_REPORT_H
#define HC_GAUSS_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "gauss.h"
#include "status.h"

/* The figure writer's state: hc_gauss_write_figures(ctx) takes one. */
typedef struct hc_gauss_figures {
    char fig_dir[1024];  /* where the figures go (exists) */
    int render;          /* also render .png and .pdf (gnuplot on PATH) */
    size_t n_figures;    /* figures written (.csv + .gp), counted here */
    size_t n_rendered;   /* of which rendered */
} hc_gauss_figures;

/* An hc_gauss_figure_fn: write DIR/fig/f<i>-<file>-<module>-o<k>_{qq,hist}
 * (.csv, .gp; .png and .pdf when rendering) from qq's series, and set the
 * item's fig_qq and fig_hist.  ctx: an hc_gauss_figures.  Errors: HC_EIO. */
hc_status hc_gauss_write_figures(void *ctx, const hc_gauss_qq *qq);

/* gauss.csv: the header and every item's rows (long form:
 * file,module,order,scope,step,set,stat,value). */
void hc_gauss_write_csv(FILE *fp, const hc_gauss_result *res);

/* summary.json: provenance, the resolved options o, the seeds and one
 * object per item.  Errors: HC_ENOMEM, HC_EIO. */
hc_status hc_gauss_write_json(const char *path, const hc_gauss_opts *o, const hc_gauss_result *res);

/* summary.md: a Markdown table per scope (real and null side by side) and
 * the items' notes.  Errors: HC_EIO. */
hc_status hc_gauss_write_md(const char *path, const hc_gauss_opts *o, const hc_gauss_result *res);

#endif
