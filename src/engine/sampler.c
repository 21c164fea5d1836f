/* sampler.c: Euler CFG sampling with closed-loop module caching (sampler.h). */
#include "sampler.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmeans.h"

struct hc_sampler {
    hc_flux *m;
    int max_n;
    float *xb, *vb, *tb;     /* batch input [2n, C,H,W], output, times [2n] */
    int *lb;                 /* batch labels [2n] */
    double *t;               /* schedule [steps+1], grown on demand */
    int t_cap;
    unsigned char *full;
    hc_predictor **pred;     /* per cache point, this run */
    hc_kmeans **km[2];       /* ClusCa: per batch element, img and txt streams */
    int *labels[2];          /* global labels over the batch's rows: b * K + local */
    int n_clusters[2];
    int step;
    hc_traj_writer *rec;
    int rec_h[256], rec_hidden, rec_x, rec_out;
    const hc_method *method;
    int B;
    hc_status hook_status;
};

void hc_flux_schedule(const hc_flux_config *c, int steps, int shift, double *t)
{
    double mslope = (c->max_shift - c->base_shift) / (c->max_seq_len - c->base_seq_len);
    double mu = c->base_shift + mslope * ((double)c->T_img - c->base_seq_len);
    for (int i = 0; i <= steps; i++) {
        double s = 1.0 - (double)i / steps;
        if (!shift) t[i] = s;
        else if (s <= 0) t[i] = 0;
        else t[i] = exp(mu) / (exp(mu) + pow(1.0 / s - 1.0, c->shift_sigma));
    }
    t[steps] = 0;
}

void hc_sampler_free(hc_sampler *s)
{
    if (!s) return;
    for (int p = 0; s->pred && p < hc_flux_num_points(s->m); p++) hc_predictor_free(s->pred[p]);
    free(s->pred);
    for (int st = 0; st < 2; st++) {
        for (int b = 0; s->km[st] && b < 2 * s->max_n; b++) hc_kmeans_free(s->km[st][b]);
        free(s->km[st]);
        free(s->labels[st]);
    }
    free(s->xb);
    free(s->vb);
    free(s->tb);
    free(s->lb);
    free(s->t);
    free(s->full);
    free(s);
}

hc_status hc_sampler_alloc(hc_flux *m, int max_images, hc_sampler **out)
{
    *out = NULL;
    const hc_flux_config *c = hc_flux_get_config(m);
    if (2 * max_images > hc_flux_max_batch(m))
        return hc_fail(HC_EINVAL, "a sampler of %d images needs a model loaded for batch %d (has %d)", max_images,
                       2 * max_images, hc_flux_max_batch(m));
    hc_sampler *s = calloc(1, sizeof *s);
    if (!s) return hc_fail(HC_ENOMEM, "out of memory");
    s->m = m;
    s->max_n = max_images;
    size_t img = (size_t)c->image_channels * c->image_size * c->image_size, B = 2 * (size_t)max_images;
    s->xb = malloc(B * img * sizeof *s->xb);
    s->vb = malloc(B * img * sizeof *s->vb);
    s->tb = malloc(B * sizeof *s->tb);
    s->lb = malloc(B * sizeof *s->lb);
    s->pred = calloc((size_t)hc_flux_num_points(m), sizeof *s->pred);
    s->km[0] = calloc(B, sizeof *s->km[0]);
    s->km[1] = calloc(B, sizeof *s->km[1]);
    s->labels[0] = malloc(B * (size_t)c->T_img * sizeof *s->labels[0]);
    s->labels[1] = malloc(B * (size_t)c->txt_tokens * sizeof *s->labels[1]);
    if (!s->xb || !s->vb || !s->tb || !s->lb || !s->pred || !s->km[0] || !s->km[1] || !s->labels[0] || !s->labels[1]) {
        hc_sampler_free(s);
        return hc_fail(HC_ENOMEM, "out of memory for a sampler of %d images", max_images);
    }
    *out = s;
    return HC_OK;
}

/* name matches one of the comma-separated fnmatch patterns in list */
static int match_any(const char *list, const char *name)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save))
        if (fnmatch(g, name, 0) == 0) return 1;
    return 0;
}

