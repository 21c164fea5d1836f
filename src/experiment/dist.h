/* dist.h: private to src/experiment -- sharing a run's pending cells out
 * (docs/cluster.md): the cost estimate that orders them, the deterministic
 * shard partition of `--shard I/K`, and the coordinator and workers of a
 * run over several processes (hc_exp_comm, MPI in the CLI).  runner.c's
 * pieces the distributors reuse are declared here too.  Not installed. */
#ifndef HC_EXP_DIST_H
#define HC_EXP_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "exp_internal.h"

/* The run's progress and where finished cells go (runner.c). */
typedef struct exp_run_state {
    hc_experiment *e;
    const char *dir, *cells_dir;
    hc_progress pm;
    int pending, done;
    double t0;
    hc_experiment_report *rep;
    const hc_experiment_run_opts *o;
} exp_run_state;

/* ---- cell_record.c ---- */

double exp_now(void);
/* "12.3s", "4m05s", "2h07m" */
void exp_fmt_dur(double s, char *buf, size_t n);
/* A cell document's identity (id, key, engine, spec, labels). */
cJSON *exp_cell_header(const hc_experiment *e, const exp_cell *c);
/* Add the cell's time and the computing process's provenance. */
void exp_cell_stamp(cJSON *cell, double seconds);
/* Write DIR/cells/ID.json (atomically), hand the document to the cell
 * (freed on error), count it and print the progress line; `where` (may be
 * NULL) is appended to it (" (rank 2)"). */
hc_status exp_record_cell(exp_run_state *rs, exp_cell *c, cJSON *cell, const char *where);

/* ---- dist.c ---- */

/* Estimated cost of computing a cell, in image-steps of full compute: a
 * live cell n x (full steps + 0.1 x cached steps) of its schedule; a replay
 * cell the number of trajectory files (no model runs: cheap). */
double exp_cell_cost(const hc_experiment *e, const exp_cell *c);

/* For every cell the full-compute cell it is scored against (a live
 * cell's reference at other step counts, else the reference row's cell
 * with the same seed and steps); -1 for none (replay cells, references).
 * *out: malloc'ed, e->n_cells. */
hc_status exp_cell_references(const hc_experiment *e, int **out);

/* Cells of shard `shard` of n: the cells are dealt, most expensive first,
 * to the shard with the least estimated cost so far (ties: the lower
 * shard; the same partition in every shard), plus the unfinished
 * references its pending live cells are scored against.  *want
 * (malloc'ed, e->n_cells) flags them. */
hc_status exp_shard_want(const hc_experiment *e, int shard, int n, unsigned char **want);

/* ---- dist_buf.c: messages as byte strings ---- */

typedef struct exp_buf {
    unsigned char *p;
    size_t n, cap, at;
    int bad; /* out of memory (writing) or past the end (reading) */
} exp_buf;

void exp_put(exp_buf *b, const void *x, size_t n);
void exp_put_i64(exp_buf *b, int64_t v);
/* Length-prefixed bytes. */
void exp_put_bytes(exp_buf *b, const void *x, size_t n);
/* A JSON document with its numbers exact (JSON text alone rounds some). */
void exp_put_doc(exp_buf *b, const cJSON *doc);
int64_t exp_get_i64(exp_buf *b);
/* Length-prefixed bytes, in place (not NUL-terminated); NULL past the end. */
const unsigned char *exp_get_bytes(exp_buf *b, size_t *n);
/* The same as a malloc'ed string. */
char *exp_get_str(exp_buf *b);
cJSON *exp_get_doc(exp_buf *b);
void exp_buf_free(exp_buf *b);

/* ---- dist_run.c ---- */

/* Rank 0: hand the pending cells out to every rank (rank 0 computes in a
 * thread of its own beside), most expensive first, record each result. */
hc_status exp_dist_coordinate(exp_run_state *rs);
/* A worker rank: compute the tasks rank 0 sends until it says stop. */
hc_status exp_dist_work(hc_experiment *e, const hc_exp_comm *comm, const char *out_dir);
/* Rank 0: tell every worker rank to stop (after the run, or instead). */
void exp_dist_release(const hc_exp_comm *comm);

#endif
