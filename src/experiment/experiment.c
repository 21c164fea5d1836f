/* experiment.c: config validation, grid expansion, cells and their engines
 * (see experiment.h and docs/experiments.md).  The outputs after the cells
 * are written by exp_report.c. */
#include "experiment.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "exp_internal.h"
#include "live.h"
#include "quality.h"
#include "outfile.h"
#include "provenance.h"
#include "replay.h"

const char *const hc_eng_names[HC_N_ENG] = {"replay", "live"};

/* ---- metric catalogue ------------------------------------------------------- */

static const exp_metric live_metrics[] = {
    {"flops", "FLOPs (G)", "FLOPs (G)", -1, "%.3f", 1e-9},
    {"flops_speedup", "FLOPs speedup", "FLOPs speedup", +1, "%.2f×", 1},
    {"seconds", "Latency (s)", "Latency (s)", -1, "%.3g", 1},
    {"wall_speedup", "Latency speedup", "Latency speedup", +1, "%.2f×", 1},
    {"rel_l2", "rel-L2", "rel-$L_2$", -1, "%.4f", 1},
    {"psnr", "PSNR (dB)", "PSNR (dB)", +1, "%.2f", 1},
    {"ssim", "SSIM", "SSIM", +1, "%.4f", 1},
    {"fd", "FD", "FD", -1, "%.2f", 1},
    {"class_acc", "Class acc. (%)", "Class acc. (\\%)", +1, "%.1f", 100},
    {"full_steps", "Full steps", "Full steps", 0, "%.0f", 1},
    {"steps", "Steps", "Steps", 0, "%.0f", 1},
};
static const exp_metric replay_metrics[] = {
    {"rel_l2", "rel-L2", "rel-$L_2$", -1, "%.4f", 1},
    {"rel_l2_median", "rel-L2 median", "rel-$L_2$ median", -1, "%.4f", 1},
    {"rel_l2_p95", "rel-L2 p95", "rel-$L_2$ p95", -1, "%.4f", 1},
    {"rel_l1", "rel-L1", "rel-$L_1$", -1, "%.4f", 1},
    {"cosine", "Cosine", "Cosine", +1, "%.5f", 1},
    {"max_abs", "Max abs", "Max abs", -1, "%.4g", 1},
    {"flops_speedup", "FLOPs speedup", "FLOPs speedup", +1, "%.2f×", 1},
    {"full_steps", "Full steps", "Full steps", 0, "%.0f", 1},
    {"steps", "Steps", "Steps", 0, "%.0f", 1},
    {"cache_mib", "Cache (MiB)", "Cache (MiB)", -1, "%.2f", 1},
};
#define N_LIVE_M ((int)(sizeof live_metrics / sizeof live_metrics[0]))
#define N_REPLAY_M ((int)(sizeof replay_metrics / sizeof replay_metrics[0]))

const exp_metric *exp_metrics(hc_eng eng, int *n)
{
    *n = eng == HC_ENG_LIVE ? N_LIVE_M : N_REPLAY_M;
    return eng == HC_ENG_LIVE ? live_metrics : replay_metrics;
}

const exp_metric *exp_metric_find(hc_eng eng, const char *key)
{
    int n;
    const exp_metric *m = exp_metrics(eng, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(m[i].key, key) == 0) return &m[i];
    return NULL;
}

static void metric_list(hc_eng eng, char *buf, size_t n)
{
    int k;
    const exp_metric *m = exp_metrics(eng, &k);
    buf[0] = 0;
    for (int i = 0; i < k; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s", i ? ", " : "", m[i].key);
    }
}

void hc_experiment_format(const char *engine, const char *key, const cJSON *value, char *buf, size_t n)
{
    hc_eng eng = engine && strcmp(engine, "replay") == 0 ? HC_ENG_REPLAY : HC_ENG_LIVE;
    const exp_metric *m = exp_metric_find(eng, key);
    if (!cJSON_IsNumber(value) || !isfinite(value->valuedouble)) {
        snprintf(buf, n, "—");
        return;
    }
    double v = value->valuedouble * (m ? m->scale : 1);
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    snprintf(buf, n, m ? m->fmt : "%.4g", v);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    if (strcmp(buf, "-0") == 0 || strncmp(buf, "-0.", 3) == 0) { /* no negative zero after rounding */
        int zero = 1;
        for (const char *c = buf + 1; *c; c++)
            if (*c >= '1' && *c <= '9') zero = 0;
        if (zero) memmove(buf, buf + 1, strlen(buf));
    }
}

const char *const exp_fig_type_names[FIG_N_TYPES] = {"scatter", "pareto", "line", "curve"};

/* ---- method keys of a row (line figures) ------------------------------------------ */

static const char *const row_keys[] = {"N", "W", "O", "sigma", "K", "gamma", "steps"};

int exp_is_row_key(const char *key)
{
    for (size_t i = 0; i < sizeof row_keys / sizeof row_keys[0]; i++)
        if (strcmp(row_keys[i], key) == 0) return 1;
    return 0;
}

int exp_row_key(const exp_row *r, const char *key, double *out)
{
    const hc_method *m = &r->method;
    if (strcmp(key, "N") == 0) *out = m->sched.N;
    else if (strcmp(key, "W") == 0) *out = m->sched.W;
    else if (strcmp(key, "O") == 0) *out = m->order;
    else if (strcmp(key, "sigma") == 0) *out = m->sigma;
    else if (strcmp(key, "K") == 0) *out = m->K;
    else if (strcmp(key, "gamma") == 0) *out = m->gamma;
    else if (strcmp(key, "steps") == 0) *out = r->steps;
    else return 0;
    return 1;
}

/* ---- validation helpers --------------------------------------------------------------- */

typedef struct vctx {
    const char *origin;
} vctx;

static hc_status verr(const vctx *v, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static hc_status verr(const vctx *v, const char *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hc_fail(HC_EINVAL, "%s: %s: %s", v->origin, path, msg);
}

/* A short rendering of a JSON value for messages: "ten", 3.5, [...]. */
static void jshow(const cJSON *x, char *buf, size_t n)
{
    char *s = cJSON_PrintUnformatted(x);
    if (!s) {
        snprintf(buf, n, "?");
        return;
    }
    if (strlen(s) > 60) strcpy(s + 57, "...");
    snprintf(buf, n, "%s", s);
    cJSON_free(s);
}

static void subpath(char *buf, size_t n, const char *path, const char *key)
{
    int k = snprintf(buf, n, "%s.%s", path, key);
    if (k < 0 || (size_t)k >= n) snprintf(buf, n, "%.*s...", (int)(n > 8 ? n - 8 : 0), path);
}

static void idxpath(char *buf, size_t n, const char *path, int i)
{
    snprintf(buf, n, "%s[%d]", path, i);
}

/* Reject keys not in `allowed` (NULL-terminated). */
static hc_status check_keys(const vctx *v, const char *path, const cJSON *obj, const char *const *allowed)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, it->string) == 0;
        if (!ok) {
            char list[512] = "", p[512];
            for (const char *const *a = allowed; *a; a++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", a == allowed ? "" : ", ", *a);
            }
            subpath(p, sizeof p, path, it->string);
            return verr(v, p, "unknown key (valid: %s)", list);
        }
    }
    return HC_OK;
}

