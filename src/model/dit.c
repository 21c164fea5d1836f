/* dit.c: DiT forward with cache points (see dit.h; docs/dit.md). */
#include "dit.h"
#include "dit_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "safetensors.h"

/* ---- config ---------------------------------------------------------------- */

static hc_status num(const char *o, const cJSON *c, const char *key, double lo, double hi, int integer, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!cJSON_IsNumber(v)) return hc_fail(HC_EFORMAT, "%s: config key '%s' missing or not a number", o, key);
    if (v->valuedouble < lo || v->valuedouble > hi || (integer && v->valuedouble != floor(v->valuedouble)))
        return hc_fail(HC_EFORMAT, "%s: config %s = %g is not %s in [%g, %g]", o, key, v->valuedouble,
                       integer ? "an integer" : "a number", lo, hi);
    *out = v->valuedouble;
    return HC_OK;
}

hc_status hc_dit_config_parse(const char *o, const cJSON *c, hc_dit_config *k)
{
    static const struct { const char *key; size_t off; double lo, hi; } ints[] = {
        {"input_size", offsetof(hc_dit_config, input_size), 1, 4096},
        {"in_channels", offsetof(hc_dit_config, C), 1, 64},
        {"patch_size", offsetof(hc_dit_config, p), 1, 64},
        {"hidden_size", offsetof(hc_dit_config, D), 1, 1 << 16},
        {"depth", offsetof(hc_dit_config, depth), 1, 1024},
        {"num_heads", offsetof(hc_dit_config, H), 1, 1024},
        {"num_classes", offsetof(hc_dit_config, num_classes), 1, 1 << 20},
        {"freq_dim", offsetof(hc_dit_config, freq_dim), 2, 1 << 16},
        {"cfg_channels", offsetof(hc_dit_config, cfg_channels), 1, 64},
    };
    static const struct { const char *key; size_t off; double lo, hi; } dbls[] = {
        {"mlp_ratio", offsetof(hc_dit_config, mlp_ratio), 0.01, 64},
        {"ln_eps", offsetof(hc_dit_config, ln_eps), 0, 1},
        {"class_dropout_prob", offsetof(hc_dit_config, class_dropout_prob), 0, 1},
        {"default_guidance", offsetof(hc_dit_config, default_guidance), 0, 100},
    };
    memset(k, 0, sizeof *k);
    double v = 0;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        HC_TRY(num(o, c, ints[i].key, ints[i].lo, ints[i].hi, 1, &v));
        *(int *)((char *)k + ints[i].off) = (int)v;
    }
    for (size_t i = 0; i < sizeof dbls / sizeof dbls[0]; i++) {
        HC_TRY(num(o, c, dbls[i].key, dbls[i].lo, dbls[i].hi, 0, &v));
        *(double *)((char *)k + dbls[i].off) = v;
    }
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(c, "learn_sigma");
    if (!cJSON_IsBool(ls)) return hc_fail(HC_EFORMAT, "%s: config key 'learn_sigma' missing or not a boolean", o);
    k->learn_sigma = cJSON_IsTrue(ls);
    const char *pred = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "prediction"));
    if (!pred || strcmp(pred, "epsilon"))
        return hc_fail(HC_EUNSUP, "%s: config prediction \"%s\" not supported (DiT: \"epsilon\")", o, pred ? pred : "");
    const cJSON *df = cJSON_GetObjectItemCaseSensitive(c, "diffusion");
    if (!cJSON_IsObject(df)) return hc_fail(HC_EFORMAT, "%s: config key 'diffusion' missing or not an object", o);
    const char *bs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(df, "beta_schedule"));
    if (!bs || strcmp(bs, "linear"))
        return hc_fail(HC_EUNSUP, "%s: config diffusion.beta_schedule \"%s\" not supported (\"linear\")", o, bs ? bs : "");
    HC_TRY(num(o, df, "num_train_timesteps", 2, 100000, 1, &v));
    k->num_train_timesteps = (int)v;
    HC_TRY(num(o, df, "beta_start", 1e-12, 0.999, 0, &k->beta_start));
    HC_TRY(num(o, df, "beta_end", 1e-12, 0.999, 0, &k->beta_end));
    k->F = (int)(k->D * k->mlp_ratio); /* timm's Mlp: int(hidden_size * mlp_ratio) */
    k->head_dim = k->D / k->H;
    k->grid = k->input_size / k->p;
    k->T = k->grid * k->grid;
    k->Cout = k->learn_sigma ? 2 * k->C : k->C;
    if (k->head_dim * k->H != k->D)
        return hc_fail(HC_EFORMAT, "%s: hidden_size %d not divisible into %d heads", o, k->D, k->H);
    if (k->grid * k->p != k->input_size)
        return hc_fail(HC_EFORMAT, "%s: input_size %d not a multiple of patch_size %d", o, k->input_size, k->p);
    if (k->freq_dim % 2 || k->cfg_channels > k->C || k->F < 1)
        return hc_fail(HC_EFORMAT, "%s: freq_dim must be even, cfg_channels <= in_channels, mlp width >= 1", o);
    return HC_OK;
}

