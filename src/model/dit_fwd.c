/* dit_fwd.c: the DiT forward (dit.h) with its cache points, split across
 * threads by batch element as flux-mini's (flux_fwd.c).
 *
 * Threads: as many as OpenBLAS is set to use (OPENBLAS_NUM_THREADS), at most
 * the batch and HC_DIT_THREADS.  With more than one, OpenBLAS is set to one
 * thread for the forward (the prologue's GEMVs included) and restored after,
 * and each stage runs on the pool (pool.h): elementwise work and attention
 * by batch element, GEMMs by rows cut at multiples of HC_NN_ROW_ALIGN, the MLP
 * in whole HC_NN_MLP_TILE-row tiles, every adaLN GEMV whole on one thread.
 * Every row goes through the same kernels in the same order whatever the
 * slicing, so the results do not depend on the thread count
 * (tests/test_dit_threads.c checks bit equality).  Cache-point hooks run on
 * the calling thread between stages, with the pool width set to the thread
 * count for their kernels; forecast_range pieces are taken on the threads. */
#include "dit.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

#include "dit_impl.h"
#include "nn.h"
#include "pool.h"

/* stages: each thread t of nt takes a share of the batch or of a GEMM's rows (cut as nn.h says) */
typedef struct fwd fwd;
typedef void (*stage_fn)(const fwd *f, int t);
struct fwd {
    dit *m;
    int B, nt;
    const hc_model_hooks *hooks;
    const blk *bk;   /* the current block */
    const float *mod; /* adaLN parameters of the modulation stage, element b at mod + b * mod_ld */
    int mod_ld, shift; /* its stride and shift chunk (scale at shift + 1) */
    int p, ranged, off; /* the residual stage: point, in pieces, gate chunk offset */
    int then;           /* >= 0: it then modulates each element with this shift chunk */
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

/* adaLN outputs: block i's [B, 6 D] (i == depth: the final layer's [B, 2 D]) */
static float *mods_of(const fwd *f, int i) { return f->m->mods + (size_t)i * f->B * 6 * f->m->c.D; }

/* ---- stages ------------------------------------------------------------------ */

/* every adaLN GEMV of the forward (they read only SiLU(c)), each whole on one thread */
static void st_mods(const fwd *f, int t)
{
    dit *m = f->m;
    const int depth = m->c.depth;
    for (int i = t; i <= depth; i += f->nt) {
        const hc_linear *l = i < depth ? &m->b[i].mod : &m->fmod;
        hc_nn_linear(l, m->sc, m->c.D, f->B, mods_of(f, i), l->out);
    }
}

/* patch embedding + pos_embed on thread t's rows */
static void st_embed(const fwd *f, int t)
{
    dit *m = f->m;
    const hc_dit_config *c = &m->c;
    const int D = c->D, T = c->T, K = c->C * c->p * c->p;
    int r0, r1;
    rslice(f, t, f->B * T, HC_NN_ROW_ALIGN, &r0, &r1);
    if (r1 <= r0) return;
    hc_nn_linear(&m->xemb, m->xp + (size_t)r0 * K, K, r1 - r0, m->x + (size_t)r0 * D, D);
    for (int r = r0; r < r1; r++)
        for (int i = 0; i < D; i++) m->x[(size_t)r * D + i] += m->pos[(size_t)(r % T) * D + i];
}

/* modulated LayerNorm of element b's rows of the stream into h (shift chunk `shift`) */
static void modulate_el(const fwd *f, int b, int shift)
{
    dit *m = f->m;
    const int D = m->c.D, T = m->c.T;
    const float *mod = f->mod + (size_t)b * f->mod_ld;
    hc_nn_modulate(m->x + (size_t)b * T * D, T, D, mod + (size_t)shift * D, mod + (size_t)(shift + 1) * D,
                   (float)m->c.ln_eps, m->h + (size_t)b * T * D);
}

static void st_modulate(const fwd *f, int t)
{
    int b0, b1;
    bslice(f, t, &b0, &b1);
    for (int b = b0; b < b1; b++) modulate_el(f, b, f->shift);
}

static void st_qkv(const fwd *f, int t)
{
    dit *m = f->m;
    lin_par(f, t, &f->bk->qkv, m->h, m->c.D, f->B * m->c.T, m->qkv, 3 * m->c.D);
}

static void st_attn(const fwd *f, int t)
{
    dit *m = f->m;
    const int D = m->c.D, T = m->c.T;
    const hc_attn_part part = {m->qkv, 3 * (size_t)D, (size_t)T, 0, T, NULL, NULL, m->att, (size_t)D, (size_t)T, 0};
    int b0, b1;
    bslice(f, t, &b0, &b1);
    for (int b = b0; b < b1; b++) hc_nn_attention(&m->attn[t], b, 1, &part);
}

static void st_proj(const fwd *f, int t)
{
    dit *m = f->m;
    lin_par(f, t, &f->bk->proj, m->att, m->c.D, f->B * m->c.T, m->cp[f->p], m->c.D);
}

/* the MLP in whole tiles, each thread with its own hidden tile */
static void st_mlp(const fwd *f, int t)
{
    dit *m = f->m;
    const int D = m->c.D, M = f->B * m->c.T;
    const size_t tile = HC_NN_MLP_TILE < M ? HC_NN_MLP_TILE : (size_t)M;
    int r0, r1;
    rslice(f, t, M, HC_NN_MLP_TILE, &r0, &r1);
    if (r1 > r0)
        hc_nn_mlp(&f->bk->fc1, &f->bk->fc2, m->h + (size_t)r0 * D, r1 - r0, m->mlph + (size_t)t * tile * m->c.F,
                  m->cp[f->p] + (size_t)r0 * D);
}

/* x += gate * point p's value over thread t's elements (element b's gate at
 * mod + b 6D + off): from cp[p], or forecast piece by piece through the
 * thread's fbuf (ranged), the same operations per element either way; then
 * (then >= 0) the element's modulated rows while they are in cache */
static void st_resid(const fwd *f, int t)
{
    dit *m = f->m;
    const hc_model_hooks *h = f->hooks;
    const int D = m->c.D, T = m->c.T, ch = f->ranged ? m->chunk_rows : T;
    float *buf = m->fbuf + (size_t)t * m->chunk_rows * D;
    int b0, b1;
    bslice(f, t, &b0, &b1);
    for (int b = b0; b < b1; b++) {
        for (int r0 = 0; r0 < T; r0 += ch) {
            const int rows = T - r0 < ch ? T - r0 : ch;
            const size_t e0 = ((size_t)b * T + r0) * D;
            const float *v = m->cp[f->p] + e0;
            if (f->ranged) {
                h->forecast_range(h->ud, f->p, e0, (size_t)rows * D, buf);
                v = buf;
            }
            hc_nn_gated_add(m->x + e0, v, m->mod + (size_t)b * 6 * D + f->off, rows, D);
        }
        if (f->then >= 0) modulate_el(f, b, f->then);
    }
}

static void st_final_lin(const fwd *f, int t)
{
    dit *m = f->m;
    const hc_dit_config *c = &m->c;
    lin_par(f, t, &m->flin, m->h, c->D, f->B * c->T, m->fin, c->p * c->p * c->Cout);
}

/* ---- the forward ------------------------------------------------------------ */

/* ClusCa fresh tokens of an MLP point: the true MLP output of chosen rows of
 * the residual stream (after this block's attention residual). */
typedef struct fresh_ctx {
    dit *m;
    const blk *b;
} fresh_ctx;

static hc_status fresh_mlp(void *ud, const int *rows, int n, float *out)
{
    fresh_ctx *f = ud;
    dit *m = f->m;
    const int D = m->c.D, T = m->c.T;
    for (int i = 0; i < n; i++) {
        const float *mod = m->mod + (size_t)(rows[i] / T) * 6 * D;
        hc_nn_modulate(m->x + (size_t)rows[i] * D, 1, D, mod + 3 * D, mod + 4 * D, (float)m->c.ln_eps, m->fr_in + (size_t)i * D);
    }
    hc_nn_mlp(&f->b->fc1, &f->b->fc2, m->fr_in, n, m->fr_h, out);
    return HC_OK;
}

static int computes(const hc_model_hooks *hooks, int p)
{
    return !hooks || !hooks->compute || hooks->compute(hooks->ud, p);
}

/* A computed point's value to the caller, or its forecast: in pieces where
 * the caller can (*ranged = 1: st_resid forecasts it chunk by chunk), else
 * into cp[p]. */
static hc_status point_value(dit *m, int p, int computed, const hc_model_hooks *hooks, hc_rows_fn fresh, void *fud,
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

/* Patches in (c, pi, pj) order (the conv weight's); the conditioning
 * c = t_embedder(t) + y_embedder(y) and SiLU(c): serial, one OpenBLAS
 * thread when split (the GEMVs give their one-thread bits). */
static void prologue(dit *m, const float *xin, const float *t, const int *labels, int B)
{
    const hc_dit_config *c = &m->c;
    const int p = c->p, G = c->grid, IS = c->input_size, T = c->T, D = c->D, K = c->C * p * p;
    for (int b = 0; b < B; b++)
        for (int n = 0; n < T; n++)
            for (int ch = 0; ch < c->C; ch++)
                for (int i = 0; i < p; i++)
                    for (int j = 0; j < p; j++)
                        m->xp[((size_t)b * T + n) * K + (size_t)(ch * p + i) * p + j] =
                            xin[(((size_t)b * c->C + ch) * IS + (size_t)(n / G) * p + i) * IS + (size_t)(n % G) * p + j];
    /* [cos(t f_k) | sin(t f_k)], f_k = exp(-ln(10000) k / half), in float64 rounded
     * to float32 (docs/model-format.md D4; DiT's float32 differs by ~1e-5) */
    const int half = c->freq_dim / 2;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < half; k++) {
            double a = (double)t[b] * exp(-log(10000.0) * k / half);
            m->tf[(size_t)b * c->freq_dim + k] = (float)cos(a);
            m->tf[(size_t)b * c->freq_dim + half + k] = (float)sin(a);
        }
    hc_nn_linear(&m->t1, m->tf, c->freq_dim, B, m->e1, D);
    hc_nn_silu(m->e1, (size_t)B * D);
    hc_nn_linear(&m->t2, m->e1, D, B, m->cond, D);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < D; i++) m->cond[(size_t)b * D + i] += m->ytab[(size_t)labels[b] * D + i];
    memcpy(m->sc, m->cond, (size_t)B * D * sizeof *m->sc);
    hc_nn_silu(m->sc, (size_t)B * D);
}

