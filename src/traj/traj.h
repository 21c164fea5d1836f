/* traj.h: the trajectory store, HDF5 schema "hicache-trajectory" version 1.
 *
 * The schema (docs/trajectory-format.md) is the contract with outside tools:
 * h5py users and recorders on GPU machines.  A file holds, for one sampling
 * run of S steps, the output of every cached module at every step:
 *   /steps/t                              float64 [S]
 *   /features/<block_kind>/<layer>/<module> float32|float16 [S, T, D]
 *   /hidden/<block_kind>/<layer>           (optional) [S, T, D]
 *   /latents/x [S+1, ...], /latents/out [S, ...]   (optional)
 *   /signals/<name> float64 [S] or [S, S]          (optional; policy signals)
 * Features are always delivered as float32 row-major; reads are per step
 * (one hyperslab, one chunk) into caller-owned buffers. */
#ifndef HC_TRAJ_H
#define HC_TRAJ_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define HC_TRAJ_SCHEMA "hicache-trajectory"
#define HC_TRAJ_SCHEMA_VERSION 1
#define HC_TRAJ_MAX_RANK 8

typedef enum hc_dtype { HC_F32 = 0, HC_F16 = 1 } hc_dtype;

const char *hc_dtype_name(hc_dtype d);

/* What a dataset holds. */
typedef enum hc_entry_kind {
    HC_ENTRY_FEATURE = 0, /* /features/<kind>/<layer>/<module> */
    HC_ENTRY_HIDDEN = 1,  /* /hidden/<kind>/<layer> */
    HC_ENTRY_LATENT = 2   /* /latents/<name> */
} hc_entry_kind;

/* Description of one stored dataset (a module's features, a hidden state or
 * a latent).  `dims[0]` is the row (step) count; the remaining dims make one
 * row of `row_elems` floats. */
typedef struct hc_traj_entry {
    hc_entry_kind kind;
    char path[256];       /* full HDF5 path, e.g. "/features/dit/3/attn" */
    char name[192];       /* path under the kind's group: "dit/3/attn", "x" */
    char block_kind[32];  /* "dit", "double", "single"; "" for latents */
    int layer;            /* -1 for latents */
    char module[64];      /* "attn", "img_mlp", "total"; "" for hidden/latents */
    char stream[8];       /* "img", "txt", "joint"; "" for latents */
    int rank;
    int64_t dims[HC_TRAJ_MAX_RANK];
    size_t row_elems;     /* product of dims[1..rank-1] */
    hc_dtype dtype;       /* on-disk type; reads always convert to float32 */
    uint64_t stored_bytes;/* bytes on disk (after compression) */
    int64_t chunk[HC_TRAJ_MAX_RANK]; /* chunk dims, all 0 if contiguous */
    char filters[64];     /* "shuffle+deflate(4)", "none", ... */
} hc_traj_entry;

/* Root metadata.  Strings are "" when absent; has_* flags mark optional
 * numeric attributes. */
typedef struct hc_traj_meta {
    char model[128];
    char sampler[128];
    int num_steps;
    int has_seed;
    int64_t seed;
    char label[256];      /* `label` or `prompt`, whichever the file has */
    int has_guidance;
    double guidance;
    int complete;         /* 1 if `complete`=1, 0 if `complete`=0, -1 if absent */
    char *provenance;     /* root attribute `provenance` (JSON text) or NULL; owned by the hc_traj */
    int nonfinite_times;  /* step times that were NaN or Inf (set to 0 under the zero and skip policies) */
} hc_traj_meta;

/* What reads do with non-finite values (NaN, +-Inf) in the data: features,
 * hidden states, latents (per row, at each read) and step times (at open). */
typedef enum hc_traj_nonfinite {
    HC_NONFINITE_REFUSE = 0, /* HC_EFORMAT naming the file, dataset, step and count (the default) */
    HC_NONFINITE_ZERO = 1,   /* set to 0; the reader counts them (hc_traj_read_row_counted) */
    HC_NONFINITE_SKIP = 2    /* set to 0 as for ZERO; the caller leaves such rows out of its scores */
} hc_traj_nonfinite;

/* "refuse", "zero", "skip" */
const char *hc_traj_nonfinite_name(hc_traj_nonfinite p);
/* From those names; HC_EINVAL listing them. */
hc_status hc_traj_nonfinite_parse(const char *s, hc_traj_nonfinite *out);

typedef struct hc_traj_open_opts {
    hc_traj_nonfinite nonfinite;
} hc_traj_open_opts;

typedef struct hc_traj hc_traj;

/* Open FILE read-only and validate it against schema v1: root attributes,
 * /steps/t of length num_steps, every feature/hidden dataset of rank 3 with
 * S rows and a float32/float16 type, latents with S+1 (x) or S (out) rows.
 * A file whose writer never finished (`complete` = 0) is refused, and so is
 * a dataset with steps never written (missing chunks), one that needs an
 * HDF5 filter this library cannot decode, and non-finite step times (under
 * the default non-finite policy).
 * Errors: HC_EIO (missing/unreadable), HC_EFORMAT (not HDF5, truncated,
 * schema mismatch), HC_EUNSUP (dtype), HC_ENOMEM.  Message names the file,
 * the dataset and what was expected. */
hc_status hc_traj_open(const char *path, hc_traj **out);
/* The same, with options (NULL: the defaults, as hc_traj_open). */
hc_status hc_traj_open_with(const char *path, const hc_traj_open_opts *o, hc_traj **out);