static hc_status want_int(const vctx *v, const char *path, const cJSON *x, long lo, long hi, long *out)
{
    char s[96];
    jshow(x, s, sizeof s);
    const char *what = lo == 1 ? "a positive integer" : lo == 0 ? "a non-negative integer" : "an integer";
    if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) || fabs(x->valuedouble) > 9e15)
        return verr(v, path, "expected %s, got %s", what, s);
    if (x->valuedouble < (double)lo || x->valuedouble > (double)hi)
        return verr(v, path, "%s out of range [%ld, %ld]", s, lo, hi);
    *out = (long)x->valuedouble;
    return HC_OK;
}

static hc_status want_num(const vctx *v, const char *path, const cJSON *x, double lo, double hi, double *out)
{
    char s[96];
    jshow(x, s, sizeof s);
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) return verr(v, path, "expected a number, got %s", s);
    if (x->valuedouble < lo || x->valuedouble > hi) return verr(v, path, "%s out of range [%g, %g]", s, lo, hi);
    *out = x->valuedouble;
    return HC_OK;
}

static hc_status want_str(const vctx *v, const char *path, const cJSON *x, char *out, size_t n, int nonempty)
{
    char s[96];
    jshow(x, s, sizeof s);
    if (!cJSON_IsString(x)) return verr(v, path, "expected a string, got %s", s);
    if (nonempty && !x->valuestring[0]) return verr(v, path, "must not be empty");
    if (strlen(x->valuestring) >= n) return verr(v, path, "longer than %zu characters", n - 1);
    snprintf(out, n, "%s", x->valuestring);
    return HC_OK;
}

static hc_status want_bool(const vctx *v, const char *path, const cJSON *x, int *out)
{
    char s[96];
    jshow(x, s, sizeof s);
    if (!cJSON_IsBool(x)) return verr(v, path, "expected true or false, got %s", s);
    *out = cJSON_IsTrue(x);
    return HC_OK;
}

static hc_status want_array(const vctx *v, const char *path, const cJSON *x, int nonempty)
{
    char s[96];
    jshow(x, s, sizeof s);
    if (!cJSON_IsArray(x)) return verr(v, path, "expected an array, got %s", s);
    if (nonempty && cJSON_GetArraySize(x) == 0) return verr(v, path, "must not be empty");
    return HC_OK;
}

static hc_status want_object(const vctx *v, const char *path, const cJSON *x)
{
    char s[96];
    jshow(x, s, sizeof s);
    if (!cJSON_IsObject(x)) return verr(v, path, "expected an object, got %s", s);
    return HC_OK;
}

static hc_status want_file(const vctx *v, const char *path, const char *file)
{
    if (access(file, R_OK) != 0) return verr(v, path, "%s: cannot open: %s", file, strerror(errno));
    return HC_OK;
}

static hc_status want_dir(const vctx *v, const char *path, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) return verr(v, path, "%s: cannot open: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return verr(v, path, "%s: not a directory", dir);
    return HC_OK;
}

/* ---- specs ------------------------------------------------------------------------------ */

/* spec with key=value set (replaced if present, appended otherwise). */
static hc_status spec_set(const char *spec, const char *key, const char *val, char *out, size_t n)
{
    char name[HC_SPEC_MAX], rest[HC_SPEC_MAX] = "";
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    if (nl >= sizeof name) return hc_fail(HC_EINVAL, "spec too long");
    memcpy(name, spec, nl);
    name[nl] = 0;
    if (colon) snprintf(rest, sizeof rest, "%s", colon + 1);
    char built[2 * HC_SPEC_MAX] = "";
    int replaced = 0;
    for (char *save = NULL, *tok = strtok_r(rest, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        size_t kl = eq ? (size_t)(eq - tok) : strlen(tok);
        size_t l = strlen(built);
        if (kl == strlen(key) && strncmp(tok, key, kl) == 0) {
            snprintf(built + l, sizeof built - l, "%s%s=%s", l ? "," : "", key, val);
            replaced = 1;
        } else {
            snprintf(built + l, sizeof built - l, "%s%s", l ? "," : "", tok);
        }
    }
    if (!replaced) {
        size_t l = strlen(built);
        snprintf(built + l, sizeof built - l, "%s%s=%s", l ? "," : "", key, val);
    }
    int len = snprintf(out, n, "%s:%s", name, built);
    if (len < 0 || (size_t)len >= n) return hc_fail(HC_EINVAL, "method spec longer than %zu characters", n - 1);
    return HC_OK;
}

/* A grid value as spec text: numbers in shortest round-trip form. */
static void grid_text(const cJSON *x, char *buf, size_t n)
{
    if (cJSON_IsNumber(x)) snprintf(buf, n, "%.15g", x->valuedouble);
    else snprintf(buf, n, "%s", x->valuestring);
}

/* ---- config ----------------------------------------------------------------------------- */

static const char *const top_keys[] = {"name", "description", "replay", "live", "methods", "figures", NULL};
static const char *const replay_keys[] = {"files", "modules", "columns", NULL};
static const char *const live_keys[] = {"model", "classifier", "data_dir", "n", "steps", "guidance", "batch",
                                        "seeds", "shift", "n_real", "columns", NULL};
static const char *const entry_keys[] = {"spec", "grid", "steps", "steps_matching", "name", "engines", NULL};
static const char *const fig_keys[] = {"name", "type", "engine", "x", "y", "series", "logx", "logy",
                                       "by_kind", "title", NULL};

static const int default_cols_live[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};  /* flops .. class_acc */
static const int default_cols_replay[] = {7, 6, 0, 1, 2, 4, 5};      /* full_steps, speedup, rel_l2 .. max_abs */

static hc_status parse_columns(const vctx *v, hc_experiment *e, hc_eng eng, const cJSON *cols, const char *path)
{
    HC_TRY(want_array(v, path, cols, 1));
    int n = cJSON_GetArraySize(cols);
    if (n > EXP_MAX_COLS) return verr(v, path, "at most %d columns", EXP_MAX_COLS);
    int nm, i = 0;
    const exp_metric *all = exp_metrics(eng, &nm);
    const cJSON *c;
    cJSON_ArrayForEach(c, cols)
    {
        char p[512], key[64], list[512];
        idxpath(p, sizeof p, path, i);
        HC_TRY(want_str(v, p, c, key, sizeof key, 1));
        const exp_metric *m = exp_metric_find(eng, key);
        if (!m) {
            metric_list(eng, list, sizeof list);
            return verr(v, p, "unknown %s metric '%s' (valid: %s)", hc_eng_names[eng], key, list);
        }
        e->cols[eng][i++] = (int)(m - all);
    }
    e->n_cols[eng] = n;
    return HC_OK;
}

static hc_status parse_replay(const vctx *v, hc_experiment *e, const cJSON *r)
{
    const char *path = "$.replay";
    HC_TRY(want_object(v, path, r));
    HC_TRY(check_keys(v, path, r, replay_keys));
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(r, "files");
    if (!files) return verr(v, path, "missing key 'files' (trajectory files or glob patterns)");
    HC_TRY(want_array(v, "$.replay.files", files, 1));
    int i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        char p[512], pat[1024];
        idxpath(p, sizeof p, "$.replay.files", i++);
        HC_TRY(want_str(v, p, f, pat, sizeof pat, 1));
        glob_t g;
        int gr = glob(pat, GLOB_NOCHECK, NULL, &g);
        if (gr != 0) return verr(v, p, "cannot expand '%s'", pat);
        for (size_t k = 0; k < g.gl_pathc; k++) {
            const char *fn = g.gl_pathv[k];
            if (access(fn, R_OK) != 0) {
                int err = errno;
                globfree(&g);
                if (strpbrk(pat, "*?[")) return verr(v, p, "no file matches '%s'", pat);
                return verr(v, p, "%s: cannot open: %s", pat, strerror(err));
            }
            char **nf = realloc(e->files, (size_t)(e->n_files + 1) * sizeof *nf);
            if (!nf || !(nf[e->n_files] = strdup(fn))) {
                if (nf) e->files = nf;
                globfree(&g);
                return hc_fail(HC_ENOMEM, "out of memory");
            }
            e->files = nf;
            e->n_files++;
        }
        globfree(&g);
    }
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r, "modules");
    if (x) HC_TRY(want_str(v, "$.replay.modules", x, e->modules, sizeof e->modules, 1));
    if ((x = cJSON_GetObjectItemCaseSensitive(r, "columns"))) HC_TRY(parse_columns(v, e, HC_ENG_REPLAY, x, "$.replay.columns"));
    e->eng_mask |= 1u << HC_ENG_REPLAY;
    return HC_OK;
}

