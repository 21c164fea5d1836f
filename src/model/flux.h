/* flux.h: the flux-mini MMDiT forward pass (docs/model-format.md) with
 * module-level cache points, on OpenBLAS sgemm with a workspace allocated
 * once per maximum batch.
 *
 * Cache points are the pre-gate module outputs TaylorSeer/HiCache cache:
 * double/<i>/{img_attn, img_mlp, txt_attn, txt_mlp} and single/<n>/total
 * (n = depth_double + j).  At a cached step a block's attention and MLP are
 * skipped and each cache point is filled by the caller's forecast;
 * modulation, gates and the residual stream stay exact.  The block code is
 * shared by both streams, so a DiT model is another block list over the same
 * primitives (src/model/nn.h).  The registry type is hc_model_flux (arch
 * "flux-mmdit"); the engines use it through model.h only. */
#ifndef HC_FLUX_H
#define HC_FLUX_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "model.h"
#include "status.h"

typedef struct hc_flux_config {
    int image_size, image_channels, patch, in_channels, out_channels, grid_h, grid_w;
    int D, H, head_dim, F, depth_double, depth_single;
    int axes_dim[3];
    double theta;
    int num_classes, null_class, txt_tokens, ctx_dim, vec_dim, time_dim;
    double time_factor, max_period, ln_eps, rms_eps;
    double base_seq_len, base_shift, max_seq_len, max_shift, shift_sigma;
    int T_img, L; /* image tokens, joint length txt + img */
} hc_flux_config;

typedef struct hc_flux hc_flux;

/* Load weights (F32/F16/BF16 safetensors with `config` metadata) and
 * allocate the workspace for batches of up to max_batch elements. */
hc_status hc_flux_load(const char *path, int max_batch, hc_flux **out);
void hc_flux_free(hc_flux *m);

const hc_flux_config *hc_flux_get_config(const hc_flux *m);
int hc_flux_max_batch(const hc_flux *m);
/* The config and training metadata of the file (owned by m). */
const cJSON *hc_flux_metadata(const hc_flux *m);
const char *hc_flux_path(const hc_flux *m);

/* ---- cache points ------------------------------------------------------------
 * double/<i>/{img_attn, img_mlp, txt_attn, txt_mlp} (i < depth_double), then
 * single/<n>/total (n = depth_double + j); clustering inputs 0 and 1 are the
 * img and txt streams after the last double block.  The double-block MLP
 * points can compute fresh rows. */

int hc_flux_num_points(const hc_flux *m);
const hc_cache_point *hc_flux_point(const hc_flux *m, int p);

/* v = f(x, t, label) for B <= max_batch elements.
 *   x      [B, C, H, W] float32, t [B] float32, labels [B] (null_class = unconditional)
 *   hooks  per cache point: compute or forecast (model.h); NULL: compute all
 *   v_out  [B, C, H, W] float32.  No allocation. */
hc_status hc_flux_forward(hc_flux *m, const float *x, const float *t, const int *labels, int B,
                          const hc_model_hooks *hooks, float *v_out);

/* Buffer of cache point p from the last forward, [B * tokens, D]. */
const float *hc_flux_point_buffer(const hc_flux *m, int p);

/* Intermediate tensors of the last forward, for golden tests: "vec" [B, D],
 * "temb" [B, time_dim], "img_in" [B, T_img, D], "txt_in" [B, T_txt, D],
 * "img_packed" [B, T_img, in], "rope_cos"/"rope_sin" [L, d/2]. NULL if unknown. */
const float *hc_flux_intermediate(const hc_flux *m, const char *name);

/* Parse and validate a model `config` JSON object (docs/model-format.md);
 * `path` names the source in messages. */
hc_status hc_flux_config_parse(const char *path, const cJSON *c, hc_flux_config *k);

#endif
