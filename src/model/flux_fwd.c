/* flux_fwd.c: the flux-mini forward (docs/model-format.md, section 3) with
 * its cache points, split across threads by batch element.
 *
 * Threads: as many as OpenBLAS is set to use (OPENBLAS_NUM_THREADS), at most
 * the batch and HC_FLUX_THREADS.  With more than one, the batch is cut into
 * contiguous slices, one per thread, and each thread runs the same kernels on
 * its slice with single-threaded GEMMs (OpenBLAS is set to one thread for the
 * forward and restored after): small GEMMs do not scale inside OpenBLAS, a
 * batch split does.  Every row goes through the same kernels in the same
 * order whatever the slicing (GEMM rows are independent), so the results do
 * not depend on the thread count (tests/test_flux_threads.c checks bit
 * equality).  Cache-point hooks run on the calling thread between stages,
 * with the pool width (pool.h) set to the thread count for their kernels.
 *
 * Gated residuals (x += gate * module output) are held back per stream until
 * something reads the stream, then added in one pass, each element taking
 * the same additions in the same order: a cached step, whose modules are all
 * forecast, adds the residuals of the double blocks (four per stream) and of
 * the single blocks (one each) in one pass per stream. */
#include "flux.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "flux_impl.h"
#include "nn.h"
#include "pool.h"

/* ClusCa fresh tokens of a double-block MLP point: true MLP output of chosen
 * rows of the current stream (after the attention residual). */
typedef struct fwd fwd;
static void flush(fwd *f, int s);

typedef struct fresh_ctx {
    hc_flux *m;
    fwd *fw;
    const dblk *blk;
    int s;        /* 0 img, 1 txt */
    int T;        /* tokens per element */
    const float *stream;
} fresh_ctx;

static hc_status fresh_mlp(void *ud, const int *tok, int n, float *rows_out)
{
    fresh_ctx *f = ud;
    hc_flux *m = f->m;
    flush(f->fw, f->s); /* the stream after the attention residual */
    const int D = m->c.D;
    for (int i = 0; i < n; i++) {
        int b = tok[i] / f->T;
        const float *mod = m->mod[f->s] + (size_t)b * 6 * D;
        hc_nn_modulate(f->stream + (size_t)tok[i] * D, 1, D, mod + 3 * D, mod + 4 * D, (float)m->c.ln_eps, m->fr_in + (size_t)i * D);
    }
    hc_nn_mlp(&f->blk->fc1[f->s], &f->blk->fc2[f->s], m->fr_in, n, m->fr_h, rows_out);
    return HC_OK;
}

/* Whether the caller wants point p computed at this forward. */
static int computes(const hc_model_hooks *hooks, int p)
{
    return !hooks || !hooks->compute || hooks->compute(hooks->ud, p);
}

/* After point p: hand a computed value to the caller, or have it forecast:
 * in pieces where the caller can (*ranged = 1: held back as point p and
 * forecast chunk by chunk when its stream is flushed), else into cp[p]. */
static hc_status point_value(hc_flux *m, int p, int computed, const hc_model_hooks *hooks, hc_rows_fn fresh, void *fud,
                             int *ranged)
{
    *ranged = 0;
    if (!computed && hooks->forecast_prepare && hooks->forecast_range) {
        HC_TRY(hooks->forecast_prepare(hooks->ud, p, ranged));
        if (*ranged) return HC_OK;
    }
    if (!computed) return hooks->forecast(hooks->ud, p, m->cp[p], fresh, fud);
    if (hooks && hooks->observe) return hooks->observe(hooks->ud, p, m->cp[p]);
    return HC_OK;
}

/* ---- stages: each thread t of nt takes a share of the batch (elementwise
 * work, attention) or of the rows of a GEMM (cut as nn.h says) -------------- */

