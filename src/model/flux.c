/* flux.c: flux-mini MMDiT forward with cache points (see flux.h and
 * docs/model-format.md for the math, which this follows line by line). */
#include "flux.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flux_impl.h"
#include "nn.h"
#include "safetensors.h"

const hc_flux_config *hc_flux_get_config(const hc_flux *m) { return &m->c; }
int hc_flux_max_batch(const hc_flux *m) { return m->max_B; }
const cJSON *hc_flux_metadata(const hc_flux *m) { return m->meta; }
const char *hc_flux_path(const hc_flux *m) { return m->path; }
int hc_flux_num_points(const hc_flux *m) { return m->n_points; }
const hc_cache_point *hc_flux_point(const hc_flux *m, int p)
{
    HC_ASSERT(p >= 0 && p < m->n_points);
    return &m->points[p];
}
const float *hc_flux_point_buffer(const hc_flux *m, int p) { return m->cp[p]; }

void hc_flux_free(hc_flux *m)
{
    if (!m) return;
    free(m->weights);
    free(m->ws);
    free(m->db);
    free(m->sb);
    free(m->points);
    free(m->cp);
    cJSON_Delete(m->meta);
    free(m);
}

/* ---- config ---------------------------------------------------------------- */

static hc_status cfg_num(const char *path, const cJSON *c, const char *key, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!cJSON_IsNumber(v)) return hc_fail(HC_EFORMAT, "%s: config key '%s' missing or not a number", path, key);
    if (v->valuedouble < lo || v->valuedouble > hi)
        return hc_fail(HC_EFORMAT, "%s: config %s = %g out of range [%g, %g]", path, key, v->valuedouble, lo, hi);
    *out = v->valuedouble;
    return HC_OK;
}

