/* sampler.c: closed-loop sampling through the cache driver (sampler.h). */
#include "sampler.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cost.h"
#include "driver.h"
#include "signals.h"

/* The sampler families a model can name in hc_model_info.sampler. */
static const char *const samplers[] = {"rf-euler", "ddim", NULL};

struct hc_sampler {
    hc_model *m;
    hc_model_info info;
    hc_cost *cost;
    int max_n, P;
    float *xb, *vb, *tb;     /* batch input [2n, C,H,W], output [2n, out_channels,H,W], times [2n] */
    float *eb;               /* ddim: guided epsilon [n, C,H,W] */
    int ddim;
    int *lb;                 /* batch labels [2n] */
    double *t;               /* schedule [steps+1], grown on demand; ddim: + abar, abar_prev */
    int t_cap;
    hc_driver *drv;          /* this run's */
    hc_sigs *sigs;           /* this run's policy signals (and the recording's) */
    int step;
    hc_traj_writer *rec;
    int *rec_h;              /* [P] feature dataset handles, -1 if not recorded */
    int rec_hidden_input, rec_hidden, rec_x, rec_out;
};

void hc_rf_schedule(const hc_model_info *c, int steps, int shift, double *t)
{
    double mslope = (c->max_shift - c->base_shift) / (c->max_seq_len - c->base_seq_len);
    double mu = c->base_shift + mslope * ((double)c->seq_len - c->base_seq_len);
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
    hc_driver_free(s->drv);
    hc_sigs_free(s->sigs);
    hc_cost_free(s->cost);
    free(s->xb);
    free(s->vb);
    free(s->eb);
    free(s->tb);
    free(s->lb);
    free(s->t);
    free(s->rec_h);
    free(s);
}