typedef void (*stage_fn)(const fwd *f, int t);
struct fwd {
    hc_flux *m;
    int B, nt;
    int n_pend[3];               /* held-back residuals of img, txt, joint */
    const float *pend[3][HC_FLUX_PEND]; /* their module outputs [B, T, D]; gates at gates_of */
    int pend_pt[3][HC_FLUX_PEND];       /* or, where pend is NULL, the point forecast in pieces */
    const hc_model_hooks *hooks;
    int embed;                   /* the image stream is still to be embedded (3.2) */
    int assemble;                /* the joint stream is still to be copied from txt and img (3.6) */
    int final;                   /* this flush of the joint also modulates the final layer's rows */
    int fs;                      /* the stream being flushed */
    const dblk *db; /* current double block, stream s, points pa (attn) and pm (mlp) */
    int s, pa, pm, comp_attn[2], comp_mlp[2];
    const sblk *sb; /* current single block, its point */
    int pt;
    stage_fn fn;
};

static void stage_task(void *ud, int t)
{
    const fwd *f = ud;
    f->fn(f, t);
}

static void run(fwd *f, stage_fn fn)
{
    f->fn = fn;
    hc_pool_run(f->nt, stage_task, f);
}

/* thread t's batch elements [*b0, *b1), rows of M cut at multiples of
 * `unit`, share of Y [M, out] = X [M, in] W^T + b (nn.h) */
static void bslice(const fwd *f, int t, int *b0, int *b1) { hc_nn_split(f->B, t, f->nt, b0, b1); }
static void rslice(const fwd *f, int t, int M, int unit, int *r0, int *r1)
{
    hc_nn_split_rows(M, unit, t, f->nt, r0, r1);
}
static void lin_par(const fwd *f, int t, const hc_linear *l, const float *X, int ldx, int M, float *Y, int ldy)
{
    hc_nn_linear_part(l, X, ldx, M, Y, ldy, t, f->nt);
}

static float *stream_of(const hc_flux *m, int s) { return s ? m->txt : m->img; } /* 0 img, 1 txt */
static int tokens_of(const hc_flux *m, int s) { return s ? m->c.txt_tokens : m->c.T_img; }
/* modulated rows of stream s: img at h, txt after all img rows */
static float *h_of(const fwd *f, int s) { return f->m->h + (s ? (size_t)f->B * f->m->c.T_img * f->m->c.D : 0); }

/* every adaLN GEMV of the forward (they read only svec), g = 2 i + s for
 * double block i's stream s, then the single blocks', then the final
 * layer's, each whole on one thread, into its own slot of mods */
static int n_mods(const hc_flux *m) { return 2 * m->c.depth_double + m->c.depth_single + 1; }
static float *mods_of(const fwd *f, int g)
{
    const int nd = 2 * f->m->c.depth_double;
    const size_t BD = (size_t)f->B * f->m->c.D;
    return f->m->mods + (g < nd ? (size_t)g * 6 * BD : (size_t)nd * 6 * BD + (size_t)(g - nd) * 3 * BD);
}

static void st_mods(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int nd = 2 * m->c.depth_double, n = n_mods(m);
    for (int g = t; g < n; g += f->nt) {
        const hc_linear *l = g < nd ? &m->db[g / 2].mod[g % 2] : g < n - 1 ? &m->sb[g - nd].mod : &m->fmod;
        hc_nn_linear(l, m->svec, m->c.D, f->B, mods_of(f, g), l->out);
    }
}

/* 3.2 the text embedder (the image's runs in the image stream's first flush) */
static void st_embed_txt(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const hc_flux_config *c = &m->c;
    lin_par(f, t, &m->txt_in, m->txt0, c->ctx_dim, f->B * c->txt_tokens, m->txt, c->D);
}

/* modulated rows of both streams with shift/scale at mod offset k D */
static void st_dbl_mod(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const hc_flux_config *c = &m->c;
    const int D = c->D;
    int b0, b1;
    bslice(f, t, &b0, &b1);
    for (int s = 0; s < 2; s++) {
        const int T = tokens_of(m, s);
        for (int b = b0; b < b1; b++) {
            const float *mod = m->mod[s] + (size_t)b * 6 * D;
            hc_nn_modulate(stream_of(m, s) + (size_t)b * T * D, T, D, mod, mod + D, (float)c->ln_eps,
                           h_of(f, s) + (size_t)b * T * D);
        }
    }
}

