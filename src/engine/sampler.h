/* sampler.h: closed-loop sampling of a registered model (model.h) under a
 * caching method, driven by the cache driver (driver.h).
 *
 * The sampler family comes from the model's metadata (hc_model_info.sampler);
 * the one registered today is "rf-euler": rectified-flow Euler with the FLUX
 * time shift and true CFG.  Schedule (docs/model-format.md §4):
 *   t_i = e^mu / (e^mu + (1/s_i - 1)^sigma) on s_i = 1 - i/N, mu on the line
 *   through (base_seq_len, base_shift), (max_seq_len, max_shift) at seq_len
 *   (shift off: t_i = s_i).
 * Step i:  v = v_u + w (v_c - v_u);  x += (float)(t_{i+1} - t_i) v
 * with cond and uncond run as one batch [cond ; uncond] (w = 1: cond only).
 * Per run, one driver owns a predictor per cache point over the batch's
 * B * tokens rows (B groups) and the clustering of the model's inputs. */
#ifndef HC_SAMPLER_H
#define HC_SAMPLER_H

#include "model.h"
#include "predictor.h"
#include "traj.h"

/* t[0..steps] in float64 (t_0 = 1, t_steps = 0) for model info i. */
void hc_rf_schedule(const hc_model_info *i, int steps, int shift, double *t);

typedef struct hc_sample_opts {
    int steps;      /* sampler steps (network evaluations) */
    double cfg;     /* guidance scale w; 1 = conditional only (no uncond batch) */
    int shift;      /* FLUX resolution-dependent time shift on/off */
} hc_sample_opts;

/* What one run did. */
typedef struct hc_sample_stats {
    int full_steps, steps;
    double macs;          /* multiply-accumulates of the whole run (all batch rows) */
    double seconds;       /* wall-clock of the network evaluations and forecasts */
    double seconds_cached; /* the part of it spent in cached (not full) steps */
} hc_sample_stats;

typedef struct hc_sampler hc_sampler;

/* A sampler for up to max_images images per run (batch 2 x max_images); the
 * model must be open for that batch.  HC_EUNSUP if the model's sampler
 * family is not registered. */
hc_status hc_sampler_alloc(hc_model *m, int max_images, hc_sampler **out);
void hc_sampler_free(hc_sampler *s);

/* Record the next run's full-compute trajectory of image 0 (conditional
 * branch) into w: every cache point whose name matches one of the comma-
 * separated fnmatch patterns in `glob` (NULL = all), the model's recorded
 * clustering input as /hidden, /latents/x [S+1, C, H, W] and /latents/out
 * [S, C, H, W] (guided velocity).  The writer must be open with num_steps =
 * opts->steps; datasets are declared here.  Pass NULL to stop recording. */
hc_status hc_sampler_record(hc_sampler *s, hc_traj_writer *w, const char *glob);

/* Sample n images: x [n, C, H, W] holds the initial noise on entry and the
 * samples on exit; labels [n].  `method` selects caching (full: none).
 * stats may be NULL. */
hc_status hc_sampler_run(hc_sampler *s, const hc_method *method, const hc_sample_opts *o, const int *labels, int n,
                         float *x, hc_sample_stats *stats);

#endif
