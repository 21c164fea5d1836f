/* replay.h: open-loop replay of recorded trajectories through the cache
 * driver (driver.h).
 *
 * Each file is read once, whatever the number of methods: per feature module
 * the engine walks the steps in sampling order and reads each (module, step)
 * row once; every method's driver observes it at its full steps and forecasts
 * it at its cached steps, and the forecast is scored against the row.  ClusCa
 * methods cluster tokens with L1 k-means at every full step on the recorded
 * /hidden state (the last hidden dataset with the module's token count) or,
 * where the file has none, on the module's own full-step feature; their
 * fresh tokens come from the trajectory (open loop).  FLOPs come from the
 * model registry through the model config in the file's provenance.
 *
 * Results are typed (hc_replay_result); hc_replay_write puts them at the
 * output edge (atomic): DIR/results.csv in long form
 *   method,file,module,step,horizon,metric,value
 * with metrics rel_l1, rel_l2, cosine, max_abs, and DIR/summary.json. */
#ifndef HC_REPLAY_H
#define HC_REPLAY_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "metrics.h"
#include "predictor.h"
#include "traj.h"

typedef struct hc_replay_opts {
    const char *const *files;
    int n_files;
    const hc_method *methods;
    int n_methods;
    const char *out_dir;      /* created if missing (hc_replay_run / hc_replay_write) */
    const char *modules_glob; /* fnmatch pattern on "dit/3/attn"; NULL = all */
    int quiet;                /* no progress lines on stderr */
    /* NaN/Inf in a file's rows or step times: refuse (the default: one line
     * naming file, dataset, step and count), zero (set to 0, counted) or
     * skip (set to 0 where observed or clustered, and the cached steps of
     * such rows left out of the scores, counted) */
    hc_traj_nonfinite nonfinite;
    /* the memory one file's replay may need, checked before allocating
     * (hc_replay_need); 0: half of physical memory */
    size_t max_memory;
    /* read rows on the calling thread instead of a reader thread that reads
     * step s+1 while step s is scored (the same results; also set by the
     * environment variable HC_REPLAY_SERIAL=1) */
    int serial;
    /* threads that forecast and score a row, each a range of its blocks
     * (pool.h): 0 = the machine's online CPUs (at most HC_POOL_MAX), 1 = the
     * calling thread; the same results at any count (metrics.h's order) */
    int threads;
} hc_replay_opts;

/* One scored forecast of one method. */
typedef struct hc_replay_record {
    int file, module;         /* indices into the result's files and that file's modules */
    int step, horizon;        /* horizon = steps since the last full step */
    double v[HC_N_METRICS];
} hc_replay_record;

/* A metric over every record of a method, and over files. */
typedef struct hc_replay_stat {
    size_t n;
    double mean, median, p95;     /* over records (n > 0) */
    double *file_means;           /* [n_files]: mean per file (no cached step: the value of an exact forecast) */
    int has_ci;                   /* n_files >= 2 */
    double files_mean, ci95[2];   /* mean of file means, Student-t 95% interval */
} hc_replay_stat;

typedef struct hc_replay_horizon {
    int horizon;
    size_t n;
    double mean[HC_N_METRICS];
} hc_replay_horizon;

typedef struct hc_replay_method {
    hc_method method;
    int steps, full_steps;        /* of the last file */
    size_t cache_bytes;           /* of the last file, all modules (0 when every step is full) */
    int analytic;                 /* every file named a registered model: FLOPs from its MAC model */
    double flops, flops_speedup;  /* flops: of one sampling run (analytic only); speedup: full / method */
    int cluster_sources;          /* bit 0 /hidden, bit 1 own features */
    hc_replay_record *records;    /* in (file, module, step) order */
    size_t n_records;
    hc_replay_stat stat[HC_N_METRICS];
    hc_replay_horizon *by_horizon;/* horizons with records, ascending */
    int n_horizons;
    /* [n_files], under the zero and skip policies: rows with NaN/Inf set to
     * 0 that this method observed, clustered or (zero) scored; cached-step
     * rows left out of its scores (skip) */
    size_t *zeroed_rows, *skipped_rows;
} hc_replay_method;

typedef struct hc_replay_file {
    char *path;
    int n_modules;
    char **modules;               /* "double/0/img_attn", in file order (selected modules only) */
    int nonfinite_times;          /* step times that were NaN/Inf, set to 0 (zero and skip policies) */
} hc_replay_file;

typedef struct hc_replay_result {
    hc_replay_file *files;
    int n_files;
    hc_replay_method *methods;
    int n_methods;
} hc_replay_result;

/* The memory replay needs, estimated before allocating (erring high). */
typedef struct hc_replay_need {
    size_t step_buffers;          /* one step of the largest module or hidden state, 2 + methods times
                                     (the read queue's two rows, a forecast per method) */
    size_t caches;                /* every method's predictor for the module that needs most */
    size_t labels;                /* ClusCa: labels per full step and k-means working sets */
    size_t results;               /* the records of this file and those before it */
    size_t total;
    long module;                  /* entry index of that module */
} hc_replay_need;

/* Bytes one method's predictor holds for a module of T tokens x D channels
 * over S steps (erring high): 0 for full compute; else (O + 2) padded
 * copies of T x D floats (a divided-difference or Lagrange cache holds
 * O + 1), plus, for methods with fresh tokens or labels, K rows of D and a
 * k-means working set on the module's own feature. */
size_t hc_replay_method_bytes(const hc_method *m, size_t T, size_t D);
/* What replaying file t with o's methods needs; records_before: results
 * bytes of the files before it. */
void hc_replay_estimate(const hc_replay_opts *o, const hc_traj *t, size_t records_before, hc_replay_need *n);
/* o->max_memory, or half of physical memory when it is 0. */
size_t hc_replay_memory_limit(const hc_replay_opts *o);

/* Replay every file through every method's driver.  Every file is opened
 * and its memory need checked against the limit before any work: over it,
 * HC_ENOMEM naming the file, the module, its shape and the parts. */
hc_status hc_replay_compute(const hc_replay_opts *o, hc_replay_result **out);
void hc_replay_result_free(hc_replay_result *r);

/* The summary document (provenance with the resolved config, per-method
 * statistics); caller frees. */
cJSON *hc_replay_summary(const hc_replay_opts *o, const hc_replay_result *r);
/* Write DIR/results.csv and DIR/summary.json atomically. */
hc_status hc_replay_write(const hc_replay_opts *o, const hc_replay_result *r);

/* Compute and write; *summary (may be NULL) receives the summary document
 * (caller frees with cJSON_Delete). */
hc_status hc_replay_run(const hc_replay_opts *o, cJSON **summary);

/* Print the compact table of a summary document to f. */
void hc_replay_print_table(const cJSON *summary, FILE *f);

#endif
