/* results.h: the typed input of the report (report.h).
 *
 * What an experiment ran -- its setup (for the captions), the table columns,
 * the method entries (figure series), the rows (one method at one grid point
 * on one engine) and the declared figures -- and what each cell (a row at
 * one seed) measured: its metrics in recorded order (NaN = missing) and, for
 * replay, the error curves per module kind.  Everything is owned by the
 * hc_results value (hc_results_free); the only cJSON inside is the
 * provenance that summary.json embeds verbatim. */
#ifndef HC_RESULTS_H
#define HC_RESULTS_H

#include <cjson/cJSON.h>

#include "figure_decl.h"
#include "metric_table.h"

#define HC_RES_MAX_COLS 24   /* table columns per engine */
#define HC_RES_MAX_GRID 12   /* grid values of a row */
#define HC_RES_SPEC 256      /* a method spec */
#define HC_RES_LABEL 320     /* a row's or cell's label */

/* Method keys a line figure plots against, and their index in hc_res_row.keys. */
#define HC_RES_N_ROW_KEYS 7
extern const char *const hc_res_row_keys[HC_RES_N_ROW_KEYS]; /* N, W, O, sigma, K, gamma, steps */
int hc_res_row_key_index(const char *key);                   /* -1 if not a row key */

/* One grid value of a row: a number or a text. */
typedef struct hc_res_gridval {
    char key[32];
    int is_text;
    double num;
    char text[HC_RES_SPEC];
} hc_res_gridval;

typedef struct hc_res_row {
    hc_eng eng;
    int entry;                   /* method entry (series), -1: the implicit full-compute reference */
    char spec[HC_RES_SPEC];      /* expanded spec, as given */
    char resolved[512];          /* canonical spec, every key resolved */
    char label[HC_RES_LABEL];    /* paper-style label */
    int steps;                   /* live sampling steps (replay: 0) */
    int is_ref;                  /* full compute at the engine's steps */
    int n_grid;
    hc_res_gridval grid[HC_RES_MAX_GRID]; /* this grid point, in config order */
    double keys[HC_RES_N_ROW_KEYS];       /* the method's N, W, O, sigma, K, gamma and steps */
    int *cells;                  /* indices into hc_results.cells (the seeds) */
    int n_cells;
} hc_res_row;

typedef struct hc_res_metric {
    char key[48];
    double value;                /* NaN: missing */
} hc_res_metric;

/* Mean error of the replay forecasts against `axis` ("step": sampling step,
 * "horizon": steps since the last full step) over the modules of `kind`
 * ("all" or a module name without its layer, "double/img_attn"). */
typedef struct hc_res_curve {
    char axis[16];
    char kind[96];
    char metric[32];             /* rel_l1, rel_l2, cosine, max_abs */
    int n;
    double *x, *y;               /* [n] */
} hc_res_curve;

/* The per-sample values a cell recorded: live, one per image (unit
 * "image"); replay, one per scored forecast (file, module, step).  Metric
 * keys are those of the engine's table (live: rel_l2, psnr, ssim and
 * class_acc as 0/1; replay: rel_l1, rel_l2, cosine, max_abs); NaN: not
 * finite (PSNR of identical images) or missing. */
#define HC_RES_MAX_SAMPLE_KEYS 8
typedef struct hc_res_samples {
    int n;                       /* values per key (0: the cell recorded none) */
    int n_keys;
    char keys[HC_RES_MAX_SAMPLE_KEYS][32];
    double *v;                   /* [n_keys][n] */
    int *file, *module, *step, *horizon; /* replay: [n] each; module indexes names; NULL for live */
    char (*names)[96];           /* replay: module names */
    int n_names;
} hc_res_samples;

typedef struct hc_res_cell {
    char id[96];
    int row;
    hc_eng eng;
    unsigned long seed;          /* live */
    int steps;                   /* live */
    /* as recorded in the cell */
    char spec[HC_RES_SPEC], resolved[512], label[HC_RES_LABEL];
    double seconds;              /* compute time of the cell; NaN: unknown */
    hc_res_metric *metrics;      /* in recorded order */
    int n_metrics;
    char reference[96];          /* the cell its metrics were scored against ("" none) */
    hc_res_curve *curves;        /* replay: axis by axis, kind by kind, metric by metric */
    int n_curves;
    hc_res_samples samples;      /* per-sample values (intervals, tests) */
} hc_res_cell;

typedef struct hc_results {
    char name[128];
    char description[1024];
    unsigned eng_mask;           /* 1u << hc_eng for each engine run */
    int cols[HC_N_ENG][HC_RES_MAX_COLS]; /* table columns: indices into hc_report_metrics(eng) */
    int n_cols[HC_N_ENG];
    struct {                     /* live engine setup (captions) */
        char model[1024];
        int n, steps;            /* steps: the reference's (0 without the live engine) */
        double guidance;
        unsigned long *seeds;
        int n_seeds;
    } live;
    struct {                     /* replay engine setup */
        int n_files;
        char modules[256];       /* "" = all */
    } replay;
    char (*entries)[128];        /* series name of each method entry */
    int n_entries;
    hc_res_row *rows;
    int n_rows;
    hc_res_cell *cells;
    int n_cells;
    hc_fig_decl *figs;
    int n_figs;
    /* 1 + the row each engine's differences and tests are against (0:
     * none), and the config's "baseline" as given ("" = the default) */
    int baseline_row[HC_N_ENG];
    char baseline[HC_RES_SPEC];
    /* provenance for summary.json */
    char config_path[1024];
    cJSON *config;               /* the config as given */
    cJSON *resolved;             /* the resolved config */
} hc_results;

/* NULL is a no-op; frees every array and zeroes *r. */
void hc_results_free(hc_results *r);

/* The values of `key` in a cell's samples ([samples.n]), or NULL. */
const double *hc_res_cell_samples(const hc_res_cell *c, const char *key);

/* Metric `key` of a cell; NaN if missing. */
double hc_res_cell_metric(const hc_res_cell *c, const char *key);

/* The curve of a cell, or NULL. */
const hc_res_curve *hc_res_cell_curve(const hc_res_cell *c, const char *axis, const char *kind, const char *metric);

/* 1 if the row's grid point sets `key`. */
int hc_res_row_has_grid(const hc_res_row *r, const char *key);

#endif
