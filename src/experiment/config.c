/* config.c: validation of an experiment config (JSON) into the parsed
 * experiment (see experiment.h and docs/experiments.md); the rows and cells
 * are expanded by cells.c. */
#include "experiment.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exp_internal.h"
#include "exp_validate.h"
#include "live.h"
#include "metrics.h"
#include "outfile.h"

/* ---- config ----------------------------------------------------------------------------- */

static const char *const top_keys[] = {"name", "description", "replay", "live", "methods", "figures", "baseline", NULL};
static const char *const replay_keys[] = {"files", "modules", "columns", NULL};
static const char *const live_keys[] = {"model", "classifier", "data_dir", "n", "steps", "guidance", "batch",
                                        "seeds", "shift", "n_real", "columns", NULL};
static const char *const entry_keys[] = {"spec", "grid", "steps", "steps_matching", "name", "engines", NULL};
static const char *const fig_keys[] = {"name", "type", "engine", "x", "y", "series", "logx", "logy",
                                       "by_kind", "title", NULL};

static const int default_cols_live[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};  /* flops .. class_acc */
static const int default_cols_replay[] = {7, 6, 0, 1, 2, 4, 5};      /* full_steps, speedup, rel_l2 .. max_abs */

static hc_status parse_columns(const exp_vctx *v, hc_experiment *e, hc_eng eng, const cJSON *cols, const char *path)
{
    HC_TRY(exp_want_array(v, path, cols, 1));
    int n = cJSON_GetArraySize(cols);
    if (n > EXP_MAX_COLS) return exp_verr(v, path, "at most %d columns", EXP_MAX_COLS);
    int nm, i = 0;
    const hc_report_metric *all = hc_report_metrics(eng, &nm);
    const cJSON *c;
    cJSON_ArrayForEach(c, cols)
    {
        char p[512], key[64], list[512];
        exp_idxpath(p, sizeof p, path, i);
        HC_TRY(exp_want_str(v, p, c, key, sizeof key, 1));
        const hc_report_metric *m = hc_report_metric_find(eng, key);
        if (!m) {
            hc_report_metric_list(eng, list, sizeof list);
            return exp_verr(v, p, "unknown %s metric '%s' (valid: %s)", hc_eng_names[eng], key, list);
        }
        e->cols[eng][i++] = (int)(m - all);
    }
    e->n_cols[eng] = n;
    return HC_OK;
}