/* ---- weights ------------------------------------------------------------------ */

typedef struct wload {
    const hc_st *st;      /* NULL: synthetic weights */
    float *next;
    unsigned long rng;
    hc_status code;
    size_t tensors;
} wload;

/* A tensor of `rank` dims: read from the file, or (synthetic) uniform in
 * [-a, a] with a = 1/sqrt(fan-in) from a 64-bit LCG. */
static const float *take(wload *w, const char *name, int rank, const int64_t *shape)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)shape[i];
    float *p = w->next;
    w->next += n;
    w->tensors++;
    if (w->code != HC_OK) return p;
    if (w->st) {
        w->code = hc_st_read_f32(w->st, name, rank, shape, p);
        return p;
    }
    float a = rank > 1 ? (float)(1.0 / sqrt((double)(n / (size_t)shape[0]))) : 0.1f;
    for (size_t i = 0; i < n; i++) {
        w->rng = w->rng * 6364136223846793005UL + 1442695040888963407UL;
        p[i] = a * ((float)(w->rng >> 40) / 8388608.0f - 1.0f);
    }
    return p;
}

static hc_linear take_lin(wload *w, const char *prefix, int out, int in)
{
    char n[200];
    hc_linear l = {NULL, NULL, out, in};
    int64_t s[2] = {out, in};
    snprintf(n, sizeof n, "%s.weight", prefix);
    l.W = take(w, n, 2, s);
    snprintf(n, sizeof n, "%s.bias", prefix);
    l.b = take(w, n, 1, s);
    return l;
}

static size_t count_weights(const hc_dit_config *c)
{
    size_t D = (size_t)c->D, F = (size_t)c->F, P = (size_t)c->p * c->p;
    size_t n = D * c->C * P + D + (size_t)c->T * D + (size_t)c->freq_dim * D + D + D * D + D + (size_t)(c->num_classes + 1) * D;
    n += (size_t)c->depth * (6 * D * D + 6 * D + 3 * D * D + 3 * D + D * D + D + F * D + F + D * F + D);
    n += 2 * D * D + 2 * D + P * c->Cout * D + P * c->Cout;
    return n;
}

