/* engines.c: the engine adapters of an experiment (exp_internal.h): typed
 * engine results in, cell documents out.
 *
 * Live cells run hc_live_compute, scored against the full-compute reference
 * cell with the same seed (held in memory once computed or loaded; its
 * samples.h5 otherwise), whatever their step count.  Replay cells are run
 * together: one hc_replay_compute over all their methods reads each
 * trajectory once; each cell gets its method's statistics and error curves
 * straight from the typed records. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exp_internal.h"
#include "live.h"
#include "metrics.h"
#include "replay.h"

static void put_num(cJSON *o, const char *k, double v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

/* ---- live ----------------------------------------------------------------------- */

static void live_opts(const hc_experiment *e, const exp_cell *c, const char *raw, hc_live_opts *o)
{
    hc_live_defaults(o);
    o->model_path = e->model;
    o->classifier_path = e->classifier;
    o->data_dir = e->data_dir;
    o->n = e->n;
    o->batch = e->batch;
    o->steps = c->steps;
    o->cfg = e->guidance;
    o->shift = e->shift;
    o->seed = c->seed;
    o->n_real = e->n_real;
    o->out_dir = raw;
    o->quiet = 1;
}

/* The finished full-compute cell that cell c is scored against: its
 * reference at other step counts, else the reference row's cell with the
 * same seed and steps; -1 if none is finished. */
static int reference_cell(const hc_experiment *e, const exp_cell *c)
{
    if (c->ref >= 0) return e->cells[c->ref].doc ? c->ref : -1;
    for (int k = 0; k < e->n_cells; k++) {
        const exp_cell *q = &e->cells[k];
        if (q != c && q->eng == HC_ENG_LIVE && e->rows[q->row].is_ref && q->seed == c->seed && q->steps == c->steps)
            return q->doc ? k : -1;
    }
    return -1;
}

/* Its samples: in memory, or read back from its samples.h5 (a resumed run). */
static hc_status reference_samples(hc_experiment *e, const char *dir, int k, const hc_live_opts *o,
                                   const hc_live_ref **out)
{
    exp_cell *q = &e->cells[k];
    *out = NULL;
    if (!q->samples) {
        char path[1200];
        snprintf(path, sizeof path, "%s/raw/%s/samples.h5", dir, q->id);
        if (access(path, R_OK) != 0) return HC_OK; /* gone: sample the reference here */
        hc_live_opts qo = *o;
        qo.steps = q->steps;
        int *labels = malloc((size_t)o->n * sizeof *labels);
        if (!labels) return hc_fail(HC_ENOMEM, "out of memory");
        hc_status s = HC_OK;
        /* the labels the reference was sampled with, from its provenance */
        hc_live_ref *r = NULL;
        cJSON *lab = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(q->doc, "engine_output"), "provenance"),
                "config"),
            "labels");
        if (cJSON_GetArraySize(lab) != o->n) s = hc_fail(HC_EFORMAT, "%s: cell %s has no labels", dir, q->id);
        for (int i = 0; s == HC_OK && i < o->n; i++) {
            const cJSON *x = cJSON_GetArrayItem(lab, i);
            if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) || x->valuedouble < 0 ||
                x->valuedouble > 1e6) /* checked before the cast */
                s = hc_fail(HC_EFORMAT, "%s: cell %s: label %d is not a class index", dir, q->id, i);
            else labels[i] = (int)x->valuedouble;
        }
        if (s == HC_OK) s = hc_live_read_reference(path, &qo, labels, &r);
        free(labels);
        HC_TRY(s);
        q->samples = r;
    }
    *out = q->samples;
    return HC_OK;
}

