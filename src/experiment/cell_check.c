/* cell_check.c: is a cell file found on resume what the runner and the
 * engine adapters (runner.c, engines.c) write for this cell?  Anything else
 * (a damaged, truncated or hand-edited file) is computed again rather than
 * shown as "—" or drawn from garbage. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exp_internal.h"
#include "metrics.h"

static int bad(char *why, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int bad(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return 0;
}

/* A short rendering of a value for the message, in buf. */
static const char *show(const cJSON *x, char *buf, size_t n)
{
    if (!x) {
        snprintf(buf, n, "nothing");
        return buf;
    }
    char *s = cJSON_PrintUnformatted(x);
    snprintf(buf, n, "%.40s%s", s ? s : "?", s && strlen(s) > 40 ? "..." : "");
    cJSON_free(s);
    return buf;
}

static int num_or_null(const cJSON *x) { return cJSON_IsNumber(x) || cJSON_IsNull(x); }

/* "metrics": every member a number or null ("reference": the id of the
 * cell this one was scored against, when it has one); every metric of the
 * engine's table there (live fd and class_acc only with a classifier). */
static int check_metrics(const hc_experiment *e, const exp_cell *c, const cJSON *mt, char *why, size_t n)
{
    char s[64];
    if (!cJSON_IsObject(mt)) return bad(why, n, "metrics: expected an object, got %s", show(mt, s, sizeof s));
    const cJSON *m;
    cJSON_ArrayForEach(m, mt)
    {
        if (strcmp(m->string, "reference") == 0) continue;
        if (!num_or_null(m)) return bad(why, n, "metrics.%s: expected a number or null, got %s", m->string, show(m, s, sizeof s));
    }
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(mt, "reference");
    if (c->ref >= 0 && (!cJSON_IsString(ref) || strcmp(ref->valuestring, e->cells[c->ref].id) != 0))
        return bad(why, n, "metrics.reference: expected \"%s\", got %s", e->cells[c->ref].id, show(ref, s, sizeof s));
    if (c->ref < 0 && ref) return bad(why, n, "metrics.reference: unexpected for a cell scored against itself");
    int nm;
    const hc_report_metric *all = hc_report_metrics(c->eng, &nm);
    for (int i = 0; i < nm; i++) {
        const char *k = all[i].key;
        if (c->eng == HC_ENG_LIVE && !e->classifier[0] && (strcmp(k, "fd") == 0 || strcmp(k, "class_acc") == 0)) continue;
        if (strcmp(k, "kid") == 0) continue; /* added later: cells from before have none ("—") */
        if (!cJSON_GetObjectItemCaseSensitive(mt, k)) return bad(why, n, "metrics.%s: missing", k);
    }
    return 1;
}

/* Replay "curves": {"step"|"horizon": {KIND: {"x": [numbers], METRIC:
 * [numbers or null, as many]}}}, with the kind "all" on both axes. */
static int check_curves(const cJSON *cv, char *why, size_t n)
{
    static const char *const axes[] = {"step", "horizon"};
    if (!cJSON_IsObject(cv)) return bad(why, n, "curves: expected an object");
    for (int a = 0; a < 2; a++) {
        const cJSON *ax = cJSON_GetObjectItemCaseSensitive(cv, axes[a]), *kd;
        if (!cJSON_IsObject(ax) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ax, "all")))
            return bad(why, n, "curves.%s.all: missing", axes[a]);
        cJSON_ArrayForEach(kd, ax)
        {
            const cJSON *xs = cJSON_GetObjectItemCaseSensitive(kd, "x"), *v;
            if (!cJSON_IsArray(xs)) return bad(why, n, "curves.%s.%s.x: expected an array", axes[a], kd->string);
            int np = 0;
            cJSON_ArrayForEach(v, xs)
            {
                if (!cJSON_IsNumber(v)) return bad(why, n, "curves.%s.%s.x[%d]: expected a number", axes[a], kd->string, np);
                np++;
            }
            for (int k = 0; k < HC_N_METRICS; k++) {
                const cJSON *ys = cJSON_GetObjectItemCaseSensitive(kd, hc_metric_names[k]);
                if (!cJSON_IsArray(ys) || cJSON_GetArraySize(ys) != np)
                    return bad(why, n, "curves.%s.%s.%s: expected an array of %d values", axes[a], kd->string,
                               hc_metric_names[k], np);
                int i = 0;
                cJSON_ArrayForEach(v, ys)
                {
                    if (!num_or_null(v))
                        return bad(why, n, "curves.%s.%s.%s[%d]: expected a number or null", axes[a], kd->string,
                                   hc_metric_names[k], i);
                    i++;
                }
            }
        }
    }
    return 1;
}

/* Live: the labels the samples were drawn with (a reference cell's
 * dependants read them on resume): n integers 0..9. */
static int check_labels(const hc_experiment *e, const cJSON *doc, char *why, size_t n)
{
    const cJSON *eo = cJSON_GetObjectItemCaseSensitive(doc, "engine_output");
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(eo, "provenance");
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pv, "config"), "labels"), *v;
    if (!cJSON_IsArray(lab) || cJSON_GetArraySize(lab) != e->n)
        return bad(why, n, "engine_output.provenance.config.labels: expected %d class labels", e->n);
    int i = 0;
    cJSON_ArrayForEach(v, lab)
    {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9 || v->valuedouble != (int)v->valuedouble)
            return bad(why, n, "engine_output.provenance.config.labels[%d]: expected a class 0..9", i);
        i++;
    }
    return 1;
}

int exp_cell_check(const hc_experiment *e, const exp_cell *c, const cJSON *doc, char *why, size_t n)
{
    char s[64];
    if (!cJSON_IsObject(doc)) return bad(why, n, "expected a JSON object");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(doc, "key");
    if (!cJSON_IsString(k) || strcmp(k->valuestring, c->key) != 0) return bad(why, n, "key: not this cell's key");
    static const char *const strs[] = {"id", "engine", "spec", "resolved", "label"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(doc, strs[i]);
        if (!cJSON_IsString(x)) return bad(why, n, "%s: expected a string, got %s", strs[i], show(x, s, sizeof s));
    }
    if (strcmp(cJSON_GetObjectItemCaseSensitive(doc, "id")->valuestring, c->id) != 0) return bad(why, n, "id: not %s", c->id);
    if (strcmp(cJSON_GetObjectItemCaseSensitive(doc, "engine")->valuestring, hc_eng_names[c->eng]) != 0)
        return bad(why, n, "engine: not %s", hc_eng_names[c->eng]);
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(doc, "cell_seconds"))) return bad(why, n, "cell_seconds: expected a number");
    if (!check_metrics(e, c, cJSON_GetObjectItemCaseSensitive(doc, "metrics"), why, n)) return 0;
    if (c->eng == HC_ENG_REPLAY) return check_curves(cJSON_GetObjectItemCaseSensitive(doc, "curves"), why, n);
    return check_labels(e, doc, why, n);
}
