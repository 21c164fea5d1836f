/* replay.c: the open-loop replay engine (replay.h): files in, typed results out. */
#include "replay.h"

#include <fnmatch.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "cost.h"
#include "driver.h"
#include "memory.h"
#include "pool.h"
#include "rowq.h"
#include "traj.h"

/* ---- per-method accumulation ----------------------------------------------------- */

typedef struct macc {
    size_t cap;                      /* records capacity */
    double fsum[HC_N_METRICS];       /* current file's sums */
    size_t fn;
    double (*hsum)[HC_N_METRICS];    /* by horizon 0..nh-1 (horizons are < N) */
    size_t *hn;
    int nh;
    int files_seen;
} macc;

static hc_status push_record(hc_replay_method *rm, macc *a, const hc_replay_record *rec)
{
    if (rm->n_records == a->cap) {
        size_t nc = a->cap ? 2 * a->cap : 1024;
        hc_replay_record *nr = realloc(rm->records, nc * sizeof *nr);
        if (!nr) return hc_fail(HC_ENOMEM, "out of memory collecting metrics");
        rm->records = nr;
        a->cap = nc;
    }
    rm->records[rm->n_records++] = *rec;
    for (int k = 0; k < HC_N_METRICS; k++) {
        a->fsum[k] += rec->v[k];
        if (rec->horizon < a->nh) a->hsum[rec->horizon][k] += rec->v[k];
    }
    a->fn++;
    if (rec->horizon < a->nh) a->hn[rec->horizon]++;
    return HC_OK;
}

/* ---- one file --------------------------------------------------------------------------- */

typedef struct fresh_ud { const float *truth; size_t D; } fresh_ud;

/* Fresh tokens in replay: the recorded rows (open loop). */
static hc_status fresh_from_truth(void *ud, const int *tok, int n, float *rows)
{
    const fresh_ud *f = ud;
    for (int i = 0; i < n; i++)
        memcpy(rows + (size_t)i * f->D, f->truth + (size_t)tok[i] * f->D, f->D * sizeof *rows);
    return HC_OK;
}

static int selected(const hc_replay_opts *o, const hc_traj_entry *e)
{
    return !o->modules_glob || fnmatch(o->modules_glob, e->name, 0) == 0;
}

/* The model config in a file's provenance, priced by the model registry;
 * NULL when the file names no registered model. */
static hc_cost *file_cost(const char *path, const hc_traj *t)
{
    const char *prov = hc_traj_get_meta(t)->provenance;
    cJSON *pj = prov ? cJSON_Parse(prov) : NULL;
    const cJSON *cfgj = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pj, "model_metadata"), "config");
    hc_cost *c = NULL;
    if (cfgj && hc_cost_from_config(path, cfgj, &c) != HC_OK) c = NULL;
    hc_errclear();
    cJSON_Delete(pj);
    return c;
}

/* Clustering inputs of a file: per distinct token count of the selected
 * modules, the last /hidden dataset with that count (entry index in
 * hidden_of[j]).  input_of[i] is the input of feature i, or HC_CLUSTER_OWN.
 * Returns the number of inputs; the same for every method of the file. */
static int map_inputs(const hc_replay_opts *o, const hc_traj *t, int *input_of, long *hidden_of)
{
    int n_in = 0;
    for (size_t i = 0; i < hc_traj_num_features(t); i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        input_of[i] = HC_CLUSTER_OWN;
        if (!selected(o, e)) continue;
        long src = -1;
        for (size_t h = 0; h < hc_traj_num_entries(t); h++) {
            const hc_traj_entry *x = hc_traj_entry_at(t, h);
            if (x->kind == HC_ENTRY_HIDDEN && x->dims[1] == e->dims[1]) src = (long)h;
        }
        if (src < 0) continue;
        for (int j = 0; j < n_in && input_of[i] == HC_CLUSTER_OWN; j++)
            if (hidden_of[j] == src) input_of[i] = j;
        if (input_of[i] == HC_CLUSTER_OWN) {
            input_of[i] = n_in;
            hidden_of[n_in++] = src;
        }
    }
    return n_in;
}

