/* policy.c: the policy registry, spec parsing, the common decision rules and
 * calibration files (policy.h).  Adding a policy = one file
 * predictors/policy_NAME.c + one row here. */
#include "policy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

extern const hc_policy_type hc_policy_fixed, hc_policy_teacache, hc_policy_magcache, hc_policy_fbcache;

const hc_policy_type *const hc_policy_types[] = {
    &hc_policy_fixed,
    &hc_policy_teacache,
    &hc_policy_magcache,
    &hc_policy_fbcache,
    NULL,
};

static const char *const signal_names[HC_SIG_COUNT] = {"mod_in_change", "head_resid_change", "resid_norm",
                                                       "out_change"};

const char *hc_signal_name(hc_signal s) { return (unsigned)s < HC_SIG_COUNT ? signal_names[s] : "?"; }

int hc_signal_find(const char *name)
{
    for (int i = 0; i < HC_SIG_COUNT; i++)
        if (strcmp(signal_names[i], name) == 0) return i;
    return -1;
}

int hc_signal_is_matrix(hc_signal s) { return s == HC_SIG_HEAD_RESID; }

const hc_policy_type *hc_policy_type_find(const char *name)
{
    for (const hc_policy_type *const *t = hc_policy_types; *t; t++)
        if (strcmp((*t)->name, name) == 0) return *t;
    return NULL;
}

void hc_policy_type_list(char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (const hc_policy_type *const *t = hc_policy_types; *t && len < n; t++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", t == hc_policy_types ? "" : ", ", (*t)->name);
}

unsigned hc_policy_needs(const hc_policy *p) { return p->type ? p->type->needs : 0; }
unsigned hc_policy_flags(const hc_policy *p) { return p->type ? p->type->flags : HC_POL_FIXED; }

/* ---- parsing ---------------------------------------------------------------------- */

int hc_in_list(const char *list, const char *key)
{
    size_t n = strlen(key);
    for (const char *q = list; q && *q;) {
        const char *e = strchr(q, ',');
        size_t len = e ? (size_t)(e - q) : strlen(q);
        if (len == n && strncmp(q, key, n) == 0) return 1;
        q = e ? e + 1 : NULL;
    }
    return 0;
}

typedef struct pkey {
    const char *name;
    int is_int;
    double lo, hi;
} pkey;

static const pkey pkeys[] = {
    {"W", 1, 1, 1000}, {"max_skip", 1, 0, 1000}, {"last", 1, 0, 1000}, {"delta", 0, 0, 1e6}, {"calib", -1, 0, 0},
};
#define N_PKEYS (sizeof pkeys / sizeof pkeys[0])

static hc_status set_pkey(hc_policy *p, const char *spec, const char *key, const char *val)
{
    char valid[128];
    snprintf(valid, sizeof valid, "W,max_skip,last%s%s", p->type->keys[0] ? "," : "", p->type->keys);
    const pkey *k = NULL;
    for (size_t i = 0; i < N_PKEYS; i++)
        if (strcmp(pkeys[i].name, key) == 0) k = &pkeys[i];
    if (!k || !hc_in_list(valid, key))
        return hc_fail(HC_EINVAL, "method '%s': unknown key '%s' for policy %s (valid: %s)", spec, key, p->type->name,
                       valid);
    if (k->is_int < 0) {
        if (strlen(val) > 96) /* the canonical description stays within HC_SPEC_MAX */
            return hc_fail(HC_EINVAL, "method '%s': calib path longer than 96 characters", spec);
        snprintf(p->calib, sizeof p->calib, "%s", val);
        return HC_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end || !isfinite(v) || (k->is_int && v != floor(v)))
        return hc_fail(HC_EINVAL, "method '%s': %s=%s is not %s", spec, key, val, k->is_int ? "an integer" : "a number");
    if (v < k->lo || v > k->hi)
        return hc_fail(HC_EINVAL, "method '%s': %s=%s out of range [%g, %g]", spec, key, val, k->lo, k->hi);
    if (strcmp(key, "W") == 0) p->W = (int)v;
    else if (strcmp(key, "max_skip") == 0) p->max_skip = (int)v;
    else if (strcmp(key, "last") == 0) p->last = (int)v;
    else p->delta = v;
    return HC_OK;
}

static hc_status apply(hc_policy *p, const char *spec, const char *list, int strict)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    unsigned seen = 0;
    for (char *tok = buf, *next; tok && *tok; tok = next) {
        next = strchr(tok, ',');
        if (next) *next++ = '\0';
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1])
            return hc_fail(HC_EINVAL, "method '%s': '%s' is not key=value", spec, tok[0] ? tok : ",");
        *eq = '\0';
        for (size_t i = 0; strict && i < N_PKEYS; i++)
            if (strcmp(pkeys[i].name, tok) == 0) {
                if (seen & (1u << i)) return hc_fail(HC_EINVAL, "method '%s': key '%s' given twice", spec, tok);
                seen |= 1u << i;
            }
        HC_TRY(set_pkey(p, spec, tok, eq + 1));
        if (strict && next && !*next) return hc_fail(HC_EINVAL, "method '%s': empty key=value pair (a trailing comma)", spec);
    }
    return HC_OK;
}

