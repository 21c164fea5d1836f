/* gauss_report.h: the outputs of `hicache gauss` (src/eval/gauss.h):
 * gauss.csv, summary.json, summary.md and the Q-Q and histogram figures
 * under fig/.  hc_gauss_run runs hc_gauss_analyse (src/eval/gauss.h) with
 * the figure writer below, then the writers of the tables. */
#ifndef HC_GAUSS_REPORT_H
#define HC_GAUSS_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "gauss.h"
#include "outfile.h"
#include "status.h"

/* The figure writer's state: hc_gauss_write_figures(ctx) takes one. */
typedef struct hc_gauss_figures {
    char fig_dir[1024];  /* where the figures go (exists) */
    int render;          /* also render .png and .pdf (gnuplot on PATH) */
    size_t n_figures;    /* figures written (.csv + .gp), counted here */
    size_t n_rendered;   /* of which rendered */
    hc_outset *set;      /* the figures' files are members (NULL: each on its own) */
} hc_gauss_figures;

/* An hc_gauss_figure_fn: write DIR/fig/f<i>-<file>-<module>-o<k>_{qq,hist}
 * (.csv, .gp; .png and .pdf when rendering) from qq's series, and set the
 * item's fig_qq and fig_hist.  ctx: an hc_gauss_figures.  Errors: HC_EIO. */
hc_status hc_gauss_write_figures(void *ctx, const hc_gauss_qq *qq);

/* gauss.csv: the header and every item's rows (long form:
 * file,module,order,scope,step,set,stat,value). */
void hc_gauss_write_csv(FILE *fp, const hc_gauss_result *res);

/* summary.json: provenance, the resolved options o, the seeds and one
 * object per item, as a member of `set` (NULL: on its own).  Errors:
 * HC_ENOMEM, HC_EIO. */
hc_status hc_gauss_write_json(hc_outset *set, const char *path, const hc_gauss_opts *o, const hc_gauss_result *res);

/* summary.md: a Markdown table per scope (real and null side by side) and
 * the items' notes, as a member of `set` (NULL: on its own).  Errors: HC_EIO. */
hc_status hc_gauss_write_md(hc_outset *set, const char *path, const hc_gauss_opts *o, const hc_gauss_result *res);

/* ---- the whole command ---- */

/* Analyse the trajectories (hc_gauss_analyse) and write, under out_dir
 * (created if needed):
 *   gauss.csv     long form: file,module,order,scope,step,set,stat,value
 *   summary.json  provenance, resolved config and seeds, one object per
 *                 (file, module, order) with every scope, real and null
 *   summary.md    Markdown tables: per module and order, real vs null
 *                 (channel, token, pca; step: medians over steps)
 *   fig/          Q-Q and histogram figures (.csv, .gp, .png, .pdf)
 * Every file is a member of one output set (outfile.h), renamed into place
 * together at the end (summary.json last), so on error none of them is
 * left behind.  On success *out (may be NULL) receives the results (free
 * with hc_gauss_result_free).  Errors: those of hc_gauss_analyse, HC_EIO
 * (outputs; gnuplot failures).
 */
hc_status hc_gauss_run(const char *const *paths, size_t n_paths, const hc_gauss_opts *o,
                       const char *out_dir, hc_gauss_result **out);

#endif
