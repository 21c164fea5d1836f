/* nn.h: transformer primitives shared by the live models (flux-mini now, a
 * DiT next): linear layers on sgemm, adaLN modulation, gated residuals,
 * GELU-tanh, SiLU, and multi-part self-attention with optional QK-RMSNorm
 * and RoPE.  float32 row-major; reductions use fixed 8-lane float sums (the
 * results do not depend on the machine's vector width); exponentials use a
 * branch-free polynomial within 2 ulp of expf.  The elementwise kernels are
 * compiled for AVX2 and the x86-64 baseline and picked at load time. */
#ifndef HC_NN_H
#define HC_NN_H

#include <stddef.h>

/* W [out, in] (PyTorch layout), b [out]. */
typedef struct hc_linear {
    const float *W, *b;
    int out, in;
} hc_linear;

/* Y [M, out] (row stride ldy) = X [M, in] (row stride ldx) W^T + b. */
void hc_nn_linear(const hc_linear *l, const float *X, int ldx, int M, float *Y, int ldy);

/* ---- a forward split across the pool's threads (flux_fwd.c, dit_fwd.c) ----
 * OpenBLAS's sgemm result for a row depends on where the row falls in the
 * kernel's row tiling: GEMM row ranges are cut at multiples of
 * HC_NN_ROW_ALIGN (a multiple of every x86 sgemm kernel's row unroll,
 * 8/16/24/32/48) and MLP tiles of HC_NN_MLP_TILE rows are handed out whole,
 * so each row sees the tiling it sees in one GEMM over all rows. */
#define HC_NN_ROW_ALIGN 96
/* thread t of nt's share [*a, *b) of n items (batch elements) */
void hc_nn_split(int n, int t, int nt, int *a, int *b);
/* thread t of nt's rows [*r0, *r1) of M, cut at multiples of unit */
void hc_nn_split_rows(int M, int unit, int t, int nt, int *r0, int *r1);
/* thread t of nt's rows of hc_nn_linear(l, X, ldx, M, Y, ldy), cut at
 * multiples of HC_NN_ROW_ALIGN */
void hc_nn_linear_part(const hc_linear *l, const float *X, int ldx, int M, float *Y, int ldy, int t, int nt);

/* out[r] = LN(z[r]) (1 + scale) + shift, rows of width D (no affine LN). */
void hc_nn_modulate(const float *z, int rows, int D, const float *shift, const float *scale, float eps, float *out);

/* x[r] += gate * v[r], rows of width D. */
void hc_nn_gated_add(float *x, const float *v, const float *gate, int rows, int D);

/* x[r] += gate_k * v_k[r] for k = 0..n-1 in turn, rows of width D: the
 * additions of n hc_nn_gated_add calls, in the same order, in one pass. */
void hc_nn_gated_add_n(float *x, int n, const float *const *v, const float *const *gate, int rows, int D);

/* dst[r][e] = GELU_tanh(src[r][e]), e < n, r < rows (dst may equal src). */
void hc_nn_gelu(float *dst, size_t ldd, const float *src, size_t lds, size_t rows, size_t n);

/* Y [M, fc2.out] = fc2(GELU(fc1(X))), X [M, fc1.in]: the MLP, processed in
 * row tiles so that the hidden activations stay in cache between the two
 * GEMMs; hidden is scratch of at least HC_NN_MLP_TILE x fc1.out floats. */
#define HC_NN_MLP_TILE 256
void hc_nn_mlp(const hc_linear *fc1, const hc_linear *fc2, const float *X, int M, float *hidden, float *Y);

/* x = x sigmoid(x), n floats in place. */
void hc_nn_silu(float *x, size_t n);

/* One part of a joint attention sequence for batch element b: its rows sit
 * at qkv + (b * per_b + off + r) * ld, each row [q (D) | k (D) | v (D)] with
 * heads in the (K H d) layout; the merged head outputs go to
 * out + (b * out_per_b + out_off + r) * out_ld.  q_scale/k_scale: QK-RMSNorm
 * scales [d] or NULL (no QK norm). */
typedef struct hc_attn_part {
    const float *qkv;
    size_t ld, per_b, off;
    int rows;
    const float *q_scale, *k_scale;
    float *out;
    size_t out_ld, out_per_b, out_off;
} hc_attn_part;

/* Attention workspace for sequences of up to L positions. */
typedef struct hc_attn {
    int H, d, D, L;
    float rms_eps;
    const float *rope_cos, *rope_sin; /* [L, d/2] adjacent-pair RoPE, or NULL */
    float *Q, *K, *S;                 /* [H, L, d], [H, L, d], [L, L] scratch */
} hc_attn;

/* Floats of scratch an hc_attn needs for L positions, H heads of dim d. */
size_t hc_attn_scratch(int L, int H, int d);
/* Point a->Q, K, S into scratch (hc_attn_scratch floats). */
void hc_attn_bind(hc_attn *a, float *scratch);

/* softmax(Q K^T / sqrt d) V over the concatenation of the parts (in order),
 * every head, batch element b. */
void hc_nn_attention(const hc_attn *a, int b, int n_parts, const hc_attn_part *parts);

#endif