hc_status hc_policy_parse(const char *spec, const char *pol, hc_policy *p)
{
    memset(p, 0, sizeof *p);
    char name[32];
    const char *colon = strchr(pol, ':');
    size_t nlen = colon ? (size_t)(colon - pol) : strlen(pol);
    if (nlen >= sizeof name) nlen = sizeof name - 1;
    memcpy(name, pol, nlen);
    name[nlen] = '\0';
    p->type = hc_policy_type_find(name);
    if (!p->type) {
        char list[128];
        hc_policy_type_list(list, sizeof list);
        return hc_fail(HC_EINVAL, "method '%s': unknown policy '%s' (valid: %s)", spec, name, list);
    }
    if (colon && !colon[1]) return hc_fail(HC_EINVAL, "method '%s': no key=value pairs after '%s:'", spec, name);
    if (colon && (colon[1] == ',' || strstr(colon, ",,")))
        return hc_fail(HC_EINVAL, "method '%s': empty key=value pair", spec);
    HC_TRY(apply(p, spec, p->type->defaults, 0));
    HC_TRY(apply(p, spec, colon ? colon + 1 : "", 1));
    hc_policy_state st; /* a calibration file is read now, so that a bad one fails the spec */
    hc_status s = hc_policy_state_init(p, &st);
    hc_policy_state_free(&st);
    return s;
}

int hc_policy_takes_key(const char *pol, const char *key)
{
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(pol, ":"), pol);
    const hc_policy_type *t = hc_policy_type_find(name);
    if (!t) return 0;
    if (t->flags & HC_POL_FIXED) return hc_in_list("N,W,sched", key);
    return hc_in_list("W,max_skip,last", key) || hc_in_list(t->keys, key);
}

void hc_policy_describe(const hc_policy *p, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!p->type || (p->type->flags & HC_POL_FIXED)) return;
    size_t len = (size_t)snprintf(buf, n, "@%s:W=%d,max_skip=%d,last=%d", p->type->name, p->W, p->max_skip, p->last);
    if (len < n && hc_in_list(p->type->keys, "delta")) len += (size_t)snprintf(buf + len, n - len, ",delta=%g", p->delta);
    if (len < n && p->calib[0]) snprintf(buf + len, n - len, ",calib=%s", p->calib);
}

/* ---- calibration files ----------------------------------------------------------- */

static hc_status read_array(const char *path, const cJSON *root, const char *key, double *v, int cap, int *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 || cJSON_GetArraySize(a) > cap)
        return hc_fail(HC_EFORMAT, "%s: \"%s\" must be an array of 1..%d numbers", path, key, cap);
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return hc_fail(HC_EFORMAT, "%s: \"%s\"[%d] is not a finite number", path, key, i);
        v[i] = e->valuedouble;
    }
    *n = i;
    return HC_OK;
}

static hc_status load_calib(const hc_policy *p, hc_policy_state *ps)
{
    FILE *f = fopen(p->calib, "rb");
    if (!f) return hc_fail(HC_EIO, "%s: cannot open calibration file", p->calib);
    char *text = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len < (1L << 24) && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)len + 1)) && fread(text, 1, (size_t)len, f) == (size_t)len)
        text[len] = '\0';
    else len = -1;
    fclose(f);
    if (len < 0) {
        free(text);
        return hc_fail(HC_EIO, "%s: cannot read the calibration file", p->calib);
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) return hc_fail(HC_EFORMAT, "%s: not JSON", p->calib);
    hc_status st = HC_OK;
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, p->type->name);
    if (!cJSON_IsObject(sec)) st = hc_fail(HC_EFORMAT, "%s: no \"%s\" object (run hicache calibrate)", p->calib, p->type->name);
    else if (!p->type->calib_key)
        st = hc_fail(HC_EINVAL, "policy %s takes no calibration", p->type->name);
    else if (strcmp(p->type->calib_key, "poly") == 0)
        st = read_array(p->calib, sec, "poly", ps->poly, HC_POL_MAX_POLY, &ps->n_poly);
    else if (!(ps->ratios = malloc(HC_POL_MAX_RATIOS * sizeof *ps->ratios)))
        st = hc_fail(HC_ENOMEM, "out of memory");
    else
        st = read_array(p->calib, sec, "ratios", ps->ratios, HC_POL_MAX_RATIOS, &ps->n_ratios);
    cJSON_Delete(root);
    return st;
}

/* ---- decisions --------------------------------------------------------------------- */

void hc_policy_state_reset(hc_policy_state *st)
{
    st->anchor = st->prev_full = -1;
    st->skips = 0;
    st->acc = 0;
    st->R = 1;
}

hc_status hc_policy_state_init(const hc_policy *p, hc_policy_state *st)
{
    memset(st, 0, sizeof *st);
    hc_policy_state_reset(st);
    return p->type && p->calib[0] ? load_calib(p, st) : HC_OK;
}

void hc_policy_state_free(hc_policy_state *st)
{
    free(st->ratios);
    st->ratios = NULL;
    st->n_ratios = 0;
}

double hc_policy_poly(const hc_policy_state *st, double x)
{
    if (st->n_poly == 0) return x;
    double y = 0;
    for (int i = 0; i < st->n_poly; i++) y = y * x + st->poly[i];
    return y;
}

int hc_policy_step(const hc_policy *p, hc_policy_state *st, int step, int steps, hc_signal_fn sig, void *ud)
{
    int full = step == 0 || step < p->W || step >= steps - p->last || (p->max_skip > 0 && st->skips >= p->max_skip) ||
               st->anchor < 0;
    /* the type sees every step so that accumulators advance even on forced ones */
    int dec = p->type->decide(p, st, step, steps, sig, ud);
    full = full || dec;
    if (full) {
        st->prev_full = st->anchor;
        st->anchor = step;
        st->skips = 0;
        st->acc = 0;
        st->R = 1;
    } else {
        st->skips++;
    }
    return full;
}