static hc_status parse_live(const vctx *v, hc_experiment *e, const cJSON *l)
{
    const char *path = "$.live";
    HC_TRY(want_object(v, path, l));
    HC_TRY(check_keys(v, path, l, live_keys));
    hc_live_opts d;
    hc_live_defaults(&d);
    snprintf(e->model, sizeof e->model, "%s", d.model_path);
    snprintf(e->classifier, sizeof e->classifier, "%s", d.classifier_path);
    snprintf(e->data_dir, sizeof e->data_dir, "%s", d.data_dir);
    e->n = d.n;
    e->steps = d.steps;
    e->batch = d.batch;
    e->guidance = d.cfg;
    e->shift = d.shift;
    e->n_real = d.n_real;
    const cJSON *x;
    long iv;
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "model"))) HC_TRY(want_str(v, "$.live.model", x, e->model, sizeof e->model, 1));
    HC_TRY(want_file(v, "$.live.model", e->model));
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "classifier")))
        HC_TRY(want_str(v, "$.live.classifier", x, e->classifier, sizeof e->classifier, 0));
    if (e->classifier[0]) HC_TRY(want_file(v, "$.live.classifier", e->classifier));
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "data_dir")))
        HC_TRY(want_str(v, "$.live.data_dir", x, e->data_dir, sizeof e->data_dir, 1));
    if (e->classifier[0]) HC_TRY(want_dir(v, "$.live.data_dir", e->data_dir));
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "n"))) { HC_TRY(want_int(v, "$.live.n", x, 1, 100000, &iv)); e->n = (int)iv; }
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "steps"))) { HC_TRY(want_int(v, "$.live.steps", x, 1, 10000, &iv)); e->steps = (int)iv; }
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "batch"))) { HC_TRY(want_int(v, "$.live.batch", x, 1, 4096, &iv)); e->batch = (int)iv; }
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "n_real"))) { HC_TRY(want_int(v, "$.live.n_real", x, 2, 10000, &iv)); e->n_real = (int)iv; }
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "guidance"))) HC_TRY(want_num(v, "$.live.guidance", x, 0, 100, &e->guidance));
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "shift"))) HC_TRY(want_bool(v, "$.live.shift", x, &e->shift));
    e->n_seeds = 1;
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "seeds"))) {
        HC_TRY(want_array(v, "$.live.seeds", x, 1));
        e->n_seeds = cJSON_GetArraySize(x);
    }
    e->seeds = calloc((size_t)e->n_seeds, sizeof *e->seeds);
    if (!e->seeds) return hc_fail(HC_ENOMEM, "out of memory");
    for (int i = 0; x && i < e->n_seeds; i++) {
        char p[64];
        idxpath(p, sizeof p, "$.live.seeds", i);
        HC_TRY(want_int(v, p, cJSON_GetArrayItem(x, i), 0, 2147483647L, &iv));
        for (int j = 0; j < i; j++)
            if (e->seeds[j] == (unsigned long)iv) return verr(v, p, "duplicate seed %ld", iv);
        e->seeds[i] = (unsigned long)iv;
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "columns"))) HC_TRY(parse_columns(v, e, HC_ENG_LIVE, x, "$.live.columns"));
    e->eng_mask |= 1u << HC_ENG_LIVE;
    return HC_OK;
}