hc_status hc_sampler_record(hc_sampler *s, hc_traj_writer *w, const char *glob)
{
    s->rec = w;
    if (!w) return HC_OK;
    const hc_flux_config *c = hc_flux_get_config(s->m);
    if (hc_flux_num_points(s->m) > 256) return hc_fail(HC_EUNSUP, "more than 256 cache points");
    int n = 0;
    for (int p = 0; p < hc_flux_num_points(s->m); p++) {
        const hc_cache_point *q = hc_flux_point(s->m, p);
        s->rec_h[p] = -1;
        if (glob && !match_any(glob, q->name)) continue;
        HC_TRY(hc_traj_writer_add_feature(w, q->block_kind, q->layer, q->module, q->stream, q->tokens, c->D, &s->rec_h[p]));
        n++;
    }
    if (n == 0) return hc_fail(HC_EINVAL, "--record-modules '%s' matches no cache point (e.g. double/0/img_mlp)", glob);
    s->rec_hidden = -1;
    if (c->depth_double > 0)
        HC_TRY(hc_traj_writer_add_hidden(w, "double", c->depth_double - 1, "img", c->T_img, c->D, &s->rec_hidden));
    return HC_OK;
}

/* ---- hooks -------------------------------------------------------------------- */

static void on_observe(void *ud, int p, const float *val)
{
    hc_sampler *s = ud;
    if (s->rec && s->rec_h[p] >= 0 && s->hook_status == HC_OK) /* image 0, conditional branch: the first rows */
        s->hook_status = hc_traj_writer_put(s->rec, s->rec_h[p], s->step, val);
    if (s->pred[p]) {
        hc_step_ctx ctx = {.step = s->step};
        s->pred[p]->type->observe(s->pred[p]->state, &ctx, val);
    }
}

static void on_hidden(void *ud, const float *img, int n_img, const float *txt, int n_txt)
{
    hc_sampler *s = ud;
    (void)n_img;
    (void)n_txt;
    if (s->rec && s->rec_hidden >= 0 && s->hook_status == HC_OK)
        s->hook_status = hc_traj_writer_put(s->rec, s->rec_hidden, s->step, img);
    /* ClusCa: each batch element's tokens are clustered on their own, as the
     * official code clusters per image; labels are made global (b * K + k) */
    const hc_flux_config *c = hc_flux_get_config(s->m);
    const float *src[2] = {img, txt};
    const int T[2] = {c->T_img, c->txt_tokens};
    for (int st = 0; st < 2; st++) {
        if (!s->km[st][0]) continue;
        int off = 0;
        for (int b = 0; b < s->B; b++) {
            hc_kmeans *km = s->km[st][b];
            hc_kmeans_run(km, src[st] + (size_t)b * T[st] * c->D);
            const int *l = hc_kmeans_labels(km);
            for (int t = 0; t < T[st]; t++) s->labels[st][(size_t)b * T[st] + t] = off + l[t];
            off += hc_kmeans_k(km);
        }
        s->n_clusters[st] = off;
    }
}