static hc_status parse_replay(const exp_vctx *v, hc_experiment *e, const cJSON *r)
{
    const char *path = "$.replay";
    HC_TRY(exp_want_object(v, path, r));
    HC_TRY(exp_check_keys(v, path, r, replay_keys));
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(r, "files");
    if (!files) return exp_verr(v, path, "missing key 'files' (trajectory files or glob patterns)");
    HC_TRY(exp_want_array(v, "$.replay.files", files, 1));
    int i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        char p[512], pat[1024];
        exp_idxpath(p, sizeof p, "$.replay.files", i++);
        HC_TRY(exp_want_str(v, p, f, pat, sizeof pat, 1));
        glob_t g;
        int gr = glob(pat, GLOB_NOCHECK, NULL, &g);
        if (gr != 0) return exp_verr(v, p, "cannot expand '%s'", pat);
        for (size_t k = 0; k < g.gl_pathc; k++) {
            const char *fn = g.gl_pathv[k];
            if (access(fn, R_OK) != 0) {
                int err = errno;
                globfree(&g);
                if (strpbrk(pat, "*?[")) return exp_verr(v, p, "no file matches '%s'", pat);
                return exp_verr(v, p, "%s: cannot open: %s", pat, strerror(err));
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
    if (x) HC_TRY(exp_want_str(v, "$.replay.modules", x, e->modules, sizeof e->modules, 1));
    if ((x = cJSON_GetObjectItemCaseSensitive(r, "columns"))) HC_TRY(parse_columns(v, e, HC_ENG_REPLAY, x, "$.replay.columns"));
    e->eng_mask |= 1u << HC_ENG_REPLAY;
    return HC_OK;
}

typedef struct seed_at {
    unsigned long seed;
    int i;
} seed_at;

static int cmp_seed_at(const void *a, const void *b)
{
    const seed_at *p = a, *q = b;
    if (p->seed != q->seed) return p->seed < q->seed ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* $.live.seeds without repeats (sorted, so n log n): the first seed that
 * repeats an earlier one is named. */
static hc_status unique_seeds(const exp_vctx *v, const hc_experiment *e)
{
    seed_at *s = malloc(((size_t)e->n_seeds + 1) * sizeof *s);
    if (!s) return hc_fail(HC_ENOMEM, "out of memory");
    for (int i = 0; i < e->n_seeds; i++) s[i] = (seed_at){e->seeds[i], i};
    qsort(s, (size_t)e->n_seeds, sizeof *s, cmp_seed_at);
    int dup = -1;
    for (int i = 1; i < e->n_seeds; i++)
        if (s[i].seed == s[i - 1].seed && (dup < 0 || s[i].i < dup)) dup = s[i].i;
    free(s);
    if (dup < 0) return HC_OK;
    char p[64];
    exp_idxpath(p, sizeof p, "$.live.seeds", dup);
    return exp_verr(v, p, "duplicate seed %lu", e->seeds[dup]);
}

static hc_status parse_live(const exp_vctx *v, hc_experiment *e, const cJSON *l)
{
    const char *path = "$.live";
    HC_TRY(exp_want_object(v, path, l));
    HC_TRY(exp_check_keys(v, path, l, live_keys));
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
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "model"))) HC_TRY(exp_want_str(v, "$.live.model", x, e->model, sizeof e->model, 1));
    HC_TRY(exp_want_file(v, "$.live.model", e->model));
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "classifier")))
        HC_TRY(exp_want_str(v, "$.live.classifier", x, e->classifier, sizeof e->classifier, 0));
    if (e->classifier[0]) HC_TRY(exp_want_file(v, "$.live.classifier", e->classifier));
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "data_dir")))
        HC_TRY(exp_want_str(v, "$.live.data_dir", x, e->data_dir, sizeof e->data_dir, 1));
    if (e->classifier[0]) HC_TRY(exp_want_dir(v, "$.live.data_dir", e->data_dir));
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "n"))) { HC_TRY(exp_want_int(v, "$.live.n", x, 1, 100000, &iv)); e->n = (int)iv; }
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "steps"))) { HC_TRY(exp_want_int(v, "$.live.steps", x, 1, 10000, &iv)); e->steps = (int)iv; }
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "batch"))) { HC_TRY(exp_want_int(v, "$.live.batch", x, 1, 4096, &iv)); e->batch = (int)iv; }
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "n_real"))) { HC_TRY(exp_want_int(v, "$.live.n_real", x, 2, 10000, &iv)); e->n_real = (int)iv; }
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "guidance"))) HC_TRY(exp_want_num(v, "$.live.guidance", x, 0, 100, &e->guidance));
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "shift"))) HC_TRY(exp_want_bool(v, "$.live.shift", x, &e->shift));
    e->n_seeds = 1;
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "seeds"))) {
        HC_TRY(exp_want_array(v, "$.live.seeds", x, 1));
        e->n_seeds = cJSON_GetArraySize(x);
    }
    e->seeds = calloc((size_t)e->n_seeds, sizeof *e->seeds);
    if (!e->seeds) return hc_fail(HC_ENOMEM, "out of memory");
    int i = 0;
    const cJSON *sd;
    cJSON_ArrayForEach(sd, x)
    {
        char p[64];
        exp_idxpath(p, sizeof p, "$.live.seeds", i);
        HC_TRY(exp_want_int(v, p, sd, 0, 2147483647L, &iv));
        e->seeds[i++] = (unsigned long)iv;
    }
    HC_TRY(unique_seeds(v, e));
    if ((x = cJSON_GetObjectItemCaseSensitive(l, "columns"))) HC_TRY(parse_columns(v, e, HC_ENG_LIVE, x, "$.live.columns"));
    e->eng_mask |= 1u << HC_ENG_LIVE;
    return HC_OK;
}

