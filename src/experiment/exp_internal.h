/* exp_internal.h: private to src/experiment -- the parsed experiment shared
 * by config.c (validation), cells.c (rows, grid expansion, cell ids),
 * engines.c (one adapter per engine) and runner.c (the run loop and the
 * hand-over to the report, analysis/report.h).  Not installed. */
#ifndef HC_EXP_INTERNAL_H
#define HC_EXP_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "experiment.h"
#include "figure_decl.h"
#include "metric_table.h"
#include "predictor.h"
#include "results.h"

#define EXP_MAX_KEYS 8
#define EXP_MAX_COLS HC_RES_MAX_COLS
_Static_assert(EXP_MAX_KEYS + 1 <= HC_RES_MAX_GRID, "a row's grid: the keys and steps_matching");

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
    int seed_idx;       /* live: index of seed in the experiment's seeds */
    int steps;          /* live: sampling steps */
    int ref;            /* live, steps != base: the reference cell (same seed), else -1 */
    char *key;          /* canonical key string the id hashes */
    cJSON *doc;         /* the cell document (computed or loaded) */
    char label[320];
    struct hc_live_ref *samples; /* a reference cell's samples, once computed or read (owned) */
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
    hc_fig_decl *figs;
    int n_figs;
    /* differences and tests (stats_cells.c) */
    char baseline[HC_SPEC_MAX];   /* "baseline" as given ("": the default) */
    int baseline_row[HC_N_ENG];   /* per engine; -1: none */
};

/* ---- cells.c ---- */

/* spec with key=value set (replaced if present, appended otherwise). */
hc_status exp_spec_set(const char *spec, const char *key, const char *val, char *out, size_t n);

/* A grid value as spec text: numbers in shortest round-trip form. */
void exp_grid_text(const cJSON *x, char *buf, size_t n);

/* Expand the validated entries into rows and cells (HC_EINVAL naming the
 * config and the entry for a bad grid point). */
hc_status exp_build_cells(hc_experiment *e);

/* The resolved config (engines with defaults, expanded rows). */
cJSON *exp_resolved_json(const hc_experiment *e);

/* A row's method keys for line figures, in hc_res_row_keys order. */
void exp_row_keys(const exp_row *r, double out[HC_RES_N_ROW_KEYS]);

/* ---- cell_check.c ---- */

/* 1 if doc is a finished result of cell c as the runner writes it: its key
 * and id, strings where they belong, every metric of the engine's table a
 * number or null, the reference it was scored against, replay curves
 * well-formed, live labels; else 0 with the reason ("metrics.psnr:
 * expected a number or null, got \"x\"") in why. */
int exp_cell_check(const hc_experiment *e, const exp_cell *c, const cJSON *doc, char *why, size_t n);

/* ---- engines.c: one adapter per engine ----
 * Compute a cell (outputs under DIR/raw/ID/) and add its "metrics",
 * "engine_output", "outputs" (and for replay "curves") to the cell
 * document `cell`. */
hc_status exp_run_live(hc_experiment *e, const char *dir, exp_cell *c, cJSON *cell);
/* Replay cells run together: one pass over each trajectory for all their
 * methods; docs[i] is cells[i]'s document. */
hc_status exp_run_replay(hc_experiment *e, const char *dir, exp_cell *const *cells, int n, cJSON *const *docs);

/* ---- stats_cells.c: per-sample values and the baseline ---- */

struct hc_live_result;
struct hc_replay_result;
struct hc_replay_method;
struct exp_vctx;
/* Add the cell's "per_sample" (live: per image; replay: per record). */
hc_status exp_live_samples(const struct hc_live_result *res, cJSON *cell);
hc_status exp_replay_samples(const struct hc_replay_result *res, const struct hc_replay_method *rm, cJSON *cell);
/* A cell document's "per_sample" into c->samples (none if absent or malformed). */
hc_status exp_cell_samples(const cJSON *doc, hc_res_cell *c);
/* $.baseline: a method spec. */
hc_status exp_parse_baseline(const struct exp_vctx *v, hc_experiment *e, const cJSON *x);
/* Each engine's baseline row, after exp_build_cells (HC_EINVAL naming the
 * rows when a given baseline is in no engine). */
hc_status exp_resolve_baseline(hc_experiment *e);

#endif
