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

typedef struct hc_replay_opts {
    const char *const *files;
    int n_files;
    const hc_method *methods;
    int n_methods;
    const char *out_dir;      /* created if missing (hc_replay_run / hc_replay_write) */
    const char *modules_glob; /* fnmatch pattern on "dit/3/attn"; NULL = all */
    int quiet;                /* no progress lines on stderr */
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
} hc_replay_method;

typedef struct hc_replay_file {
    char *path;
    int n_modules;
    char **modules;               /* "double/0/img_attn", in file order (selected modules only) */
} hc_replay_file;

typedef struct hc_replay_result {
    hc_replay_file *files;
    int n_files;
    hc_replay_method *methods;
    int n_methods;
} hc_replay_result;

/* Replay every file through every method's driver. */
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