static hc_status parse_entry(const vctx *v, hc_experiment *e, const cJSON *x, int i, exp_entry *en)
{
    char path[64], p[128];
    idxpath(path, sizeof path, "$.methods", i);
    memset(en, 0, sizeof *en);
    en->eng_mask = e->eng_mask;
    hc_method m;
    if (cJSON_IsString(x)) {
        HC_TRY(want_str(v, path, x, en->spec, sizeof en->spec, 1));
        if (hc_method_parse(en->spec, &m) != HC_OK) return verr(v, path, "%s", hc_errmsg());
        snprintf(en->name, sizeof en->name, "%s", m.type->display);
        return HC_OK;
    }
    if (!cJSON_IsObject(x)) {
        char s[96];
        jshow(x, s, sizeof s);
        return verr(v, path, "expected a method spec string or an object with \"spec\", got %s", s);
    }
    HC_TRY(check_keys(v, path, x, entry_keys));
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(x, "spec");
    subpath(p, sizeof p, path, "spec");
    if (!s) return verr(v, path, "missing key 'spec'");
    HC_TRY(want_str(v, p, s, en->spec, sizeof en->spec, 1));
    if (hc_method_parse(en->spec, &m) != HC_OK) return verr(v, p, "%s", hc_errmsg());
    snprintf(en->name, sizeof en->name, "%s", m.type->display);
    const cJSON *y;
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "name"))) {
        subpath(p, sizeof p, path, "name");
        HC_TRY(want_str(v, p, y, en->name, sizeof en->name, 1));
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "engines"))) {
        subpath(p, sizeof p, path, "engines");
        HC_TRY(want_array(v, p, y, 1));
        en->eng_mask = 0;
        int k = 0;
        const cJSON *z;
        cJSON_ArrayForEach(z, y)
        {
            char q[160], name[32];
            idxpath(q, sizeof q, p, k++);
            HC_TRY(want_str(v, q, z, name, sizeof name, 1));
            int found = -1;
            for (int g = 0; g < HC_N_ENG; g++)
                if (strcmp(name, hc_eng_names[g]) == 0) found = g;
            if (found < 0) return verr(v, q, "unknown engine '%s' (valid: replay, live)", name);
            if (!(e->eng_mask & (1u << found))) return verr(v, q, "engine '%s' is not configured (add \"%s\": {...})", name, name);
            en->eng_mask |= 1u << found;
        }
    }
    int live_only = 0;
    long iv;
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "steps"))) {
        subpath(p, sizeof p, path, "steps");
        HC_TRY(want_int(v, p, y, 1, 10000, &iv));
        en->steps = (int)iv;
        live_only = 1;
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "steps_matching"))) {
        subpath(p, sizeof p, path, "steps_matching");
        if (en->steps) return verr(v, p, "give either \"steps\" or \"steps_matching\", not both");
        HC_TRY(want_str(v, p, y, en->matching, sizeof en->matching, 1));
        hc_method mm;
        if (hc_method_parse(en->matching, &mm) != HC_OK) return verr(v, p, "%s", hc_errmsg());
        if (strcmp(m.type->name, "full") != 0) return verr(v, p, "only valid with \"spec\": \"full\"");
        live_only = 1;
    }
    if (live_only && !cJSON_GetObjectItemCaseSensitive(x, "name") && strcmp(m.type->name, "full") == 0)
        snprintf(en->name, sizeof en->name, "Fewer steps");
    if (live_only) {
        subpath(p, sizeof p, path, en->steps ? "steps" : "steps_matching");
        if (!(e->eng_mask & (1u << HC_ENG_LIVE))) return verr(v, p, "needs the live engine (replay steps are fixed by the files)");
        en->eng_mask &= 1u << HC_ENG_LIVE;
        if (!en->eng_mask) return verr(v, p, "needs the live engine in \"engines\"");
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "grid"))) {
        char gp[128];
        subpath(gp, sizeof gp, path, "grid");
        HC_TRY(want_object(v, gp, y));
        const cJSON *kv;
        cJSON_ArrayForEach(kv, y)
        {
            subpath(p, sizeof p, gp, kv->string);
            if (en->n_keys >= EXP_MAX_KEYS) return verr(v, p, "at most %d grid keys", EXP_MAX_KEYS);
            if (strlen(kv->string) >= sizeof en->keys[0] || !kv->string[0]) return verr(v, p, "bad key name");
            HC_TRY(want_array(v, p, kv, 1));
            int is_steps = strcmp(kv->string, "steps") == 0;
            if (is_steps) {
                if (en->steps || en->matching[0]) return verr(v, p, "grid over steps conflicts with \"steps\"/\"steps_matching\"");
                if (!(e->eng_mask & (1u << HC_ENG_LIVE))) return verr(v, p, "needs the live engine (replay steps are fixed by the files)");
                en->eng_mask &= 1u << HC_ENG_LIVE;
                if (!cJSON_GetObjectItemCaseSensitive(x, "name") && strcmp(m.type->name, "full") == 0)
                    snprintf(en->name, sizeof en->name, "Fewer steps");
            }
            int k = 0;
            const cJSON *val;
            cJSON_ArrayForEach(val, kv)
            {
                char q[192], txt[64], one[HC_SPEC_MAX];
                idxpath(q, sizeof q, p, k++);
                if (is_steps) {
                    HC_TRY(want_int(v, q, val, 1, 10000, &iv));
                    continue;
                }
                if (cJSON_IsString(val)) {
                    if (!val->valuestring[0] || strpbrk(val->valuestring, ",:= ")) return verr(v, q, "bad value \"%s\"", val->valuestring);
                } else if (!cJSON_IsNumber(val)) {
                    jshow(val, txt, sizeof txt);
                    return verr(v, q, "expected a number or a string, got %s", txt);
                }
                grid_text(val, txt, sizeof txt);
                const char *tmpl = en->matching[0] ? en->matching : en->spec;
                hc_method mm;
                if (spec_set(tmpl, kv->string, txt, one, sizeof one) != HC_OK || hc_method_parse(one, &mm) != HC_OK)
                    return verr(v, q, "%s", hc_errmsg());
            }
            snprintf(en->keys[en->n_keys], sizeof en->keys[0], "%s", kv->string);
            en->values[en->n_keys++] = kv;
        }
    }
    return HC_OK;
}

static hc_status parse_figure(const vctx *v, hc_experiment *e, const cJSON *x, int i, exp_figure *f)
{
    char path[64], p[128];
    idxpath(path, sizeof path, "$.figures", i);
    memset(f, 0, sizeof *f);
    f->by_entry = 1;
    HC_TRY(want_object(v, path, x));
    HC_TRY(check_keys(v, path, x, fig_keys));
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(x, "name");
    subpath(p, sizeof p, path, "name");
    if (!y) return verr(v, path, "missing key 'name'");
    HC_TRY(want_str(v, p, y, f->name, sizeof f->name, 1));
    for (const char *c = f->name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return verr(v, p, "'%s': use letters, digits, '_' and '-' only", f->name);
    for (int k = 0; k < i; k++)
        if (strcmp(e->figs[k].name, f->name) == 0) return verr(v, p, "duplicate figure name '%s'", f->name);
    f->type = FIG_SCATTER;
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "type"))) {
        char t[32];
        subpath(p, sizeof p, path, "type");
        HC_TRY(want_str(v, p, y, t, sizeof t, 1));
        int found = -1;
        for (int k = 0; k < FIG_N_TYPES; k++)
            if (strcmp(t, exp_fig_type_names[k]) == 0) found = k;
        if (found < 0) return verr(v, p, "unknown figure type '%s' (valid: scatter, pareto, line, curve)", t);
        f->type = (exp_fig_type)found;
    }
    f->eng = f->type == FIG_CURVE || !(e->eng_mask & (1u << HC_ENG_LIVE)) ? HC_ENG_REPLAY : HC_ENG_LIVE;
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "engine"))) {
        char t[32];
        subpath(p, sizeof p, path, "engine");
        HC_TRY(want_str(v, p, y, t, sizeof t, 1));
        if (strcmp(t, "live") == 0) f->eng = HC_ENG_LIVE;
        else if (strcmp(t, "replay") == 0) f->eng = HC_ENG_REPLAY;
        else return verr(v, p, "unknown engine '%s' (valid: replay, live)", t);
        if (f->type == FIG_CURVE && f->eng != HC_ENG_REPLAY) return verr(v, p, "curve figures need the replay engine");
    }
    if (!(e->eng_mask & (1u << f->eng))) {
        subpath(p, sizeof p, path, "engine");
        return verr(v, p, "engine '%s' is not configured", hc_eng_names[f->eng]);
    }
    char list[512];
    metric_list(f->eng, list, sizeof list);
    const char *defx = f->type == FIG_CURVE ? "step" : f->type == FIG_LINE ? "N" : "flops_speedup";
    const char *defy = f->type == FIG_CURVE || f->eng == HC_ENG_REPLAY ? "rel_l2" : "psnr";
    snprintf(f->x, sizeof f->x, "%s", defx);
    snprintf(f->y, sizeof f->y, "%s", defy);
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "x"))) {
        subpath(p, sizeof p, path, "x");
        HC_TRY(want_str(v, p, y, f->x, sizeof f->x, 1));
    }
    subpath(p, sizeof p, path, "x");
    if (f->type == FIG_CURVE) {
        if (strcmp(f->x, "step") != 0 && strcmp(f->x, "horizon") != 0)
            return verr(v, p, "curve figures plot against 'step' or 'horizon', got '%s'", f->x);
    } else if (f->type == FIG_LINE) {
        if (!exp_is_row_key(f->x)) return verr(v, p, "line figures plot against a method key (N, W, O, sigma, K, gamma, steps), got '%s'", f->x);
    } else if (!exp_metric_find(f->eng, f->x)) {
        return verr(v, p, "unknown %s metric '%s' (valid: %s)", hc_eng_names[f->eng], f->x, list);
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "y"))) {
        subpath(p, sizeof p, path, "y");
        HC_TRY(want_str(v, p, y, f->y, sizeof f->y, 1));
    }
    subpath(p, sizeof p, path, "y");
    if (f->type == FIG_CURVE) {
        int ok = 0;
        for (int k = 0; k < HC_N_METRICS; k++) ok |= strcmp(f->y, hc_metric_names[k]) == 0;
        if (!ok) return verr(v, p, "curve figures plot rel_l1, rel_l2, cosine or max_abs, got '%s'", f->y);
    } else if (!exp_metric_find(f->eng, f->y)) {
        return verr(v, p, "unknown %s metric '%s' (valid: %s)", hc_eng_names[f->eng], f->y, list);
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "series"))) {
        char t[32];
        subpath(p, sizeof p, path, "series");
        HC_TRY(want_str(v, p, y, t, sizeof t, 1));
        if (strcmp(t, "method") == 0) f->by_entry = 1;
        else if (strcmp(t, "none") == 0) f->by_entry = 0;
        else return verr(v, p, "unknown series '%s' (valid: method, none)", t);
    }
    static const char *const bools[] = {"logx", "logy", "by_kind"};
    int *dst[] = {&f->logx, &f->logy, &f->by_kind};
    for (int k = 0; k < 3; k++)
        if ((y = cJSON_GetObjectItemCaseSensitive(x, bools[k]))) {
            subpath(p, sizeof p, path, bools[k]);
            HC_TRY(want_bool(v, p, y, dst[k]));
        }
    if (f->by_kind && f->type != FIG_CURVE) {
        subpath(p, sizeof p, path, "by_kind");
        return verr(v, p, "only for curve figures");
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "title"))) {
        subpath(p, sizeof p, path, "title");
        HC_TRY(want_str(v, p, y, f->title, sizeof f->title, 0));
        for (char *c = f->title; *c; c++)
            if (*c == '"' || *c == '\\') *c = '\'';
    }
    return HC_OK;
}