static hc_status load_weights(dit *m, const hc_st *st, unsigned long seed)
{
    const hc_dit_config *c = &m->c;
    size_t n = count_weights(c);
    m->weights = malloc(n * sizeof *m->weights);
    m->b = calloc((size_t)c->depth, sizeof *m->b);
    if (!m->weights || !m->b) return hc_fail(HC_ENOMEM, "out of memory for %zu weights", n);
    wload w = {st, m->weights, seed * 2654435761UL + 1, HC_OK, 0};
    const int D = c->D, P = c->p * c->p;
    int64_t s4[4] = {D, c->C, c->p, c->p}, one[1] = {D}, pe[3] = {1, c->T, D}, yt[2] = {c->num_classes + 1, D};
    m->xemb = (hc_linear){take(&w, "x_embedder.proj.weight", 4, s4), take(&w, "x_embedder.proj.bias", 1, one), D, c->C * P};
    m->pos = take(&w, "pos_embed", 3, pe);
    m->t1 = take_lin(&w, "t_embedder.mlp.0", D, c->freq_dim);
    m->t2 = take_lin(&w, "t_embedder.mlp.2", D, D);
    m->ytab = take(&w, "y_embedder.embedding_table.weight", 2, yt);
    char p[160];
    static const struct { const char *name; size_t off; int out, in; } bl[] = {
        {"adaLN_modulation.1", offsetof(blk, mod), 6, 1}, {"attn.qkv", offsetof(blk, qkv), 3, 1},
        {"attn.proj", offsetof(blk, proj), 1, 1},         {"mlp.fc1", offsetof(blk, fc1), -1, 1},
        {"mlp.fc2", offsetof(blk, fc2), 1, -1}};
    for (int i = 0; i < c->depth; i++)
        for (size_t k = 0; k < sizeof bl / sizeof bl[0]; k++) {
            snprintf(p, sizeof p, "blocks.%d.%s", i, bl[k].name);
            int out = bl[k].out < 0 ? c->F : bl[k].out * D, in = bl[k].in < 0 ? c->F : D;
            *(hc_linear *)((char *)&m->b[i] + bl[k].off) = take_lin(&w, p, out, in);
        }
    m->fmod = take_lin(&w, "final_layer.adaLN_modulation.1", 2 * D, D);
    m->flin = take_lin(&w, "final_layer.linear", P * c->Cout, D);
    if (w.code != HC_OK) return w.code;
    HC_ASSERT((size_t)(w.next - m->weights) == n);
    if (st && hc_st_count(st) != w.tensors)
        return hc_fail(HC_EFORMAT, "%s: %zu tensors; a DiT of depth %d has %zu", hc_st_path(st), hc_st_count(st),
                       c->depth, w.tensors);
    return HC_OK;
}

/* ---- cache points and clustering input ---------------------------------------------- */

static int dit_points(const void *cfgp, hc_cache_point *out, int cap)
{
    const hc_dit_config *c = cfgp;
    int n = 2 * c->depth;
    for (int p = 0; out && p < n && p < cap; p++) {
        hc_cache_point *q = &out[p];
        memset(q, 0, sizeof *q);
        q->layer = p / 2;
        snprintf(q->block_kind, sizeof q->block_kind, "dit");
        snprintf(q->module, sizeof q->module, "%s", p % 2 ? "mlp" : "attn");
        snprintf(q->stream, sizeof q->stream, "img");
        snprintf(q->name, sizeof q->name, "dit/%d/%s", q->layer, q->module);
        q->tokens = c->T;
        q->channels = c->D;
        q->fresh = p % 2; /* the MLP can recompute chosen tokens */
        q->cluster_input = 0;
        q->head = q->layer == 0;
    }
    return n;
}

/* The residual stream after the last block (ClusCa-DiT clusters it). */
static int dit_inputs(const void *cfgp, hc_cluster_input *out, int cap)
{
    const hc_dit_config *c = cfgp;
    if (out && cap >= 1) {
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "dit/%d/img", c->depth - 1);
        snprintf(out->block_kind, sizeof out->block_kind, "dit");
        snprintf(out->stream, sizeof out->stream, "img");
        out->layer = c->depth - 1;
        out->tokens = c->T;
        out->channels = c->D;
        out->record = 1;
    }
    return 1;
}

/* ---- workspace ------------------------------------------------------------------------ */