/* Cluster every input at every full step (labels are kept per full step);
 * rows with NaN/Inf (zeroed by the reader) are counted in *zeroed. */
static hc_status cluster_inputs(hc_traj *t, hc_driver *d, const long *hidden_of, int n_in, float *row, size_t *zeroed)
{
    if (!(hc_driver_caps(d) & HC_PRED_LABELS)) return HC_OK;
    for (int j = 0; j < n_in; j++)
        for (int s = 0; s < hc_driver_steps(d); s++) {
            if (!hc_driver_is_full(d, s)) continue;
            size_t bad = 0;
            HC_TRY(hc_traj_read_row_counted(t, (size_t)hidden_of[j], s, row, &bad));
            *zeroed += bad > 0;
            hc_driver_cluster(d, j, s, row);
        }
    return HC_OK;
}

/* A dynamic policy's recorded signals, then every step decided open loop
 * (a fixed schedule: nothing to do). */
static hc_status policy_signals(hc_traj *t, hc_driver *d)
{
    const hc_method *m = hc_driver_method(d);
    const int S = hc_driver_steps(d);
    unsigned needs = hc_policy_needs(&m->policy);
    for (int g = 0; g < HC_SIG_COUNT; g++) {
        if (!(needs & (1u << g))) continue;
        int64_t cols = hc_signal_is_matrix((hc_signal)g) ? S : 1;
        double *v = malloc((size_t)S * (size_t)cols * sizeof *v);
        if (!v) return hc_fail(HC_ENOMEM, "out of memory");
        hc_status st = hc_traj_read_signal(t, hc_signal_name((hc_signal)g), cols, v);
        for (int s = 0; st == HC_OK && s < S; s++)
            for (int64_t c = 0; c < cols; c++) hc_driver_set_signal(d, (hc_signal)g, s, cols > 1 ? (int)c : -1, v[(size_t)s * cols + c]);
        free(v);
        HC_TRY(st);
    }
    hc_driver_decide(d, S - 1);
    return HC_OK;
}

typedef struct filerun {
    const hc_replay_opts *o;
    hc_replay_result *r;
    macc *acc;
    int f;
    int threads;                 /* scoring threads (pool width) */
    /* working set of replay_step, allocated per file */
    int *scored, *ranged;        /* [methods] */
    const float **pf;            /* [methods]: whole-row forecasts */
    const float **pb;            /* [threads][methods]: a block's forecasts */
    float *blk;                  /* [threads][methods][HC_METRIC_BLOCK] */
    hc_msum *bs;                 /* [blocks][methods] */
    double (*bt)[2];             /* [blocks] */
    hc_msum *sum;                /* [methods]: a row's sums */
} filerun;

/* The scoring pass of one row: blocks of HC_METRIC_BLOCK elements, a
 * contiguous range of them per pool thread.  In a block every scored
 * method's forecast comes from its range forecast (into the thread's
 * block buffer, in cache) or from its whole-row forecast, and the block is
 * scored against the truth; block values are kept per block and added in
 * order by the caller, so the bits do not depend on the thread count. */
typedef struct score_job {
    filerun *fr;
    hc_driver **drv;
    int p, ns, w;
    const float *truth;
    size_t n;
} score_job;