hc_status hc_flux_config_parse(const char *path, const cJSON *c, hc_flux_config *k)
{
    static const struct { const char *key; size_t off; double lo, hi; } ints[] = {
        {"image_size", offsetof(hc_flux_config, image_size), 1, 4096},
        {"image_channels", offsetof(hc_flux_config, image_channels), 1, 64},
        {"patch_size", offsetof(hc_flux_config, patch), 1, 64},
        {"in_channels", offsetof(hc_flux_config, in_channels), 1, 1 << 16},
        {"out_channels", offsetof(hc_flux_config, out_channels), 1, 1 << 16},
        {"hidden_size", offsetof(hc_flux_config, D), 1, 1 << 16},
        {"num_heads", offsetof(hc_flux_config, H), 1, 1024},
        {"depth_double", offsetof(hc_flux_config, depth_double), 0, 1024},
        {"depth_single", offsetof(hc_flux_config, depth_single), 0, 1024},
        {"num_classes", offsetof(hc_flux_config, num_classes), 1, 1 << 20},
        {"null_class", offsetof(hc_flux_config, null_class), 0, 1 << 20},
        {"txt_tokens", offsetof(hc_flux_config, txt_tokens), 1, 4096},
        {"context_in_dim", offsetof(hc_flux_config, ctx_dim), 1, 1 << 16},
        {"vec_in_dim", offsetof(hc_flux_config, vec_dim), 1, 1 << 16},
        {"time_dim", offsetof(hc_flux_config, time_dim), 2, 1 << 16},
    };
    static const struct { const char *key; size_t off; double lo, hi; } dbls[] = {
        {"theta", offsetof(hc_flux_config, theta), 1, 1e9},
        {"time_factor", offsetof(hc_flux_config, time_factor), 1e-6, 1e9},
        {"max_period", offsetof(hc_flux_config, max_period), 1, 1e12},
        {"ln_eps", offsetof(hc_flux_config, ln_eps), 0, 1},
        {"rms_eps", offsetof(hc_flux_config, rms_eps), 0, 1},
    };
    double v = 0;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        HC_TRY(cfg_num(path, c, ints[i].key, ints[i].lo, ints[i].hi, &v));
        if (v != floor(v)) return hc_fail(HC_EFORMAT, "%s: config %s = %g is not an integer", path, ints[i].key, v);
        *(int *)((char *)k + ints[i].off) = (int)v;
    }
    for (size_t i = 0; i < sizeof dbls / sizeof dbls[0]; i++) {
        HC_TRY(cfg_num(path, c, dbls[i].key, dbls[i].lo, dbls[i].hi, &v));
        *(double *)((char *)k + dbls[i].off) = v;
    }
    HC_TRY(cfg_num(path, c, "mlp_ratio", 0.01, 64, &v));
    k->F = (int)lround(k->D * v);
    const cJSON *ax = cJSON_GetObjectItemCaseSensitive(c, "axes_dim");
    const cJSON *gr = cJSON_GetObjectItemCaseSensitive(c, "grid");
    if (cJSON_GetArraySize(ax) != 3 || cJSON_GetArraySize(gr) != 2)
        return hc_fail(HC_EFORMAT, "%s: config needs axes_dim [3] and grid [2]", path);
    for (int i = 0; i < 5; i++) {
        const cJSON *x = i < 3 ? cJSON_GetArrayItem(ax, i) : cJSON_GetArrayItem(gr, i - 3);
        if (!cJSON_IsNumber(x) || x->valuedouble < (i < 3 ? 0 : 1) || x->valuedouble > 65536 ||
            x->valuedouble != floor(x->valuedouble))
            return hc_fail(HC_EFORMAT, "%s: config %s[%d] must be a %s integer", path, i < 3 ? "axes_dim" : "grid",
                           i < 3 ? i : i - 3, i < 3 ? "non-negative" : "positive");
    }
    for (int i = 0; i < 3; i++) k->axes_dim[i] = (int)cJSON_GetArrayItem(ax, i)->valuedouble;
    k->grid_h = (int)cJSON_GetArrayItem(gr, 0)->valuedouble;
    k->grid_w = (int)cJSON_GetArrayItem(gr, 1)->valuedouble;
    const cJSON *sch = cJSON_GetObjectItemCaseSensitive(c, "schedule");
    HC_TRY(cfg_num(path, sch, "base_seq_len", 1, 1e9, &k->base_seq_len));
    HC_TRY(cfg_num(path, sch, "base_shift", -100, 100, &k->base_shift));
    HC_TRY(cfg_num(path, sch, "max_seq_len", 1, 1e9, &k->max_seq_len));
    HC_TRY(cfg_num(path, sch, "max_shift", -100, 100, &k->max_shift));
    HC_TRY(cfg_num(path, sch, "sigma", 0, 100, &k->shift_sigma));
    const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "mlp_act"));
    const char *pairs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "rope_pairs"));
    const char *order = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "time_embed_order"));
    const cJSON *qb = cJSON_GetObjectItemCaseSensitive(c, "qkv_bias");
    const cJSON *ge = cJSON_GetObjectItemCaseSensitive(c, "guidance_embed");
    if (!act || strcmp(act, "gelu_tanh") || !pairs || strcmp(pairs, "adjacent") || !order || strcmp(order, "cos,sin") ||
        !cJSON_IsTrue(qb) || cJSON_IsTrue(ge))
        return hc_fail(HC_EUNSUP, "%s: config variant not supported (need mlp_act gelu_tanh, rope_pairs adjacent, "
                       "time_embed_order cos,sin, qkv_bias true, guidance_embed false)", path);
    /* consistency */
    k->head_dim = k->D / k->H;
    k->T_img = k->grid_h * k->grid_w;
    k->L = k->txt_tokens + k->T_img;
    if (k->head_dim * k->H != k->D || k->head_dim % 2)
        return hc_fail(HC_EFORMAT, "%s: hidden_size %d not divisible into %d heads of even size", path, k->D, k->H);
    if (k->axes_dim[0] + k->axes_dim[1] + k->axes_dim[2] != k->head_dim || k->axes_dim[0] % 2 || k->axes_dim[1] % 2 ||
        k->axes_dim[2] % 2)
        return hc_fail(HC_EFORMAT, "%s: axes_dim must be even and sum to the head dim %d", path, k->head_dim);
    if (k->grid_h * k->patch != k->image_size || k->grid_w * k->patch != k->image_size ||
        k->in_channels != k->image_channels * k->patch * k->patch || k->out_channels != k->in_channels)
        return hc_fail(HC_EFORMAT, "%s: image_size/patch_size/grid/in_channels/out_channels inconsistent", path);
    if (k->null_class > k->num_classes || k->time_dim % 2)
        return hc_fail(HC_EFORMAT, "%s: null_class or time_dim invalid", path);
    return HC_OK;
}