/* ---- cells ------------------------------------------------------------------------------ */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* "size:hash" of a file's size and its first and last MiB: finished cells
 * are not reused when the model or a trajectory file changes underneath. */
static void file_fingerprint(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(out, n, "missing");
        return;
    }
    uint64_t h = 1469598103934665603ULL;
    unsigned char buf[65536];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    for (int part = 0; part < 2; part++) {
        long start = part == 0 ? 0 : (size > (2L << 20) ? size - (1L << 20) : size);
        fseek(f, start, SEEK_SET);
        for (long done = 0; done < (1L << 20);) {
            size_t got = fread(buf, 1, sizeof buf, f);
            if (!got) break;
            for (size_t i = 0; i < got; i++) {
                h ^= buf[i];
                h *= 1099511628211ULL;
            }
            done += (long)got;
        }
    }
    fclose(f);
    snprintf(out, n, "%ld:%016llx", size, (unsigned long long)h);
}

static int full_steps_of(const hc_method *m, int S)
{
    unsigned char *mask = malloc((size_t)S);
    if (!mask) return S;
    int k = hc_schedule_mask(&m->sched, S, mask);
    free(mask);
    return k;
}

static hc_status add_row(hc_experiment *e, hc_eng eng, int entry, const char *spec, int steps, cJSON *grid, int *out)
{
    exp_row *nr = realloc(e->rows, (size_t)(e->n_rows + 1) * sizeof *nr);
    if (!nr) {
        cJSON_Delete(grid);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    e->rows = nr;
    exp_row *r = &e->rows[e->n_rows];
    memset(r, 0, sizeof *r);
    r->eng = eng;
    r->entry = entry;
    r->grid = grid;
    snprintf(r->spec, sizeof r->spec, "%s", spec);
    HC_TRY(hc_method_parse(spec, &r->method));
    r->steps = eng == HC_ENG_LIVE ? (steps ? steps : e->steps) : 0;
    int full = strcmp(r->method.type->name, "full") == 0;
    r->is_ref = full && (eng == HC_ENG_REPLAY || r->steps == e->steps);
    hc_method_label(&r->method, r->label, sizeof r->label);
    if (eng == HC_ENG_LIVE && r->steps != e->steps) {
        char l[320];
        if (full) snprintf(l, sizeof l, "Fewer steps (S=%d)", r->steps);
        else snprintf(l, sizeof l, "%.300s, S=%d", r->label, r->steps);
        snprintf(r->label, sizeof r->label, "%s", l);
    }
    *out = e->n_rows++;
    return HC_OK;
}

static hc_status add_cell(hc_experiment *e, int row, unsigned long seed)
{
    exp_row *r = &e->rows[row];
    char desc[512], key[4096];
    hc_method_describe(&r->method, desc, sizeof desc);
    int len;
    char fp[64];
    if (r->eng == HC_ENG_LIVE) {
        file_fingerprint(e->model, fp, sizeof fp);
        len = snprintf(key, sizeof key,
                       "live|%s|steps=%d|seed=%lu|model=%s|model_fp=%s|n=%d|batch=%d|guidance=%.17g|shift=%d|"
                       "classifier=%s|data=%s|n_real=%d|reference_steps=%d",
                       desc, r->steps, seed, e->model, fp, e->n, e->batch, e->guidance, e->shift, e->classifier,
                       e->classifier[0] ? e->data_dir : "", e->classifier[0] ? e->n_real : 0, e->steps);
    } else {
        len = snprintf(key, sizeof key, "replay|%s|modules=%s|files=", desc, e->modules[0] ? e->modules : "*");
        for (int f = 0; f < e->n_files && len > 0 && (size_t)len < sizeof key; f++) {
            file_fingerprint(e->files[f], fp, sizeof fp);
            len += snprintf(key + len, sizeof key - (size_t)len, "%s%s@%s", f ? ";" : "", e->files[f], fp);
        }
    }
    if (len < 0 || (size_t)len >= sizeof key) return hc_fail(HC_EINVAL, "%s: cell key too long (too many files?)", e->origin);
    char id[96];
    snprintf(id, sizeof id, "%s-%s-%016llx", hc_eng_names[r->eng], r->method.type->name, (unsigned long long)fnv1a(key));
    int idx = -1;
    for (int c = 0; c < e->n_cells && idx < 0; c++)
        if (strcmp(e->cells[c].id, id) == 0) idx = c;
    if (idx < 0) {
        exp_cell *nc = realloc(e->cells, (size_t)(e->n_cells + 1) * sizeof *nc);
        if (!nc) return hc_fail(HC_ENOMEM, "out of memory");
        e->cells = nc;
        exp_cell *c = &e->cells[e->n_cells];
        memset(c, 0, sizeof *c);
        snprintf(c->id, sizeof c->id, "%s", id);
        c->eng = r->eng;
        c->row = row;
        c->seed = seed;
        c->steps = r->steps;
        c->ref = -1;
        if (!(c->key = strdup(key))) return hc_fail(HC_ENOMEM, "out of memory");
        if (r->eng == HC_ENG_LIVE) snprintf(c->label, sizeof c->label, "live %.290s seed %lu", r->label, seed);
        else snprintf(c->label, sizeof c->label, "replay %.300s", r->label);
        idx = e->n_cells++;
    }
    int *ncs = realloc(r->cells, (size_t)(r->n_cells + 1) * sizeof *ncs);
    if (!ncs) return hc_fail(HC_ENOMEM, "out of memory");
    r->cells = ncs;
    r->cells[r->n_cells++] = idx;
    return HC_OK;
}

/* Expand entry `ei` for engine `eng` into rows and cells (grid in
 * row-major order: the last key varies fastest). */
static hc_status expand_entry(const vctx *v, hc_experiment *e, int ei, hc_eng eng)
{
    const exp_entry *en = &e->entries[ei];
    int nk = en->n_keys, idx[EXP_MAX_KEYS] = {0};
    char path[64];
    idxpath(path, sizeof path, "$.methods", ei);
    for (;;) {
        char spec[HC_SPEC_MAX], match[HC_SPEC_MAX];
        snprintf(spec, sizeof spec, "%s", en->spec);
        snprintf(match, sizeof match, "%s", en->matching);
        int steps = en->steps;
        cJSON *grid = cJSON_CreateObject();
        char where[512] = "";
        for (int k = 0; k < nk; k++) {
            const cJSON *val = cJSON_GetArrayItem(en->values[k], idx[k]);
            cJSON_AddItemToObject(grid, en->keys[k], cJSON_Duplicate(val, 1));
            char txt[64];
            grid_text(val, txt, sizeof txt);
            size_t l = strlen(where);
            snprintf(where + l, sizeof where - l, "%s%s=%s", l ? ", " : "", en->keys[k], txt);
            if (strcmp(en->keys[k], "steps") == 0) {
                steps = (int)val->valuedouble;
                continue;
            }
            char *tgt = en->matching[0] ? match : spec;
            char tmp[HC_SPEC_MAX];
            hc_status s = spec_set(tgt, en->keys[k], txt, tmp, sizeof tmp);
            if (s == HC_OK) snprintf(tgt, HC_SPEC_MAX, "%s", tmp);
            else {
                cJSON_Delete(grid);
                return verr(v, path, "grid point %s: %s", where, hc_errmsg());
            }
        }
        hc_method m;
        if (hc_method_parse(en->matching[0] ? match : spec, &m) != HC_OK) {
            cJSON_Delete(grid);
            return verr(v, path, "grid point %s: %s", where, hc_errmsg());
        }
        if (en->matching[0]) {
            steps = full_steps_of(&m, e->steps);
            cJSON_AddStringToObject(grid, "steps_matching", match);
        }
        int row, dup = 0;
        HC_TRY(add_row(e, eng, ei, spec, steps, grid, &row));
        /* an identical row (same engine, resolved spec and steps) is kept once */
        char d1[512], d2[512];
        hc_method_describe(&e->rows[row].method, d1, sizeof d1);
        for (int r = 0; r < row && !dup; r++) {
            hc_method_describe(&e->rows[r].method, d2, sizeof d2);
            dup = e->rows[r].eng == eng && e->rows[r].steps == e->rows[row].steps && strcmp(d1, d2) == 0;
        }
        if (dup) {
            cJSON_Delete(e->rows[row].grid);
            e->n_rows--;
        } else if (eng == HC_ENG_LIVE)
            for (int s = 0; s < e->n_seeds; s++) HC_TRY(add_cell(e, row, e->seeds[s]));
        else
            HC_TRY(add_cell(e, row, 0));
        int k = nk - 1;
        while (k >= 0 && ++idx[k] >= cJSON_GetArraySize(en->values[k])) idx[k--] = 0;
        if (k < 0) break;
    }
    return HC_OK;
}

static hc_status build_cells(const vctx *v, hc_experiment *e)
{
    for (int g = 0; g < HC_N_ENG; g++) {
        if (!(e->eng_mask & (1u << g))) continue;
        /* the full-compute reference first: an explicit `full` entry or an implicit one */
        int ref = -1;
        for (int i = 0; i < e->n_entries && ref < 0; i++) {
            const exp_entry *en = &e->entries[i];
            hc_method m;
            if ((en->eng_mask & (1u << g)) && !en->steps && !en->matching[0] && en->n_keys == 0 &&
                hc_method_parse(en->spec, &m) == HC_OK && strcmp(m.type->name, "full") == 0)
                ref = i;
        }
        if (ref >= 0) HC_TRY(expand_entry(v, e, ref, (hc_eng)g));
        else {
            int row;
            HC_TRY(add_row(e, (hc_eng)g, -1, "full", 0, cJSON_CreateObject(), &row));
            if (g == HC_ENG_LIVE)
                for (int s = 0; s < e->n_seeds; s++) HC_TRY(add_cell(e, row, e->seeds[s]));
            else
                HC_TRY(add_cell(e, row, 0));
        }
        for (int i = 0; i < e->n_entries; i++)
            if (i != ref && (e->entries[i].eng_mask & (1u << g))) HC_TRY(expand_entry(v, e, i, (hc_eng)g));
    }
    /* live cells at other step counts are scored against the reference with the same seed */
    for (int c = 0; c < e->n_cells; c++) {
        exp_cell *cl = &e->cells[c];
        if (cl->eng != HC_ENG_LIVE || cl->steps == e->steps) continue;
        for (int k = 0; k < e->n_cells && cl->ref < 0; k++)
            if (e->cells[k].eng == HC_ENG_LIVE && e->rows[e->cells[k].row].is_ref && e->cells[k].seed == cl->seed)
                cl->ref = k;
        HC_ASSERT(cl->ref >= 0 && cl->ref < c);
    }
    return HC_OK;
}

hc_status hc_experiment_parse(const char *text, const char *origin, hc_experiment **out)
{
    *out = NULL;
    vctx v = {origin};
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithOpts(text, &end, 1);
    if (!doc) {
        int line = 1, col = 1;
        const char *at = end ? end : cJSON_GetErrorPtr();
        for (const char *c = text; at && c < at && *c; c++) {
            if (*c == '\n') line++, col = 1;
            else col++;
        }
        return hc_fail(HC_EINVAL, "%s:%d:%d: invalid JSON", origin, line, col);
    }
    hc_experiment *e = calloc(1, sizeof *e);
    if (!e) {
        cJSON_Delete(doc);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    e->config = doc;
    snprintf(e->origin, sizeof e->origin, "%s", origin);
    hc_status s = want_object(&v, "$", doc);
    if (s == HC_OK) s = check_keys(&v, "$", doc, top_keys);
    const cJSON *x;
    /* name: given or the file's stem */
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "name"))) {
        s = want_str(&v, "$.name", x, e->name, sizeof e->name, 1);
        for (const char *c = e->name; s == HC_OK && *c; c++)
            if (*c == '/' || *c == '"' || *c == '\\' || (unsigned char)*c < 32) s = verr(&v, "$.name", "'%s': no slashes, quotes or control characters", e->name);
    } else if (s == HC_OK) {
        const char *b = strrchr(origin, '/');
        snprintf(e->name, sizeof e->name, "%s", b ? b + 1 : origin);
        char *dot = strrchr(e->name, '.');
        if (dot && dot != e->name) *dot = 0;
    }
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "description")))
        s = want_str(&v, "$.description", x, e->description, sizeof e->description, 0);
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "replay"))) s = parse_replay(&v, e, x);
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "live"))) s = parse_live(&v, e, x);
    if (s == HC_OK && !e->eng_mask) s = verr(&v, "$", "no engine: add \"replay\": {\"files\": [...]} and/or \"live\": {...}");
    for (int g = 0; g < HC_N_ENG && s == HC_OK; g++) {
        if (e->n_cols[g]) continue;
        const int *d = g == HC_ENG_LIVE ? default_cols_live : default_cols_replay;
        int n = g == HC_ENG_LIVE ? (int)(sizeof default_cols_live / sizeof *d) : (int)(sizeof default_cols_replay / sizeof *d);
        for (int i = 0; i < n; i++) {
            const char *k = exp_metrics((hc_eng)g, &(int){0})[d[i]].key;
            if (g == HC_ENG_LIVE && !e->classifier[0] && (strcmp(k, "fd") == 0 || strcmp(k, "class_acc") == 0)) continue;
            e->cols[g][e->n_cols[g]++] = d[i];
        }
    }
    if (s == HC_OK) {
        x = cJSON_GetObjectItemCaseSensitive(doc, "methods");
        if (!x) s = verr(&v, "$", "missing key 'methods' (a list of method specs)");
        else s = want_array(&v, "$.methods", x, 1);
    }
    if (s == HC_OK) {
        e->n_entries = cJSON_GetArraySize(x);
        e->entries = calloc((size_t)e->n_entries, sizeof *e->entries);
        if (!e->entries) s = hc_fail(HC_ENOMEM, "out of memory");
        for (int i = 0; i < e->n_entries && s == HC_OK; i++) s = parse_entry(&v, e, cJSON_GetArrayItem(x, i), i, &e->entries[i]);
    }
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "figures"))) {
        s = want_array(&v, "$.figures", x, 0);
        if (s == HC_OK && cJSON_GetArraySize(x) > 0) {
            e->figs = calloc((size_t)cJSON_GetArraySize(x), sizeof *e->figs);
            if (!e->figs) s = hc_fail(HC_ENOMEM, "out of memory");
            for (int i = 0; s == HC_OK && i < cJSON_GetArraySize(x); i++) {
                s = parse_figure(&v, e, cJSON_GetArrayItem(x, i), i, &e->figs[i]);
                if (s == HC_OK) e->n_figs++;
            }
        }
    }
    if (s == HC_OK) s = build_cells(&v, e);
    if (s != HC_OK) {
        hc_experiment_free(e);
        return s;
    }
    *out = e;
    return HC_OK;
}