static void score_blocks(void *ud, int t)
{
    const score_job *j = ud;
    const filerun *fr = j->fr;
    const int M = fr->o->n_methods, ns = j->ns;
    const size_t B = HC_METRIC_BLOCK, nb = (j->n + B - 1) / B;
    const size_t b0 = nb * (size_t)t / (size_t)j->w, b1 = nb * (size_t)(t + 1) / (size_t)j->w;
    float *buf = fr->blk + (size_t)t * (size_t)M * B;
    const float **pb = fr->pb + (size_t)t * (size_t)M;
    for (size_t b = b0; b < b1; b++) {
        const size_t e0 = b * B, len = j->n - e0 < B ? j->n - e0 : B;
        for (int k = 0; k < ns; k++) {
            if (fr->ranged[k]) {
                hc_driver_forecast_range(j->drv[fr->scored[k]], j->p, e0, len, buf + (size_t)k * B);
                pb[k] = buf + (size_t)k * B;
            } else {
                pb[k] = fr->pf[k] + e0;
            }
        }
        hc_metrics_block(pb, ns, j->truth + e0, len, fr->bs + b * (size_t)M, fr->bt[b]);
    }
}

/* One step s of point p of module mi: every method computes (observes the
 * truth) or forecasts -- in ranges where its type can (scored block by
 * block, the forecast never written whole), else whole into fc[m] -- and
 * every forecast is scored in one pass over the truth. */
static hc_status replay_step(filerun *fr, hc_driver **drv, int p, int mi, int s, const float *truth, size_t bad,
                             size_t n, float *const *fc, fresh_ud *fud)
{
    const hc_replay_opts *o = fr->o;
    const int M = o->n_methods;
    int ns = 0;
    for (int m = 0; m < M; m++) {
        hc_replay_method *rm = &fr->r->methods[m];
        if (hc_driver_compute(drv[m], p, s)) {
            rm->zeroed_rows[fr->f] += bad > 0;
            HC_TRY(hc_driver_observe(drv[m], p, s, truth));
            continue;
        }
        /* forecast even where unscored: the predictor's state (ClusCa's
         * random fresh tokens) moves on as it would */
        int ranged = 0;
        HC_TRY(hc_driver_forecast_prepare(drv[m], p, s, &ranged));
        if (!ranged) HC_TRY(hc_driver_forecast(drv[m], p, s, fresh_from_truth, fud, fc[m]));
        if (bad && o->nonfinite == HC_NONFINITE_SKIP) {
            rm->skipped_rows[fr->f]++;
            continue;
        }
        rm->zeroed_rows[fr->f] += bad > 0;
        fr->ranged[ns] = ranged;
        fr->pf[ns] = fc[m];
        fr->scored[ns++] = m;
    }
    if (ns == 0) return HC_OK;
    const size_t B = HC_METRIC_BLOCK, nb = (n + B - 1) / B;
    score_job job = {fr, drv, p, ns, fr->threads, truth, n};
    if ((size_t)job.w > nb) job.w = nb > 0 ? (int)nb : 1;
    hc_pool_run(job.w, score_blocks, &job);
    hc_msum *acc = fr->sum;
    double ts[2] = {0, 0};
    memset(acc, 0, (size_t)ns * sizeof *acc);
    for (size_t b = 0; b < nb; b++) {
        for (int k = 0; k < ns; k++) hc_msum_add(&acc[k], &fr->bs[b * (size_t)M + (size_t)k]);
        ts[0] += fr->bt[b][0];
        ts[1] += fr->bt[b][1];
    }
    for (int k = 0; k < ns; k++) {
        const int m = fr->scored[k];
        hc_replay_record rec = {.file = fr->f, .module = mi, .step = s, .horizon = hc_driver_horizon(drv[m], s)};
        hc_metrics_finish(&acc[k], ts, rec.v);
        HC_TRY(push_record(&fr->r->methods[m], &fr->acc[m], &rec));
    }
    return HC_OK;
}

/* Every selected module: each step read once (from the queue q, in this
 * order), every method driven. */