/* ---- weights ------------------------------------------------------------------ */

typedef struct wload {
    const hc_st *st;
    float *next;
    hc_status st_code;
} wload;

static const float *take(wload *w, const char *name, int rank, int64_t d0, int64_t d1)
{
    if (w->st_code != HC_OK) return w->next;
    int64_t shape[2] = {d0, d1};
    float *p = w->next;
    w->st_code = hc_st_read_f32(w->st, name, rank, shape, p);
    w->next += rank == 1 ? d0 : d0 * d1;
    return p;
}

static hc_linear take_lin(wload *w, const char *prefix, int out, int in)
{
    char n[200];
    hc_linear l = {NULL, NULL, out, in};
    snprintf(n, sizeof n, "%s.weight", prefix);
    l.W = take(w, n, 2, out, in);
    snprintf(n, sizeof n, "%s.bias", prefix);
    l.b = take(w, n, 1, out, 0);
    return l;
}

static size_t count_weights(const hc_flux_config *c)
{
    size_t D = (size_t)c->D, F = (size_t)c->F, d = (size_t)c->head_dim;
    size_t n = (size_t)(c->num_classes + 1) * ((size_t)c->txt_tokens * c->ctx_dim + c->vec_dim);
    n += D * c->in_channels + D + D * c->ctx_dim + D;
    n += D * c->time_dim + D + D * D + D + D * c->vec_dim + D + D * D + D;
    size_t dbl = 2 * (6 * D * D + 6 * D + 3 * D * D + 3 * D + D * D + D + F * D + F + D * F + D + 2 * d);
    size_t sgl = 3 * D * D + 3 * D + (3 * D + F) * D + 3 * D + F + D * (D + F) + D + 2 * d;
    n += (size_t)c->depth_double * dbl + (size_t)c->depth_single * sgl;
    n += 2 * D * D + 2 * D + (size_t)c->out_channels * D + c->out_channels;
    return n;
}

static hc_status load_weights(hc_flux *m, const hc_st *st)
{
    const hc_flux_config *c = &m->c;
    size_t n = count_weights(c);
    m->weights = malloc(n * sizeof *m->weights);
    m->db = calloc((size_t)c->depth_double + 1, sizeof *m->db);
    m->sb = calloc((size_t)c->depth_single + 1, sizeof *m->sb);
    if (!m->weights || !m->db || !m->sb) return hc_fail(HC_ENOMEM, "out of memory for %zu weights", n);
    wload w = {st, m->weights, HC_OK};
    int D = c->D, F = c->F, d = c->head_dim;
    m->label_txt = take(&w, "label_txt.weight", 2, c->num_classes + 1, (int64_t)c->txt_tokens * c->ctx_dim);
    m->label_vec = take(&w, "label_vec.weight", 2, c->num_classes + 1, c->vec_dim);
    m->img_in = take_lin(&w, "img_in", D, c->in_channels);
    m->txt_in = take_lin(&w, "txt_in", D, c->ctx_dim);
    m->time1 = take_lin(&w, "time_in.in_layer", D, c->time_dim);
    m->time2 = take_lin(&w, "time_in.out_layer", D, D);
    m->vec1 = take_lin(&w, "vector_in.in_layer", D, c->vec_dim);
    m->vec2 = take_lin(&w, "vector_in.out_layer", D, D);
    static const char *const sn[2] = {"img", "txt"};
    char p[200];
    for (int i = 0; i < c->depth_double; i++)
        for (int s = 0; s < 2; s++) {
            dblk *b = &m->db[i];
#define DL(field, suffix, o, in_)                                               \
    snprintf(p, sizeof p, "double_blocks.%d.%s_%s", i, sn[s], suffix);          \
    b->field[s] = take_lin(&w, p, o, in_)
            DL(mod, "mod.lin", 6 * D, D);
            DL(qkv, "attn.qkv", 3 * D, D);
            DL(proj, "attn.proj", D, D);
            DL(fc1, "mlp.0", F, D);
            DL(fc2, "mlp.2", D, F);
#undef DL
            snprintf(p, sizeof p, "double_blocks.%d.%s_attn.norm.query_norm.scale", i, sn[s]);
            b->qn[s] = take(&w, p, 1, d, 0);
            snprintf(p, sizeof p, "double_blocks.%d.%s_attn.norm.key_norm.scale", i, sn[s]);
            b->kn[s] = take(&w, p, 1, d, 0);
        }
    for (int j = 0; j < c->depth_single; j++) {
        sblk *b = &m->sb[j];
        snprintf(p, sizeof p, "single_blocks.%d.modulation.lin", j);
        b->mod = take_lin(&w, p, 3 * D, D);
        snprintf(p, sizeof p, "single_blocks.%d.linear1", j);
        b->lin1 = take_lin(&w, p, 3 * D + F, D);
        snprintf(p, sizeof p, "single_blocks.%d.linear2", j);
        b->lin2 = take_lin(&w, p, D, D + F);
        snprintf(p, sizeof p, "single_blocks.%d.norm.query_norm.scale", j);
        b->qn = take(&w, p, 1, d, 0);
        snprintf(p, sizeof p, "single_blocks.%d.norm.key_norm.scale", j);
        b->kn = take(&w, p, 1, d, 0);
    }
    m->fmod = take_lin(&w, "final_layer.adaLN_modulation.1", 2 * D, D);
    m->flin = take_lin(&w, "final_layer.linear", c->out_channels, D);
    if (w.st_code != HC_OK) return w.st_code;
    HC_ASSERT((size_t)(w.next - m->weights) == n);
    size_t want = 2 + 12 + 24 * (size_t)c->depth_double + 8 * (size_t)c->depth_single + 4;
    if (hc_st_count(st) != want)
        return hc_fail(HC_EFORMAT, "%s: %zu tensors; the config (%d double, %d single blocks) has %zu", hc_st_path(st),
                       hc_st_count(st), c->depth_double, c->depth_single, want);
    return HC_OK;
}