/* $.methods[i].engines (path is "$.methods[i]"): the engines of the entry, each configured. */
static hc_status entry_engines(const exp_vctx *v, const hc_experiment *e, const cJSON *y, const char *path, exp_entry *en)
{
    char p[128];
    exp_subpath(p, sizeof p, path, "engines");
    HC_TRY(exp_want_array(v, p, y, 1));
    en->eng_mask = 0;
    int k = 0;
    const cJSON *z;
    cJSON_ArrayForEach(z, y)
    {
        char q[160], name[32];
        exp_idxpath(q, sizeof q, p, k++);
        HC_TRY(exp_want_str(v, q, z, name, sizeof name, 1));
        int found = -1;
        for (int g = 0; g < HC_N_ENG; g++)
            if (strcmp(name, hc_eng_names[g]) == 0) found = g;
        if (found < 0) return exp_verr(v, q, "unknown engine '%s' (valid: replay, live)", name);
        if (!(e->eng_mask & (1u << found))) return exp_verr(v, q, "engine '%s' is not configured (add \"%s\": {...})", name, name);
        en->eng_mask |= 1u << found;
    }
    return HC_OK;
}

/* "steps" or "steps_matching" of the entry object x (spec parsed into m):
 * either makes the entry live-only, named "Fewer steps" when it is full
 * compute without a name of its own. */
static hc_status entry_steps(const exp_vctx *v, const hc_experiment *e, const cJSON *x, const char *path, const hc_method *m,
                             exp_entry *en)
{
    char p[128];
    int live_only = 0;
    long iv;
    const cJSON *y;
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "steps"))) {
        exp_subpath(p, sizeof p, path, "steps");
        HC_TRY(exp_want_int(v, p, y, 1, 10000, &iv));
        en->steps = (int)iv;
        live_only = 1;
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "steps_matching"))) {
        exp_subpath(p, sizeof p, path, "steps_matching");
        if (en->steps) return exp_verr(v, p, "give either \"steps\" or \"steps_matching\", not both");
        HC_TRY(exp_want_str(v, p, y, en->matching, sizeof en->matching, 1));
        hc_method mm;
        if (hc_method_parse(en->matching, &mm) != HC_OK) return exp_verr(v, p, "%s", hc_errmsg());
        if (!(hc_method_caps(m) & HC_PRED_NO_CACHE)) return exp_verr(v, p, "only valid with \"spec\": \"full\"");
        live_only = 1;
    }
    if (live_only && !cJSON_GetObjectItemCaseSensitive(x, "name") && (hc_method_caps(m) & HC_PRED_NO_CACHE))
        snprintf(en->name, sizeof en->name, "Fewer steps");
    if (live_only) {
        exp_subpath(p, sizeof p, path, en->steps ? "steps" : "steps_matching");
        if (!(e->eng_mask & (1u << HC_ENG_LIVE))) return exp_verr(v, p, "needs the live engine (replay steps are fixed by the files)");
        en->eng_mask &= 1u << HC_ENG_LIVE;
        if (!en->eng_mask) return exp_verr(v, p, "needs the live engine in \"engines\"");
    }
    return HC_OK;
}

/* One value (at JSON path q) of the grid key `key`: a token the spec
 * template accepts, checked by resolving the template with it. */
static hc_status grid_value(const exp_vctx *v, const exp_entry *en, const char *key, const cJSON *val, const char *q)
{
    char txt[64], one[HC_SPEC_MAX];
    if (cJSON_IsString(val)) {
        if (!val->valuestring[0] || strpbrk(val->valuestring, ",:= ")) return exp_verr(v, q, "bad value \"%s\"", val->valuestring);
    } else if (!cJSON_IsNumber(val)) {
        exp_jshow(val, txt, sizeof txt);
        return exp_verr(v, q, "expected a number or a string, got %s", txt);
    }
    exp_grid_text(val, txt, sizeof txt);
    const char *tmpl = en->matching[0] ? en->matching : en->spec;
    hc_method mm;
    if (exp_spec_set(tmpl, key, txt, one, sizeof one) != HC_OK || hc_method_parse(one, &mm) != HC_OK)
        return exp_verr(v, q, "%s", hc_errmsg());
    return HC_OK;
}

/* "grid" of the entry object x (spec parsed into m): keys with non-empty
 * value lists; a grid over steps makes the entry live-only. */
