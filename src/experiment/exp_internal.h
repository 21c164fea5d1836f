/* exp_internal.h: shared between experiment.c (config, cells, engines) and
 * exp_report.c (results.csv, summary.json, tables, figures).  Not installed. */
#ifndef HC_EXP_INTERNAL_H
#define HC_EXP_INTERNAL_H

#include <cjson/cJSON.h>

#include "experiment.h"
#include "predictor.h"

typedef enum hc_eng { HC_ENG_REPLAY = 0, HC_ENG_LIVE = 1, HC_N_ENG = 2 } hc_eng;
extern const char *const hc_eng_names[HC_N_ENG];

/* One metric of an engine: the key in a cell's "metrics", table headers,
 * direction (+1 higher is better, -1 lower, 0 none), printf format of the
 * value after multiplying by scale. */
typedef struct exp_metric {
    const char *key;
    const char *header; /* Markdown / plain (UTF-8) */
    const char *tex;    /* LaTeX */
    int dir;
    const char *fmt;
    double scale;
} exp_metric;

const exp_metric *exp_metric_find(hc_eng eng, const char *key);
const exp_metric *exp_metrics(hc_eng eng, int *n);

#define EXP_MAX_KEYS 8
#define EXP_MAX_COLS 24

typedef struct exp_entry {
    char spec[HC_SPEC_MAX];
    char matching[HC_SPEC_MAX]; /* steps_matching ("" if none) */
    int steps;                  /* explicit steps (0: engine's) */
    char name[128];             /* series name */
    unsigned eng_mask;
    int n_keys;
    char keys[EXP_MAX_KEYS][32];
    const cJSON *values[EXP_MAX_KEYS]; /* arrays in the config document */
    int implicit;               /* the auto-added full-compute reference */
} exp_entry;

typedef struct exp_cell {
    char id[96];
    hc_eng eng;
    int row;
    unsigned long seed;
    int steps;          /* live: sampling steps */
    int ref;            /* live, steps != base: the reference cell (same seed), else -1 */
    char *key;          /* canonical key string the id hashes */
    cJSON *doc;         /* the cell document (computed or loaded) */
    char label[320];
} exp_cell;

typedef struct exp_row {
    hc_eng eng;
    int entry;
    char spec[HC_SPEC_MAX]; /* expanded spec, as given */
    hc_method method;
    char label[320];
    int steps;              /* live sampling steps (replay: 0) */
    int is_ref;             /* full compute at the engine's steps */
    cJSON *grid;            /* {key: value} of this grid point (owned) */
    int *cells;
    int n_cells;
} exp_row;

typedef enum exp_fig_type { FIG_SCATTER = 0, FIG_PARETO, FIG_LINE, FIG_CURVE, FIG_N_TYPES } exp_fig_type;
extern const char *const exp_fig_type_names[FIG_N_TYPES];

typedef struct exp_figure {
    char name[64];
    exp_fig_type type;
    hc_eng eng;
    char x[32], y[32];
    int by_entry; /* series: one per method entry (1) or one series (0) */
    int logx, logy, by_kind;
    char title[256];
} exp_figure;

struct hc_experiment {
    char origin[1024];
    cJSON *config;
    char name[128];
    char description[1024];
    unsigned eng_mask;
    /* replay */
    char **files;
    int n_files;
    char modules[256];
    /* live */
    char model[1024], classifier[1024], data_dir[1024];
    int n, steps, batch, shift, n_real;
    double guidance;
    unsigned long *seeds;
    int n_seeds;
    /* tables */
    int cols[HC_N_ENG][EXP_MAX_COLS];
    int n_cols[HC_N_ENG];
    exp_entry *entries;
    int n_entries;
    exp_row *rows;
    int n_rows;
    exp_cell *cells;
    int n_cells;
    exp_figure *figs;
    int n_figs;
};

/* The resolved config (engines with defaults, expanded rows). */
cJSON *exp_resolved_json(const hc_experiment *e);

/* Value of a method key for line figures (N, O, sigma, K, gamma, W, steps);
 * 0 if unknown. */
int exp_row_key(const exp_row *r, const char *key, double *out);
int exp_is_row_key(const char *key);

/* Write results.csv, summary.json, table.md, table.tex and the figures. */
hc_status exp_write_outputs(const hc_experiment *e, const char *dir, int render, int quiet,
                            hc_experiment_report *rep);

#endif