/* ---- cache points ----------------------------------------------------------------- */

static int flux_points(const void *cfgp, hc_cache_point *out, int cap)
{
    const hc_flux_config *c = cfgp;
    static const struct { const char *mod, *stream; int tokens_img, fresh, input; } dmods[4] = {
        {"img_attn", "img", 1, 0, 0}, {"img_mlp", "img", 1, 1, 0},
        {"txt_attn", "txt", 0, 0, 1}, {"txt_mlp", "txt", 0, 1, 1}};
    int n = 4 * c->depth_double + c->depth_single;
    for (int p = 0; out && p < n && p < cap; p++) {
        hc_cache_point *q = &out[p];
        memset(q, 0, sizeof *q);
        q->channels = c->D;
        if (p < 4 * c->depth_double) {
            q->layer = p / 4;
            snprintf(q->module, sizeof q->module, "%s", dmods[p % 4].mod);
            snprintf(q->stream, sizeof q->stream, "%s", dmods[p % 4].stream);
            q->tokens = dmods[p % 4].tokens_img ? c->T_img : c->txt_tokens;
            q->fresh = dmods[p % 4].fresh;
            q->cluster_input = dmods[p % 4].input;
            q->head = q->layer == 0;
            snprintf(q->block_kind, sizeof q->block_kind, "double");
        } else {
            q->layer = c->depth_double + (p - 4 * c->depth_double);
            snprintf(q->module, sizeof q->module, "total");
            snprintf(q->stream, sizeof q->stream, "joint");
            q->tokens = c->L;
            q->cluster_input = -1;
            snprintf(q->block_kind, sizeof q->block_kind, "single");
        }
        snprintf(q->name, sizeof q->name, "%s/%d/%s", q->block_kind, q->layer, q->module);
    }
    return n;
}

/* The img and txt streams after the last double block. */
static int flux_inputs(const void *cfgp, hc_cluster_input *out, int cap)
{
    const hc_flux_config *c = cfgp;
    if (c->depth_double < 1) return 0;
    static const char *const sn[2] = {"img", "txt"};
    for (int j = 0; out && j < 2 && j < cap; j++) {
        snprintf(out[j].name, sizeof out[j].name, "double/%d/%s", c->depth_double - 1, sn[j]);
        snprintf(out[j].block_kind, sizeof out[j].block_kind, "double");
        snprintf(out[j].stream, sizeof out[j].stream, "%s", sn[j]);
        out[j].layer = c->depth_double - 1;
        out[j].tokens = j == 0 ? c->T_img : c->txt_tokens;
        out[j].channels = c->D;
        out[j].record = j == 0; /* trajectories carry the image stream, ClusCa's clustering input */
    }
    return 2;
}

