/* validate.c: the checks every experiment config key goes through
 * (exp_validate.h): one-line messages "ORIGIN: $.json.path: problem". */
#include "exp_validate.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

hc_status exp_verr(const exp_vctx *v, const char *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hc_fail(HC_EINVAL, "%s: %s: %s", v->origin, path, msg);
}

/* A short rendering of a JSON value for messages: "ten", 3.5, [...]. */
void exp_jshow(const cJSON *x, char *buf, size_t n)
{
    if (cJSON_IsNumber(x) && !isfinite(x->valuedouble)) { /* cJSON would print null */
        snprintf(buf, n, "%s", x->valuedouble > 0 ? "a value beyond 1.8e308" : "a value beyond -1.8e308");
        return;
    }
    char *s = cJSON_PrintUnformatted(x);
    if (!s) {
        snprintf(buf, n, "?");
        return;
    }
    if (strlen(s) > 60) strcpy(s + 57, "...");
    snprintf(buf, n, "%s", s);
    cJSON_free(s);
}

void exp_subpath(char *buf, size_t n, const char *path, const char *key)
{
    int k = snprintf(buf, n, "%s.%s", path, key);
    if (k < 0 || (size_t)k >= n) snprintf(buf, n, "%.*s...", (int)(n > 8 ? n - 8 : 0), path);
}

void exp_idxpath(char *buf, size_t n, const char *path, int i)
{
    snprintf(buf, n, "%s[%d]", path, i);
}

/* Reject keys not in `allowed` (NULL-terminated). */
hc_status exp_check_keys(const exp_vctx *v, const char *path, const cJSON *obj, const char *const *allowed)
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
            exp_subpath(p, sizeof p, path, it->string);
            return exp_verr(v, p, "unknown key (valid: %s)", list);
        }
    }
    return HC_OK;
}

hc_status exp_want_int(const exp_vctx *v, const char *path, const cJSON *x, long lo, long hi, long *out)
{
    char s[96];
    exp_jshow(x, s, sizeof s);
    const char *what = lo == 1 ? "a positive integer" : lo == 0 ? "a non-negative integer" : "an integer";
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || x->valuedouble != floor(x->valuedouble))
        return exp_verr(v, path, "expected %s, got %s", what, s);
    /* compared as doubles before the conversion (9e15: exact, and in range of long whatever hi is) */
    if (x->valuedouble < (double)lo || x->valuedouble > (double)hi || fabs(x->valuedouble) > 9e15)
        return exp_verr(v, path, "%s out of range [%ld, %ld]", s, lo, hi);
    *out = (long)x->valuedouble;
    return HC_OK;
}

hc_status exp_want_num(const exp_vctx *v, const char *path, const cJSON *x, double lo, double hi, double *out)
{
    char s[96];
    exp_jshow(x, s, sizeof s);
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) return exp_verr(v, path, "expected a number, got %s", s);
    if (x->valuedouble < lo || x->valuedouble > hi) return exp_verr(v, path, "%s out of range [%g, %g]", s, lo, hi);
    *out = x->valuedouble;
    return HC_OK;
}

hc_status exp_want_str(const exp_vctx *v, const char *path, const cJSON *x, char *out, size_t n, int nonempty)
{
    char s[96];
    exp_jshow(x, s, sizeof s);
    if (!cJSON_IsString(x)) return exp_verr(v, path, "expected a string, got %s", s);
    if (nonempty && !x->valuestring[0]) return exp_verr(v, path, "must not be empty");
    if (strlen(x->valuestring) >= n) return exp_verr(v, path, "longer than %zu characters", n - 1);
    snprintf(out, n, "%s", x->valuestring);
    return HC_OK;
}

hc_status exp_want_bool(const exp_vctx *v, const char *path, const cJSON *x, int *out)
{
    char s[96];
    exp_jshow(x, s, sizeof s);
    if (!cJSON_IsBool(x)) return exp_verr(v, path, "expected true or false, got %s", s);
    *out = cJSON_IsTrue(x);
    return HC_OK;
}

hc_status exp_want_array(const exp_vctx *v, const char *path, const cJSON *x, int nonempty)
{
    char s[96];
    exp_jshow(x, s, sizeof s);
    if (!cJSON_IsArray(x)) return exp_verr(v, path, "expected an array, got %s", s);
    if (nonempty && cJSON_GetArraySize(x) == 0) return exp_verr(v, path, "must not be empty");
    return HC_OK;
}

hc_status exp_want_object(const exp_vctx *v, const char *path, const cJSON *x)
{
    char s[96];
    exp_jshow(x, s, sizeof s);
    if (!cJSON_IsObject(x)) return exp_verr(v, path, "expected an object, got %s", s);
    return HC_OK;
}

hc_status exp_want_file(const exp_vctx *v, const char *path, const char *file)
{
    if (access(file, R_OK) != 0) return exp_verr(v, path, "%s: cannot open: %s", file, strerror(errno));
    return HC_OK;
}

hc_status exp_want_dir(const exp_vctx *v, const char *path, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) return exp_verr(v, path, "%s: cannot open: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return exp_verr(v, path, "%s: not a directory", dir);
    return HC_OK;
}

