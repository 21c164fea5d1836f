/* stats_cells.c: what the intervals and tests of the report need from an
 * experiment -- the per-sample values of a cell (written into the cell
 * document by the engine adapters, read back into the typed results) and
 * the baseline row of each engine (config key "baseline").
 *
 * A cell document's "per_sample":
 *   live    {"unit": "image", "n": N, "rel_l2": [N], "psnr": [N] (null:
 *           identical images), "ssim": [N], "class_acc": [N] of 0/1 (with a
 *           classifier)}
 *   replay  {"unit": "file/module/step", "n": R, "modules": [[names of file
 *           0], ...], "file": [R], "module": [R] (index into its file's
 *           names), "step": [R], "horizon": [R], "rel_l1": [R], "rel_l2": [R], "cosine": [R],
 *           "max_abs": [R]} */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_internal.h"
#include "exp_validate.h"
#include "live.h"
#include "metrics.h"
#include "replay.h"

/* ---- writing --------------------------------------------------------------------------- */

static void add_nums(cJSON *o, const char *k, const double *v, int n)
{
    cJSON *a = cJSON_AddArrayToObject(o, k);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
}

hc_status exp_live_samples(const hc_live_result *res, cJSON *cell)
{
    int n = res->n;
    double *v = calloc((size_t)n + 1, sizeof *v);
    if (!v) return hc_fail(HC_ENOMEM, "out of memory");
    cJSON *o = cJSON_AddObjectToObject(cell, "per_sample");
    cJSON_AddStringToObject(o, "unit", "image");
    cJSON_AddNumberToObject(o, "n", n);
    for (int i = 0; i < n; i++) v[i] = res->images[i].rel_l2;
    add_nums(o, "rel_l2", v, n);
    for (int i = 0; i < n; i++) v[i] = res->images[i].psnr;
    add_nums(o, "psnr", v, n);
    for (int i = 0; i < n; i++) v[i] = res->images[i].ssim;
    add_nums(o, "ssim", v, n);
    if (res->classified) {
        for (int i = 0; i < n; i++) v[i] = res->images[i].predicted == res->images[i].label;
        add_nums(o, "class_acc", v, n);
    }
    free(v);
    return HC_OK;
}

hc_status exp_replay_samples(const hc_replay_result *res, const hc_replay_method *rm, cJSON *cell)
{
    size_t n = rm->n_records;
    double *v = calloc(n + 1, sizeof *v);
    if (!v) return hc_fail(HC_ENOMEM, "out of memory");
    cJSON *o = cJSON_AddObjectToObject(cell, "per_sample");
    cJSON_AddStringToObject(o, "unit", "file/module/step");
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON *mods = cJSON_AddArrayToObject(o, "modules");
    for (int f = 0; f < res->n_files; f++) {
        cJSON *a = cJSON_CreateArray();
        for (int m = 0; m < res->files[f].n_modules; m++) cJSON_AddItemToArray(a, cJSON_CreateString(res->files[f].modules[m]));
        cJSON_AddItemToArray(mods, a);
    }
    static const char *const ix[] = {"file", "module", "step", "horizon"};
    for (int k = 0; k < 4; k++) {
        for (size_t r = 0; r < n; r++) {
            const hc_replay_record *rec = &rm->records[r];
            v[r] = k == 0 ? rec->file : k == 1 ? rec->module : k == 2 ? rec->step : rec->horizon;
        }
        add_nums(o, ix[k], v, (int)n);
    }
    for (int m = 0; m < HC_N_METRICS; m++) {
        for (size_t r = 0; r < n; r++) v[r] = rm->records[r].v[m];
        add_nums(o, hc_metric_names[m], v, (int)n);
    }
    free(v);
    return HC_OK;
}

/* ---- reading -------------------------------------------------------------------------- */

/* o[k] into v [n] (null or non-number: NaN); 0 if not an array of n */
static int read_nums(const cJSON *o, const char *k, int n, double *v)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k), *x;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) return 0;
    int i = 0;
    cJSON_ArrayForEach(x, a) v[i++] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
    return 1;
}

/* replay: the module names of every file, flattened; module[r] becomes an
 * index into them */