static hc_status entry_grid(const exp_vctx *v, const hc_experiment *e, const cJSON *x, const cJSON *y, const char *path,
                            const hc_method *m, exp_entry *en)
{
    char gp[128], p[128];
    long iv;
    exp_subpath(gp, sizeof gp, path, "grid");
    HC_TRY(exp_want_object(v, gp, y));
    const cJSON *kv;
    cJSON_ArrayForEach(kv, y)
    {
        exp_subpath(p, sizeof p, gp, kv->string);
        if (en->n_keys >= EXP_MAX_KEYS) return exp_verr(v, p, "at most %d grid keys", EXP_MAX_KEYS);
        if (strlen(kv->string) >= sizeof en->keys[0] || !kv->string[0]) return exp_verr(v, p, "bad key name");
        HC_TRY(exp_want_array(v, p, kv, 1));
        int is_steps = strcmp(kv->string, "steps") == 0;
        if (is_steps) {
            if (en->steps || en->matching[0]) return exp_verr(v, p, "grid over steps conflicts with \"steps\"/\"steps_matching\"");
            if (!(e->eng_mask & (1u << HC_ENG_LIVE))) return exp_verr(v, p, "needs the live engine (replay steps are fixed by the files)");
            en->eng_mask &= 1u << HC_ENG_LIVE;
            if (!cJSON_GetObjectItemCaseSensitive(x, "name") && (hc_method_caps(m) & HC_PRED_NO_CACHE))
                snprintf(en->name, sizeof en->name, "Fewer steps");
        }
        int k = 0;
        const cJSON *val;
        cJSON_ArrayForEach(val, kv)
        {
            char q[192];
            exp_idxpath(q, sizeof q, p, k++);
            if (is_steps) HC_TRY(exp_want_int(v, q, val, 1, 10000, &iv));
            else HC_TRY(grid_value(v, en, kv->string, val, q));
        }
        snprintf(en->keys[en->n_keys], sizeof en->keys[0], "%s", kv->string);
        en->values[en->n_keys++] = kv;
    }
    return HC_OK;
}

/* A method entry's default series name: its paper label without the
 * parameters ("Hi-ClusCa", "ClusCa+FORA", "TaylorSeer"). */
static void series_name(const hc_method *m, char *buf, size_t n)
{
    char label[320];
    hc_method_label(m, label, sizeof label);
    char *paren = strstr(label, " (");
    size_t len = paren ? (size_t)(paren - label) : strlen(label);
    if (len >= n) len = n - 1;
    memcpy(buf, label, len);
    buf[len] = '\0';
}

/* $.methods[i]: a spec string, or an object with "spec" and optional
 * "name", "engines", "steps"/"steps_matching" and "grid". */
static hc_status parse_entry(const exp_vctx *v, hc_experiment *e, const cJSON *x, int i, exp_entry *en)
{
    char path[64], p[128];
    exp_idxpath(path, sizeof path, "$.methods", i);
    memset(en, 0, sizeof *en);
    en->eng_mask = e->eng_mask;
    hc_method m;
    if (cJSON_IsString(x)) {
        HC_TRY(exp_want_str(v, path, x, en->spec, sizeof en->spec, 1));
        if (hc_method_parse(en->spec, &m) != HC_OK) return exp_verr(v, path, "%s", hc_errmsg());
        series_name(&m, en->name, sizeof en->name);
        return HC_OK;
    }
    if (!cJSON_IsObject(x)) {
        char s[96];
        exp_jshow(x, s, sizeof s);
        return exp_verr(v, path, "expected a method spec string or an object with \"spec\", got %s", s);
    }
    HC_TRY(exp_check_keys(v, path, x, entry_keys));
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(x, "spec");
    exp_subpath(p, sizeof p, path, "spec");
    if (!s) return exp_verr(v, path, "missing key 'spec'");
    HC_TRY(exp_want_str(v, p, s, en->spec, sizeof en->spec, 1));
    if (hc_method_parse(en->spec, &m) != HC_OK) return exp_verr(v, p, "%s", hc_errmsg());
    series_name(&m, en->name, sizeof en->name);
    const cJSON *y;
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "name"))) {
        exp_subpath(p, sizeof p, path, "name");
        HC_TRY(exp_want_str(v, p, y, en->name, sizeof en->name, 1));
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "engines"))) HC_TRY(entry_engines(v, e, y, path, en));
    HC_TRY(entry_steps(v, e, x, path, &m, en));
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "grid"))) HC_TRY(entry_grid(v, e, x, y, path, &m, en));
    return HC_OK;
}