static hc_status alloc_workspace(dit *m, int B)
{
    const hc_dit_config *c = &m->c;
    size_t D = (size_t)c->D, F = (size_t)c->F, T = (size_t)c->T, b = (size_t)B, P = (size_t)c->p * c->p;
    size_t tile = HC_NN_MLP_TILE < b * T ? HC_NN_MLP_TILE : b * T;
    m->chunk_rows = c->D < DIT_CHUNK ? DIT_CHUNK / c->D : 1;
    m->n_thr = B < HC_DIT_THREADS ? B : HC_DIT_THREADS;
    const size_t nt = (size_t)m->n_thr, attn = hc_attn_scratch((int)T, c->H, c->head_dim);
    struct { float **dst; size_t n; } bufs[] = {
        {&m->xp, b * T * c->C * P}, {&m->x, b * T * D}, {&m->tf, b * c->freq_dim}, {&m->e1, b * D},
        {&m->cond, b * D}, {&m->sc, b * D}, {&m->mods, ((size_t)c->depth + 1) * b * 6 * D}, {&m->h, b * T * D},
        {&m->qkv, b * T * 3 * D}, {&m->att, b * T * D}, {&m->mlph, nt * tile * F}, {&m->fin, b * T * P * c->Cout},
        {&m->attn_ws, nt * attn}, {&m->fr_in, b * T * D}, {&m->fr_h, tile * F},
        {&m->sig_in, b * T * D}, {&m->sig, b * T * D}, {&m->fbuf, nt * (size_t)m->chunk_rows * D},
    };
    size_t total = 2 * (size_t)c->depth * b * T * D;
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) total += (bufs[i].n + 15) / 16 * 16;
    m->ws = malloc(total * sizeof *m->ws);
    m->cp = calloc(2 * (size_t)c->depth, sizeof *m->cp);
    if (!m->ws || !m->cp) return hc_fail(HC_ENOMEM, "out of memory for a %.1f MiB workspace", total * 4.0 / (1 << 20));
    float *p = m->ws;
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        *bufs[i].dst = p;
        p += (bufs[i].n + 15) / 16 * 16;
    }
    for (int q = 0; q < 2 * c->depth; q++, p += b * T * D) m->cp[q] = p;
    m->max_B = B;
    for (int t = 0; t < m->n_thr; t++) {
        m->attn[t] = (hc_attn){.H = c->H, .d = c->head_dim, .D = c->D, .L = c->T};
        hc_attn_bind(&m->attn[t], m->attn_ws + (size_t)t * attn);
    }
    return HC_OK;
}

static void dit_close(void *impl)
{
    dit *m = impl;
    if (!m) return;
    free(m->weights);
    free(m->b);
    free(m->ws);
    free(m->cp);
    free(m);
}

/* From a file (st) or synthetic weights (st NULL, seeded). */
static hc_status dit_make(const hc_dit_config *c, const hc_st *st, unsigned long seed, int max_batch, void **impl)
{
    *impl = NULL;
    HC_ASSERT(max_batch >= 1);
    dit *m = calloc(1, sizeof *m);
    if (!m) return hc_fail(HC_ENOMEM, "out of memory");
    m->c = *c;
    hc_status s = load_weights(m, st, seed);
    if (s == HC_OK) s = alloc_workspace(m, max_batch);
    if (s != HC_OK) {
        dit_close(m);
        return s;
    }
    *impl = m;
    return HC_OK;
}

static hc_status dit_open(const char *path, int max_batch, void **impl)
{
    *impl = NULL;
    hc_st *st = NULL;
    HC_TRY(hc_st_open(path, &st));
    const char *cfg = hc_st_meta(st, "config");
    cJSON *cj = cfg ? cJSON_Parse(cfg) : NULL;
    hc_dit_config c;
    hc_status s = cj ? hc_dit_config_parse(path, cj, &c) : hc_fail(HC_EFORMAT, "%s: no JSON 'config' metadata", path);
    cJSON_Delete(cj);
    if (s == HC_OK) s = dit_make(&c, st, 0, max_batch, impl);
    hc_st_close(st);
    return s;
}

static hc_status dit_open_synthetic(const void *cfg, int max_batch, unsigned long seed, void **impl)
{
    return dit_make(cfg, NULL, seed, max_batch, impl);
}