static hc_status on_forecast(void *ud, int p, float *out, hc_fresh_fn fresh, void *fresh_ud)
{
    hc_sampler *s = ud;
    const hc_cache_point *q = hc_flux_point(s->m, p);
    hc_step_ctx ctx = {.step = s->step, .fresh = fresh, .fresh_ud = fresh_ud};
    int st = q->kind == HC_CP_IMG_MLP || q->kind == HC_CP_IMG_ATTN ? 0
             : q->kind == HC_CP_TXT_MLP || q->kind == HC_CP_TXT_ATTN ? 1 : -1;
    if (st >= 0 && s->km[st][0]) {
        ctx.labels = s->labels[st];
        ctx.n_clusters = s->n_clusters[st];
    }
    /* fresh tokens exist for the MLP points (computed by the model on the
     * current input); fresh=all cannot recompute attention in a live model */
    ctx.fresh_ok = fresh != NULL;
    return s->pred[p]->type->predict(s->pred[p]->state, &ctx, out);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

hc_status hc_sampler_run(hc_sampler *s, const hc_method *method, const hc_sample_opts *o, const int *labels, int n,
                         float *x, hc_sample_stats *stats)
{
    hc_flux *m = s->m;
    const hc_flux_config *c = hc_flux_get_config(m);
    if (n < 1 || n > s->max_n) return hc_fail(HC_EINVAL, "%d images per run; this sampler holds 1..%d", n, s->max_n);
    if (o->steps < 1 || o->steps > 100000) return hc_fail(HC_EINVAL, "steps %d out of range [1, 100000]", o->steps);
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= c->num_classes)
            return hc_fail(HC_EINVAL, "label %d out of range [0, %d)", labels[i], c->num_classes);
    const int S = o->steps, guided = o->cfg != 1.0, B = guided ? 2 * n : n, P = hc_flux_num_points(m);
    const size_t img = (size_t)c->image_channels * c->image_size * c->image_size;
    if (S + 1 > s->t_cap) {
        free(s->t);
        free(s->full);
        s->t = malloc((size_t)(S + 1) * sizeof *s->t);
        s->full = malloc((size_t)S);
        s->t_cap = s->t && s->full ? S + 1 : 0;
        if (!s->t_cap) return hc_fail(HC_ENOMEM, "out of memory");
    }
    hc_flux_schedule(c, S, o->shift, s->t);
    int n_full = hc_schedule_mask(&method->sched, S, s->full);
    hc_status st = HC_OK;
    /* per-run predictors (every step full: none needed) and ClusCa clusterings */
    for (int p = 0; p < P; p++) {
        hc_predictor_free(s->pred[p]);
        s->pred[p] = NULL;
    }
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < 2 * s->max_n; b++) {
            hc_kmeans_free(s->km[k][b]);
            s->km[k][b] = NULL;
        }
    hc_method gm = *method;
    gm.groups = B; /* ClusCa: K clusters per batch element */
    if (n_full < S)
        for (int p = 0; p < P && st == HC_OK; p++)
            st = hc_predictor_alloc(&gm, (size_t)B * hc_flux_point(m, p)->tokens, (size_t)c->D, (unsigned long)p,
                                    &s->pred[p]);
    if (method->base && n_full < S) {
        const int T[2] = {c->T_img, c->txt_tokens};
        for (int k = 0; k < 2 && st == HC_OK; k++)
            for (int b = 0; b < B && st == HC_OK; b++)
                st = hc_kmeans_alloc(method->K, (size_t)T[k], (size_t)c->D, method->seed + 7919UL * (unsigned long)(2 * b + k),
                                     method->kmeans_iters, &s->km[k][b]);
    }
    if (st != HC_OK) return st;
    if (s->rec) {
        int64_t dims[3] = {c->image_channels, c->image_size, c->image_size};
        HC_TRY(hc_traj_writer_add_latent(s->rec, "x", S + 1, 3, dims, &s->rec_x));
        HC_TRY(hc_traj_writer_add_latent(s->rec, "out", S, 3, dims, &s->rec_out));
    }
    for (int i = 0; i < n; i++) {
        s->lb[i] = labels[i];
        if (guided) s->lb[n + i] = c->null_class;
    }
    double fm, cm;
    hc_flux_macs(m, &gm, B, &fm, &cm);
    hc_flux_hooks hooks = {.ud = s, .observe = on_observe, .hidden = on_hidden, .forecast = on_forecast};
    s->hook_status = HC_OK;
    s->method = method;
    s->B = B;
    double macs = 0, t0 = now();
    for (int step = 0; step < S && st == HC_OK; step++) {
        s->step = step;
        if (s->rec) HC_TRY(hc_traj_writer_put(s->rec, s->rec_x, step, x));
        if (s->rec) HC_TRY(hc_traj_writer_put_time(s->rec, step, s->t[step]));
        memcpy(s->xb, x, (size_t)n * img * sizeof *x);
        if (guided) memcpy(s->xb + (size_t)n * img, x, (size_t)n * img * sizeof *x);
        for (int b = 0; b < B; b++) s->tb[b] = (float)s->t[step];
        int cached = !s->full[step];
        st = hc_flux_forward(m, s->xb, s->tb, s->lb, B, cached, &hooks, s->vb);
        if (st == HC_OK) st = s->hook_status;
        macs += cached ? cm : fm;
        float dt = (float)(s->t[step + 1] - s->t[step]);
        const float w = (float)o->cfg;
        for (size_t i = 0; i < (size_t)n * img; i++) {
            float v = guided ? s->vb[(size_t)n * img + i] + w * (s->vb[i] - s->vb[(size_t)n * img + i]) : s->vb[i];
            s->vb[i] = v;
            x[i] += dt * v;
        }
        if (s->rec && st == HC_OK) st = hc_traj_writer_put(s->rec, s->rec_out, step, s->vb);
    }
    if (s->rec && st == HC_OK) st = hc_traj_writer_put(s->rec, s->rec_x, S, x);
    if (stats) {
        stats->full_steps = n_full;
        stats->steps = S;
        stats->macs = macs;
        stats->seconds = now() - t0;
    }
    return st;
}