static void st_dbl_qkv(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int D = m->c.D;
    for (int s = 0; s < 2; s++)
        lin_par(f, t, &f->db->qkv[s], h_of(f, s), D, f->B * tokens_of(m, s), m->qkv[s], 3 * D);
}

/* joint attention over [txt ; img], each part with its own QK norms */
static void st_dbl_attn(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int D = m->c.D, Ti = m->c.T_img, Tt = m->c.txt_tokens;
    const dblk *blk = f->db;
    const hc_attn_part parts[2] = {
        {m->qkv[1], 3 * (size_t)D, (size_t)Tt, 0, Tt, blk->qn[1], blk->kn[1], m->att[1], (size_t)D, (size_t)Tt, 0},
        {m->qkv[0], 3 * (size_t)D, (size_t)Ti, 0, Ti, blk->qn[0], blk->kn[0], m->att[0], (size_t)D, (size_t)Ti, 0}};
    int b0, b1;
    bslice(f, t, &b0, &b1);
    for (int b = b0; b < b1; b++) hc_nn_attention(&m->attn[t], b, 2, parts);
}

/* attention output projection of stream s into its point buffer */
static void st_dbl_proj(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int D = m->c.D;
    lin_par(f, t, &f->db->proj[f->s], m->att[f->s], D, f->B * tokens_of(m, f->s), m->cp[f->pa], D);
}

/* the MLP input of stream s (after its attention residual) */
static void st_dbl_mlp_mod(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const hc_flux_config *c = &m->c;
    const int D = c->D, s = f->s, T = tokens_of(m, s);
    float *x = stream_of(m, s);
    int b0, b1;
    bslice(f, t, &b0, &b1);
    for (int b = b0; b < b1; b++) {
        const float *mod = m->mod[s] + (size_t)b * 6 * D;
        hc_nn_modulate(x + (size_t)b * T * D, T, D, mod + 3 * D, mod + 4 * D, (float)c->ln_eps, m->h + (size_t)b * T * D);
    }
}

/* the MLP of stream s in whole tiles */
static void st_dbl_mlp(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int D = m->c.D, s = f->s;
    int r0, r1;
    rslice(f, t, f->B * tokens_of(m, s), HC_NN_MLP_TILE, &r0, &r1);
    if (r1 > r0)
        hc_nn_mlp(&f->db->fc1[s], &f->db->fc2[s], m->h + (size_t)r0 * D, r1 - r0, m->mlph + (size_t)r0 * m->c.F,
                  m->cp[f->pm] + (size_t)r0 * D);
}

/* held-back residuals: stream k (0 img, 1 txt, 2 joint), its rows per
 * element, the gates of its slot i ([B, D], copied: the mod buffers are
 * reused block after block) */
static float *stream_k(const hc_flux *m, int k) { return k == 2 ? m->joint : stream_of(m, k); }
static int rows_k(const hc_flux *m, int k) { return k == 2 ? m->c.L : tokens_of(m, k); }
static float *gates_of(const fwd *f, int k, int i) { return f->m->gates + ((size_t)k * HC_FLUX_PEND + (size_t)i) * f->B * f->m->c.D; }

/* 3.6 rows [r0, r0 + n) of element b of the joint sequence x = [txt ; img] */
static void joint_rows(const hc_flux *m, int b, int r0, int n, float *x)
{
    const int D = m->c.D, Tt = m->c.txt_tokens, Ti = m->c.T_img;
    for (int r = r0; r < r0 + n; r++)
        memcpy(x + (size_t)(r - r0) * D, r < Tt ? m->txt + ((size_t)b * Tt + r) * D : m->img + ((size_t)b * Ti + r - Tt) * D,
               (size_t)D * sizeof *x);
}