hc_status hc_sampler_alloc(hc_model *m, int max_images, hc_sampler **out)
{
    *out = NULL;
    hc_model_info info;
    hc_model_get_info(m, &info);
    int known = 0;
    for (const char *const *k = samplers; *k; k++) known |= strcmp(*k, info.sampler) == 0;
    if (!known) return hc_fail(HC_EUNSUP, "%s: sampler \"%s\" of arch %s is not implemented", m->path, info.sampler, info.arch);
    if (info.out_channels < info.image_channels)
        return hc_fail(HC_EFORMAT, "%s: arch %s declares %d output channels for %d image channels", m->path, info.arch,
                       info.out_channels, info.image_channels);
    if (2 * max_images > m->max_batch)
        return hc_fail(HC_EINVAL, "a sampler of %d images needs a model loaded for batch %d (has %d)", max_images,
                       2 * max_images, m->max_batch);
    hc_sampler *s = calloc(1, sizeof *s);
    if (!s) return hc_fail(HC_ENOMEM, "out of memory");
    s->m = m;
    s->info = info;
    s->max_n = max_images;
    s->P = hc_model_num_points(m);
    size_t img = (size_t)info.image_channels * info.image_size * info.image_size, B = 2 * (size_t)max_images;
    const size_t outn = img / (size_t)info.image_channels * (size_t)info.out_channels;
    s->ddim = strcmp(info.sampler, "ddim") == 0;
    s->xb = malloc(B * img * sizeof *s->xb);
    s->vb = malloc(B * outn * sizeof *s->vb);
    s->eb = malloc(img * (size_t)max_images * sizeof *s->eb);
    s->tb = malloc(B * sizeof *s->tb);
    s->lb = malloc(B * sizeof *s->lb);
    s->rec_h = malloc((size_t)s->P * sizeof *s->rec_h);
    hc_status st = HC_OK;
    if (!s->xb || !s->vb || !s->eb || !s->tb || !s->lb || !s->rec_h)
        st = hc_fail(HC_ENOMEM, "out of memory for a sampler of %d images", max_images);
    if (st == HC_OK) st = hc_cost_from_config(m->path, cJSON_GetObjectItemCaseSensitive(m->meta, "config"), &s->cost);
    if (st != HC_OK) {
        hc_sampler_free(s);
        return st;
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
    if (glob && strlen(glob) >= 256) /* match_any's buffer: refused, never cut silently */
        return hc_fail(HC_EINVAL, "--record-modules: a list of %zu characters (at most 255)", strlen(glob));
    int n = 0;
    for (int p = 0; p < s->P; p++) {
        const hc_cache_point *q = hc_model_point(s->m, p);
        s->rec_h[p] = -1;
        if (glob && !match_any(glob, q->name)) continue;
        HC_TRY(hc_traj_writer_add_feature(w, q->block_kind, q->layer, q->module, q->stream, q->tokens, q->channels,
                                          &s->rec_h[p]));
        n++;
    }
    if (n == 0) return hc_fail(HC_EINVAL, "--record-modules '%s' matches no cache point (e.g. %s)", glob,
                               hc_model_point(s->m, 0)->name);
    s->rec_hidden = s->rec_hidden_input = -1;
    for (int j = 0; j < s->m->config->n_inputs && s->rec_hidden < 0; j++) {
        const hc_cluster_input *in = &s->m->config->inputs[j];
        if (!in->record) continue;
        s->rec_hidden_input = j;
        HC_TRY(hc_traj_writer_add_hidden(w, in->block_kind, in->layer, in->stream, in->tokens, in->channels,
                                         &s->rec_hidden));
    }
    return HC_OK;
}

/* ---- hooks: the model asks, the driver decides --------------------------------- */

static int on_compute(void *ud, int p)
{
    hc_sampler *s = ud;
    return hc_driver_compute(s->drv, p, s->step);
}

static hc_status on_observe(void *ud, int p, const float *val)
{
    hc_sampler *s = ud;
    if (s->rec && s->rec_h[p] >= 0) /* image 0, conditional branch: the first rows */
        HC_TRY(hc_traj_writer_put(s->rec, s->rec_h[p], s->step, val));
    return hc_driver_observe(s->drv, p, s->step, val);
}

static hc_status on_forecast(void *ud, int p, float *out, hc_rows_fn fresh, void *fresh_ud)
{
    hc_sampler *s = ud;
    return hc_driver_forecast(s->drv, p, s->step, fresh, fresh_ud, out);
}

static hc_status on_forecast_prepare(void *ud, int p, int *ranged)
{
    hc_sampler *s = ud;
    return hc_driver_forecast_prepare(s->drv, p, s->step, ranged);
}

static void on_forecast_range(const void *ud, int p, size_t e0, size_t n, float *out)
{
    const hc_sampler *s = ud;
    hc_driver_forecast_range(s->drv, p, e0, n, out);
}

static hc_status on_signal(void *ud, int kind, const float *x, int rows, int channels)
{
    hc_sampler *s = ud;
    (void)channels;
    hc_sigs_tensor(s->sigs, s->drv, s->step, kind, x, (size_t)rows);
    return HC_OK;
}

static hc_status on_cluster_input(void *ud, int j, const float *x)
{
    hc_sampler *s = ud;
    hc_driver_decide(s->drv, s->step);
    if (!hc_driver_is_full(s->drv, s->step)) return HC_OK;
    if (s->rec && j == s->rec_hidden_input) HC_TRY(hc_traj_writer_put(s->rec, s->rec_hidden, s->step, x));
    hc_driver_cluster(s->drv, j, s->step, x);
    return HC_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* This run's driver: the model's clustering inputs and cache points over B groups. */
static hc_status make_driver(hc_sampler *s, const hc_method *method, int S, int B)
{
    hc_driver_free(s->drv);
    s->drv = NULL;
    HC_TRY(hc_driver_alloc(method, S, B, &s->drv));
    const hc_model_config *mc = s->m->config;
    for (int j = 0; j < mc->n_inputs; j++)
        HC_TRY(hc_driver_add_input(s->drv, (size_t)mc->inputs[j].tokens, (size_t)mc->inputs[j].channels, NULL));
    HC_TRY(hc_driver_begin(s->drv));
    for (int p = 0; p < s->P; p++) {
        const hc_cache_point *q = &mc->points[p];
        hc_driver_point dp = {.name = q->name, .module = q->module, .tokens = (size_t)q->tokens,
                              .channels = (size_t)q->channels, .fresh = q->fresh,
                              .cluster = q->cluster_input >= 0 ? q->cluster_input : HC_CLUSTER_NONE,
                              .id = (unsigned long)p, .head = q->head};
        HC_TRY(hc_driver_add_point(s->drv, &dp, NULL));
    }
    return HC_OK;
}

hc_status hc_sampler_run(hc_sampler *s, const hc_method *method, const hc_sample_opts *o, const int *labels, int n,
                         float *x, hc_sample_stats *stats)
{
    const hc_model_info *c = &s->info;
    if (n < 1 || n > s->max_n) return hc_fail(HC_EINVAL, "%d images per run; this sampler holds 1..%d", n, s->max_n);
    if (o->steps < 1 || o->steps > 100000) return hc_fail(HC_EINVAL, "steps %d out of range [1, 100000]", o->steps);
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= c->num_classes)
            return hc_fail(HC_EINVAL, "label %d out of range [0, %d)", labels[i], c->num_classes);
    const int S = o->steps, guided = o->cfg != 1.0, B = guided ? 2 * n : n;
    const size_t img = (size_t)c->image_channels * c->image_size * c->image_size;
    if (S + 1 > s->t_cap) {
        free(s->t);
        s->t = malloc(3 * (size_t)(S + 1) * sizeof *s->t);
        s->t_cap = s->t ? S + 1 : 0;
        if (!s->t_cap) return hc_fail(HC_ENOMEM, "out of memory");
    }
    double *abar = s->t + S + 1, *abar_prev = abar + S + 1;
    if (s->ddim) HC_TRY(hc_ddim_grid(c, S, s->t, abar, abar_prev));
    else hc_rf_schedule(c, S, o->shift, s->t);
    HC_TRY(make_driver(s, method, S, B));
    hc_sigs_free(s->sigs);
    s->sigs = NULL;
    /* a model type without signals (signal_macs NULL) serves no policy that reads
     * one, and its recordings carry no /signals (zeros would read as "no change") */
    const int has_signals = s->m->config->type->signal_macs != NULL;
    if (!has_signals && hc_sigs_model_mask_for(hc_policy_needs(&method->policy)))
        return hc_fail(HC_EUNSUP, "%s: model arch %s computes no policy signals; %s needs them (use a fixed schedule)",
                       s->m->path, s->m->config->type->arch, method->spec);
    /* signal tensors are [B * image tokens, the model's width] (that of its cache points) */
    HC_TRY(hc_sigs_alloc(hc_policy_needs(&method->policy), s->rec != NULL && has_signals, S, (size_t)B * c->seq_len,
                         (size_t)c->seq_len, (size_t)hc_model_point(s->m, 0)->channels, img, &s->sigs));
    if (s->rec) {
        int64_t dims[3] = {c->image_channels, c->image_size, c->image_size};
        HC_TRY(hc_traj_writer_add_latent(s->rec, "x", S + 1, 3, dims, &s->rec_x));
        HC_TRY(hc_traj_writer_add_latent(s->rec, "out", S, 3, dims, &s->rec_out));
    }
    for (int i = 0; i < n; i++) {
        s->lb[i] = labels[i];
        if (guided) s->lb[n + i] = c->null_class;
    }
    const hc_model_hooks hooks = {.ud = s, .compute = on_compute, .observe = on_observe, .forecast = on_forecast,
                                  .forecast_prepare = on_forecast_prepare, .forecast_range = on_forecast_range,
                                  .cluster_input = on_cluster_input, .signals = hc_sigs_model_mask(s->sigs),
                                  .signal = on_signal};
    hc_status st = HC_OK;
    double macs = 0, t0 = now(), cached = 0;
    for (int step = 0; step < S && st == HC_OK; step++) {
        s->step = step;
        double ts = now();
        if (s->rec) HC_TRY(hc_traj_writer_put(s->rec, s->rec_x, step, x));
        if (s->rec) HC_TRY(hc_traj_writer_put_time(s->rec, step, s->t[step]));
        memcpy(s->xb, x, (size_t)n * img * sizeof *x);
        if (guided) memcpy(s->xb + (size_t)n * img, x, (size_t)n * img * sizeof *x);
        for (int b = 0; b < B; b++) s->tb[b] = (float)s->t[step];
        st = hc_model_forward(s->m, s->xb, s->tb, s->lb, B, &hooks, s->vb);
        if (s->ddim) {
            if (st != HC_OK) break;
            hc_ddim_guide(s->vb, n, guided, (float)o->cfg, c, s->eb);
            hc_ddim_step(x, s->eb, (size_t)n * img, abar[step], abar_prev[step]);
            hc_sigs_end_step(s->sigs, s->drv, step, s->eb); /* decides the step if nothing asked yet */
            macs += hc_cost_step(s->cost, s->drv, B, step);
            if (s->rec) st = hc_traj_writer_put(s->rec, s->rec_out, step, s->eb);
            if (!hc_driver_is_full(s->drv, step)) cached += now() - ts;
            continue;
        }
        float dt = (float)(s->t[step + 1] - s->t[step]);
        const float w = (float)o->cfg;
        for (size_t i = 0; i < (size_t)n * img; i++) {
            float v = guided ? s->vb[(size_t)n * img + i] + w * (s->vb[i] - s->vb[(size_t)n * img + i]) : s->vb[i];
            s->vb[i] = v;
            x[i] += dt * v;
        }
        hc_sigs_end_step(s->sigs, s->drv, step, s->vb); /* decides the step if nothing asked yet */
        macs += hc_cost_step(s->cost, s->drv, B, step);
        if (s->rec && st == HC_OK) st = hc_traj_writer_put(s->rec, s->rec_out, step, s->vb);
        if (!hc_driver_is_full(s->drv, step)) cached += now() - ts;
    }
    if (s->rec && st == HC_OK) st = hc_traj_writer_put(s->rec, s->rec_x, S, x);
    if (s->rec && st == HC_OK) st = hc_sigs_write(s->sigs, s->rec);
    if (stats) {
        stats->full_steps = hc_driver_full_steps(s->drv);
        stats->steps = S;
        stats->macs = macs;
        stats->seconds = now() - t0;
        stats->seconds_cached = cached;
        stats->cache_bytes = hc_driver_cache_bytes(s->drv);
    }
    return st;
}
