/* flux_impl.h: the flux-mini model's private state, shared by flux.c
 * (config, weights, workspace, cost) and flux_fwd.c (the forward). */
#ifndef HC_FLUX_IMPL_H
#define HC_FLUX_IMPL_H

#include "flux.h"
#include "nn.h"

/* per-thread scratch slots of the batch split (attention Q, K, S) */
#define HC_FLUX_THREADS 8
/* gated residuals a stream may hold back before adding them in one pass */
#define HC_FLUX_PEND 8
/* floats per piece of a forecast added into a stream (a few stay in L1) */
#define HC_FLUX_CHUNK 4096

typedef struct dblk {
    hc_linear mod[2], qkv[2], proj[2], fc1[2], fc2[2]; /* [0] img, [1] txt */
    const float *qn[2], *kn[2];
} dblk;

typedef struct sblk {
    hc_linear mod, lin1, lin2;
    const float *qn, *kn;
} sblk;

struct hc_flux {
    char path[1024];
    hc_flux_config c;
    cJSON *meta;
    float *weights;
    const float *label_txt, *label_vec;
    hc_linear img_in, txt_in, time1, time2, vec1, vec2, fmod, flin;
    dblk *db;
    sblk *sb;
    int n_points;
    hc_cache_point *points;
    int max_B;
    /* workspace */
    float *ws;
    float *temb, *vec, *svec, *e1, *e2, *y;
    float *img0, *txt0, *img, *txt, *joint;
    float *mods;         /* every adaLN output of a forward (flux_fwd.c mods_of) */
    float *mod[2];       /* the current block's adaLN outputs: pointers into mods */
    float *h, *qkv[2], *u, *att[2], *attj, *mlph, *cat, *fin;
    float *rope_cos, *rope_sin;
    float *attn_ws;
    hc_attn attn[HC_FLUX_THREADS];
    int n_attn; /* slots bound: min(max_B, HC_FLUX_THREADS) */
    float *fr_in, *fr_h;
    float *sig_in, *sig; /* signals: the image stream before the first block, a signal tensor */
    float *gates;        /* [3 streams, HC_FLUX_PEND, B, D]: gates of the held-back residuals */
    float *fbuf;         /* [n_attn threads, HC_FLUX_PEND, chunk_rows, D]: pieces of forecasts */
    int chunk_rows;      /* rows per piece: HC_FLUX_CHUNK floats */
    float **cp;
};

#endif
