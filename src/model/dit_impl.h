/* dit_impl.h: the DiT's private state, shared by dit.c (config, weights,
 * workspace, cost) and dit_fwd.c (the forward). */
#ifndef HC_DIT_IMPL_H
#define HC_DIT_IMPL_H

#include "dit.h"
#include "nn.h"

/* floats per piece of a forecast added into the stream (stays in L1/L2) */
#define DIT_CHUNK 4096
/* per-thread scratch slots of the batch split (attention, MLP tile, piece) */
#define HC_DIT_THREADS 8

typedef struct blk {
    hc_linear mod, qkv, proj, fc1, fc2;
} blk;

typedef struct dit {
    hc_dit_config c;
    float *weights;
    const float *pos, *ytab;
    hc_linear xemb, t1, t2, fmod, flin;
    blk *b;
    int max_B;
    /* workspace */
    float *ws;
    float *xp, *x, *tf, *e1, *cond, *sc, *h, *qkv, *att, *fin, *fr_in, *fr_h;
    float *mods;  /* [depth + 1][B, 6 D]: every adaLN output of a forward (the final layer's [B, 2 D]) */
    float *mod;   /* the current block's: a pointer into mods */
    float *mlph;  /* [n_thr][tile, F]: each thread's MLP hidden tile */
    float *attn_ws;
    float *sig_in, *sig; /* [B T, D]: the stream entering block 0; a residual signal */
    float *fbuf;         /* [n_thr][chunk_rows, D]: pieces of a forecast added into the stream */
    int chunk_rows;      /* rows per piece: about DIT_CHUNK floats */
    float **cp;          /* [2 depth] point buffers [B T, D] */
    hc_attn attn[HC_DIT_THREADS];
    int n_thr;           /* slots bound: min(max_B, HC_DIT_THREADS) */
} dit;

/* The forward (hc_model_type.forward; dit_fwd.c). */
hc_status hc_dit_forward(void *impl, const float *xin, const float *t, const int *labels, int B,
                         const hc_model_hooks *hooks, float *out);

#endif
