/* engines.c: the engine adapters of an experiment (one per engine: a cell
 * in, its cell document out; see exp_internal.h).  Live cells run
 * hc_live_sample, those at other step counts are scored against the
 * full-compute reference with the same seed; replay cells run
 * hc_replay_run and average its long-form results into error curves. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "exp_internal.h"
#include "live.h"
#include "metrics.h"
#include "quality.h"
#include "replay.h"

static void put_num(cJSON *o, const char *k, double v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static hc_status read_samples(const char *path, float **out, hsize_t dims[4])
{
    *out = NULL;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return hc_fail(HC_EIO, "%s: cannot open", path);
    int rank = 0;
    hc_status s = HC_OK;
    if (H5LTget_dataset_ndims(f, "/samples", &rank) < 0 || rank != 4 ||
        H5LTget_dataset_info(f, "/samples", dims, NULL, NULL) < 0)
        s = hc_fail(HC_EFORMAT, "%s: no [n, C, H, W] /samples dataset", path);
    if (s == HC_OK) {
        size_t n = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]);
        *out = malloc(n * sizeof **out);
        if (!*out) s = hc_fail(HC_ENOMEM, "out of memory");
        else if (H5LTread_dataset_float(f, "/samples", *out) < 0) s = hc_fail(HC_EIO, "%s: cannot read /samples", path);
    }
    H5Fclose(f);
    if (s != HC_OK) {
        free(*out);
        *out = NULL;
    }
    return s;
}

/* Fidelity and speedups of a live cell at other step counts against the
 * reference cell (full compute at the engine's steps, same seed and noise):
 * the same definitions as live.c. */
static hc_status score_against_ref(const char *dir, const exp_cell *c, const exp_cell *ref, cJSON *mt)
{
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s/raw/%s/samples.h5", dir, c->id);
    snprintf(b, sizeof b, "%s/raw/%s/samples.h5", dir, ref->id);
    float *x = NULL, *y = NULL;
    hsize_t dx[4], dy[4];
    hc_status s = read_samples(a, &x, dx);
    if (s == HC_OK) s = read_samples(b, &y, dy);
    if (s == HC_OK && memcmp(dx, dy, sizeof dx) != 0) s = hc_fail(HC_EFORMAT, "%s and %s: sample shapes differ", a, b);
    if (s == HC_OK) {
        size_t img = (size_t)(dx[1] * dx[2] * dx[3]);
        int n = (int)dx[0], C = (int)dx[1], H = (int)dx[2], W = (int)dx[3];
        double rl2 = 0, psnr = 0, ssim = 0;
        for (int i = 0; i < n; i++) {
            const float *p = x + (size_t)i * img, *q = y + (size_t)i * img;
            double d2 = 0, r2 = 0;
            for (size_t k = 0; k < img; k++) {
                d2 += ((double)p[k] - q[k]) * ((double)p[k] - q[k]);
                r2 += (double)q[k] * q[k];
            }
            rl2 += sqrt(d2 / fmax(r2, 1e-30));
            psnr += hc_psnr(p, q, img);
            double ss = 0;
            for (int ch = 0; ch < C; ch++) ss += hc_ssim(p + (size_t)ch * H * W, q + (size_t)ch * H * W, H, W);
            ssim += ss / C;
        }
        const cJSON *rm = cJSON_GetObjectItemCaseSensitive(ref->doc, "metrics");
        put_num(mt, "rel_l2", rl2 / n);
        put_num(mt, "psnr", psnr / n);
        put_num(mt, "ssim", ssim / n);
        put_num(mt, "flops_full", jnum(rm, "flops"));
        put_num(mt, "seconds_full", jnum(rm, "seconds"));
        put_num(mt, "flops_speedup", jnum(rm, "flops") / jnum(mt, "flops"));
        put_num(mt, "wall_speedup", jnum(rm, "seconds") / jnum(mt, "seconds"));
        if (cJSON_GetObjectItemCaseSensitive(rm, "class_acc")) put_num(mt, "class_acc_full", jnum(rm, "class_acc"));
        cJSON_AddStringToObject(mt, "reference", ref->id);
    }
    free(x);
    free(y);
    return s;
}

hc_status exp_run_live(const hc_experiment *e, const char *dir, const exp_cell *c, cJSON *cell)
{
    const exp_row *r = &e->rows[c->row];
    char raw[1200];
    snprintf(raw, sizeof raw, "%s/raw/%s", dir, c->id);
    hc_live_opts o;
    hc_live_defaults(&o);
    o.model_path = e->model;
    o.classifier_path = e->classifier;
    o.data_dir = e->data_dir;
    o.n = e->n;
    o.batch = e->batch;
    o.steps = c->steps;
    o.cfg = e->guidance;
    o.shift = e->shift;
    o.seed = c->seed;
    o.n_real = e->n_real;
    o.out_dir = raw;
    o.quiet = 1;
    /* reuse the finished full-compute cell with the same seed and steps as
     * this cell's reference instead of sampling it again */
    char refpath[1200];
    for (int k = 0; k < e->n_cells; k++) {
        const exp_cell *q = &e->cells[k];
        if (q == c || q->eng != HC_ENG_LIVE || !e->rows[q->row].is_ref || q->seed != c->seed || q->steps != c->steps ||
            !q->doc)
            continue;
        snprintf(refpath, sizeof refpath, "%s/raw/%s/samples.h5", dir, q->id);
        if (access(refpath, R_OK) == 0) o.reference_path = refpath;
        break;
    }
    cJSON *doc = NULL;
    HC_TRY(hc_live_sample(&o, &r->method, &doc));
    cJSON *mt = cJSON_DetachItemFromObjectCaseSensitive(doc, "metrics");
    if (!mt) mt = cJSON_CreateObject();
    cJSON_AddItemToObject(cell, "metrics", mt);
    cJSON_AddItemToObject(cell, "engine_output", doc);
    cJSON_AddStringToObject(cell, "outputs", raw);
    if (c->ref >= 0) return score_against_ref(dir, c, &e->cells[c->ref], mt);
    return HC_OK;
}

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

