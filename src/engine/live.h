/* live.h: the live engine: sample with the bundled model under a caching
 * method and measure quality against full compute with identical noise and
 * labels (closed loop: forecast errors compound through later blocks and
 * steps).  Replay (replay.h) is the open-loop engine over the same
 * predictors and schedules.
 *
 * Noise: sample i uses a GSL mt19937 stream seeded with seed * 1000003 + i
 * (Gaussian by ziggurat), so sample i is the same whatever n and batch. */
#ifndef HC_LIVE_H
#define HC_LIVE_H

#include <cjson/cJSON.h>

#include "predictor.h"

typedef struct hc_live_ref hc_live_ref;

typedef struct hc_live_opts {
    const char *model_path;       /* flux-mini safetensors */
    const char *classifier_path;  /* Fashion-MNIST CNN; NULL/"" skips class_acc and FD */
    const char *data_dir;         /* Fashion-MNIST IDX directory (real images for FD) */
    int n;                        /* samples */
    int batch;                    /* images per sampler run (CFG doubles it) */
    int steps;
    double cfg;
    int shift;
    unsigned long seed;
    const int *labels;            /* [n] or NULL: i mod num_classes */
    int n_real;                   /* real test images for FD (default 2000) */
    const char *record_path;      /* full-compute trajectory of sample 0, or NULL */
    const char *record_glob;      /* cache points to record (NULL = all) */
    int record_f16;               /* store recorded features as float16 */
    int record_deflate;           /* shuffle + deflate level 0..9 */
    const char *out_dir;          /* grid.png, samples.h5, metrics.json */
    const char *reference_path;   /* samples.h5 of an earlier full-compute run with the same
                                     n, labels, seed, steps, guidance and shift: reused instead
                                     of sampling the reference again (NULL: sample it) */
    const hc_live_ref *reference;    /* in memory, instead of reference_path: the full-compute
                                     run to score against (same noise and labels; its steps may
                                     differ, e.g. a fewer-steps baseline against the engine's
                                     steps); not sampled again */
    size_t max_memory;            /* cap on the planned working set (0: half of physical memory) */
    int quiet;
} hc_live_opts;

void hc_live_defaults(hc_live_opts *o);

/* A full-compute run that other runs are scored against. */
struct hc_live_ref {
    int n, channels, size;        /* samples [n, channels, size, size] */
    float *samples;               /* owned */
    int *labels;                  /* [n], owned */
    unsigned long seed;
    int steps, shift;
    double cfg;
    double macs, seconds;         /* of the whole run */
};

/* Read a samples.h5 written by an earlier run as a reference for o (same
 * n, labels, seed, steps, guidance and shift; HC_EINVAL naming what differs).
 * labels: [o->n]. */
hc_status hc_live_read_reference(const char *path, const hc_live_opts *o, const int *labels, hc_live_ref **out);
void hc_live_ref_free(hc_live_ref *r);

/* One sample against its reference (same noise and label). */
typedef struct hc_live_image {
    int label;
    int predicted;                /* the classifier's class, -1 without a classifier */
    double rel_l2, psnr, ssim;    /* psnr +inf when identical */
} hc_live_image;

/* What a live run measured (metrics.json's "metrics" are made from it). */
typedef struct hc_live_result {
    hc_method method;
    int n, channels, size;
    float *samples;               /* [n, C, H, W] the method's samples */
    hc_live_ref *reference;       /* what it was scored against (owned copy) */
    hc_live_image *images;        /* [n] */
    double rel_l2, psnr, ssim;    /* means over images (psnr NaN if any is infinite) */
    int full_steps, steps;
    double macs, seconds;         /* of this run; the reference's are in reference */
    size_t cache_bytes;           /* the predictors' caches of one batch (hc_sample_stats) */
    int threads;
    int classified;               /* a classifier ran: the fields below are set */
    double class_acc, class_acc_full, fd;
    int fd_real_images;           /* 0: FD not computed (fewer than 2 samples) */
    double fd_lo, fd_hi;          /* percentile bootstrap over the samples (stats.h: HC_BOOT_*) */
    double kid, kid_se;           /* KID against the same real images, its standard error (stats.h) */
    cJSON *provenance;            /* with the resolved config and the model's metadata */
    char label[256];
} hc_live_result;

/* Sample (the reference too unless given), score, classify.  Writes only
 * the recorded trajectory, if asked. */
hc_status hc_live_compute(const hc_live_opts *o, const hc_method *method, hc_live_result **out);
void hc_live_result_free(hc_live_result *r);

/* metrics.json's "metrics" object of a result. */
cJSON *hc_live_metrics_json(const hc_live_result *r);
/* The whole metrics.json document (provenance, method, label, metrics,
 * definitions); caller frees. */
cJSON *hc_live_document(const hc_live_result *r);
/* Write o->out_dir/grid.png, samples.h5 and metrics.json (atomically). */
hc_status hc_live_write(const hc_live_opts *o, const hc_live_result *r);

/* Compute and write; *metrics (may be NULL) receives metrics.json's
 * document (caller frees). */
hc_status hc_live_sample(const hc_live_opts *o, const hc_method *method, cJSON **metrics);

/* The Fashion-MNIST class names. */
extern const char *const hc_fmnist_classes[10];

#endif
