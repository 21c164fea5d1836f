/* exp_gauss.c: Gaussianity experiments (see exp_gauss.h). */
#include "exp_gauss.h"

#include <limits.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exp_validate.h"
#include "gauss.h"
#include "gauss_report.h"
#include "outfile.h"

int hc_exp_is_gauss(const cJSON *doc) { return cJSON_GetObjectItemCaseSensitive(doc, "gauss") != NULL; }

/* Integer options of the "gauss" object, walked by one loop. */
static const struct { const char *key; size_t off; int is_size; } intkeys[] = {
    {"order", offsetof(hc_gauss_opts, order), 0}, {"proj", offsetof(hc_gauss_opts, proj), 0},
    {"sample", offsetof(hc_gauss_opts, sample), 1}, {"N", offsetof(hc_gauss_opts, N), 0},
    {"W", offsetof(hc_gauss_opts, W), 0},         {"qq_proj", offsetof(hc_gauss_opts, qq_proj), 0},
};

static hc_status verr(const char *origin, const char *path, const char *msg, const char *what)
{
    return hc_fail(HC_EINVAL, "%s: %s: %s%s", origin, path, msg, what ? what : "");
}

/* Only known keys at the top ($) and in $.gauss, which must be an object. */
static hc_status check_doc(const cJSON *doc, const char *origin)
{
    static const char *const top[] = {"name", "description", "gauss", NULL};
    static const char *const keys[] = {"files", "modules", "order", "proj", "sample", "seed", "N", "W",
                                       "per_token", "alpha", "qq_proj", NULL};
    const cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        int ok = 0;
        for (const char *const *k = top; *k; k++) ok |= strcmp(*k, it->string) == 0;
        if (!ok) return verr(origin, "$", "unknown key for a Gaussianity experiment: ", it->string);
    }
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(doc, "gauss");
    if (!cJSON_IsObject(g)) return verr(origin, "$.gauss", "expected an object", NULL);
    cJSON_ArrayForEach(it, g)
    {
        int ok = 0;
        for (const char *const *k = keys; *k; k++) ok |= strcmp(*k, it->string) == 0;
        if (!ok) return verr(origin, "$.gauss", "unknown key: ", it->string);
    }
    return HC_OK;
}

/* The analysis options of the "gauss" object g over the defaults, validated
 * (o->modules points into g). */
static hc_status parse_opts(const cJSON *g, const char *origin, hc_gauss_opts *o)
{
    hc_gauss_defaults(o);
    const exp_vctx vc = {origin};
    char path[96];
    for (size_t i = 0; i < sizeof intkeys / sizeof intkeys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, intkeys[i].key);
        if (!v) continue;
        snprintf(path, sizeof path, "$.gauss.%s", intkeys[i].key);
        long x = 0; /* checked before any cast: finite, integral, in range */
        HC_TRY(exp_want_int(&vc, path, v, 0, intkeys[i].is_size ? 1000000000000L : INT_MAX, &x));
        if (intkeys[i].is_size) *(size_t *)(void *)((char *)o + intkeys[i].off) = (size_t)x;
        else *(int *)(void *)((char *)o + intkeys[i].off) = (int)x;
    }
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(g, "seed"))) {
        long x = 0;
        HC_TRY(exp_want_int(&vc, "$.gauss.seed", v, 0, 2147483647L, &x));
        o->seed = (unsigned long)x;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(g, "alpha"))) {
        if (!cJSON_IsNumber(v)) return verr(origin, "$.gauss.alpha", "expected a number", NULL);
        o->alpha = v->valuedouble;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(g, "per_token"))) {
        if (!cJSON_IsBool(v)) return verr(origin, "$.gauss.per_token", "expected true or false", NULL);
        o->per_token = cJSON_IsTrue(v);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(g, "modules"))) {
        if (!cJSON_IsString(v)) return verr(origin, "$.gauss.modules", "expected a string of globs", NULL);
        o->modules = v->valuestring;
    }
    if (hc_gauss_validate(o) != HC_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", hc_errmsg());
        return verr(origin, "$.gauss", msg, NULL);
    }
    return HC_OK;
}

/* $.gauss.files expanded (globs, in order) into *paths_out (n_out strdup'd
 * paths); on failure too the caller frees what is there. */
static hc_status expand_files(const cJSON *g, const char *origin, char ***paths_out, size_t *n_out)
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(g, "files");
    if (!cJSON_IsArray(files) || cJSON_GetArraySize(files) < 1)
        return verr(origin, "$.gauss.files", "expected a non-empty array of trajectory files or glob patterns", NULL);
    hc_status s = HC_OK;
    char **paths = NULL, path[96];
    size_t n = 0;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, files)
    {
        snprintf(path, sizeof path, "$.gauss.files[%d]", i++);
        if (!cJSON_IsString(it)) { s = verr(origin, path, "expected a string", NULL); break; }
        glob_t gl;
        if (glob(it->valuestring, 0, NULL, &gl) != 0) {
            s = verr(origin, path, "no file matches ", it->valuestring);
            break;
        }
        for (size_t k = 0; k < gl.gl_pathc && s == HC_OK; k++) {
            char **np = realloc(paths, (n + 1) * sizeof *np);
            if (!np || !(np[n] = strdup(gl.gl_pathv[k]))) s = hc_fail(HC_ENOMEM, "out of memory");
            if (np) paths = np;
            if (s == HC_OK) n++;
        }
        globfree(&gl);
    }
    *paths_out = paths;
    *n_out = n;
    return s;
}

hc_status hc_exp_gauss_run(const cJSON *doc, const char *origin, const char *out_dir, int *skipped, char *dir_out,
                           size_t dir_n)
{
    *skipped = 0;
    HC_TRY(check_doc(doc, origin));
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(doc, "gauss");
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(doc, "name");
    const char *name = nm ? cJSON_GetStringValue(nm) : "gaussianity";
    if (!name) return verr(origin, "$.name", "expected a string", NULL);
    if (!hc_safe_name(name)) return hc_fail(HC_EINVAL, "%s: $.name: '%s' names the output folder: use %s", origin, name, HC_SAFE_NAME_RULE);
    if (out_dir) snprintf(dir_out, dir_n, "%s", out_dir);
    else snprintf(dir_out, dir_n, "out/%s", name);

    hc_gauss_opts o;
    HC_TRY(parse_opts(g, origin, &o));
    char **paths = NULL;
    size_t n = 0;
    hc_status s = expand_files(g, origin, &paths, &n);
    char summary[1100];
    snprintf(summary, sizeof summary, "%s/summary.json", dir_out);
    if (s == HC_OK && access(summary, R_OK) == 0) *skipped = 1;
    else if (s == HC_OK) {
        hc_gauss_result *res = NULL;
        s = hc_gauss_run((const char *const *)paths, n, &o, dir_out, &res);
        hc_gauss_result_free(res);
    }
    for (size_t k = 0; k < n; k++) free(paths[k]);
    free(paths);
    return s;
}