hc_status exp_run_live(hc_experiment *e, const char *dir, exp_cell *c, cJSON *cell)
{
    const exp_row *r = &e->rows[c->row];
    char raw[1200];
    snprintf(raw, sizeof raw, "%s/raw/%s", dir, c->id);
    hc_live_opts o;
    live_opts(e, c, raw, &o);
    int k = reference_cell(e, c);
    if (k >= 0) HC_TRY(reference_samples(e, dir, k, &o, &o.reference));
    if (c->ref >= 0 && !o.reference)
        return hc_fail(HC_EINVAL, "cell %s: its reference cell %s has no samples", c->id, e->cells[c->ref].id);
    hc_live_result *res = NULL;
    HC_TRY(hc_live_compute(&o, &r->method, &res));
    hc_status s = hc_live_write(&o, res);
    if (s == HC_OK) s = exp_live_samples(res, cell);
    cJSON *doc = s == HC_OK ? hc_live_document(res) : NULL;
    if (s == HC_OK && r->is_ref && !c->samples) { /* full compute is its own reference: kept for its dependants */
        c->samples = res->reference;
        res->reference = NULL;
    }
    hc_live_result_free(res);
    HC_TRY(s);
    cJSON *mt = cJSON_DetachItemFromObjectCaseSensitive(doc, "metrics");
    cJSON_AddItemToObject(cell, "metrics", mt);
    cJSON_AddItemToObject(cell, "engine_output", doc);
    cJSON_AddStringToObject(cell, "outputs", raw);
    if (c->ref >= 0) {
        /* scored against the engine's steps: those columns follow the run's
         * own, in the order results.csv has always listed them */
        static const char *const moved[] = {"rel_l2", "psnr", "ssim", "flops_full", "seconds_full", "flops_speedup",
                                            "wall_speedup", "class_acc_full"};
        for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++) {
            cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(mt, moved[i]);
            if (v) cJSON_AddItemToObject(mt, moved[i], v);
        }
        cJSON_AddStringToObject(mt, "reference", e->cells[c->ref].id);
    }
    return HC_OK;
}

/* ---- replay --------------------------------------------------------------------- */

#define CURVE_MAX 4096
#define CURVE_KINDS 32

typedef struct curve_acc {
    int n_kinds;
    char kinds[CURVE_KINDS][96];
    double *sum;  /* [2 axes][1 + kinds][CURVE_MAX][metrics] */
    long *cnt;    /* [2][1 + kinds][CURVE_MAX] */
} curve_acc;

#define CA_IDX(ax, k, x) (((size_t)(ax) * (CURVE_KINDS + 1) + (size_t)(k)) * CURVE_MAX + (size_t)(x))

/* "double/3/img_attn" -> "double/img_attn": the module name without its layer. */
static void module_kind(const char *name, char *out, size_t n)
{
    const char *s1 = strchr(name, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2) {
        snprintf(out, n, "%s", name);
        return;
    }
    snprintf(out, n, "%.*s%s", (int)(s1 - name), name, s2);
}

/* Mean of every metric per step and per horizon, over all modules ("all")
 * and per module kind, from one method's records. */