hc_status hc_experiment_load(const char *path, hc_experiment **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return hc_fail(HC_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (n + 1 < cap) break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) free(buf);
        buf = nb;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return hc_fail(HC_ENOMEM, "out of memory reading %s", path);
    if (err) {
        free(buf);
        return hc_fail(HC_EIO, "%s: read error", path);
    }
    buf[n] = 0;
    hc_status s = hc_experiment_parse(buf, path, out);
    free(buf);
    return s;
}

void hc_experiment_free(hc_experiment *e)
{
    if (!e) return;
    for (int i = 0; i < e->n_files; i++) free(e->files[i]);
    free(e->files);
    free(e->seeds);
    free(e->entries);
    for (int r = 0; r < e->n_rows; r++) {
        cJSON_Delete(e->rows[r].grid);
        free(e->rows[r].cells);
    }
    free(e->rows);
    for (int c = 0; c < e->n_cells; c++) {
        free(e->cells[c].key);
        cJSON_Delete(e->cells[c].doc);
    }
    free(e->cells);
    free(e->figs);
    cJSON_Delete(e->config);
    free(e);
}

const char *hc_experiment_name(const hc_experiment *e) { return e->name; }
int hc_experiment_num_cells(const hc_experiment *e) { return e->n_cells; }

const char *hc_experiment_cell_id(const hc_experiment *e, int i)
{
    HC_ASSERT(i >= 0 && i < e->n_cells);
    return e->cells[i].id;
}