/* 3.7 the final layer's modulated rows of element b's joint rows [r0, r0 + n) (image rows only) */
static void final_rows(hc_flux *m, int b, int r0, int n)
{
    const int D = m->c.D, Tt = m->c.txt_tokens, Ti = m->c.T_img, L = m->c.L;
    const int a = r0 > Tt ? r0 : Tt, e = r0 + n;
    const float *mod = m->mod[1] + (size_t)b * 2 * D;
    if (e > a)
        hc_nn_modulate(m->joint + ((size_t)b * L + a) * D, e - a, D, mod, mod + D, (float)m->c.ln_eps,
                       m->h + ((size_t)b * Ti + a - Tt) * D);
}

/* rows [r0, r0 + rows) of element b of stream k += its held-back residuals
 * (those forecast in pieces through the thread's scratch buf, never
 * reaching memory), the joint's rows assembled first and its final rows
 * modulated after where due: one pass */
static void flush_rows(const fwd *f, int k, int b, int r0, int rows, float *buf)
{
    hc_flux *m = f->m;
    const int D = m->c.D, T = rows_k(m, k), n = f->n_pend[k];
    const hc_model_hooks *h = f->hooks;
    const size_t e0 = ((size_t)b * T + r0) * D;
    const float *v[HC_FLUX_PEND], *g[HC_FLUX_PEND];
    for (int i = 0; i < n; i++) {
        g[i] = gates_of(f, k, i) + (size_t)b * D;
        if (f->pend[k][i]) {
            v[i] = f->pend[k][i] + e0;
            continue;
        }
        float *o = buf + (size_t)i * m->chunk_rows * D;
        h->forecast_range(h->ud, f->pend_pt[k][i], e0, (size_t)rows * D, o);
        v[i] = o;
    }
    if (k == 2 && f->assemble) joint_rows(m, b, r0, rows, stream_k(m, k) + e0);
    hc_nn_gated_add_n(stream_k(m, k) + e0, n, v, g, rows, D);
    if (k == 2 && f->final) final_rows(m, b, r0, rows);
}

/* the image stream's first flush: the embedder on thread t's share in runs
 * of HC_NN_ROW_ALIGN rows (cut as lin_par cuts), each run's residuals added
 * while it is in cache, in pieces of at most ch rows within an element */
static void flush_embed(const fwd *f, int t, int ch, float *buf)
{
    hc_flux *m = f->m;
    const int D = m->c.D, Ti = m->c.T_img, in = m->c.in_channels;
    int r0, r1;
    rslice(f, t, f->B * Ti, HC_NN_ROW_ALIGN, &r0, &r1);
    for (int a = r0; a < r1; a += HC_NN_ROW_ALIGN) {
        const int e = r1 - a < HC_NN_ROW_ALIGN ? r1 : a + HC_NN_ROW_ALIGN;
        hc_nn_linear(&m->img_in, m->img0 + (size_t)a * in, in, e - a, m->img + (size_t)a * D, D);
        for (int r = a; r < e;) {
            const int b = r / Ti;
            int stop = e < (b + 1) * Ti ? e : (b + 1) * Ti;
            if (stop - r > ch) stop = r + ch;
            flush_rows(f, 0, b, r - b * Ti, stop - r, buf);
            r = stop;
        }
    }
}

/* stream k += its held-back residuals over thread t's share, whole elements
 * at a time, or in pieces of chunk_rows rows where some are forecast in
 * pieces or the joint is assembled or modulated on the way */
