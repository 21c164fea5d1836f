/* model.h: the model interface.  A model family is a `const hc_model_type`
 * in one registry table (model_registry.c), chosen by the `arch` string in
 * its file's config; adding a model is one file plus one row there.  A type
 * describes its architecture once: the cache points, one forward step in
 * which the caller decides per cache point between computing and forecasting,
 * the multiply-accumulates (MACs) of a step for any such pattern, and the
 * GEMM shapes of a full forward (what `hicache bench forward` measures).
 *
 * The model layer knows nothing of predictors, schedules or clustering: the
 * cache driver (src/engine/driver.h) makes those decisions through the hooks.
 *
 * Tensors: images x, v [B, C, H, W] float32 row-major; a cache point's value
 * [B * tokens, channels] float32 row-major, batch-major (row b * tokens + i). */
#ifndef HC_MODEL_H
#define HC_MODEL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "status.h"

#define HC_MODEL_MAX_POINTS 1024

/* One cache point: a module output the caching methods forecast. */
typedef struct hc_cache_point {
    char name[48];       /* "<block_kind>/<layer>/<module>", the trajectory schema's name */
    char block_kind[8];  /* "double" | "single" | "dit" ... */
    int layer;
    char module[16];     /* "img_attn", "img_mlp", "total", "attn", "mlp" */
    char stream[8];      /* "img", "txt", "joint" */
    int tokens;          /* per batch element */
    int channels;
    int fresh;           /* 1: at a forecast step the model can compute true rows of chosen
                            tokens of this point on the current input (hc_rows_fn) */
    int cluster_input;   /* index of the clustering input whose token labels apply to this
                            point's tokens, or -1 */
    int head;            /* belongs to the first block (the head first-block caching always computes) */
} hc_cache_point;

/* Signal tensors a forward can hand out (hooks->signals bit 1 << kind), each
 * [B * image tokens, channels] float32 row-major over the image stream; the
 * engine reduces them to the policies' per-step scalars (policy.h). */
typedef enum hc_model_signal {
    HC_MSIG_MOD_IN = 0,     /* the first block's modulated input (adaLN of its attention) */
    HC_MSIG_HEAD_RESID = 1, /* the first block's residual: its output - its input */
    HC_MSIG_RESID = 2,      /* the transformer's residual: last block's output - the input embedding */
    HC_MSIG_COUNT = 3
} hc_model_signal;

/* A clustering input: a hidden state the model exposes at every forward
 * (e.g. the img stream after the last double block), [B * tokens, channels]. */
typedef struct hc_cluster_input {
    char name[48];       /* "double/1/img": /hidden/<name> in a trajectory */
    char block_kind[8];
    int layer;
    char stream[8];
    int tokens, channels;
    int record;          /* recorded as /hidden/<name> in full-compute trajectories */
} hc_cluster_input;

/* True module output of n chosen rows (indices into the point's B * tokens
 * rows) on the current input, into rows [n, channels]. */
typedef hc_status (*hc_rows_fn)(void *ud, const int *rows_idx, int n, float *rows);

/* What the caller decides and receives during one forward. */
typedef struct hc_model_hooks {
    void *ud;
    /* 1: compute point p at this forward; 0: forecast() fills it.  NULL hook:
     * compute every point. */
    int (*compute)(void *ud, int point);
    /* A computed point's value (may be NULL). */
    hc_status (*observe)(void *ud, int point, const float *val);
    /* Fill a point that is not computed; `fresh` is non-NULL where the point
     * has `fresh` set. */
    hc_status (*forecast)(void *ud, int point, float *out, hc_rows_fn fresh, void *fresh_ud);
    /* Optional, in place of forecast() where the caller can forecast point
     * p in pieces: *ranged = 1 when prepared (forecast() is then not
     * called), and forecast_range() writes elements [e0, e0 + n) of the
     * value forecast() would have written into out[0..n), bit for bit, from
     * any thread, until this forward ends.  The model then adds the value
     * into its residual piece by piece and never holds it whole.  NULL or
     * *ranged = 0: forecast(). */
    hc_status (*forecast_prepare)(void *ud, int point, int *ranged);
    void (*forecast_range)(const void *ud, int point, size_t e0, size_t n, float *out);
    /* Clustering input j at this forward (may be NULL). */
    hc_status (*cluster_input)(void *ud, int input, const float *x);
    /* Signal tensors wanted (bit 1 << hc_model_signal) and where they go; the
     * forward hands MOD_IN before the first block's points are asked,
     * HEAD_RESID after the first block, RESID after the last. */
    unsigned signals;
    hc_status (*signal)(void *ud, int kind, const float *x, int rows, int channels);
} hc_model_hooks;

/* The cost of one step for a pattern: per cache point whether it is computed,
 * and if not, the forecast's multiply-adds per element and the rows
 * recomputed for fresh tokens (all batch elements together). */
typedef struct hc_point_plan {
    unsigned char compute;
    double forecast_terms;
    double fresh_rows;
} hc_point_plan;

/* One GEMM shape of a full forward: C[M, N] = A[M, K] B[K, N], `calls` times. */
typedef struct hc_gemm_shape {
    int M, N, K, calls;
} hc_gemm_shape;