/* ---- workspace ------------------------------------------------------------------ */

static hc_status alloc_workspace(hc_flux *m, int B)
{
    const hc_flux_config *c = &m->c;
    size_t D = (size_t)c->D, F = (size_t)c->F, L = (size_t)c->L, Ti = (size_t)c->T_img, Tt = (size_t)c->txt_tokens;
    size_t d = (size_t)c->head_dim, b = (size_t)B;
    m->n_attn = B < HC_FLUX_THREADS ? B : HC_FLUX_THREADS;
    m->chunk_rows = c->D < HC_FLUX_CHUNK ? HC_FLUX_CHUNK / c->D : 1;
    m->n_points = flux_points(c, NULL, 0);
    m->points = calloc((size_t)m->n_points, sizeof *m->points);
    m->cp = calloc((size_t)m->n_points, sizeof *m->cp);
    if (!m->points || !m->cp) return hc_fail(HC_ENOMEM, "out of memory");
    flux_points(c, m->points, m->n_points);
    size_t cp_total = 0;
    for (int p = 0; p < m->n_points; p++) cp_total += b * (size_t)m->points[p].tokens * D;
    struct { float **dst; size_t n; } bufs[] = {
        {&m->temb, b * c->time_dim}, {&m->vec, b * D}, {&m->svec, b * D}, {&m->e1, b * D}, {&m->e2, b * D},
        {&m->y, b * c->vec_dim}, {&m->img0, b * Ti * c->in_channels}, {&m->txt0, b * Tt * c->ctx_dim},
        {&m->img, b * Ti * D}, {&m->txt, b * Tt * D}, {&m->joint, b * L * D}, {&m->mods, b * D * (12 * (size_t)c->depth_double + 3 * (size_t)c->depth_single + 2)},
        {&m->h, b * L * D}, {&m->qkv[0], b * Ti * 3 * D}, {&m->qkv[1], b * Tt * 3 * D},
        {&m->u, b * L * (3 * D + F)}, {&m->att[0], b * Ti * D}, {&m->att[1], b * Tt * D}, {&m->attj, b * L * D},
        {&m->mlph, b * L * F}, {&m->cat, b * L * (D + F)}, {&m->fin, b * Ti * c->out_channels},
        {&m->rope_cos, L * d / 2}, {&m->rope_sin, L * d / 2}, {&m->attn_ws, (size_t)m->n_attn * hc_attn_scratch((int)L, c->H, (int)d)},
        {&m->fr_in, b * L * D}, {&m->fr_h, b * L * F}, {&m->sig_in, b * Ti * D}, {&m->sig, b * Ti * D},
        {&m->gates, 3 * HC_FLUX_PEND * b * D},
        {&m->fbuf, (size_t)m->n_attn * HC_FLUX_PEND * (size_t)m->chunk_rows * D},
    };
    size_t total = cp_total;
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) total += (bufs[i].n + 15) / 16 * 16;
    m->ws = malloc(total * sizeof *m->ws);
    if (!m->ws) return hc_fail(HC_ENOMEM, "out of memory for a %.1f MiB workspace", total * 4.0 / (1 << 20));
    float *p = m->ws;
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        *bufs[i].dst = p;
        p += (bufs[i].n + 15) / 16 * 16;
    }
    for (int q = 0; q < m->n_points; q++) {
        m->cp[q] = p;
        p += b * (size_t)m->points[q].tokens * D;
    }
    m->max_B = B;
    for (int t = 0; t < m->n_attn; t++) {
        m->attn[t] = (hc_attn){.H = c->H, .d = c->head_dim, .D = c->D, .L = c->L, .rms_eps = (float)c->rms_eps,
                               .rope_cos = m->rope_cos, .rope_sin = m->rope_sin};
        hc_attn_bind(&m->attn[t], m->attn_ws + (size_t)t * hc_attn_scratch((int)L, c->H, (int)d));
    }
    /* RoPE tables in the joint order [txt ; img]: text ids 0, image (0, r, c) */
    for (size_t pos = 0; pos < L; pos++) {
        double id[3] = {0, 0, 0};
        if (pos >= Tt) {
            size_t n = pos - Tt;
            id[1] = (double)(n / (size_t)c->grid_w);
            id[2] = (double)(n % (size_t)c->grid_w);
        }
        size_t k = 0;
        for (int a = 0; a < 3; a++)
            for (int j = 0; j < c->axes_dim[a] / 2; j++, k++) {
                double ang = id[a] * pow(c->theta, -2.0 * j / c->axes_dim[a]);
                m->rope_cos[pos * d / 2 + k] = (float)cos(ang);
                m->rope_sin[pos * d / 2 + k] = (float)sin(ang);
            }
    }
    return HC_OK;
}

