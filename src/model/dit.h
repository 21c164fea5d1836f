/* dit.h: DiT (Peebles & Xie; the official facebookresearch/DiT `models.py`
 * layout) with module-level cache points, on the shared primitives of nn.h.
 * The engines use it through the registry type hc_model_dit (arch "dit",
 * model.h); this header is for tests and tools.
 *
 * Forward, for x [B, C, I, I], integer DDPM timestep indices t [B], labels
 * y [B] (y == num_classes: the CFG null class):
 *   patches (c, pi, pj) -> x_embedder.proj (a conv with kernel = stride = p,
 *   i.e. a GEMM over patches) + pos_embed;  c = t_embedder(t) + y_embedder(y);
 *   per block i:  shift/scale/gate_msa, shift/scale/gate_mlp = adaLN(SiLU(c))
 *     dit/<i>/attn = attn.proj(attention(modulate(LN(x), shift_msa, scale_msa)))
 *     x += gate_msa * dit/<i>/attn
 *     dit/<i>/mlp  = fc2(GELU_tanh(fc1(modulate(LN(x), shift_mlp, scale_mlp))))
 *     x += gate_mlp * dit/<i>/mlp
 *   final layer: linear(modulate(LN(x), shift, scale)) -> unpatchify, per
 *   token channels in (pi, pj, c) order -> out [B, Cout, I, I] with Cout = 2C
 *   when learn_sigma (the second half is the variance interpolation; DDIM
 *   ignores it), else C.
 * LayerNorm without affine (eps ln_eps), timestep embedding on the integer
 * index: [cos(t f_k) | sin(t f_k)], f_k = exp(-ln(10000) k / (freq_dim/2)),
 * in float64 rounded to float32 (DiT computes it in float32: ~1e-5 apart).  The clustering input is the residual
 * stream after the last block (every token is an image token). */
#ifndef HC_DIT_H
#define HC_DIT_H

#include <cjson/cJSON.h>

#include "model.h"
#include "status.h"

typedef struct hc_dit_config {
    int input_size, C, p, D, depth, H, head_dim, F, num_classes, learn_sigma, Cout, grid, T, freq_dim;
    int cfg_channels;
    double mlp_ratio, ln_eps, class_dropout_prob, default_guidance;
    int num_train_timesteps;
    double beta_start, beta_end;
} hc_dit_config;

/* Parse and validate a DiT `config` object (docs/dit.md); `origin` names
 * its source in messages. */
hc_status hc_dit_config_parse(const char *origin, const cJSON *c, hc_dit_config *k);

extern const hc_model_type hc_model_dit;

#endif