static hc_status replay_modules_q(filerun *fr, hc_traj *t, hc_driver **drv, const int *input_of, hc_rowq *q,
                                  float *const *fc)
{
    const hc_replay_opts *o = fr->o;
    hc_replay_file *rf = &fr->r->files[fr->f];
    const int M = o->n_methods, S = hc_traj_get_meta(t)->num_steps;
    for (size_t i = 0; i < hc_traj_num_features(t); i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        if (!selected(o, e)) continue;
        int mi = rf->n_modules;
        if (!(rf->modules[mi] = strdup(e->name))) return hc_fail(HC_ENOMEM, "out of memory");
        rf->n_modules++;
        size_t T = (size_t)e->dims[1], D = (size_t)e->dims[2];
        hc_driver_point pt = {.name = e->name, .module = e->module, .tokens = T, .channels = D, .fresh = 1,
                              .cluster = input_of[i], .id = (unsigned long)i, .head = e->layer == 0};
        int p = -1;
        for (int m = 0; m < M; m++) HC_TRY(hc_driver_add_point(drv[m], &pt, &p));
        for (int s = 0; s < S; s++) {
            const float *truth;
            size_t bad = 0; /* NaN/Inf values of the row, set to 0 by the reader (zero and skip) */
            HC_TRY(hc_rowq_next(q, &truth, &bad));
            fresh_ud fud = {truth, D};
            HC_TRY(replay_step(fr, drv, p, mi, s, truth, bad, T * D, fc, &fud));
        }
        for (int m = 0; m < M; m++) hc_driver_drop_point(drv[m], p);
    }
    return HC_OK;
}

/* The selected modules' rows through a row queue (a reader thread unless
 * o->serial): no HDF5 call on this thread until the queue is closed. */
static hc_status replay_modules(filerun *fr, hc_traj *t, hc_driver **drv, const int *input_of, size_t row_max,
                                float *const *fc)
{
    const hc_replay_opts *o = fr->o;
    size_t *ents = malloc((hc_traj_num_features(t) + 1) * sizeof *ents), n = 0;
    if (!ents) return hc_fail(HC_ENOMEM, "out of memory");
    for (size_t i = 0; i < hc_traj_num_features(t); i++)
        if (selected(o, hc_traj_entry_at(t, i))) ents[n++] = i;
    hc_rowq *q = NULL;
    const int threaded = !o->serial && hc_rowq_default_threaded();
    hc_status st = hc_rowq_open(t, ents, n, hc_traj_get_meta(t)->num_steps, row_max, threaded, &q);
    if (st == HC_OK) st = replay_modules_q(fr, t, drv, input_of, q, fc);
    hc_rowq_close(q);
    free(ents);
    return st;
}

/* Per-method outcome of one file: steps, cache, FLOPs, file means. */
static hc_status finish_file(filerun *fr, hc_driver *const *drv, hc_cost *cost)
{
    for (int m = 0; m < fr->o->n_methods; m++) {
        hc_replay_method *rm = &fr->r->methods[m];
        macc *a = &fr->acc[m];
        const hc_driver *d = drv[m];
        const int S = hc_driver_steps(d);
        rm->steps = S;
        rm->full_steps = hc_driver_full_steps(d);
        rm->cache_bytes = hc_driver_cache_bytes(d);
        rm->cluster_sources |= hc_driver_cluster_sources(d);
        rm->analytic = (rm->analytic || !a->files_seen) && cost != NULL;
        a->files_seen = 1;
        if (rm->analytic) {
            /* MACs are integers below 2^53: every sum here is exact */
            double full = S * hc_cost_full(cost, 1), run = 0;
            for (int s = 0; s < S; s++) run += hc_cost_step(cost, d, 1, s);
            rm->flops = 2 * run;
            rm->flops_speedup = full / run;
        } else {
            rm->flops = 0;
            rm->flops_speedup = rm->full_steps ? (double)S / rm->full_steps : 0;
        }
        for (int k = 0; k < HC_N_METRICS; k++) /* no cached step (N=1): every output is the true feature */
            rm->stat[k].file_means[fr->f] = a->fn ? a->fsum[k] / (double)a->fn : (k == HC_COSINE ? 1.0 : 0.0);
        memset(a->fsum, 0, sizeof a->fsum);
        a->fn = 0;
    }
    return HC_OK;
}