hc_status hc_flux_load(const char *path, int max_batch, hc_flux **out)
{
    *out = NULL;
    HC_ASSERT(max_batch >= 1);
    hc_flux *m = calloc(1, sizeof *m);
    if (!m) return hc_fail(HC_ENOMEM, "out of memory");
    snprintf(m->path, sizeof m->path, "%s", path);
    hc_st *st = NULL;
    hc_status s = hc_st_open(path, &st);
    if (s != HC_OK) goto fail;
    const char *cfg = hc_st_meta(st, "config");
    if (!cfg) { s = hc_fail(HC_EFORMAT, "%s: __metadata__ has no 'config' (not a hicache flux model)", path); goto fail; }
    m->meta = cJSON_CreateObject();
    cJSON *cj = cJSON_Parse(cfg);
    if (!cj) { s = hc_fail(HC_EFORMAT, "%s: __metadata__['config'] is not JSON", path); goto fail; }
    cJSON_AddItemToObject(m->meta, "config", cj);
    const char *tr = hc_st_meta(st, "training");
    cJSON *tj = tr ? cJSON_Parse(tr) : NULL;
    if (tj) cJSON_AddItemToObject(m->meta, "training", tj);
    if ((s = hc_flux_config_parse(path, cj, &m->c)) != HC_OK) goto fail;
    if ((s = load_weights(m, st)) != HC_OK) goto fail;
    if ((s = alloc_workspace(m, max_batch)) != HC_OK) goto fail;
    hc_st_close(st);
    *out = m;
    return HC_OK;
fail:
    hc_st_close(st);
    hc_flux_free(m);
    return s;
}


const float *hc_flux_intermediate(const hc_flux *m, const char *name)
{
    static const struct { const char *name; size_t off; } tab[] = {
        {"vec", offsetof(hc_flux, vec)},       {"temb", offsetof(hc_flux, temb)},
        {"img_packed", offsetof(hc_flux, img0)}, {"rope_cos", offsetof(hc_flux, rope_cos)},
        {"rope_sin", offsetof(hc_flux, rope_sin)},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(tab[i].name, name) == 0) return *(float *const *)((const char *)m + tab[i].off);
    return NULL;
}

/* ---- cost: MACs for a compute/forecast pattern, GEMM shapes ------------------------ */

/* Per element: embedders, every block's modulation, final layer (always run);
 * a double block's joint attention (qkv of both streams + scores and values)
 * when either attention point is computed, each projection and MLP for its own
 * point; a single block whole.  Forecast points cost terms x rows x D, fresh
 * rows one MLP row each (2 D F).  Every term is an integer below 2^53, so the
 * sum is exact in any order. */
static double flux_macs(const void *cfgp, int B, const hc_point_plan *plan)
{
    const hc_flux_config *c = cfgp;
    double D = c->D, F = c->F, L = c->L, Ti = c->T_img, Tt = c->txt_tokens, b = B;
    double common = Ti * c->in_channels * D + Tt * c->ctx_dim * D + c->time_dim * D + D * D + c->vec_dim * D + D * D +
                    c->depth_double * 2 * 6 * D * D + c->depth_single * 3 * D * D + 2 * D * D + Ti * D * c->out_channels;
    double macs = b * common;
    const double T[2] = {Ti, Tt};
    for (int i = 0; i < c->depth_double; i++) {
        const hc_point_plan *q = plan + 4 * i; /* img_attn, img_mlp, txt_attn, txt_mlp */
        if (q[0].compute || q[2].compute) macs += b * (L * 3 * D * D + 2 * L * L * D);
        for (int s = 0; s < 2; s++) {
            const hc_point_plan *pa = &q[2 * s], *pm = &q[2 * s + 1];
            macs += pa->compute ? b * T[s] * D * D : pa->forecast_terms * b * T[s] * D;
            macs += pm->compute ? b * T[s] * 2 * D * F : pm->forecast_terms * b * T[s] * D + pm->fresh_rows * 2 * D * F;
        }
    }
    for (int j = 0; j < c->depth_single; j++) {
        const hc_point_plan *q = plan + 4 * c->depth_double + j;
        macs += q->compute ? b * (L * D * (3 * D + F) + L * (D + F) * D + 2 * L * L * D) : q->forecast_terms * b * L * D;
    }
    return macs;
}

