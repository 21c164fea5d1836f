/* sampler.h: closed-loop sampling of a registered model (model.h) under a
 * caching method, driven by the cache driver (driver.h).
 *
 * The sampler family comes from the model's metadata (hc_model_info.sampler);
 * "rf-euler": rectified-flow Euler with the FLUX time shift and true CFG;
 * "ddim": DDPM/DDIM as DiT samples (hc_ddim_grid below).  rf-euler's
 * schedule (docs/model-format.md §4):
 *   t_i = e^mu / (e^mu + (1/s_i - 1)^sigma) on s_i = 1 - i/N, mu on the line
 *   through (base_seq_len, base_shift), (max_seq_len, max_shift) at seq_len
 *   (shift off: t_i = s_i).
 * Step i:  v = v_u + w (v_c - v_u);  x += (float)(t_{i+1} - t_i) v
 * with cond and uncond run as one batch [cond ; uncond] (w = 1: cond only);
 * "ddim" runs the same batch and guides as hc_ddim_guide.
 * Per run, one driver owns a predictor per cache point over the batch's
 * B * tokens rows (B groups) and the clustering of the model's inputs. */
#ifndef HC_SAMPLER_H
#define HC_SAMPLER_H

#include "model.h"
#include "predictor.h"
#include "traj.h"

/* t[0..steps] in float64 (t_0 = 1, t_steps = 0) for model info i. */
void hc_rf_schedule(const hc_model_info *i, int steps, int shift, double *t);

/* "ddim" (sampler_ddim.c): DDPM linear betas over the model's
 * num_train_timesteps, cumulated to abar; DiT's respaced grid of S steps
 * (space_timesteps(T, "S"): round(k (T-1)/(S-1)), ties to even); DDIM with
 * eta = 0, no clipping of x0 (DiT samples with clip_denoised=False):
 *   x0 = sqrt(1/abar) x - sqrt(1/abar - 1) eps;  eps' = (sqrt(1/abar) x - x0) / sqrt(1/abar - 1)
 *   x <- sqrt(abar_prev) x0 + sqrt(1 - abar_prev) eps'
 * Step s (sampling order) gives the network the original timestep index
 * tau[s] (counting down to 0), with abar[s] and abar_prev[s] (1 at the last
 * step).  Arrays of S. */
hc_status hc_ddim_grid(const hc_model_info *i, int S, double *tau, double *abar, double *abar_prev);
/* CFG as DiT's forward_with_cfg: v [2n or n, out_channels, H, W] is the
 * batch [cond; uncond]; eps [n, C, H, W] = uncond + w (cond - uncond) on the
 * first cfg_channels channels, the cond half elsewhere (guided 0: v holds
 * the cond batch only and eps is its first C channels). */
void hc_ddim_guide(const float *v, int n, int guided, float w, const hc_model_info *i, float *eps);
/* One DDIM step of count floats in place (float32, DiT's order of operations). */
void hc_ddim_step(float *x, const float *eps, size_t count, double abar, double abar_prev);

typedef struct hc_sample_opts {
    int steps;      /* sampler steps (network evaluations) */
    double cfg;     /* guidance scale w; 1 = conditional only (no uncond batch) */
    int shift;      /* FLUX resolution-dependent time shift on/off (rf-euler only) */
} hc_sample_opts;

/* What one run did. */
typedef struct hc_sample_stats {
    int full_steps, steps;
    double macs;          /* multiply-accumulates of the whole run (all batch rows) */
    double seconds;       /* wall-clock of the network evaluations and forecasts */
    double seconds_cached; /* the part of it spent in cached (not full) steps */
    size_t cache_bytes;   /* the predictors' caches at the end of the run (hc_driver_cache_bytes) */
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
 * [S, C, H, W] (guided velocity; ddim: the guided epsilon the step used),
 * /steps/t the network's time (ddim: the original timestep index).  The
 * writer must be open with num_steps = opts->steps; datasets are declared
 * here.  Pass NULL to stop recording. */
hc_status hc_sampler_record(hc_sampler *s, hc_traj_writer *w, const char *glob);

/* Sample n images: x [n, C, H, W] holds the initial noise on entry and the
 * samples on exit; labels [n].  `method` selects caching (full: none).
 * stats may be NULL. */
hc_status hc_sampler_run(hc_sampler *s, const hc_method *method, const hc_sample_opts *o, const int *labels, int n,
                         float *x, hc_sample_stats *stats);

#endif
