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
    int quiet;
} hc_live_opts;

void hc_live_defaults(hc_live_opts *o);

/* Run and write the outputs; *metrics (may be NULL) receives metrics.json's
 * document (caller frees). */
hc_status hc_live_sample(const hc_live_opts *o, const hc_method *method, cJSON **metrics);

/* The Fashion-MNIST class names. */
extern const char *const hc_fmnist_classes[10];

#endif