static void st_flush(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int k = f->fs, T = rows_k(m, k);
    int lazy = k == 2 && (f->assemble || f->final);
    for (int i = 0; i < f->n_pend[k]; i++) lazy |= f->pend[k][i] == NULL;
    const int ch = lazy ? m->chunk_rows : T;
    float *buf = m->fbuf + (size_t)t * HC_FLUX_PEND * m->chunk_rows * m->c.D;
    if (k == 0 && f->embed) {
        flush_embed(f, t, ch, buf);
        return;
    }
    int b0, b1;
    bslice(f, t, &b0, &b1);
    for (int b = b0; b < b1; b++)
        for (int r0 = 0; r0 < T; r0 += ch) flush_rows(f, k, b, r0, T - r0 < ch ? T - r0 : ch, buf);
}

/* add stream k's held-back residuals (the image: and embed it first, the
 * joint: and assemble it, or modulate its final rows, if due) */
static void flush(fwd *f, int k)
{
    if (f->n_pend[k] == 0 && !(k == 2 && (f->assemble || f->final)) && !(k == 0 && f->embed)) return;
    f->fs = k;
    run(f, st_flush);
    f->n_pend[k] = 0;
    if (k == 2) f->assemble = 0;
    if (k == 0) f->embed = 0;
}

/* hold back stream k += gate * v, v [B, T, D] (NULL: point pt forecast in
 * pieces), gate of element b at gate + b stride */
static void hold(fwd *f, int k, const float *v, int pt, const float *gate, size_t stride)
{
    if (f->n_pend[k] == HC_FLUX_PEND) flush(f, k);
    const int D = f->m->c.D;
    float *g = gates_of(f, k, f->n_pend[k]);
    for (int b = 0; b < f->B; b++) memcpy(g + (size_t)b * D, gate + (size_t)b * stride, (size_t)D * sizeof *g);
    f->pend_pt[k][f->n_pend[k]] = pt;
    f->pend[k][f->n_pend[k]++] = v;
}

/* single block: modulate the joint rows */
static void st_sgl_mod(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int D = m->c.D, L = m->c.L;
    int b0, b1;
    bslice(f, t, &b0, &b1);
    for (int b = b0; b < b1; b++) {
        const float *mod = m->mod[0] + (size_t)b * 3 * D;
        hc_nn_modulate(m->joint + (size_t)b * L * D, L, D, mod, mod + D, (float)m->c.ln_eps, m->h + (size_t)b * L * D);
    }
}

static void st_sgl_lin1(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int D = m->c.D;
    lin_par(f, t, &f->sb->lin1, m->h, D, f->B * m->c.L, m->u, 3 * D + m->c.F);
}

/* attention on linear1's qkv columns, into the first D columns of cat */
static void st_sgl_attn(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int D = m->c.D, F = m->c.F, L = m->c.L;
    const size_t lu = 3 * (size_t)D + F;
    const hc_attn_part part = {m->u, lu, (size_t)L, 0, L, f->sb->qn, f->sb->kn, m->cat, (size_t)D + F, (size_t)L, 0};
    int b0, b1;
    bslice(f, t, &b0, &b1);
    for (int b = b0; b < b1; b++) hc_nn_attention(&m->attn[t], b, 1, &part);
}

/* linear2 on [attn | GELU(mlp_in)] in row tiles (the GELU output stays in cache) */
static void st_sgl_lin2(const fwd *f, int t)
{
    hc_flux *m = f->m;
    const int D = m->c.D, F = m->c.F, M = f->B * m->c.L;
    const size_t lu = 3 * (size_t)D + F;
    int t0, t1;
    rslice(f, t, M, HC_NN_MLP_TILE, &t0, &t1);
    for (int r0 = t0; r0 < t1; r0 += HC_NN_MLP_TILE) {
        int rows = t1 - r0 < HC_NN_MLP_TILE ? t1 - r0 : HC_NN_MLP_TILE;
        hc_nn_gelu(m->cat + (size_t)r0 * (D + F) + D, (size_t)D + F, m->u + (size_t)r0 * lu + 3 * D, lu, (size_t)rows, (size_t)F);
        hc_nn_linear(&f->sb->lin2, m->cat + (size_t)r0 * (D + F), D + F, rows, m->cp[f->pt] + (size_t)r0 * D, D);
    }
}

