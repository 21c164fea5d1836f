/* driver.c: the cache driver (driver.h). */
#include "driver.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans.h"

typedef struct input {
    size_t tokens, channels;
    hc_kmeans **km;     /* [groups] */
    int *labels;        /* [steps][groups * tokens]: global labels (b * K + k) valid at step s */
    int *n_clusters;    /* [steps] */
    int *done;          /* [steps]: clustered at this full step */
} input;

typedef struct point {
    hc_driver_point pt;
    char name[64], module[32];
    hc_predictor *pred;
    hc_kmeans *own;     /* HC_CLUSTER_OWN: k-means of this point's own feature */
    int fresh_ok;
    int head;           /* a head point under a head policy: always computed, no predictor */
} point;

struct hc_driver {
    hc_method m;        /* groups set */
    unsigned caps;
    int S, groups;
    unsigned char *full;
    int *anchor;        /* last full step at or before s */
    int n_full;
    int needs_labels;   /* the method needs labels and some step is cached */
    input *in;
    int n_in, begun;
    point *pts;
    int n_pts, cap_pts;
    size_t dropped_bytes;
    int sources;
    /* a dynamic policy (m.policy.type set, not fixed): steps decided in order */
    int dynamic, decided;  /* decided: steps 0..decided-1 have full[] set */
    hc_policy_state pst;
    double *sig[HC_SIG_COUNT]; /* signals the policy needs: [S] or [S * S] (row s, column ref); NAN unknown */
};

/* The signal arrays of a dynamic policy, all NAN (unknown). */
static hc_status policy_alloc(hc_driver *d)
{
    const hc_policy *pol = &d->m.policy;
    HC_TRY(hc_policy_state_init(pol, &d->pst));
    if (d->pst.n_ratios > 0 && d->pst.n_ratios != d->S)
        return hc_fail(HC_EINVAL, "%s: %d magnitude ratios in the calibration, the run has %d steps", pol->calib,
                       d->pst.n_ratios, d->S);
    for (int g = 0; g < HC_SIG_COUNT; g++) {
        if (!(hc_policy_needs(pol) & (1u << g))) continue;
        size_t n = (size_t)d->S;
        if (hc_signal_is_matrix((hc_signal)g)) {
            if (d->S > 4096) return hc_fail(HC_EINVAL, "policy %s: at most 4096 steps (signal %s is [S, S])",
                                            pol->type->name, hc_signal_name((hc_signal)g));
            n *= (size_t)d->S;
        }
        if (!(d->sig[g] = malloc(n * sizeof *d->sig[g]))) return hc_fail(HC_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) d->sig[g][i] = NAN;
    }
    return HC_OK;
}