static hc_status replay_file(filerun *fr, const char *path)
{
    const hc_replay_opts *o = fr->o;
    const int M = o->n_methods;
    hc_traj *t = NULL;
    const hc_traj_open_opts to = {o->nonfinite};
    HC_TRY(hc_traj_open_with(path, &to, &t));
    const int S = hc_traj_get_meta(t)->num_steps;
    const size_t nf = hc_traj_num_features(t);
    hc_replay_file *rf = &fr->r->files[fr->f];
    rf->nonfinite_times = hc_traj_get_meta(t)->nonfinite_times;
    hc_status st = HC_OK;
    hc_driver **drv = calloc((size_t)M, sizeof *drv);
    int *input_of = malloc((nf + 1) * sizeof *input_of);
    long *hidden_of = malloc((nf + 1) * sizeof *hidden_of);
    float *truth = NULL, *fcs = NULL, **fc = calloc((size_t)M, sizeof *fc);
    hc_cost *cost = file_cost(path, t);
    size_t maxTD = 0;
    for (size_t i = 0; i < hc_traj_num_entries(t); i++)
        if (hc_traj_entry_at(t, i)->kind != HC_ENTRY_LATENT && hc_traj_entry_at(t, i)->row_elems > maxTD)
            maxTD = hc_traj_entry_at(t, i)->row_elems;
    truth = malloc(maxTD * sizeof *truth);
    /* one step of one module per method: the forecasts scored together */
    fcs = malloc((size_t)M * maxTD * sizeof *fcs);
    for (int m = 0; fc && fcs && m < M; m++) fc[m] = fcs + (size_t)m * maxTD;
    const size_t W = (size_t)fr->threads, nb = (maxTD + HC_METRIC_BLOCK - 1) / HC_METRIC_BLOCK + 1;
    fr->scored = malloc((size_t)M * sizeof *fr->scored);
    fr->ranged = malloc((size_t)M * sizeof *fr->ranged);
    fr->pf = malloc((size_t)M * sizeof *fr->pf);
    fr->pb = malloc(W * (size_t)M * sizeof *fr->pb);
    fr->blk = malloc(W * (size_t)M * HC_METRIC_BLOCK * sizeof *fr->blk);
    fr->bs = malloc(nb * (size_t)M * sizeof *fr->bs);
    fr->bt = malloc(nb * sizeof *fr->bt);
    fr->sum = malloc((size_t)M * sizeof *fr->sum);
    rf->modules = calloc(nf + 1, sizeof *rf->modules);
    if (!(rf->path = strdup(path)) || !drv || !input_of || !hidden_of || !truth || !fc || !fcs || !rf->modules ||
        !fr->scored || !fr->ranged || !fr->pf || !fr->pb || !fr->blk || !fr->bs || !fr->bt || !fr->sum)
        st = hc_fail(HC_ENOMEM, "out of memory for %d steps of %zu floats", M + 1, maxTD);
    const int n_in = st == HC_OK ? map_inputs(o, t, input_of, hidden_of) : 0;
    for (int m = 0; m < M && st == HC_OK; m++) {
        if ((st = hc_driver_alloc(&o->methods[m], S, 1, &drv[m])) != HC_OK) break;
        if ((st = policy_signals(t, drv[m])) != HC_OK) break;
        for (int j = 0; j < n_in && st == HC_OK; j++) {
            const hc_traj_entry *x = hc_traj_entry_at(t, (size_t)hidden_of[j]);
            st = hc_driver_add_input(drv[m], (size_t)x->dims[1], (size_t)x->dims[2], NULL);
        }
        if (st == HC_OK) st = hc_driver_begin(drv[m]);
        if (st == HC_OK) st = cluster_inputs(t, drv[m], hidden_of, n_in, truth, &fr->r->methods[m].zeroed_rows[fr->f]);
    }
    free(truth); /* the clustering inputs' scratch row; the queue has its own */
    truth = NULL;
    if (st == HC_OK) st = replay_modules(fr, t, drv, input_of, maxTD, fc);
    if (st == HC_OK && rf->n_modules == 0)
        st = hc_fail(HC_EINVAL, "%s: no feature module matches '%s'", path, o->modules_glob ? o->modules_glob : "*");
    if (st == HC_OK) st = finish_file(fr, drv, cost);
    for (int m = 0; drv && m < M; m++) hc_driver_free(drv[m]);
    free(drv);
    free(input_of);
    free(hidden_of);
    free(truth);
    free(fc);
    free(fcs);
    free(fr->scored);
    free(fr->ranged);
    free(fr->pf);
    free(fr->pb);
    free(fr->blk);
    free(fr->bs);
    free(fr->bt);
    free(fr->sum);
    hc_cost_free(cost);
    hc_traj_close(t);
    return st;
}