static int wants(const hc_model_hooks *h, int kind)
{
    return h && h->signal && (h->signals & (1u << kind));
}

/* Signal `kind` if wanted: the stream now minus the stream entering block 0,
 * [B T, D] (HEAD_RESID after block 0, RESID after the last block). */
static hc_status resid_signal(dit *m, int B, const hc_model_hooks *hooks, int kind)
{
    if (!wants(hooks, kind)) return HC_OK;
    const size_t n = (size_t)B * m->c.T * m->c.D;
    for (size_t i = 0; i < n; i++) m->sig[i] = m->x[i] - m->sig_in[i];
    return hooks->signal(hooks->ud, kind, m->sig, B * m->c.T, m->c.D);
}

/* modulate the stream with the current block's chunk `shift` into h */
static void modulate(fwd *f, int shift)
{
    f->mod = f->m->mod;
    f->mod_ld = 6 * f->m->c.D;
    f->shift = shift;
    run(f, st_modulate);
}

/* the residual stage of point p (gate chunk at off), then modulating with
 * the current block's chunk `then` where >= 0 */
static void residual(fwd *f, int p, int ranged, int off, int then)
{
    f->p = p;
    f->ranged = ranged;
    f->off = off;
    f->mod = f->m->mod;
    f->mod_ld = 6 * f->m->c.D;
    f->then = then;
    run(f, st_resid);
}