/* Close and free; NULL is a no-op. */
void hc_traj_close(hc_traj *t);

const char *hc_traj_path(const hc_traj *t);
const hc_traj_meta *hc_traj_get_meta(const hc_traj *t);

/* The sampler time at each step, float64 [num_steps]; owned by t. */
const double *hc_traj_times(const hc_traj *t);

/* Entries in canonical order: features (block kind, numeric layer, module),
 * then hidden, then latents.  `index` < hc_traj_num_entries(t). */
size_t hc_traj_num_entries(const hc_traj *t);
const hc_traj_entry *hc_traj_entry_at(const hc_traj *t, size_t index);
size_t hc_traj_num_features(const hc_traj *t); /* features come first */

/* Find an entry by kind and name ("dit/3/attn"); -1 if absent. */
long hc_traj_find(const hc_traj *t, hc_entry_kind kind, const char *name);

/* Read row `row` (a step) of entry `index` into buf (row_elems floats,
 * float32 row-major, converted from the on-disk type).  One hyperslab
 * read; no allocation.  Non-finite values follow the policy the file was
 * opened with.  Errors: HC_EINVAL (row out of range), HC_EFORMAT (read
 * failed: truncated or corrupt chunk, a Fletcher-32 checksum mismatch, or
 * non-finite values under the refuse policy). */
hc_status hc_traj_read_row(hc_traj *t, size_t index, int64_t row, float *buf);
/* The same; *n_nonfinite (may be NULL) receives the number of non-finite
 * values found in the row (0 under refuse: those fail), set to 0 in buf. */
hc_status hc_traj_read_row_counted(hc_traj *t, size_t index, int64_t row, float *buf, size_t *n_nonfinite);

/* Signal /signals/<name> (optional group): float64 [S] (cols = 1) or [S,
 * cols], into out[S * cols] (row-major; row s is step s).  HC_EFORMAT
 * naming the file and the dataset when absent; HC_EFORMAT for a wrong shape
 * or a non-finite value.  The names are the policies' (predictors/policy.h,
 * docs/trajectory-format.md). */
hc_status hc_traj_read_signal(hc_traj *t, const char *name, int64_t cols, double *out);
/* Columns of /signals/<name> (1 for [S]), 0 if absent or not [S] / [S, n]. */
int64_t hc_traj_signal_cols(const hc_traj *t, const char *name);

/* ---- streaming writer --------------------------------------------------- */

typedef struct hc_traj_write_opts {
    hc_dtype dtype;    /* on-disk type of features/hidden/latents */
    int deflate;       /* 0 = none, 1..9 = shuffle + deflate level */
} hc_traj_write_opts;

typedef struct hc_traj_writer hc_traj_writer;

/* Create a writer for `path`.  Data goes to "<path>.partial"; the file is
 * renamed to `path` and marked `complete` = 1 only by
 * hc_traj_writer_finish().  meta->num_steps (S) fixes the row counts.
 * `provenance_json` (may be NULL) is stored as root attribute `provenance`. */
hc_status hc_traj_writer_open(const char *path, const hc_traj_meta *meta,
                              const hc_traj_write_opts *opts,
                              const char *provenance_json, hc_traj_writer **out);

/* Fletcher-32 checksums: on by default on every dataset the writer makes
 * (/steps/t included; readers verify them on every read).  on = 0 turns
 * them off; only before the first dataset is declared or time is put
 * (HC_EINVAL after). */
hc_status hc_traj_writer_set_checksum(hc_traj_writer *w, int on);

/* Declare a feature dataset [S, n_tokens, n_channels]; returns its handle. */
hc_status hc_traj_writer_add_feature(hc_traj_writer *w, const char *block_kind, int layer,
                                     const char *module, const char *stream,
                                     int64_t n_tokens, int64_t n_channels, int *handle);

/* Declare a hidden-state dataset /hidden/<kind>/<layer> [S, T, D] of stream
 * "img", "txt" or "joint" (NULL: joint). */
hc_status hc_traj_writer_add_hidden(hc_traj_writer *w, const char *block_kind, int layer, const char *stream,
                                    int64_t n_tokens, int64_t n_channels, int *handle);

/* Declare /latents/<name> with `rows` rows (S+1 for x, S for out) and the
 * per-row shape row_dims[0..row_rank-1]. */
hc_status hc_traj_writer_add_latent(hc_traj_writer *w, const char *name, int64_t rows,
                                    int row_rank, const int64_t *row_dims, int *handle);

/* Store the sampler time of step s (0 <= s < S). */
hc_status hc_traj_writer_put_time(hc_traj_writer *w, int64_t step, double t);

/* Write row `row` of dataset `handle` from data (float32 row-major,
 * row_elems floats).  Rows may come in any order; each must come once. */
hc_status hc_traj_writer_put(hc_traj_writer *w, int handle, int64_t row, const float *data);

/* Write /signals/<name>: v[S * cols] float64, [S] when cols = 1 else [S,
 * cols], whole (finite values only). */
hc_status hc_traj_writer_put_signal(hc_traj_writer *w, const char *name, int64_t cols, const double *v);

/* Check that every row and time was written, set `complete` = 1, close and
 * rename to the final path.  The writer is freed either way. */
hc_status hc_traj_writer_finish(hc_traj_writer *w);

/* Abandon: close and delete the partial file.  NULL is a no-op. */
void hc_traj_writer_free(hc_traj_writer *w);

#endif