static hc_status replay_curves(const hc_replay_result *res, const hc_replay_method *rm, cJSON *cell)
{
    curve_acc a = {0};
    a.sum = calloc(CA_IDX(2, 0, 0) * HC_N_METRICS, sizeof *a.sum);
    a.cnt = calloc(CA_IDX(2, 0, 0) * HC_N_METRICS, sizeof *a.cnt);
    if (!a.sum || !a.cnt) {
        free(a.sum);
        free(a.cnt);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    hc_status s = HC_OK;
    for (size_t r = 0; r < rm->n_records && s == HC_OK; r++) {
        const hc_replay_record *rec = &rm->records[r];
        if (rec->step >= CURVE_MAX || rec->horizon >= CURVE_MAX) {
            s = hc_fail(HC_EINVAL, "step %d beyond the curve limit %d", rec->step, CURVE_MAX);
            break;
        }
        char kind[96];
        module_kind(res->files[rec->file].modules[rec->module], kind, sizeof kind);
        int ki = -1;
        for (int k = 0; k < a.n_kinds; k++)
            if (strcmp(a.kinds[k], kind) == 0) ki = k;
        if (ki < 0 && a.n_kinds < CURVE_KINDS) {
            ki = a.n_kinds++;
            snprintf(a.kinds[ki], sizeof a.kinds[ki], "%s", kind);
        }
        const int xs[2] = {rec->step, rec->horizon};
        for (int ax = 0; ax < 2; ax++)
            for (int kk = 0; kk < 2; kk++) {
                if (kk == 1 && ki < 0) continue;
                size_t i = CA_IDX(ax, kk == 0 ? 0 : ki + 1, xs[ax]);
                for (int met = 0; met < HC_N_METRICS; met++) {
                    a.sum[i * HC_N_METRICS + (size_t)met] += rec->v[met];
                    a.cnt[i * HC_N_METRICS + (size_t)met]++;
                }
            }
    }
    if (s == HC_OK) {
        cJSON *curves = cJSON_AddObjectToObject(cell, "curves");
        static const char *const axes[2] = {"step", "horizon"};
        for (int ax = 0; ax < 2; ax++) {
            cJSON *axo = cJSON_AddObjectToObject(curves, axes[ax]);
            for (int k = 0; k <= a.n_kinds; k++) {
                cJSON *ko = cJSON_AddObjectToObject(axo, k == 0 ? "all" : a.kinds[k - 1]);
                cJSON *xa = cJSON_AddArrayToObject(ko, "x");
                cJSON *ya[HC_N_METRICS];
                for (int m = 0; m < HC_N_METRICS; m++) ya[m] = cJSON_AddArrayToObject(ko, hc_metric_names[m]);
                for (int x = 0; x < CURVE_MAX; x++) {
                    size_t i = CA_IDX(ax, k, x);
                    if (!a.cnt[i * HC_N_METRICS]) continue;
                    cJSON_AddItemToArray(xa, cJSON_CreateNumber(x));
                    for (int m = 0; m < HC_N_METRICS; m++)
                        cJSON_AddItemToArray(ya[m], cJSON_CreateNumber(a.sum[i * HC_N_METRICS + (size_t)m] /
                                                                       (double)a.cnt[i * HC_N_METRICS + (size_t)m]));
                }
            }
        }
    }
    free(a.sum);
    free(a.cnt);
    return s;
}

/* One cell's document from its method's results; its own raw outputs. */
static hc_status replay_cell(const hc_experiment *e, const char *dir, const exp_cell *c, const hc_replay_result *res,
                             int m, cJSON *cell)
{
    const hc_replay_method *rm = &res->methods[m];
    char raw[1200];
    snprintf(raw, sizeof raw, "%s/raw/%s", dir, c->id);
    /* a one-method view of the shared pass */
    hc_replay_result one = {res->files, res->n_files, (hc_replay_method *)rm, 1};
    hc_replay_opts o = {.files = (const char *const *)e->files, .n_files = e->n_files, .methods = &rm->method,
                        .n_methods = 1, .out_dir = raw, .modules_glob = e->modules[0] ? e->modules : NULL, .quiet = 1};
    HC_TRY(hc_replay_write(&o, &one));
    cJSON *mt = cJSON_AddObjectToObject(cell, "metrics");
    for (int k = 0; k < HC_N_METRICS; k++) {
        const hc_replay_stat *b = &rm->stat[k];
        /* no cached step (full compute): the forecast is the truth */
        double none = k == HC_COSINE ? 1 : 0;
        put_num(mt, hc_metric_names[k], b->n > 0 ? b->mean : none);
        if (k == HC_REL_L2) {
            put_num(mt, "rel_l2_median", b->n > 0 ? b->median : 0);
            put_num(mt, "rel_l2_p95", b->n > 0 ? b->p95 : 0);
        }
    }
    put_num(mt, "flops_speedup", rm->flops_speedup);
    put_num(mt, "full_steps", rm->full_steps);
    put_num(mt, "steps", rm->steps);
    put_num(mt, "cache_mib", (double)rm->cache_bytes / 1048576.0);
    cJSON_AddItemToObject(cell, "engine_output", hc_replay_summary(&o, &one));
    cJSON_AddStringToObject(cell, "outputs", raw);
    HC_TRY(exp_replay_samples(res, rm, cell));
    return replay_curves(res, rm, cell);
}

hc_status exp_run_replay(hc_experiment *e, const char *dir, exp_cell *const *cells, int n, cJSON *const *docs)
{
    hc_method *ms = malloc((size_t)n * sizeof *ms);
    if (!ms) return hc_fail(HC_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) ms[i] = e->rows[cells[i]->row].method;
    hc_replay_opts o = {.files = (const char *const *)e->files, .n_files = e->n_files, .methods = ms, .n_methods = n,
                        .modules_glob = e->modules[0] ? e->modules : NULL, .quiet = 1};
    hc_replay_result *res = NULL;
    hc_status s = hc_replay_compute(&o, &res);
    for (int i = 0; i < n && s == HC_OK; i++) s = replay_cell(e, dir, cells[i], res, i, docs[i]);
    hc_replay_result_free(res);
    free(ms);
    return s;
}