/* 3.7 final layer on the image rows (modulated as the last flush of the joint passes them) */
static void st_final_lin(const fwd *f, int t)
{
    hc_flux *m = f->m;
    lin_par(f, t, &m->flin, m->h, m->c.D, f->B * m->c.T_img, m->fin, m->c.out_channels);
}

/* ---- the forward ------------------------------------------------------------ */

/* 3.1 packing and 3.2 conditioning (time and label embeddings): serial */
static hc_status prologue(hc_flux *m, const float *x, const float *t, const int *labels, int B)
{
    const hc_flux_config *c = &m->c;
    const int D = c->D, Ti = c->T_img, Tt = c->txt_tokens, p = c->patch, gw = c->grid_w;
    const int C = c->image_channels, HW = c->image_size, in = c->in_channels;
    for (int b = 0; b < B; b++)
        if (labels[b] < 0 || labels[b] > c->num_classes)
            return hc_fail(HC_EINVAL, "label %d out of range [0, %d]", labels[b], c->num_classes);
    for (int b = 0; b < B; b++)
        for (int n = 0; n < Ti; n++)
            for (int ch = 0; ch < C; ch++)
                for (int ph = 0; ph < p; ph++)
                    for (int pw = 0; pw < p; pw++) {
                        int r = n / gw, cc = n % gw;
                        m->img0[((size_t)b * Ti + n) * in + (size_t)ch * p * p + ph * p + pw] =
                            x[(((size_t)b * C + ch) * HW + r * p + ph) * HW + cc * p + pw];
                    }
    const int half = c->time_dim / 2;
    for (int b = 0; b < B; b++) {
        memcpy(m->txt0 + (size_t)b * Tt * c->ctx_dim, m->label_txt + (size_t)labels[b] * Tt * c->ctx_dim,
               (size_t)Tt * c->ctx_dim * sizeof(float));
        memcpy(m->y + (size_t)b * c->vec_dim, m->label_vec + (size_t)labels[b] * c->vec_dim, (size_t)c->vec_dim * sizeof(float));
        if (b > 0 && memcmp(&t[b], &t[b - 1], sizeof *t) == 0) { /* the same time (bits): the same embedding */
            memcpy(m->temb + (size_t)b * c->time_dim, m->temb + (size_t)(b - 1) * c->time_dim, (size_t)c->time_dim * sizeof *m->temb);
            continue;
        }
        double tt = c->time_factor * (double)t[b];
        for (int k = 0; k < half; k++) {
            double a = tt * exp(-log(c->max_period) * k / half);
            m->temb[(size_t)b * c->time_dim + k] = (float)cos(a);
            m->temb[(size_t)b * c->time_dim + half + k] = (float)sin(a);
        }
    }
    hc_nn_linear(&m->time1, m->temb, c->time_dim, B, m->e1, D);
    hc_nn_silu(m->e1, (size_t)B * D);
    hc_nn_linear(&m->time2, m->e1, D, B, m->vec, D);
    hc_nn_linear(&m->vec1, m->y, c->vec_dim, B, m->e1, D);
    hc_nn_silu(m->e1, (size_t)B * D);
    hc_nn_linear(&m->vec2, m->e1, D, B, m->e2, D);
    for (size_t i = 0; i < (size_t)B * D; i++) m->vec[i] += m->e2[i];
    memcpy(m->svec, m->vec, (size_t)B * D * sizeof *m->vec);
    hc_nn_silu(m->svec, (size_t)B * D);
    return HC_OK;
}

/* Signal `kind` if wanted: the first block's modulated image input (mod: its
 * adaLN parameters), or x - (image stream before the first block) with x's
 * batch elements `stride` floats apart. */