/* What the sampler needs to know about a model. */
typedef struct hc_model_info {
    const char *arch;
    const char *sampler;     /* the sampler family the model was trained for ("rf-euler", "ddim") */
    int image_channels, image_size;
    int out_channels;        /* channels of the network output (>= image_channels; DiT with
                                learn_sigma: 2C, the sampler reads the first image_channels) */
    int num_classes, null_class;
    int seq_len;             /* image tokens (the FLUX time shift's sequence length) */
    /* FLUX time shift: mu on the line through (base_seq_len, base_shift),
     * (max_seq_len, max_shift); t = e^mu / (e^mu + (1/s - 1)^shift_sigma) */
    double base_seq_len, base_shift, max_seq_len, max_shift, shift_sigma;
    /* DDPM/DDIM ("ddim"): linear betas over num_train_timesteps; CFG guides the
     * first cfg_channels output channels; the config's default guidance scale */
    int num_train_timesteps, cfg_channels;
    double beta_start, beta_end, default_guidance;
} hc_model_info;

typedef struct hc_model_type {
    const char *arch;        /* the config's "arch" */
    const char *summary;
    size_t config_size;      /* bytes of the parsed config struct */
    /* Validate a config object; `origin` names its source in messages. */
    hc_status (*config_parse)(const char *origin, const cJSON *config, void *cfg);
    /* Cache points and clustering inputs of a config; return the count
     * written (at most cap; out may be NULL to count). */
    int (*points)(const void *cfg, hc_cache_point *out, int cap);
    int (*cluster_inputs)(const void *cfg, hc_cluster_input *out, int cap);
    /* MACs of one forward of B elements for a pattern plan[num points]. */
    double (*macs)(const void *cfg, int B, const hc_point_plan *plan);
    /* GEMM shapes of a full forward of B elements; returns the count (<= cap). */
    int (*gemms)(const void *cfg, int B, hc_gemm_shape *out, int cap);
    void (*info)(const void *cfg, hc_model_info *out);
    /* MACs of computing the signal tensors in `signals` (bits) and reducing
     * each once, for B elements (NULL: the type gives no signals). */
    double (*signal_macs)(const void *cfg, int B, unsigned signals);
    /* Load weights from a safetensors file whose config parsed as cfg and
     * allocate the workspace for up to max_batch elements. */
    hc_status (*open)(const char *path, int max_batch, void **impl);
    /* Optional (NULL: not supported): the same architecture with seeded
     * synthetic weights, for timing a model whose weights are not here. */
    hc_status (*open_synthetic)(const void *cfg, int max_batch, unsigned long seed, void **impl);
    void (*close)(void *impl);
    /* v = f(x, t, labels) for B <= max_batch elements; labels[b] ==
     * null_class is unconditional.  No allocation. */
    hc_status (*forward)(void *impl, const float *x, const float *t, const int *labels, int B,
                         const hc_model_hooks *hooks, float *v);
} hc_model_type;

/* NULL-terminated registry. */
extern const hc_model_type *const hc_model_types[];
const hc_model_type *hc_model_type_find(const char *arch);
/* "flux-mmdit, ..." */
void hc_model_type_list(char *buf, size_t n);

/* A parsed config of some registered type (no weights). */
typedef struct hc_model_config {
    const hc_model_type *type;
    void *cfg;               /* type->config_size bytes */
    int n_points, n_inputs;
    hc_cache_point *points;
    hc_cluster_input *inputs;
} hc_model_config;

/* Pick the type by config["arch"] and parse the config.  Unknown or missing
 * arch: HC_EFORMAT naming `origin`, the value and the known architectures. */
hc_status hc_model_config_parse(const char *origin, const cJSON *config, hc_model_config **out);
void hc_model_config_free(hc_model_config *c);

/* An open model: weights and workspace. */
typedef struct hc_model {
    hc_model_config *config;
    void *impl;
    char path[1024];
    cJSON *meta;             /* the file's metadata: {"config": ..., "training": ...} */
    int max_batch;
} hc_model;

/* Open a model file (safetensors with a `config` metadata entry). */
hc_status hc_model_open(const char *path, int max_batch, hc_model **out);
/* A model of config object `config` (source named `origin`) with seeded
 * synthetic weights; HC_EUNSUP where its type has no open_synthetic. */
hc_status hc_model_open_synthetic(const char *origin, const cJSON *config, int max_batch, unsigned long seed,
                                  hc_model **out);
void hc_model_close(hc_model *m);

static inline int hc_model_num_points(const hc_model *m) { return m->config->n_points; }
static inline const hc_cache_point *hc_model_point(const hc_model *m, int p) { return &m->config->points[p]; }
void hc_model_get_info(const hc_model *m, hc_model_info *out);
/* The config's "default_guidance" of a model file, or `fallback` when the
 * file has none or cannot be read (opening the model reports that). */
double hc_model_default_guidance(const char *path, double fallback);
hc_status hc_model_forward(hc_model *m, const float *x, const float *t, const int *labels, int B,
                           const hc_model_hooks *hooks, float *v);
double hc_model_macs(const hc_model_config *c, int B, const hc_point_plan *plan);
double hc_model_signal_macs(const hc_model_config *c, int B, unsigned signals);

#endif