/* ---- cost --------------------------------------------------------------------------------- */

/* Per element: patch embedding, embedders, every block's adaLN, final layer
 * (always run); a block's attention point: qkv, scores and values,
 * projection; its MLP point: fc1 and fc2.  Forecast points cost terms x rows
 * x D, fresh rows one MLP row each (2 D F).  Integer terms below 2^53: exact
 * in any order. */
static double dit_macs(const void *cfgp, int B, const hc_point_plan *plan)
{
    const hc_dit_config *c = cfgp;
    double D = c->D, F = c->F, T = c->T, P = (double)c->p * c->p, b = B;
    double common = T * c->C * P * D + c->freq_dim * D + D * D + c->depth * 6 * D * D + 2 * D * D + T * D * P * c->Cout;
    double macs = b * common;
    for (int i = 0; i < c->depth; i++) {
        const hc_point_plan *a = &plan[2 * i], *m = &plan[2 * i + 1];
        macs += a->compute ? b * (T * 4 * D * D + 2 * T * T * D) : a->forecast_terms * b * T * D;
        macs += m->compute ? b * T * 2 * D * F : m->forecast_terms * b * T * D + m->fresh_rows * 2 * D * F;
    }
    return macs;
}

/* Each signal: its tensor (a modulated LayerNorm or a difference, one
 * operation per element, counted as one MAC) and its reduction over the
 * B T D elements, as flux-mini counts them. */
static double dit_signal_macs(const void *cfgp, int B, unsigned signals)
{
    const hc_dit_config *c = cfgp;
    int n = 0;
    for (int k = 0; k < HC_MSIG_COUNT; k++) n += (signals >> k) & 1u;
    return 2.0 * n * B * c->T * c->D;
}

static int dit_gemms(const void *cfgp, int B, hc_gemm_shape *g, int cap)
{
    const hc_dit_config *c = cfgp;
    const int D = c->D, F = c->F, T = c->T, L = c->depth, d = c->head_dim;
    const hc_gemm_shape s[] = {
        {B * T, 3 * D, D, L}, {B * T, D, D, L}, {B * T, F, D, L}, {B * T, D, F, L},
        {T, T, d, B * c->H * L}, {T, d, T, B * c->H * L},
        {B * T, c->p * c->p * c->Cout, D, 1}, {B * T, D, c->C * c->p * c->p, 1},
    };
    const int n = (int)(sizeof s / sizeof s[0]);
    for (int i = 0; g && i < n && i < cap; i++) g[i] = s[i];
    return n;
}

static void dit_info(const void *cfgp, hc_model_info *o)
{
    const hc_dit_config *c = cfgp;
    *o = (hc_model_info){.arch = "dit", .sampler = "ddim", .image_channels = c->C, .image_size = c->input_size,
                         .out_channels = c->Cout, .num_classes = c->num_classes, .null_class = c->num_classes,
                         .seq_len = c->T, .num_train_timesteps = c->num_train_timesteps, .beta_start = c->beta_start,
                         .beta_end = c->beta_end, .cfg_channels = c->cfg_channels,
                         .default_guidance = c->default_guidance};
}

static hc_status dit_parse(const char *origin, const cJSON *config, void *cfg)
{
    return hc_dit_config_parse(origin, config, cfg);
}

const hc_model_type hc_model_dit = {
    .arch = "dit",
    .summary = "DiT (official layout): adaLN-Zero blocks, epsilon prediction, DDPM/DDIM",
    .config_size = sizeof(hc_dit_config),
    .config_parse = dit_parse,
    .points = dit_points,
    .cluster_inputs = dit_inputs,
    .macs = dit_macs,
    .gemms = dit_gemms,
    .info = dit_info,
    .signal_macs = dit_signal_macs,
    .open = dit_open,
    .open_synthetic = dit_open_synthetic,
    .close = dit_close,
    .forward = hc_dit_forward,
};