static hc_status signal(hc_flux *m, const hc_model_hooks *h, int kind, int B, const float *x, size_t stride)
{
    if (!h || !h->signal || !(h->signals & (1u << kind))) return HC_OK;
    const size_t TD = (size_t)m->c.T_img * m->c.D;
    for (int b = 0; b < B; b++) {
        float *o = m->sig + (size_t)b * TD;
        if (kind == HC_MSIG_MOD_IN)
            hc_nn_modulate(m->img + (size_t)b * TD, m->c.T_img, m->c.D, x + (size_t)b * 6 * m->c.D,
                           x + (size_t)b * 6 * m->c.D + m->c.D, (float)m->c.ln_eps, o);
        else
            for (size_t i = 0; i < TD; i++) o[i] = x[(size_t)b * stride + i] - m->sig_in[(size_t)b * TD + i];
    }
    return h->signal(h->ud, kind, m->sig, B * m->c.T_img, m->c.D);
}

/* 3.5 double block i: the joint attention runs when either stream's
 * attention point is computed; each projection and MLP only for its own */
static hc_status double_block(fwd *f, int i, const hc_model_hooks *hooks)
{
    hc_flux *m = f->m;
    const int D = m->c.D, pbase = 4 * i;
    f->db = &m->db[i];
    /* the adaLN GEMVs came first (st_mods): a policy may decide from the
     * first block's modulated input before any point is asked for */
    for (int s = 0; s < 2; s++) m->mod[s] = mods_of(f, 2 * i + s);
    if (i == 0 && hooks && (hooks->signals & (1u << HC_MSIG_MOD_IN))) {
        flush(f, 0); /* the embedded image stream */
        HC_TRY(signal(m, hooks, HC_MSIG_MOD_IN, f->B, m->mod[0], 0));
    }
    for (int s = 0; s < 2; s++) {
        f->comp_attn[s] = computes(hooks, pbase + 2 * s);
        f->comp_mlp[s] = computes(hooks, pbase + 2 * s + 1);
    }
    if (f->comp_attn[0] || f->comp_attn[1]) {
        flush(f, 0);
        flush(f, 1);
        run(f, st_dbl_mod);
        run(f, st_dbl_qkv);
        run(f, st_dbl_attn);
    }
    hc_status st = HC_OK;
    for (int s = 0; s < 2 && st == HC_OK; s++) {
        f->s = s;
        f->pa = pbase + 2 * s; /* img_attn, img_mlp, txt_attn, txt_mlp */
        f->pm = f->pa + 1;
        int ranged;
        if (f->comp_attn[s]) run(f, st_dbl_proj);
        if ((st = point_value(m, f->pa, f->comp_attn[s], hooks, NULL, NULL, &ranged)) != HC_OK) break;
        hold(f, s, ranged ? NULL : m->cp[f->pa], f->pa, m->mod[s] + 2 * D, 6 * (size_t)D);
        if (f->comp_mlp[s]) {
            flush(f, s);
            run(f, st_dbl_mlp_mod);
            run(f, st_dbl_mlp);
        }
        fresh_ctx fc = {m, f, f->db, s, tokens_of(m, s), stream_of(m, s)};
        if ((st = point_value(m, f->pm, f->comp_mlp[s], hooks, fresh_mlp, &fc, &ranged)) != HC_OK) break;
        hold(f, s, ranged ? NULL : m->cp[f->pm], f->pm, m->mod[s] + 5 * D, 6 * (size_t)D);
    }
    if (i == 0 && st == HC_OK && hooks && (hooks->signals & (1u << HC_MSIG_HEAD_RESID))) {
        flush(f, 0);
        st = signal(m, hooks, HC_MSIG_HEAD_RESID, f->B, m->img, (size_t)m->c.T_img * D);
    }
    return st;
}