hc_status hc_driver_alloc(const hc_method *m, int steps, int groups, hc_driver **out)
{
    *out = NULL;
    if (steps < 1 || steps > 100000) return hc_fail(HC_EINVAL, "steps %d out of range [1, 100000]", steps);
    if (groups < 1) return hc_fail(HC_EINVAL, "groups %d must be >= 1", groups);
    hc_driver *d = calloc(1, sizeof *d);
    if (!d) return hc_fail(HC_ENOMEM, "out of memory");
    d->m = *m;
    d->m.groups = groups;
    d->caps = hc_method_caps(m);
    d->S = steps;
    d->groups = groups;
    d->full = malloc((size_t)steps);
    d->anchor = malloc((size_t)steps * sizeof *d->anchor);
    if (!d->full || !d->anchor) {
        hc_driver_free(d);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    d->dynamic = !(hc_policy_flags(&m->policy) & HC_POL_FIXED);
    if (d->dynamic) {
        hc_status st = policy_alloc(d);
        if (st != HC_OK) {
            hc_driver_free(d);
            return st;
        }
    } else {
        d->n_full = hc_schedule_mask(&m->sched, steps, d->full);
        for (int s = 0, a = 0; s < steps; s++) d->anchor[s] = a = d->full[s] ? s : a;
    }
    /* a dynamic policy may cache any step after the first */
    d->needs_labels = (d->caps & HC_PRED_LABELS) && (d->dynamic ? steps > 1 : d->n_full < steps);
    *out = d;
    return HC_OK;
}

void hc_driver_free(hc_driver *d)
{
    if (!d) return;
    for (int j = 0; j < d->n_in; j++) {
        for (int b = 0; d->in[j].km && b < d->groups; b++) hc_kmeans_free(d->in[j].km[b]);
        free(d->in[j].km);
        free(d->in[j].labels);
        free(d->in[j].n_clusters);
        free(d->in[j].done);
    }
    free(d->in);
    for (int p = 0; p < d->n_pts; p++) {
        hc_predictor_free(d->pts[p].pred);
        hc_kmeans_free(d->pts[p].own);
    }
    free(d->pts);
    free(d->full);
    free(d->anchor);
    for (int g = 0; g < HC_SIG_COUNT; g++) free(d->sig[g]);
    hc_policy_state_free(&d->pst);
    free(d);
}

hc_status hc_driver_add_input(hc_driver *d, size_t tokens, size_t channels, int *idx)
{
    HC_ASSERT(!d->begun);
    input *ni = realloc(d->in, (size_t)(d->n_in + 1) * sizeof *ni);
    if (!ni) return hc_fail(HC_ENOMEM, "out of memory");
    d->in = ni;
    memset(&d->in[d->n_in], 0, sizeof *ni);
    d->in[d->n_in].tokens = tokens;
    d->in[d->n_in].channels = channels;
    if (idx) *idx = d->n_in;
    d->n_in++;
    return HC_OK;
}

hc_status hc_driver_begin(hc_driver *d)
{
    d->begun = 1;
    if (!d->needs_labels) return HC_OK;
    const hc_method *m = &d->m;
    for (int j = 0; j < d->n_in; j++) {
        input *in = &d->in[j];
        size_t rows = (size_t)d->groups * in->tokens;
        in->km = calloc((size_t)d->groups, sizeof *in->km);
        in->labels = malloc((size_t)d->S * rows * sizeof *in->labels);
        in->n_clusters = calloc((size_t)d->S, sizeof *in->n_clusters);
        in->done = calloc((size_t)d->S, sizeof *in->done);
        if (!in->km || !in->labels || !in->n_clusters || !in->done)
            return hc_fail(HC_ENOMEM, "out of memory for %d steps of %zu token labels", d->S, rows);
        for (int b = 0; b < d->groups; b++)
            HC_TRY(hc_kmeans_alloc(m->K, in->tokens, in->channels,
                                   m->seed + 7919UL * ((unsigned long)d->n_in * (unsigned long)b + (unsigned long)j),
                                   m->kmeans_iters, &in->km[b]));
    }
    return HC_OK;
}

int hc_driver_takes_fresh(const hc_method *m, const hc_driver_point *pt)
{
    return pt->fresh && (m->fresh_all || strstr(pt->module, "mlp") != NULL);
}

hc_status hc_driver_add_point(hc_driver *d, const hc_driver_point *pt, int *idx)
{
    HC_ASSERT(d->begun);
    if (pt->cluster >= d->n_in) return hc_fail(HC_EINVAL, "%s: clustering input %d not declared", pt->name, pt->cluster);
    if (d->n_pts == d->cap_pts) {
        int nc = d->cap_pts ? 2 * d->cap_pts : 64;
        point *np = realloc(d->pts, (size_t)nc * sizeof *np);
        if (!np) return hc_fail(HC_ENOMEM, "out of memory");
        d->pts = np;
        d->cap_pts = nc;
    }
    point *q = &d->pts[d->n_pts];
    memset(q, 0, sizeof *q);
    q->pt = *pt;
    snprintf(q->name, sizeof q->name, "%s", pt->name ? pt->name : "");
    snprintf(q->module, sizeof q->module, "%s", pt->module ? pt->module : "");
    q->pt.name = q->name;
    q->pt.module = q->module;
    q->fresh_ok = hc_driver_takes_fresh(&d->m, &q->pt);
    q->head = pt->head && (hc_policy_flags(&d->m.policy) & HC_POL_HEAD);
    hc_status st = HC_OK;
    size_t rows = (size_t)d->groups * pt->tokens;
    /* every step full, or a head point that is always computed: nothing to forecast, no cache */
    if ((d->dynamic ? d->S > 1 : d->n_full < d->S) && !q->head) st = hc_predictor_alloc(&d->m, rows, pt->channels, pt->id, &q->pred);
    if (st == HC_OK && d->needs_labels && pt->cluster == HC_CLUSTER_OWN) {
        st = hc_kmeans_alloc(d->m.K, rows, pt->channels, d->m.seed, d->m.kmeans_iters, &q->own);
        d->sources |= 2;
    } else if (st == HC_OK && d->needs_labels && pt->cluster >= 0) {
        d->sources |= 1;
    }
    if (st != HC_OK) {
        hc_predictor_free(q->pred);
        return st;
    }
    if (idx) *idx = d->n_pts;
    d->n_pts++;
    return HC_OK;
}

void hc_driver_drop_point(hc_driver *d, int p)
{
    point *q = &d->pts[p];
    if (q->pred) d->dropped_bytes += q->pred->type->cache_bytes(q->pred->state);
    hc_predictor_free(q->pred);
    hc_kmeans_free(q->own);
    q->pred = NULL;
    q->own = NULL;
}

unsigned hc_driver_caps(const hc_driver *d) { return d->caps; }
const hc_method *hc_driver_method(const hc_driver *d) { return &d->m; }
int hc_driver_steps(const hc_driver *d) { return d->S; }
int hc_driver_groups(const hc_driver *d) { return d->groups; }
int hc_driver_is_full(const hc_driver *d, int step) { return d->full[step]; }
int hc_driver_full_steps(const hc_driver *d) { return d->n_full; }
int hc_driver_horizon(const hc_driver *d, int step) { return step - d->anchor[step]; }
int hc_driver_cluster_sources(const hc_driver *d) { return d->sources; }

int hc_driver_compute(hc_driver *d, int p, int step)
{
    HC_ASSERT(p >= 0 && p < d->n_pts && step >= 0 && step < d->S);
    if (d->pts[p].head) return 1;
    hc_driver_decide(d, step);
    return d->full[step];
}

int hc_driver_point_computes(const hc_driver *d, int head, int step)
{
    return d->full[step] || (head && (hc_policy_flags(&d->m.policy) & HC_POL_HEAD));
}

int hc_driver_decided(const hc_driver *d, int step) { return !d->dynamic || step < d->decided; }

int hc_driver_last_full(const hc_driver *d, int step)
{
    int a = -1;
    for (int s = 0; s < step && s < (d->dynamic ? d->decided : d->S); s++)
        if (d->full[s]) a = s;
    return a;
}

void hc_driver_set_signal(hc_driver *d, hc_signal g, int step, int ref, double v)
{
    HC_ASSERT(step >= 0 && step < d->S);
    if (!d->sig[g]) return;
    if (hc_signal_is_matrix(g)) {
        if (ref >= 0 && ref < d->S) d->sig[g][(size_t)step * d->S + ref] = v;
    } else {
        d->sig[g][step] = v;
    }
}

static double get_signal(void *ud, hc_signal g, int step, int ref)
{
    const hc_driver *d = ud;
    if (!d->sig[g] || step < 0 || step >= d->S) return NAN;
    if (!hc_signal_is_matrix(g)) return d->sig[g][step];
    return ref >= 0 && ref < d->S ? d->sig[g][(size_t)step * d->S + ref] : NAN;
}

void hc_driver_decide(hc_driver *d, int step)
{
    for (; d->dynamic && d->decided <= step && d->decided < d->S; d->decided++) {
        int s = d->decided;
        d->full[s] = (unsigned char)hc_policy_step(&d->m.policy, &d->pst, s, d->S, get_signal, d);
        d->anchor[s] = d->full[s] ? s : d->anchor[s - (s > 0)];
        d->n_full += d->full[s];
    }
}

void hc_driver_forecast_cost(const hc_driver *d, const hc_driver_point *pt, double *terms, double *fresh_rows)
{
    hc_method_cost(&d->m, (size_t)d->groups * pt->tokens, d->groups, terms, fresh_rows);
    if (!(d->caps & HC_PRED_FRESH) || !hc_driver_takes_fresh(&d->m, pt)) *fresh_rows = 0;
}

void hc_driver_cluster(hc_driver *d, int j, int step, const float *x)
{
    HC_ASSERT(j >= 0 && j < d->n_in && step >= 0 && step < d->S);
    if (!d->needs_labels || !d->full[step]) return;
    input *in = &d->in[j];
    size_t T = in->tokens, rows = (size_t)d->groups * T;
    int *lab = in->labels + (size_t)step * rows, off = 0;
    /* each group (batch element) is clustered on its own, as the official
     * code clusters per image; labels are made global (b * K + k) */
    for (int b = 0; b < d->groups; b++) {
        hc_kmeans_run(in->km[b], x + (size_t)b * T * in->channels);
        const int *l = hc_kmeans_labels(in->km[b]);
        for (size_t t = 0; t < T; t++) lab[(size_t)b * T + t] = off + l[t];
        off += hc_kmeans_k(in->km[b]);
    }
    in->n_clusters[step] = off;
    in->done[step] = 1;
}

/* The step context of point q at step s: labels valid since the last full
 * step, and fresh tokens where the rule allows. */
static hc_step_ctx step_ctx(const hc_driver *d, const point *q, int s, hc_fresh_fn fresh, void *fresh_ud)
{
    hc_step_ctx ctx = {.step = s, .fresh = fresh, .fresh_ud = fresh_ud, .fresh_ok = q->fresh_ok && fresh != NULL};
    if (!d->needs_labels) return ctx;
    if (q->own) {
        ctx.labels = hc_kmeans_labels(q->own);
        ctx.n_clusters = hc_kmeans_k(q->own);
    } else if (q->pt.cluster >= 0) {
        const input *in = &d->in[q->pt.cluster];
        int a = d->anchor[s];
        if (in->done[a]) {
            ctx.labels = in->labels + (size_t)a * d->groups * in->tokens;
            ctx.n_clusters = in->n_clusters[a];
        }
    }
    return ctx;
}

hc_status hc_driver_observe(hc_driver *d, int p, int step, const float *val)
{
    point *q = &d->pts[p];
    if (!q->pred) return HC_OK;
    hc_driver_decide(d, step);
    if (!d->full[step]) return HC_OK; /* a point computed at a cached step is not a full-step observation */
    if (q->own) hc_kmeans_run(q->own, val);
    hc_step_ctx ctx = step_ctx(d, q, step, NULL, NULL);
    q->pred->type->observe(q->pred->state, &ctx, val);
    return HC_OK;
}

hc_status hc_driver_forecast(hc_driver *d, int p, int step, hc_fresh_fn fresh, void *fresh_ud, float *out)
{
    point *q = &d->pts[p];
    if (!q->pred) return hc_fail(HC_EINVAL, "%s: forecast at step %d, but the method computes every step", q->name, step);
    hc_step_ctx ctx = step_ctx(d, q, step, fresh, fresh_ud);
    return q->pred->type->predict(q->pred->state, &ctx, out);
}

hc_status hc_driver_forecast_prepare(hc_driver *d, int p, int step, int *ranged)
{
    point *q = &d->pts[p];
    *ranged = q->pred && (q->pred->type->caps & HC_PRED_RANGE);
    if (!*ranged) return HC_OK;
    hc_step_ctx ctx = step_ctx(d, q, step, NULL, NULL);
    return q->pred->type->prepare(q->pred->state, &ctx);
}

void hc_driver_forecast_range(const hc_driver *d, int p, size_t e0, size_t n, float *out)
{
    const hc_predictor *pr = d->pts[p].pred;
    pr->type->predict_range(pr->state, e0, n, out);
}

size_t hc_driver_cache_bytes(const hc_driver *d)
{
    if (d->n_full == d->S) return 0;
    size_t n = d->dropped_bytes;
    for (int p = 0; p < d->n_pts; p++)
        if (d->pts[p].pred) n += d->pts[p].pred->type->cache_bytes(d->pts[p].pred->state);
    return n;
}