/* ---- statistics over records ------------------------------------------------------------ */

static hc_status method_stats(hc_replay_method *rm, const macc *a, int n_files)
{
    double *v = malloc((rm->n_records + 1) * sizeof *v);
    if (!v) return hc_fail(HC_ENOMEM, "out of memory");
    for (int k = 0; k < HC_N_METRICS; k++) {
        hc_replay_stat *st = &rm->stat[k];
        size_t n = rm->n_records;
        for (size_t i = 0; i < n; i++) v[i] = rm->records[i].v[k];
        st->n = n;
        if (n) {
            gsl_sort(v, 1, n);
            st->mean = gsl_stats_mean(v, 1, n);
            st->median = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.5);
            st->p95 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.95);
        }
        st->has_ci = n_files >= 2;
        if (st->has_ci) {
            double mu = gsl_stats_mean(st->file_means, 1, (size_t)n_files);
            double sd = gsl_stats_sd(st->file_means, 1, (size_t)n_files);
            double half = gsl_cdf_tdist_Pinv(0.975, (double)(n_files - 1)) * sd / sqrt((double)n_files);
            st->files_mean = mu;
            st->ci95[0] = mu - half;
            st->ci95[1] = mu + half;
        }
    }
    free(v);
    rm->by_horizon = calloc((size_t)a->nh + 1, sizeof *rm->by_horizon);
    if (!rm->by_horizon) return hc_fail(HC_ENOMEM, "out of memory");
    for (int h = 1; h < a->nh; h++) {
        if (!a->hn[h]) continue;
        hc_replay_horizon *bh = &rm->by_horizon[rm->n_horizons++];
        bh->horizon = h;
        bh->n = a->hn[h];
        for (int k = 0; k < HC_N_METRICS; k++) bh->mean[k] = a->hsum[h][k] / (double)a->hn[h];
    }
    return HC_OK;
}

void hc_replay_result_free(hc_replay_result *r)
{
    if (!r) return;
    for (int f = 0; r->files && f < r->n_files; f++) {
        free(r->files[f].path);
        for (int i = 0; r->files[f].modules && i < r->files[f].n_modules; i++) free(r->files[f].modules[i]);
        free(r->files[f].modules);
    }
    free(r->files);
    for (int m = 0; r->methods && m < r->n_methods; m++) {
        free(r->methods[m].records);
        free(r->methods[m].by_horizon);
        free(r->methods[m].zeroed_rows);
        free(r->methods[m].skipped_rows);
        for (int k = 0; k < HC_N_METRICS; k++) free(r->methods[m].stat[k].file_means);
    }
    free(r->methods);
    free(r);
}

/* ---- memory, before allocating ----------------------------------------------------------- */