static hc_status block(fwd *f, int i)
{
    dit *m = f->m;
    const hc_model_hooks *hooks = f->hooks;
    const int D = m->c.D, pa = 2 * i, pm = 2 * i + 1;
    f->bk = &m->b[i];
    /* the adaLN GEMVs came first (st_mods): a policy may decide from block 0's
     * modulated input (MOD_IN, which is then also its attention's input)
     * before any point is asked for */
    m->mod = mods_of(f, i);
    const int mod_in = i == 0 && wants(hooks, HC_MSIG_MOD_IN);
    if (mod_in) {
        modulate(f, 0);
        HC_TRY(hooks->signal(hooks->ud, HC_MSIG_MOD_IN, m->h, f->B * m->c.T, D));
    }
    const int ca = computes(hooks, pa), cm = computes(hooks, pm);
    if (ca) {
        if (!mod_in) modulate(f, 0);
        run(f, st_qkv);
        run(f, st_attn);
        f->p = pa;
        run(f, st_proj);
    }
    int ranged;
    HC_TRY(point_value(m, pa, ca, hooks, NULL, NULL, &ranged));
    residual(f, pa, ranged, 2 * D, cm ? 3 : -1); /* the MLP's input on the way */
    if (cm) {
        f->p = pm;
        run(f, st_mlp);
    }
    fresh_ctx fc = {m, f->bk};
    HC_TRY(point_value(m, pm, cm, hooks, fresh_mlp, &fc, &ranged));
    residual(f, pm, ranged, 5 * D, -1);
    return HC_OK;
}