const char *hc_experiment_cell_label(const hc_experiment *e, int i)
{
    HC_ASSERT(i >= 0 && i < e->n_cells);
    return e->cells[i].label;
}

cJSON *exp_resolved_json(const hc_experiment *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", e->name);
    cJSON_AddStringToObject(o, "description", e->description);
    if (e->eng_mask & (1u << HC_ENG_REPLAY)) {
        cJSON *r = cJSON_AddObjectToObject(o, "replay");
        cJSON *f = cJSON_AddArrayToObject(r, "files");
        for (int i = 0; i < e->n_files; i++) cJSON_AddItemToArray(f, cJSON_CreateString(e->files[i]));
        cJSON_AddStringToObject(r, "modules", e->modules[0] ? e->modules : "*");
    }
    if (e->eng_mask & (1u << HC_ENG_LIVE)) {
        cJSON *l = cJSON_AddObjectToObject(o, "live");
        cJSON_AddStringToObject(l, "model", e->model);
        cJSON_AddStringToObject(l, "classifier", e->classifier);
        cJSON_AddStringToObject(l, "data_dir", e->data_dir);
        cJSON_AddNumberToObject(l, "n", e->n);
        cJSON_AddNumberToObject(l, "steps", e->steps);
        cJSON_AddNumberToObject(l, "batch", e->batch);
        cJSON_AddNumberToObject(l, "guidance", e->guidance);
        cJSON_AddBoolToObject(l, "shift", e->shift);
        cJSON_AddNumberToObject(l, "n_real", e->n_real);
        cJSON *s = cJSON_AddArrayToObject(l, "seeds");
        for (int i = 0; i < e->n_seeds; i++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)e->seeds[i]));
    }
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    for (int r = 0; r < e->n_rows; r++) {
        const exp_row *w = &e->rows[r];
        cJSON *j = cJSON_CreateObject();
        char desc[512];
        hc_method_describe(&w->method, desc, sizeof desc);
        cJSON_AddStringToObject(j, "engine", hc_eng_names[w->eng]);
        if (w->entry >= 0) cJSON_AddNumberToObject(j, "entry", w->entry);
        else cJSON_AddStringToObject(j, "entry", "implicit full-compute reference");
        cJSON_AddStringToObject(j, "spec", w->spec);
        cJSON_AddStringToObject(j, "resolved", desc);
        cJSON_AddStringToObject(j, "label", w->label);
        if (w->eng == HC_ENG_LIVE) cJSON_AddNumberToObject(j, "steps", w->steps);
        cJSON_AddItemToObject(j, "grid", cJSON_Duplicate(w->grid, 1));
        cJSON *ids = cJSON_AddArrayToObject(j, "cells");
        for (int k = 0; k < w->n_cells; k++) cJSON_AddItemToArray(ids, cJSON_CreateString(e->cells[w->cells[k]].id));
        cJSON_AddItemToArray(rows, j);
    }
    return o;
}

