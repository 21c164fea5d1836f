/* report.h: the outputs of an experiment after its cells, written from the
 * typed results (results.h):
 *   DIR/results.csv   long form: cell,engine,method,label,seed,metric,value
 *   DIR/summary.json  provenance with the config, every cell, the tables
 *                     (values, std over seeds, the formatted text, best per
 *                     column) and the figures
 *   DIR/table.md, DIR/table.tex  one table per engine: full compute first,
 *                     best value per column in bold, direction arrows
 *   DIR/figures/NAME.{csv,gp[,png,pdf]}  the declared figures (plot.h)
 * Every number in the tables comes from the tables' "text", formatted once
 * by hc_report_format (metric_table.h).  The files are one output set
 * (outfile.h): all written as NAME.partial and renamed together at the end,
 * so a failed report leaves none of them (a previous complete report stays). */
#ifndef HC_REPORT_H
#define HC_REPORT_H

#include "results.h"
#include "status.h"

typedef struct hc_report_opts {
    const char *dir;  /* output directory (exists) */
    int render;       /* render figures with gnuplot when it is on PATH */
    int quiet;        /* no warning when gnuplot is missing */
} hc_report_opts;

typedef struct hc_report_counts {
    int figures;      /* figure bases written (each .csv + .gp [+ .png + .pdf]) */
    int rendered;     /* of which rendered by gnuplot */
} hc_report_counts;

/* Write every output; HC_EIO / HC_ENOMEM. */
hc_status hc_report_write(const hc_results *r, const hc_report_opts *o, hc_report_counts *counts);

#endif