/* $.figures[i].name (path is "$.figures[i]"): required, a safe file stem, unique. */
static hc_status figure_name(const exp_vctx *v, const hc_experiment *e, const cJSON *x, const char *path, int i,
                             hc_fig_decl *f)
{
    char p[128];
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(x, "name");
    exp_subpath(p, sizeof p, path, "name");
    if (!y) return exp_verr(v, path, "missing key 'name'");
    HC_TRY(exp_want_str(v, p, y, f->name, sizeof f->name, 1));
    for (const char *c = f->name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return exp_verr(v, p, "'%s': use letters, digits, '_' and '-' only", f->name);
    for (int k = 0; k < i; k++)
        if (strcmp(e->figs[k].name, f->name) == 0) return exp_verr(v, p, "duplicate figure name '%s'", f->name);
    return HC_OK;
}

/* "type" (default scatter) and "engine" (default: replay for curves or
 * without live, else live), which must be configured. */
static hc_status figure_type_engine(const exp_vctx *v, const hc_experiment *e, const cJSON *x, const char *path,
                                    hc_fig_decl *f)
{
    char p[128];
    const cJSON *y;
    f->type = HC_FIG_SCATTER;
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "type"))) {
        char t[32];
        exp_subpath(p, sizeof p, path, "type");
        HC_TRY(exp_want_str(v, p, y, t, sizeof t, 1));
        int found = -1;
        for (int k = 0; k < HC_FIG_N_TYPES; k++)
            if (strcmp(t, hc_fig_type_names[k]) == 0) found = k;
        if (found < 0) return exp_verr(v, p, "unknown figure type '%s' (valid: scatter, pareto, line, curve)", t);
        f->type = (hc_fig_type)found;
    }
    f->eng = f->type == HC_FIG_CURVE || !(e->eng_mask & (1u << HC_ENG_LIVE)) ? HC_ENG_REPLAY : HC_ENG_LIVE;
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "engine"))) {
        char t[32];
        exp_subpath(p, sizeof p, path, "engine");
        HC_TRY(exp_want_str(v, p, y, t, sizeof t, 1));
        if (strcmp(t, "live") == 0) f->eng = HC_ENG_LIVE;
        else if (strcmp(t, "replay") == 0) f->eng = HC_ENG_REPLAY;
        else return exp_verr(v, p, "unknown engine '%s' (valid: replay, live)", t);
        if (f->type == HC_FIG_CURVE && f->eng != HC_ENG_REPLAY) return exp_verr(v, p, "curve figures need the replay engine");
    }
    if (!(e->eng_mask & (1u << f->eng))) {
        exp_subpath(p, sizeof p, path, "engine");
        return exp_verr(v, p, "engine '%s' is not configured", hc_eng_names[f->eng]);
    }
    return HC_OK;
}

/* "x" and "y" with the type's defaults: curves plot a forecast metric
 * against step or horizon, line figures a metric against a method key,
 * the others one metric of the engine against another. */