size_t hc_replay_method_bytes(const hc_method *m, size_t T, size_t D)
{
    unsigned caps = hc_method_caps(m);
    if (caps & HC_PRED_NO_CACHE) return 0;
    const size_t f = sizeof(float), K = (size_t)(m->K > 0 ? m->K : 1);
    size_t orders = (size_t)(m->order > 0 ? m->order : 0) + 2;
    /* snapshot-window types: spectrum keeps `window` snapshots, dmd `snaps`
     * plus its Taylor fallback (the fields are 0 for every other type) */
    if ((size_t)m->window + 1 > orders) orders = (size_t)m->window + 1;
    if (m->snaps > 0 && (size_t)m->snaps + orders > orders) orders += (size_t)m->snaps;
    size_t b = orders * (T * D + 64) * f; /* + padding per order */
    if (caps & (HC_PRED_FRESH | HC_PRED_LABELS))
        b += K * D * f + 4 * K * sizeof(size_t) /* fresh rows, token lists */
             + 2 * K * D * f + K * sizeof(int) + T * (sizeof(int) + sizeof(size_t)); /* own k-means */
    return b + 4096; /* the state structs */
}

size_t hc_replay_memory_limit(const hc_replay_opts *o) { return hc_memory_cap(o->max_memory); }

void hc_replay_estimate(const hc_replay_opts *o, const hc_traj *t, size_t records_before, hc_replay_need *n)
{
    memset(n, 0, sizeof *n);
    n->module = -1;
    const size_t S = (size_t)hc_traj_get_meta(t)->num_steps, f = sizeof(float);
    size_t max_row = 0, selected_modules = 0;
    for (size_t i = 0; i < hc_traj_num_entries(t); i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        if (e->kind == HC_ENTRY_LATENT) continue;
        if (e->row_elems > max_row) max_row = e->row_elems;
        if (e->kind == HC_ENTRY_HIDDEN) { /* a clustering input of every labelling method */
            for (int m = 0; m < o->n_methods; m++)
                if (hc_method_caps(&o->methods[m]) & HC_PRED_LABELS)
                    n->labels += S * (size_t)e->dims[1] * sizeof(int) + hc_replay_method_bytes(&o->methods[m], (size_t)e->dims[1], (size_t)e->dims[2]);
            continue;
        }
        if (!selected(o, e)) continue;
        selected_modules++;
        size_t c = 0;
        for (int m = 0; m < o->n_methods; m++) c += hc_replay_method_bytes(&o->methods[m], (size_t)e->dims[1], (size_t)e->dims[2]);
        if (n->module < 0 || c > n->caches) {
            n->caches = c;
            n->module = (long)i;
        }
    }
    /* the read queue's two rows, and a forecast per method (scored together) */
    n->step_buffers = (2 + (size_t)o->n_methods) * max_row * f;
    n->results = records_before + S * selected_modules * (size_t)o->n_methods * (sizeof(hc_replay_record) + sizeof(double));
    n->total = n->step_buffers + n->caches + n->labels + n->results;
}


static hc_status check_memory(const hc_replay_opts *o, const hc_traj *t, const hc_replay_need *n)
{
    size_t limit = hc_replay_memory_limit(o);
    if (n->total <= limit) return HC_OK;
    char tot[32], lim[32], sb[32], cb[32], lb[32], rb[32];
    hc_format_bytes(n->total, tot, sizeof tot);
    hc_format_bytes(limit, lim, sizeof lim);
    hc_format_bytes(n->step_buffers, sb, sizeof sb);
    hc_format_bytes(n->caches, cb, sizeof cb);
    hc_format_bytes(n->labels, lb, sizeof lb);
    hc_format_bytes(n->results, rb, sizeof rb);
    const hc_traj_entry *e = hc_traj_entry_at(t, (size_t)n->module);
    return hc_fail(HC_ENOMEM,
                   "%s: module %s [%lld, %lld, %lld] needs about %s for replay (step buffers %s, predictor caches of %d "
                   "method%s %s, clustering %s, results %s), over the memory limit of %s (%s)",
                   hc_traj_path(t), e->name, (long long)e->dims[0], (long long)e->dims[1], (long long)e->dims[2], tot, sb,
                   o->n_methods, o->n_methods == 1 ? "" : "s", cb, lb, rb, lim,
                   o->max_memory ? "--max-memory" : "half of physical memory; --max-memory raises it");
}

/* Validate every file, the module filter and the memory each file needs
 * before any work. */