static hc_status read_names(const cJSON *o, hc_res_samples *s, const double *file, double *module)
{
    const cJSON *mods = cJSON_GetObjectItemCaseSensitive(o, "modules"), *f, *m;
    int total = 0, nf = cJSON_GetArraySize(mods);
    cJSON_ArrayForEach(f, mods) total += cJSON_GetArraySize(f);
    int *start = calloc((size_t)nf + 1, sizeof *start);
    s->names = calloc((size_t)total + 1, sizeof *s->names);
    if (!start || !s->names) {
        free(start);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    int fi = 0;
    cJSON_ArrayForEach(f, mods)
    {
        start[fi++] = s->n_names;
        cJSON_ArrayForEach(m, f) snprintf(s->names[s->n_names++], sizeof s->names[0], "%s", cJSON_IsString(m) ? m->valuestring : "?");
    }
    start[nf] = s->n_names;
    for (int r = 0; r < s->n; r++) {
        int fl = (int)file[r], md = (int)module[r];
        if (!(fl >= 0 && fl < nf && md >= 0 && md < start[fl + 1] - start[fl])) {
            free(start);
            return hc_fail(HC_EFORMAT, "per_sample: record %d names no module", r);
        }
        module[r] = start[fl] + md;
    }
    free(start);
    return HC_OK;
}

/* The cell document's "per_sample" into c->samples; a document without one
 * (a cell from an earlier version) or a malformed one leaves none. */
hc_status exp_cell_samples(const cJSON *doc, hc_res_cell *c)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, "per_sample");
    const cJSON *nn = cJSON_GetObjectItemCaseSensitive(o, "n");
    if (!cJSON_IsObject(o) || !cJSON_IsNumber(nn) || nn->valuedouble < 1 || nn->valuedouble > 1e8) return HC_OK;
    hc_res_samples *s = &c->samples;
    int n = (int)nn->valuedouble;
    static const char *const live_keys[] = {"rel_l2", "psnr", "ssim", "class_acc"};
    const char *const *keys = c->eng == HC_ENG_LIVE ? live_keys : hc_metric_names;
    int nk = c->eng == HC_ENG_LIVE ? 4 : HC_N_METRICS;
    s->v = malloc((size_t)(nk + 4) * (size_t)n * sizeof *s->v);
    if (!s->v) return hc_fail(HC_ENOMEM, "out of memory");
    s->n = n;
    for (int k = 0; k < nk; k++)
        if (read_nums(o, keys[k], n, s->v + (size_t)s->n_keys * (size_t)n))
            snprintf(s->keys[s->n_keys++], sizeof s->keys[0], "%s", keys[k]);
    if (c->eng == HC_ENG_REPLAY) {
        double *ix = s->v + (size_t)nk * (size_t)n; /* file, module, step, horizon after the metrics */
        int ok = read_nums(o, "file", n, ix) && read_nums(o, "module", n, ix + n) &&
                 read_nums(o, "step", n, ix + 2 * (size_t)n) && read_nums(o, "horizon", n, ix + 3 * (size_t)n);
        hc_status st = ok ? read_names(o, s, ix, ix + n) : HC_EFORMAT;
        s->file = malloc((size_t)n * sizeof *s->file);
        s->module = malloc((size_t)n * sizeof *s->module);
        s->step = malloc((size_t)n * sizeof *s->step);
        s->horizon = malloc((size_t)n * sizeof *s->horizon);
        if (st == HC_OK && (!s->file || !s->module || !s->step || !s->horizon)) st = hc_fail(HC_ENOMEM, "out of memory");
        for (int r = 0; st == HC_OK && r < n; r++) {
            s->file[r] = (int)ix[r];
            s->module[r] = (int)ix[n + r];
            s->step[r] = (int)ix[2 * (size_t)n + r];
            s->horizon[r] = (int)ix[3 * (size_t)n + r];
        }
        if (st != HC_OK) { /* no samples: the tables show no interval */
            hc_errclear();
            s->n = s->n_keys = 0;
        }
    }
    return HC_OK;
}

/* ---- the baseline ----------------------------------------------------------------------- */

hc_status exp_parse_baseline(const exp_vctx *v, hc_experiment *e, const cJSON *x)
{
    HC_TRY(exp_want_str(v, "$.baseline", x, e->baseline, sizeof e->baseline, 1));
    hc_method m;
    if (hc_method_parse(e->baseline, &m) != HC_OK) return exp_verr(v, "$.baseline", "%s", hc_errmsg());
    return HC_OK;
}

/* The row of engine g running `desc` (resolved) at the engine's steps, or -1. */
static int find_row(const hc_experiment *e, int g, const char *desc)
{
    for (int r = 0; r < e->n_rows; r++) {
        const exp_row *w = &e->rows[r];
        char d[512];
        hc_method_describe(&w->method, d, sizeof d);
        if ((int)w->eng == g && (g != HC_ENG_LIVE || w->steps == e->steps) && strcmp(d, desc) == 0) return r;
    }
    return -1;
}

/* After the cells are built: each engine's baseline row.  Given: the row
 * running that method at the engine's steps (an error naming the rows if
 * no engine has it); default: the first row that caches (not full
 * compute) at the engine's steps, else none. */
hc_status exp_resolve_baseline(hc_experiment *e)
{
    int found = 0;
    char desc[512] = "";
    if (e->baseline[0]) {
        hc_method m;
        HC_TRY(hc_method_parse(e->baseline, &m));
        hc_method_describe(&m, desc, sizeof desc);
    }
    for (int g = 0; g < HC_N_ENG; g++) {
        e->baseline_row[g] = -1;
        if (!(e->eng_mask & (1u << g))) continue;
        if (desc[0]) e->baseline_row[g] = find_row(e, g, desc);
        for (int r = 0; r < e->n_rows && !desc[0] && e->baseline_row[g] < 0; r++) {
            const exp_row *w = &e->rows[r];
            if ((int)w->eng == g && (g != HC_ENG_LIVE || w->steps == e->steps) &&
                !(hc_method_caps(&w->method) & HC_PRED_NO_CACHE))
                e->baseline_row[g] = r;
        }
        found |= e->baseline_row[g] >= 0;
    }
    if (!desc[0] || found) return HC_OK;
    char list[1024] = "";
    for (int r = 0; r < e->n_rows; r++) {
        char d[512];
        size_t l = strlen(list);
        hc_method_describe(&e->rows[r].method, d, sizeof d);
        if (l + strlen(d) + 8 > sizeof list) {
            snprintf(list + l, sizeof list - l, ", ...");
            break;
        }
        snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", d);
    }
    return hc_fail(HC_EINVAL, "%s: $.baseline: '%s' (%s) is none of the methods at the engine's steps (%s)", e->origin,
                   e->baseline, desc, list);
}