/* The GEMM shapes of one full forward at batch B (the attention's score and
 * value products per head included). */
static int flux_gemms(const void *cfgp, int B, hc_gemm_shape *g, int cap)
{
    const hc_flux_config *c = cfgp;
    hc_gemm_shape s[16];
    int n = 0, D = c->D, F = c->F, Ti = c->T_img, Tt = c->txt_tokens, L = c->L, d = c->head_dim;
    int T2[2] = {Ti, Tt};
    for (int k = 0; k < 2; k++) {
        s[n++] = (hc_gemm_shape){B * T2[k], 3 * D, D, c->depth_double};
        s[n++] = (hc_gemm_shape){B * T2[k], D, D, c->depth_double};
        s[n++] = (hc_gemm_shape){B * T2[k], F, D, c->depth_double};
        s[n++] = (hc_gemm_shape){B * T2[k], D, F, c->depth_double};
    }
    s[n++] = (hc_gemm_shape){B * L, 3 * D + F, D, c->depth_single};
    s[n++] = (hc_gemm_shape){B * L, D, D + F, c->depth_single};
    int heads = B * c->H * (c->depth_double + c->depth_single);
    s[n++] = (hc_gemm_shape){L, L, d, heads};
    s[n++] = (hc_gemm_shape){L, d, L, heads};
    for (int i = 0; g && i < n && i < cap; i++) g[i] = s[i];
    return n;
}

/* Signals: each tensor made (modulation or difference) and reduced once, one
 * multiply-add per element each; MOD_IN's adaLN GEMV is in the always-run part. */
static double flux_signal_macs(const void *cfgp, int B, unsigned signals)
{
    const hc_flux_config *c = cfgp;
    int n = 0;
    for (int k = 0; k < HC_MSIG_COUNT; k++) n += (signals >> k) & 1u;
    return 2.0 * n * B * c->T_img * c->D;
}

static void flux_info(const void *cfgp, hc_model_info *o)
{
    const hc_flux_config *c = cfgp;
    *o = (hc_model_info){.arch = "flux-mmdit", .sampler = "rf-euler", .image_channels = c->image_channels,
                         .out_channels = c->image_channels, .image_size = c->image_size,
                         .num_classes = c->num_classes, .null_class = c->null_class,
                         .seq_len = c->T_img, .base_seq_len = c->base_seq_len, .base_shift = c->base_shift,
                         .max_seq_len = c->max_seq_len, .max_shift = c->max_shift, .shift_sigma = c->shift_sigma};
}

static hc_status flux_parse(const char *origin, const cJSON *config, void *cfg)
{
    return hc_flux_config_parse(origin, config, cfg);
}

static hc_status flux_open(const char *path, int max_batch, void **impl)
{
    return hc_flux_load(path, max_batch, (hc_flux **)impl);
}

static void flux_close(void *impl) { hc_flux_free(impl); }

static hc_status flux_forward(void *impl, const float *x, const float *t, const int *labels, int B,
                              const hc_model_hooks *hooks, float *v)
{
    return hc_flux_forward(impl, x, t, labels, B, hooks, v);
}

const hc_model_type hc_model_flux = {
    .arch = "flux-mmdit",
    .summary = "FLUX-style MMDiT: double-stream blocks with joint attention, single-stream blocks, rectified flow",
    .config_size = sizeof(hc_flux_config),
    .config_parse = flux_parse,
    .points = flux_points,
    .cluster_inputs = flux_inputs,
    .macs = flux_macs,
    .gemms = flux_gemms,
    .info = flux_info,
    .signal_macs = flux_signal_macs,
    .open = flux_open,
    .close = flux_close,
    .forward = flux_forward,
};