static hc_status validate(const hc_replay_opts *o)
{
    if (o->n_files < 1) return hc_fail(HC_EINVAL, "no trajectory file given (--traj FILE...)");
    if (o->n_methods < 1) return hc_fail(HC_EINVAL, "no method given (--method SPEC...)");
    size_t records = 0;
    for (int f = 0; f < o->n_files; f++) {
        hc_traj *t;
        const hc_traj_open_opts to = {o->nonfinite};
        HC_TRY(hc_traj_open_with(o->files[f], &to, &t));
        int hit = 0;
        for (size_t i = 0; i < hc_traj_num_features(t) && !hit; i++) hit = selected(o, hc_traj_entry_at(t, i));
        hc_replay_need need;
        hc_replay_estimate(o, t, records, &need);
        records = need.results;
        hc_status st = hit ? check_memory(o, t, &need) : HC_OK;
        hc_traj_close(t);
        HC_TRY(st);
        if (!hit) return hc_fail(HC_EINVAL, "%s: no feature module matches '%s'", o->files[f], o->modules_glob);
    }
    return HC_OK;
}

hc_status hc_replay_compute(const hc_replay_opts *o, hc_replay_result **out)
{
    *out = NULL;
    HC_TRY(validate(o));
    const int M = o->n_methods;
    hc_replay_result *r = calloc(1, sizeof *r);
    macc *acc = calloc((size_t)M, sizeof *acc);
    hc_status st = HC_OK;
    if (r) {
        r->files = calloc((size_t)o->n_files, sizeof *r->files);
        r->methods = calloc((size_t)M, sizeof *r->methods);
    }
    if (!r || !acc || !r->files || !r->methods) st = hc_fail(HC_ENOMEM, "out of memory");
    if (st == HC_OK) {
        r->n_files = o->n_files;
        r->n_methods = M;
    }
    for (int m = 0; m < M && st == HC_OK; m++) { /* a horizon is below the interval N */
        r->methods[m].method = o->methods[m];
        acc[m].nh = hc_method_max_horizon(&o->methods[m]) + 1;
        acc[m].hsum = calloc((size_t)acc[m].nh, sizeof *acc[m].hsum);
        acc[m].hn = calloc((size_t)acc[m].nh, sizeof *acc[m].hn);
        for (int k = 0; k < HC_N_METRICS; k++)
            if (!(r->methods[m].stat[k].file_means = calloc((size_t)o->n_files, sizeof(double)))) acc[m].hn = NULL;
        r->methods[m].zeroed_rows = calloc((size_t)o->n_files, sizeof(size_t));
        r->methods[m].skipped_rows = calloc((size_t)o->n_files, sizeof(size_t));
        if (!r->methods[m].zeroed_rows || !r->methods[m].skipped_rows) acc[m].hn = NULL;
        if (!acc[m].hsum || !acc[m].hn) st = hc_fail(HC_ENOMEM, "out of memory");
    }
    int threads = o->threads > 0 ? o->threads : hc_pool_cores();
    if (threads > HC_POOL_MAX) threads = HC_POOL_MAX;
    const int width = hc_pool_width();
    hc_pool_set_width(threads); /* a whole-row forecast or an update splits its rows too */
    for (int f = 0; f < o->n_files && st == HC_OK; f++) {
        if (!o->quiet) fprintf(stderr, "replay: [%d/%d] %s\n", f + 1, o->n_files, o->files[f]);
        filerun fr = {.o = o, .r = r, .acc = acc, .f = f, .threads = threads};
        st = replay_file(&fr, o->files[f]);
    }
    hc_pool_set_width(width);
    for (int m = 0; m < M && st == HC_OK; m++) st = method_stats(&r->methods[m], &acc[m], o->n_files);
    for (int m = 0; acc && m < M; m++) {
        free(acc[m].hsum);
        free(acc[m].hn);
    }
    free(acc);
    if (st != HC_OK) {
        hc_replay_result_free(r);
        return st;
    }
    *out = r;
    return HC_OK;
}