static hc_status blocks(fwd *f, const hc_model_hooks *hooks)
{
    hc_flux *m = f->m;
    const hc_flux_config *c = &m->c;
    hc_status st = HC_OK;
    run(f, st_mods);
    run(f, st_embed_txt);
    f->embed = 1; /* at the image stream's first flush */
    if (hooks && (hooks->signals & ~1u)) {
        flush(f, 0);
        memcpy(m->sig_in, m->img, (size_t)f->B * c->T_img * c->D * sizeof *m->img);
    }
    for (int i = 0; i < c->depth_double && st == HC_OK; i++) st = double_block(f, i, hooks);
    if (st != HC_OK) return st;
    flush(f, 0);
    flush(f, 1);
    /* the clustering inputs: img and txt streams after the last double block */
    if (hooks && hooks->cluster_input && c->depth_double > 0) {
        if ((st = hooks->cluster_input(hooks->ud, 0, m->img)) != HC_OK) return st;
        if ((st = hooks->cluster_input(hooks->ud, 1, m->txt)) != HC_OK) return st;
    }
    f->assemble = 1; /* at the joint's first flush */
    for (int j = 0; j < c->depth_single && st == HC_OK; j++) {
        f->sb = &m->sb[j];
        f->pt = 4 * c->depth_double + j;
        int comp = computes(hooks, f->pt);
        m->mod[0] = mods_of(f, 2 * c->depth_double + j);
        if (comp) {
            flush(f, 2);
            run(f, st_sgl_mod);
            run(f, st_sgl_lin1);
            run(f, st_sgl_attn);
            run(f, st_sgl_lin2);
        }
        int ranged;
        if ((st = point_value(m, f->pt, comp, hooks, NULL, NULL, &ranged)) != HC_OK) break;
        hold(f, 2, ranged ? NULL : m->cp[f->pt], f->pt, m->mod[0] + 2 * (size_t)c->D, 3 * (size_t)c->D);
    }
    if (st != HC_OK) return st;
    /* the final layer's adaLN; the joint's last flush modulates its image
     * rows on the way */
    m->mod[1] = mods_of(f, n_mods(m) - 1);
    f->final = 1;
    flush(f, 2);
    f->final = 0;
    if ((st = signal(m, hooks, HC_MSIG_RESID, f->B, m->joint + (size_t)c->txt_tokens * c->D, (size_t)c->L * c->D)) != HC_OK)
        return st;
    run(f, st_final_lin);
    return HC_OK;
}

hc_status hc_flux_forward(hc_flux *m, const float *x, const float *t, const int *labels, int B,
                          const hc_model_hooks *hooks, float *v_out)
{
    const hc_flux_config *c = &m->c;
    HC_ASSERT(B >= 1 && B <= m->max_B);
    int blas = openblas_get_num_threads();
    fwd f = {.m = m, .B = B, .nt = blas < B ? blas : B, .hooks = hooks};
    if (f.nt > m->n_attn) f.nt = m->n_attn;
    if (f.nt < 1) f.nt = 1;
    int width = hc_pool_width();
    /* one OpenBLAS thread from the prologue on: its small GEMMs then give
     * the bits they give on one thread, and no OpenBLAS worker is left
     * spinning beside the pool's */
    if (f.nt > 1) openblas_set_num_threads(1);
    hc_status st = prologue(m, x, t, labels, B);
    hc_pool_set_width(f.nt); /* the hooks' forecasts split their rows too */
    if (st == HC_OK) st = blocks(&f, hooks);
    hc_pool_set_width(width);
    if (f.nt > 1) openblas_set_num_threads(blas);
    if (st != HC_OK) return st;
    const int Ti = c->T_img, p = c->patch, gw = c->grid_w, C = c->image_channels, HW = c->image_size;
    for (int b = 0; b < B; b++)
        for (int n = 0; n < Ti; n++)
            for (int ch = 0; ch < C; ch++)
                for (int ph = 0; ph < p; ph++)
                    for (int pw = 0; pw < p; pw++) {
                        int r = n / gw, cc = n % gw;
                        v_out[(((size_t)b * C + ch) * HW + r * p + ph) * HW + cc * p + pw] =
                            m->fin[((size_t)b * Ti + n) * c->out_channels + (size_t)ch * p * p + ph * p + pw];
                    }
    return HC_OK;
}
