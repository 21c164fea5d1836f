/* experiment.h: declarative experiments (`hicache run experiments/NAME.json`).
 *
 * A config (docs/experiments.md) declares engines (open-loop replay over
 * trajectory files and/or live sampling with the bundled model), a list of
 * method entries (a fixed spec, or a spec template with a grid over keys,
 * expanded to the cartesian product), seeds, table columns and figures.
 *
 * Every (method, seed, engine) is a CELL with a stable id derived from the
 * resolved spec, the engine, the seed and the engine settings.  A cell's
 * result is written atomically to DIR/cells/ID.json (engine outputs under
 * DIR/raw/ID/); a restarted run loads finished cells instead of recomputing
 * them.  After the cells: DIR/results.csv (long form), DIR/summary.json
 * (provenance with the resolved config, per-cell results, the tables),
 * DIR/table.md and DIR/table.tex (full-compute row first, best value per
 * column in bold, arrows for the metric direction) and gnuplot figures
 * (DIR/figures/NAME.{csv,gp,png,pdf}).
 *
 * Validation is strict: every error is HC_EINVAL (HC_EIO for unreadable
 * config files) with a one-line message "ORIGIN: $.json.path: problem". */
#ifndef HC_EXPERIMENT_H
#define HC_EXPERIMENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "status.h"

typedef struct hc_experiment hc_experiment;

/* The most cells a config may expand to; counted before anything is
 * allocated, so a grid over millions of points is refused at once. */
#define HC_EXPERIMENT_MAX_CELLS 100000

/* Read and validate a config file. */
hc_status hc_experiment_load(const char *path, hc_experiment **out);

/* Validate a config given as JSON text; `origin` names it in messages. */
hc_status hc_experiment_parse(const char *text, const char *origin, hc_experiment **out);

/* NULL is a no-op. */
void hc_experiment_free(hc_experiment *e);

/* The config's name ("quick"). */
const char *hc_experiment_name(const hc_experiment *e);

/* Number of cells after grid expansion, and each cell's id and label
 * ("live HiCache (N=7, O=2, σ=0.5) seed 0"). */
int hc_experiment_num_cells(const hc_experiment *e);
const char *hc_experiment_cell_id(const hc_experiment *e, int i);
const char *hc_experiment_cell_label(const hc_experiment *e, int i);

typedef enum hc_progress {
    HC_PROGRESS_AUTO = 0, /* a bar if stderr is a terminal, else lines */
    HC_PROGRESS_LINES,    /* one line per computed cell */
    HC_PROGRESS_BAR,      /* a redrawn bar on stderr */
    HC_PROGRESS_NONE
} hc_progress;

/* Message passing between the processes of one run, rank 0 the
 * coordinator (docs/cluster.md).  The library knows no MPI: the CLI
 * implements this with it (src/cli/mpi_comm.c).  Messages are byte
 * strings; tags keep tasks and results apart. */
typedef struct hc_exp_comm {
    int rank, size;
    void *ctx;
    /* Send n bytes to rank `to` (returns when buf may be reused). */
    hc_status (*send)(void *ctx, int to, int tag, const void *buf, size_t n);
    /* A message with `tag` from rank `from` (-1: any rank): wait for one
     * (block = 1) or look once (*got = 0 if none).  *buf is malloc'ed (the
     * caller frees it), *n its length, *src the sender. */
    hc_status (*recv)(void *ctx, int from, int tag, int block, int *got, void **buf, size_t *n, int *src);
} hc_exp_comm;

typedef struct hc_experiment_run_opts {
    const char *out_dir;  /* NULL: out/NAME */
    hc_progress progress;
    int render;           /* render figures with gnuplot when it is on PATH */
    int max_cells;        /* > 0: compute at most this many cells, then stop
                             before the tables (a later run resumes) */
    int shard, n_shards;  /* n_shards > 0: compute only cells of shard `shard`
                             (0-based) of the cost-balanced partition (and the
                             references they need); no report: --merge writes it */
    int merge;            /* compute nothing: the report from the finished cells */
    const hc_exp_comm *comm; /* size > 1: rank 0 hands out cells and writes
                             every output, other ranks compute; NULL: alone */
} hc_experiment_run_opts;

void hc_experiment_run_defaults(hc_experiment_run_opts *o);

typedef struct hc_experiment_report {
    int cells;     /* total */
    int loaded;    /* finished earlier, loaded from DIR/cells */
    int computed;  /* computed by this run */
    int complete;  /* 1: every cell finished and the tables/figures were written */
    int figures;   /* figure bases written (each .csv + .gp [+ .png + .pdf]) */
    int rendered;  /* of which rendered by gnuplot */
    int missing;   /* cells without a result (a shard's others, a merge's gaps) */
    int reported;  /* the tables/figures were written (a merge: also with missing cells) */
    int worker;    /* this process was a worker rank: rank 0 reports */
    char out_dir[1024];
} hc_experiment_report;

/* Run the pending cells and write every output. */
hc_status hc_experiment_run(hc_experiment *e, const hc_experiment_run_opts *o, hc_experiment_report *rep);

/* 1 if cell i has a result (after hc_experiment_run: loaded or computed). */
int hc_experiment_cell_done(const hc_experiment *e, int i);

/* Rank 0 of a run that ends before hc_experiment_run (a bad config): tell
 * the worker ranks to stop.  Worker ranks that cannot load the config
 * answer every task with `msg` until told to stop. */
void hc_experiment_comm_release(const hc_exp_comm *comm);
void hc_experiment_comm_refuse(const hc_exp_comm *comm, const char *msg);

/* The one formatting source of table.md, table.tex and summary.json's
 * table "text": metric `key` of `engine` ("live" | "replay") formatted as
 * shown in the tables ("—" for a missing value).  Unknown metric: "%.4g". */
void hc_experiment_format(const char *engine, const char *key, const cJSON *value, char *buf, size_t n);

#endif