/* ---- engines ----------------------------------------------------------------------------- */

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

static hc_status run_live(const hc_experiment *e, const char *dir, exp_cell *c, cJSON *cell)
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

static hc_status run_replay(const hc_experiment *e, const char *dir, exp_cell *c, cJSON *cell)
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

/* ---- running ------------------------------------------------------------------------------ */

static cJSON *cell_header(const hc_experiment *e, const exp_cell *c)
{
    const exp_row *r = &e->rows[c->row];
    cJSON *o = cJSON_CreateObject();
    char desc[512];
    hc_method_describe(&r->method, desc, sizeof desc);
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddStringToObject(o, "key", c->key);
    cJSON_AddStringToObject(o, "experiment", e->name);
    cJSON_AddStringToObject(o, "engine", hc_eng_names[c->eng]);
    cJSON_AddStringToObject(o, "spec", r->spec);
    cJSON_AddStringToObject(o, "resolved", desc);
    cJSON_AddStringToObject(o, "label", r->label);
    if (c->eng == HC_ENG_LIVE) {
        cJSON_AddNumberToObject(o, "seed", (double)c->seed);
        cJSON_AddNumberToObject(o, "steps", c->steps);
    }
    return o;
}

/* Load DIR/cells/ID.json if it is a finished result of this very cell. */
static int try_load(const char *path, const exp_cell *c, cJSON **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n > 0 ? malloc((size_t)n + 1) : NULL;
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!buf) return 0;
    buf[got] = 0;
    cJSON *doc = cJSON_Parse(buf);
    free(buf);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(doc, "key");
    if (!doc || !cJSON_IsString(k) || strcmp(k->valuestring, c->key) != 0 ||
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "metrics"))) {
        cJSON_Delete(doc);
        return 0;
    }
    *out = doc;
    return 1;
}

static void fmt_dur(double s, char *buf, size_t n)
{
    if (s < 60) snprintf(buf, n, "%.1fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void draw_bar(int done, int total, const char *label, double elapsed, double eta)
{
    const int W = 24;
    int fill = total ? done * W / total : W;
    char bar[64], el[32], et[32], lab[48];
    for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
    bar[W] = 0;
    fmt_dur(elapsed, el, sizeof el);
    if (eta >= 0) fmt_dur(eta, et, sizeof et);
    else snprintf(et, sizeof et, "?");
    /* truncate the label on a UTF-8 boundary */
    size_t l = strlen(label), cut = l < 40 ? l : 40;
    while (cut < l && cut > 0 && ((unsigned char)label[cut] & 0xC0) == 0x80) cut--;
    snprintf(lab, sizeof lab, "%.*s", (int)cut, label);
    fprintf(stderr, "\r\033[Krun [%s] %d/%d  %s  elapsed %s, eta %s", bar, done, total, lab, el, et);
    fflush(stderr);
}

void hc_experiment_run_defaults(hc_experiment_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->progress = HC_PROGRESS_AUTO;
    o->render = 1;
}

hc_status hc_experiment_run(hc_experiment *e, const hc_experiment_run_opts *o, hc_experiment_report *rep)
{
    memset(rep, 0, sizeof *rep);
    if (o->out_dir) snprintf(rep->out_dir, sizeof rep->out_dir, "%s", o->out_dir);
    else snprintf(rep->out_dir, sizeof rep->out_dir, "out/%s", e->name);
    const char *dir = rep->out_dir;
    char cells_dir[1100], path[1300];
    HC_TRY(hc_path_join(cells_dir, sizeof cells_dir, dir, "cells"));
    HC_TRY(hc_mkdir_p(cells_dir));
    hc_progress pm = o->progress;
    if (pm == HC_PROGRESS_AUTO) pm = isatty(2) ? HC_PROGRESS_BAR : HC_PROGRESS_LINES;
    rep->cells = e->n_cells;
    /* finished cells first */
    for (int i = 0; i < e->n_cells; i++) {
        exp_cell *c = &e->cells[i];
        cJSON_Delete(c->doc);
        c->doc = NULL;
        snprintf(path, sizeof path, "%s/%s.json", cells_dir, c->id);
        if (try_load(path, c, &c->doc)) rep->loaded++;
    }
    /* a reference whose samples are gone must be recomputed for its dependants */
    for (int i = 0; i < e->n_cells; i++) {
        exp_cell *c = &e->cells[i];
        if (c->ref < 0 || c->doc || !e->cells[c->ref].doc) continue;
        snprintf(path, sizeof path, "%s/raw/%s/samples.h5", dir, e->cells[c->ref].id);
        if (access(path, R_OK) != 0) {
            cJSON_Delete(e->cells[c->ref].doc);
            e->cells[c->ref].doc = NULL;
            rep->loaded--;
        }
    }
    int pending = e->n_cells - rep->loaded;
    if (pm != HC_PROGRESS_NONE && rep->loaded)
        fprintf(stderr, "run: %s: %d of %d cells finished earlier (%s), %d to compute\n", e->name, rep->loaded,
                e->n_cells, cells_dir, pending);
    double t0 = now_s();
    int done = 0;
    hc_status s = HC_OK;
    for (int i = 0; i < e->n_cells && s == HC_OK; i++) {
        exp_cell *c = &e->cells[i];
        if (c->doc) continue;
        if (o->max_cells > 0 && rep->computed >= o->max_cells) break;
        double el = now_s() - t0;
        if (pm == HC_PROGRESS_BAR) draw_bar(done, pending, c->label, el, done ? el / done * (pending - done) : -1);
        double t1 = now_s();
        cJSON *cell = cell_header(e, c);
        s = c->eng == HC_ENG_LIVE ? run_live(e, dir, c, cell) : run_replay(e, dir, c, cell);
        double dt = now_s() - t1;
        if (s == HC_OK) {
            cJSON_AddNumberToObject(cell, "cell_seconds", dt);
            cJSON_AddItemToObject(cell, "provenance", hc_provenance_json());
            snprintf(path, sizeof path, "%s/%s.json", cells_dir, c->id);
            s = hc_write_json(path, cell);
        }
        if (s != HC_OK) {
            cJSON_Delete(cell);
            if (pm == HC_PROGRESS_BAR) fputc('\n', stderr);
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", hc_errmsg());
            return hc_fail(s, "cell %s (%s): %s", c->id, c->label, msg);
        }
        c->doc = cell;
        rep->computed++;
        done++;
        if (pm == HC_PROGRESS_LINES) {
            char d[32];
            fmt_dur(dt, d, sizeof d);
            fprintf(stderr, "run: [%d/%d] %s: %s\n", done, pending, c->label, d);
        }
    }
    if (pm == HC_PROGRESS_BAR && pending) {
        draw_bar(done, pending, "", now_s() - t0, 0);
        fputc('\n', stderr);
    }
    if (rep->loaded + rep->computed < e->n_cells) return HC_OK; /* stopped by max_cells */
    HC_TRY(exp_write_outputs(e, dir, o->render, pm == HC_PROGRESS_NONE, rep));
    rep->complete = 1;
    return HC_OK;
}