static hc_status figure_axes(const exp_vctx *v, const cJSON *x, const char *path, hc_fig_decl *f)
{
    char p[128], list[512];
    const cJSON *y;
    hc_report_metric_list(f->eng, list, sizeof list);
    const char *defx = f->type == HC_FIG_CURVE ? "step" : f->type == HC_FIG_LINE ? "N" : "flops_speedup";
    const char *defy = f->type == HC_FIG_CURVE || f->eng == HC_ENG_REPLAY ? "rel_l2" : "psnr";
    snprintf(f->x, sizeof f->x, "%s", defx);
    snprintf(f->y, sizeof f->y, "%s", defy);
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "x"))) {
        exp_subpath(p, sizeof p, path, "x");
        HC_TRY(exp_want_str(v, p, y, f->x, sizeof f->x, 1));
    }
    exp_subpath(p, sizeof p, path, "x");
    if (f->type == HC_FIG_CURVE) {
        if (strcmp(f->x, "step") != 0 && strcmp(f->x, "horizon") != 0)
            return exp_verr(v, p, "curve figures plot against 'step' or 'horizon', got '%s'", f->x);
    } else if (f->type == HC_FIG_LINE) {
        if (hc_res_row_key_index(f->x) < 0) return exp_verr(v, p, "line figures plot against a method key (N, W, O, sigma, K, gamma, steps), got '%s'", f->x);
    } else if (!hc_report_metric_find(f->eng, f->x)) {
        return exp_verr(v, p, "unknown %s metric '%s' (valid: %s)", hc_eng_names[f->eng], f->x, list);
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "y"))) {
        exp_subpath(p, sizeof p, path, "y");
        HC_TRY(exp_want_str(v, p, y, f->y, sizeof f->y, 1));
    }
    exp_subpath(p, sizeof p, path, "y");
    if (f->type == HC_FIG_CURVE) {
        int ok = 0;
        for (int k = 0; k < HC_N_METRICS; k++) ok |= strcmp(f->y, hc_metric_names[k]) == 0;
        if (!ok) return exp_verr(v, p, "curve figures plot rel_l1, rel_l2, cosine or max_abs, got '%s'", f->y);
    } else if (!hc_report_metric_find(f->eng, f->y)) {
        return exp_verr(v, p, "unknown %s metric '%s' (valid: %s)", hc_eng_names[f->eng], f->y, list);
    }
    return HC_OK;
}

/* "series", "logx", "logy", "by_kind" (curves only) and "title" (quotes
 * and backslashes become apostrophes). */
static hc_status figure_style(const exp_vctx *v, const cJSON *x, const char *path, hc_fig_decl *f)
{
    char p[128];
    const cJSON *y;
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "series"))) {
        char t[32];
        exp_subpath(p, sizeof p, path, "series");
        HC_TRY(exp_want_str(v, p, y, t, sizeof t, 1));
        if (strcmp(t, "method") == 0) f->by_entry = 1;
        else if (strcmp(t, "none") == 0) f->by_entry = 0;
        else return exp_verr(v, p, "unknown series '%s' (valid: method, none)", t);
    }
    static const char *const bools[] = {"logx", "logy", "by_kind"};
    int *dst[] = {&f->logx, &f->logy, &f->by_kind};
    for (int k = 0; k < 3; k++)
        if ((y = cJSON_GetObjectItemCaseSensitive(x, bools[k]))) {
            exp_subpath(p, sizeof p, path, bools[k]);
            HC_TRY(exp_want_bool(v, p, y, dst[k]));
        }
    if (f->by_kind && f->type != HC_FIG_CURVE) {
        exp_subpath(p, sizeof p, path, "by_kind");
        return exp_verr(v, p, "only for curve figures");
    }
    if ((y = cJSON_GetObjectItemCaseSensitive(x, "title"))) {
        exp_subpath(p, sizeof p, path, "title");
        HC_TRY(exp_want_str(v, p, y, f->title, sizeof f->title, 0));
        for (char *c = f->title; *c; c++)
            if (*c == '"' || *c == '\\') *c = '\'';
    }
    return HC_OK;
}

/* $.figures[i]: an object with the keys of fig_keys. */
static hc_status parse_figure(const exp_vctx *v, hc_experiment *e, const cJSON *x, int i, hc_fig_decl *f)
{
    char path[64];
    exp_idxpath(path, sizeof path, "$.figures", i);
    memset(f, 0, sizeof *f);
    f->by_entry = 1;
    HC_TRY(exp_want_object(v, path, x));
    HC_TRY(exp_check_keys(v, path, x, fig_keys));
    HC_TRY(figure_name(v, e, x, path, i, f));
    HC_TRY(figure_type_engine(v, e, x, path, f));
    HC_TRY(figure_axes(v, x, path, f));
    return figure_style(v, x, path, f);
}

/* $.name, or the file's stem: the output folder's name (out/NAME), so one
 * safe file name (hc_safe_name: never "..", no slash). */