/* Per-step and per-horizon means from the replay's long-form results.csv
 * (method,file,module,step,horizon,metric,value; the method spec and file
 * may contain commas, so fields are taken from the right). */
static hc_status replay_curves(const char *csv, cJSON *cell)
{
    FILE *f = fopen(csv, "r");
    if (!f) return hc_fail(HC_EIO, "%s: cannot open: %s", csv, strerror(errno));
    curve_acc a = {0};
    a.sum = calloc(CA_IDX(2, 0, 0) * HC_N_METRICS, sizeof *a.sum);
    a.cnt = calloc(CA_IDX(2, 0, 0) * HC_N_METRICS, sizeof *a.cnt);
    hc_status s = HC_OK;
    if (!a.sum || !a.cnt) s = hc_fail(HC_ENOMEM, "out of memory");
    char line[4096];
    int lineno = 0;
    while (s == HC_OK && fgets(line, sizeof line, f)) {
        if (lineno++ == 0) continue;
        char *fld[5];
        char *end = line + strlen(line);
        while (end > line && (end[-1] == '\n' || end[-1] == '\r')) *--end = 0;
        int ok = 1;
        for (int k = 4; k >= 0 && ok; k--) {
            char *comma = strrchr(line, ',');
            if (!comma) ok = 0;
            else {
                fld[k] = comma + 1;
                *comma = 0;
            }
        }
        /* fld: module, step, horizon, metric, value */
        int met = -1;
        for (int k = 0; ok && k < HC_N_METRICS; k++)
            if (strcmp(fld[3], hc_metric_names[k]) == 0) met = k;
        char *e1, *e2;
        long step = ok ? strtol(fld[1], &e1, 10) : -1, hor = ok ? strtol(fld[2], &e2, 10) : -1;
        double val = ok ? strtod(fld[4], NULL) : 0;
        if (!ok || met < 0 || *e1 || *e2 || step < 0 || step >= CURVE_MAX || hor < 0 || hor >= CURVE_MAX) {
            s = hc_fail(HC_EFORMAT, "%s:%d: unexpected row", csv, lineno);
            break;
        }
        char kind[96];
        module_kind(fld[0], kind, sizeof kind);
        int ki = -1;
        for (int k = 0; k < a.n_kinds; k++)
            if (strcmp(a.kinds[k], kind) == 0) ki = k;
        if (ki < 0 && a.n_kinds < CURVE_KINDS) {
            ki = a.n_kinds++;
            snprintf(a.kinds[ki], sizeof a.kinds[ki], "%s", kind);
        }
        long xs[2] = {step, hor};
        for (int ax = 0; ax < 2; ax++)
            for (int kk = 0; kk < 2; kk++) {
                int k = kk == 0 ? 0 : ki + 1;
                if (kk == 1 && ki < 0) continue;
                size_t i = CA_IDX(ax, k, xs[ax]);
                a.sum[i * HC_N_METRICS + (size_t)met] += val;
                a.cnt[i * HC_N_METRICS + (size_t)met]++;
            }
    }
    fclose(f);
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

hc_status exp_run_replay(const hc_experiment *e, const char *dir, const exp_cell *c, cJSON *cell)
{
    const exp_row *r = &e->rows[c->row];
    char raw[1200], csv[1300];
    snprintf(raw, sizeof raw, "%s/raw/%s", dir, c->id);
    hc_replay_opts o = {.files = (const char *const *)e->files,
                        .n_files = e->n_files,
                        .methods = &r->method,
                        .n_methods = 1,
                        .out_dir = raw,
                        .modules_glob = e->modules[0] ? e->modules : NULL,
                        .quiet = 1};
    cJSON *sum = NULL;
    HC_TRY(hc_replay_run(&o, &sum));
    const cJSON *ms = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sum, "methods"), 0);
    const cJSON *mets = cJSON_GetObjectItemCaseSensitive(ms, "metrics");
    cJSON *mt = cJSON_AddObjectToObject(cell, "metrics");
    for (int k = 0; k < HC_N_METRICS; k++) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(mets, hc_metric_names[k]);
        /* no cached step (full compute): the forecast is the truth */
        double none = k == HC_COSINE ? 1 : 0;
        int n = (int)jnum(b, "n");
        put_num(mt, hc_metric_names[k], n > 0 ? jnum(b, "mean") : none);
        if (k == HC_REL_L2) {
            put_num(mt, "rel_l2_median", n > 0 ? jnum(b, "median") : 0);
            put_num(mt, "rel_l2_p95", n > 0 ? jnum(b, "p95") : 0);
        }
    }
    put_num(mt, "flops_speedup", jnum(ms, "flops_speedup"));
    put_num(mt, "full_steps", jnum(ms, "full_steps"));
    put_num(mt, "steps", jnum(ms, "steps"));
    put_num(mt, "cache_mib", jnum(ms, "cache_bytes") / 1048576.0);
    cJSON_AddItemToObject(cell, "engine_output", sum);
    cJSON_AddStringToObject(cell, "outputs", raw);
    snprintf(csv, sizeof csv, "%s/results.csv", raw);
    return replay_curves(csv, cell);
}