static hc_status blocks(fwd *f)
{
    dit *m = f->m;
    const hc_dit_config *c = &m->c;
    const hc_model_hooks *hooks = f->hooks;
    run(f, st_mods);
    run(f, st_embed);
    if (wants(hooks, HC_MSIG_HEAD_RESID) || wants(hooks, HC_MSIG_RESID))
        memcpy(m->sig_in, m->x, (size_t)f->B * c->T * c->D * sizeof *m->x);
    for (int i = 0; i < c->depth; i++) {
        HC_TRY(block(f, i));
        if (i == 0) HC_TRY(resid_signal(m, f->B, hooks, HC_MSIG_HEAD_RESID));
    }
    HC_TRY(resid_signal(m, f->B, hooks, HC_MSIG_RESID));
    if (hooks && hooks->cluster_input) HC_TRY(hooks->cluster_input(hooks->ud, 0, m->x));
    /* final layer: chunks (shift, scale) */
    f->mod = mods_of(f, c->depth);
    f->mod_ld = 2 * c->D;
    f->shift = 0;
    run(f, st_modulate);
    run(f, st_final_lin);
    return HC_OK;
}

hc_status hc_dit_forward(void *impl, const float *xin, const float *t, const int *labels, int B,
                         const hc_model_hooks *hooks, float *out)
{
    dit *m = impl;
    const hc_dit_config *c = &m->c;
    HC_ASSERT(B >= 1 && B <= m->max_B);
    for (int b = 0; b < B; b++)
        if (labels[b] < 0 || labels[b] > c->num_classes)
            return hc_fail(HC_EINVAL, "label %d out of range [0, %d]", labels[b], c->num_classes);
    int blas = openblas_get_num_threads();
    fwd f = {.m = m, .B = B, .nt = blas < B ? blas : B, .hooks = hooks};
    if (f.nt > m->n_thr) f.nt = m->n_thr;
    if (f.nt < 1) f.nt = 1;
    int width = hc_pool_width();
    /* one OpenBLAS thread from the prologue on: its GEMVs then give the bits
     * they give on one thread, and no OpenBLAS worker spins beside the pool's */
    if (f.nt > 1) openblas_set_num_threads(1);
    prologue(m, xin, t, labels, B);
    hc_pool_set_width(f.nt); /* the hooks' forecasts split their rows too */
    hc_status st = blocks(&f);
    hc_pool_set_width(width);
    if (f.nt > 1) openblas_set_num_threads(blas);
    if (st != HC_OK) return st;
    /* unpatchify: a token's channels are in (pi, pj, c) order */
    const int T = c->T, p = c->p, G = c->grid, IS = c->input_size, Co = c->Cout, K = p * p * Co;
    for (int b = 0; b < B; b++)
        for (int n = 0; n < T; n++)
            for (int i = 0; i < p; i++)
                for (int j = 0; j < p; j++)
                    for (int ch = 0; ch < Co; ch++)
                        out[(((size_t)b * Co + ch) * IS + (size_t)(n / G) * p + i) * IS + (size_t)(n % G) * p + j] =
                            m->fin[((size_t)b * T + n) * K + (size_t)(i * p + j) * Co + ch];
    return HC_OK;
}