static hc_status experiment_name(const exp_vctx *v, const cJSON *doc, const char *origin, hc_experiment *e)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(doc, "name");
    if (x) {
        HC_TRY(exp_want_str(v, "$.name", x, e->name, sizeof e->name, 1));
        if (!hc_safe_name(e->name)) return exp_verr(v, "$.name", "'%s' names the output folder: use %s", e->name, HC_SAFE_NAME_RULE);
        return HC_OK;
    }
    const char *b = strrchr(origin, '/');
    snprintf(e->name, sizeof e->name, "%s", b ? b + 1 : origin);
    char *dot = strrchr(e->name, '.');
    if (dot && dot != e->name) *dot = 0;
    if (!hc_safe_name(e->name))
        return exp_verr(v, "$", "no \"name\" and the file's stem '%s' is not a safe output folder name (%s): add \"name\"",
                        e->name, HC_SAFE_NAME_RULE);
    return HC_OK;
}

hc_status hc_experiment_parse(const char *text, const char *origin, hc_experiment **out)
{
    *out = NULL;
    exp_vctx v = {origin};
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
    hc_status s = exp_want_object(&v, "$", doc);
    if (s == HC_OK) s = exp_check_keys(&v, "$", doc, top_keys);
    const cJSON *x;
    /* name: given or the file's stem */
    if (s == HC_OK) s = experiment_name(&v, doc, origin, e);
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "description")))
        s = exp_want_str(&v, "$.description", x, e->description, sizeof e->description, 0);
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "replay"))) s = parse_replay(&v, e, x);
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "live"))) s = parse_live(&v, e, x);
    if (s == HC_OK && !e->eng_mask) s = exp_verr(&v, "$", "no engine: add \"replay\": {\"files\": [...]} and/or \"live\": {...}");
    for (int g = 0; g < HC_N_ENG && s == HC_OK; g++) {
        if (e->n_cols[g]) continue;
        const int *d = g == HC_ENG_LIVE ? default_cols_live : default_cols_replay;
        int n = g == HC_ENG_LIVE ? (int)(sizeof default_cols_live / sizeof *d) : (int)(sizeof default_cols_replay / sizeof *d);
        for (int i = 0; i < n; i++) {
            const char *k = hc_report_metrics((hc_eng)g, &(int){0})[d[i]].key;
            if (g == HC_ENG_LIVE && !e->classifier[0] && (strcmp(k, "fd") == 0 || strcmp(k, "class_acc") == 0)) continue;
            e->cols[g][e->n_cols[g]++] = d[i];
        }
    }
    if (s == HC_OK) {
        x = cJSON_GetObjectItemCaseSensitive(doc, "methods");
        if (!x) s = exp_verr(&v, "$", "missing key 'methods' (a list of method specs)");
        else s = exp_want_array(&v, "$.methods", x, 1);
    }
    if (s == HC_OK) {
        e->n_entries = cJSON_GetArraySize(x);
        e->entries = calloc((size_t)e->n_entries, sizeof *e->entries);
        if (!e->entries) s = hc_fail(HC_ENOMEM, "out of memory");
        for (int i = 0; i < e->n_entries && s == HC_OK; i++) s = parse_entry(&v, e, cJSON_GetArrayItem(x, i), i, &e->entries[i]);
    }
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "figures"))) {
        s = exp_want_array(&v, "$.figures", x, 0);
        if (s == HC_OK && cJSON_GetArraySize(x) > 0) {
            e->figs = calloc((size_t)cJSON_GetArraySize(x), sizeof *e->figs);
            if (!e->figs) s = hc_fail(HC_ENOMEM, "out of memory");
            for (int i = 0; s == HC_OK && i < cJSON_GetArraySize(x); i++) {
                s = parse_figure(&v, e, cJSON_GetArrayItem(x, i), i, &e->figs[i]);
                if (s == HC_OK) e->n_figs++;
            }
        }
    }
    if (s == HC_OK && (x = cJSON_GetObjectItemCaseSensitive(doc, "baseline"))) s = exp_parse_baseline(&v, e, x);
    if (s == HC_OK) s = exp_build_cells(e);
    if (s == HC_OK) s = exp_resolve_baseline(e);
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
    char *buf = NULL;
    HC_TRY(hc_read_text(path, &buf, NULL));
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
        hc_live_ref_free(e->cells[c].samples);
    }
    free(e->cells);
    free(e->figs);
    cJSON_Delete(e->config);
    free(e);
}
