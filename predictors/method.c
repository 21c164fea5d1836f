/* method.c: method spec strings `name:key=value,...` <-> hc_method.
 * One table of keys drives parsing, validation, error messages and the
 * canonical description.  A spec is refused (one line naming it and the
 * problem) for spaces or control characters, a ':' with nothing after it,
 * an empty pair (doubled, leading or trailing comma), a key given twice, a
 * key the type does not take (full computes every step: N=1 only; its W and
 * sched, accepted so that its description parses back, have no effect), or
 * a value out of range. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predictor.h"

typedef enum keykind { K_INT, K_DBL, K_SCHED, K_BASE, K_FRESH, K_CACHE } keykind;

typedef struct keydef {
    const char *name;
    keykind kind;
    size_t off;
    double lo, hi;
    const char *help;
} keydef;

#define OFF(f) offsetof(hc_method, f)
static const keydef keydefs[] = {
    {"N", K_INT, OFF(sched.N), 1, 1000, "full-compute interval"},
    {"W", K_INT, OFF(sched.W), 1, 1000, "warm-up full steps"},
    {"sched", K_SCHED, OFF(sched.kind), 0, 0, "flux | dit | mod"},
    {"O", K_INT, OFF(order), 0, HC_MAX_ORDER, "highest difference order"},
    {"sigma", K_DBL, OFF(sigma), 1e-6, 4, "Hermite contraction factor"},
    {"base", K_BASE, OFF(base), 0, 0, "ClusCa base predictor"},
    {"K", K_INT, OFF(K), 1, 65536, "clusters"},
    {"gamma", K_DBL, OFF(gamma), 0, 1, "ClusCa propagation ratio"},
    {"seed", K_INT, OFF(seed), 0, 2147483647.0, "fresh-token seed"},
    {"fresh", K_FRESH, OFF(fresh_all), 0, 0, "mlp | all: modules that take fresh tokens"},
    {"iters", K_INT, OFF(kmeans_iters), 1, 1000, "max k-means iterations per full step"},
    {"r", K_INT, OFF(rank), 1, 8, "DMD truncation rank"},
    {"m", K_INT, OFF(snaps), 2, 16, "DMD snapshots"},
    {"M", K_INT, OFF(degree), 0, 8, "Chebyshev degree"},
    {"lam", K_DBL, OFF(lam), 0, 1e6, "ridge penalty"},
    {"window", K_INT, OFF(window), 1, 32, "snapshots in the ridge fit"},
    {"cache", K_CACHE, OFF(cache), 0, 0, "f32 | f16 | bf16: the cache's storage (every type with a cache)"},
};
#define N_KEYS (sizeof keydefs / sizeof keydefs[0])
_Static_assert(N_KEYS <= 32, "apply_pairs keeps one bit per key");
static const char *const common_keys = "N,W,sched";

static const keydef *key_find(const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keydefs[i].name, name) == 0) return &keydefs[i];
    return NULL;
}

static void accepted_keys(const hc_method *m, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", common_keys, m->type->keys[0] ? "," : "", m->type->keys);
    if (m->base && m->base->keys[0]) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, ",%s", m->base->keys);
    }
}

static hc_status set_key(hc_method *m, const char *key, const char *val, const char *spec)
{
    const keydef *k = key_find(key);
    char valid[128];
    accepted_keys(m, valid, sizeof valid);
    if (!k || (!hc_in_list(valid, key) && k->kind != K_CACHE))
        return hc_fail(HC_EINVAL, "method '%s': unknown key '%s' for %s (valid: %s)", spec, key,
                       m->type->name, valid);
    char *end;
    errno = 0;
    switch (k->kind) {
    case K_INT: {
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end)
            return hc_fail(HC_EINVAL, "method '%s': %s=%s is not an integer", spec, key, val);
        if (v < k->lo || v > k->hi)
            return hc_fail(HC_EINVAL, "method '%s': %s=%ld out of range [%g, %g] (%s)", spec, key, v,
                           k->lo, k->hi, k->help);
        if (k->off == OFF(seed)) m->seed = (unsigned long)v;
        else *(int *)((char *)m + k->off) = (int)v;
        return HC_OK;
    }
    case K_DBL: {
        double v = strtod(val, &end);
        if (errno || end == val || *end || !isfinite(v))
            return hc_fail(HC_EINVAL, "method '%s': %s=%s is not a number", spec, key, val);
        if (v < k->lo || v > k->hi)
            return hc_fail(HC_EINVAL, "method '%s': %s=%g out of range [%g, %g] (%s)", spec, key, v,
                           k->lo, k->hi, k->help);
        *(double *)((char *)m + k->off) = v;
        return HC_OK;
    }
    case K_SCHED:
        for (int i = 0; i <= HC_SCHED_MOD; i++)
            if (strcmp(val, hc_sched_name((hc_sched_kind)i)) == 0) {
                m->sched.kind = (hc_sched_kind)i;
                return HC_OK;
            }
        return hc_fail(HC_EINVAL, "method '%s': sched=%s (valid: flux, dit, mod)", spec, val);
    case K_FRESH:
        if (strcmp(val, "mlp") == 0) m->fresh_all = 0;
        else if (strcmp(val, "all") == 0) m->fresh_all = 1;
        else return hc_fail(HC_EINVAL, "method '%s': fresh=%s (valid: mlp, all)", spec, val);
        return HC_OK;
    case K_BASE:
        return HC_OK; /* resolved before the other keys */
    case K_CACHE:
        for (int i = HC_CACHE_F32; i <= HC_CACHE_BF16; i++)
            if (strcmp(val, hc_cache_dtype_name((hc_cache_dtype)i)) == 0) m->cache = (hc_cache_dtype)i;
        if (strcmp(val, hc_cache_dtype_name(m->cache)) != 0)
            return hc_fail(HC_EINVAL, "method '%s': cache=%s (valid: f32, f16, bf16)", spec, val);
        if (m->cache != HC_CACHE_F32 && !(m->type->caps & HC_PRED_HALF)) {
            char list[256] = "";
            for (const hc_pred_type *const *t = hc_pred_types; *t; t++) /* the types that take 16 bits */
                if (((*t)->caps & HC_PRED_HALF) && !((*t)->caps & HC_PRED_NO_CACHE))
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", (*t)->name);
            return hc_fail(HC_EINVAL, "method '%s': cache=%s: %s keeps no 16-bit cache (only cache=f32; 16 bits: %s)",
                           spec, val, m->type->name, list);
        }
        return HC_OK;
    }
    return HC_OK;
}

/* Apply "k=v,k=v" from `list`: a type's defaults (seen NULL), or the
 * user's keys (seen non-NULL: then no pair may be empty and no key may be
 * given twice; *seen collects one bit per keydefs row given). */
static hc_status apply_pairs(hc_method *m, const char *list, const char *spec, unsigned *seen)
{
    char buf[HC_SPEC_MAX];
    snprintf(buf, sizeof buf, "%s", list);
    if (!buf[0]) return HC_OK;
    int first = 1;
    for (char *tok = buf, *next; tok; tok = next, first = 0) {
        next = strchr(tok, ',');
        if (next) *next++ = '\0';
        if (!*tok)
            return hc_fail(HC_EINVAL, "method '%s': empty key=value pair (%s comma)", spec,
                           first ? "a leading" : next ? "a doubled" : "a trailing");
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1])
            return hc_fail(HC_EINVAL, "method '%s': '%s' is not key=value", spec, tok);
        *eq = '\0';
        const keydef *k = key_find(tok);
        /* full computes every step: N=1 only; W and sched are accepted (they have
         * no effect) so that its canonical description parses back */
        if (seen && (m->type->caps & HC_PRED_NO_CACHE) && strcmp(tok, "N") != 0 && strcmp(tok, "W") != 0 &&
            strcmp(tok, "sched") != 0)
            return hc_fail(HC_EINVAL, "method '%s': %s computes every step and takes no '%s' (only N=1, and W and "
                           "sched, which have no effect)", spec, m->type->name, tok);
        if (seen && k) {
            unsigned bit = 1u << (unsigned)(k - keydefs);
            if (*seen & bit) return hc_fail(HC_EINVAL, "method '%s': key '%s' given twice", spec, tok);
            *seen |= bit;
        }
        HC_TRY(set_key(m, tok, eq + 1, spec));
    }
    return HC_OK;
}

/* The characters of spec: no control characters (named escaped, so the
 * message stays one line), no spaces. */
static hc_status check_chars(const char *spec)
{
    for (const char *p = spec; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
            char esc[4 * HC_SPEC_MAX];
            size_t n = 0;
            for (const char *q = spec; *q && n + 5 < sizeof esc; q++) {
                unsigned char c = (unsigned char)*q;
                if (c < 0x20 || c == 0x7f) n += (size_t)snprintf(esc + n, sizeof esc - n, "\\x%02x", c);
                else esc[n++] = (char)c;
            }
            esc[n] = '\0';
            return hc_fail(HC_EINVAL, "method '%s': control character 0x%02x at offset %zu", esc,
                           (unsigned)(unsigned char)*p, (size_t)(p - spec));
        }
    if (strpbrk(spec, " \t"))
        return hc_fail(HC_EINVAL, "method '%s': no spaces allowed (write name:key=value,...)", spec);
    return HC_OK;
}

static hc_status parse_predictor(const char *spec, hc_method *m, unsigned *seen_out);

/* `P@POLICY`: the predictor part as before, then the policy; `@fixed:...`
 * takes the schedule keys N, W, sched into m->sched (exactly `P:...`). */
hc_status hc_method_parse(const char *spec, hc_method *m)
{
    memset(m, 0, sizeof *m);
    if (!spec || !*spec) return hc_fail(HC_EINVAL, "empty method spec");
    if (strlen(spec) >= HC_SPEC_MAX) return hc_fail(HC_EINVAL, "method spec longer than %d characters", HC_SPEC_MAX - 1);
    HC_TRY(check_chars(spec));
    const char *at = strchr(spec, '@');
    if (!at) {
        unsigned seen;
        return parse_predictor(spec, m, &seen);
    }
    char pred[HC_SPEC_MAX];
    snprintf(pred, sizeof pred, "%.*s", (int)(at - spec), spec);
    if (!pred[0] || !at[1] || strchr(at + 1, '@'))
        return hc_fail(HC_EINVAL, "method '%s': write PREDICTOR@POLICY (one '@', both parts non-empty)", spec);
    unsigned seen = 0;
    HC_TRY(parse_predictor(pred, m, &seen));
    snprintf(m->spec, sizeof m->spec, "%s", spec);
    if (m->type->caps & HC_PRED_NO_CACHE)
        return hc_fail(HC_EINVAL, "method '%s': %s computes every step and takes no policy", spec, m->type->name);
    const char *pol = at + 1;
    if (strncmp(pol, "fixed", 5) == 0 && (pol[5] == '\0' || pol[5] == ':')) {
        if (pol[5] == ':' && !pol[6]) return hc_fail(HC_EINVAL, "method '%s': no key=value pairs after 'fixed:'", spec);
        if (strstr(pol, "sched=dit") && !(seen & (1u << 1))) m->sched.W = 2;
        char keys[HC_SPEC_MAX];
        snprintf(keys, sizeof keys, "%s", pol[5] ? pol + 6 : "");
        for (char *tok = keys, *next; tok && *tok; tok = next) { /* only the schedule keys */
            next = strchr(tok, ',');
            if (next) *next++ = '\0';
            size_t kl = strcspn(tok, "=");
            if (!((kl == 1 && (tok[0] == 'N' || tok[0] == 'W')) || (kl == 5 && strncmp(tok, "sched", 5) == 0)))
                return hc_fail(HC_EINVAL, "method '%s': unknown key '%.*s' for policy fixed (valid: N,W,sched)", spec,
                               (int)kl, tok);
        }
        return apply_pairs(m, pol[5] ? pol + 6 : "", spec, &seen);
    }
    if (seen & 7u)
        return hc_fail(HC_EINVAL, "method '%s': N, W and sched are the fixed schedule's keys; with a policy give W "
                       "to the policy (e.g. @teacache:W=3)", spec);
    HC_TRY(hc_policy_parse(spec, pol, &m->policy));
    m->sched.W = m->policy.W; /* the warm-up also rules the derivative recursion */
    m->sched.N = 1;           /* unused: the policy decides */
    return HC_OK;
}

static hc_status parse_predictor(const char *spec, hc_method *m, unsigned *seen_out)
{
    snprintf(m->spec, sizeof m->spec, "%s", spec);
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
    if (nlen >= sizeof name) nlen = sizeof name - 1;
    memcpy(name, spec, nlen);
    name[nlen] = '\0';
    m->type = hc_pred_type_find(name);
    if (!m->type) {
        char list[256];
        hc_pred_type_list(list, sizeof list);
        return hc_fail(HC_EINVAL, "unknown method '%s' (valid: %s)", name, list);
    }
    const char *pairs = colon ? colon + 1 : "";
    if (colon && !*pairs)
        return hc_fail(HC_EINVAL, "method '%s': no key=value pairs after ':' (write '%s' for the defaults)", spec, name);
    /* defaults: paper's main setting N=7, W=3, O=2, sigma=0.5 */
    m->sched.kind = HC_SCHED_FLUX;
    m->sched.N = 7;
    m->sched.W = 3;
    m->order = 0;
    m->sigma = 0.5;
    m->K = 16;
    m->gamma = 0.005;
    m->kmeans_iters = 10;
    /* ClusCa: the base decides which further keys are valid */
    if (m->type->caps & HC_PRED_WRAPS_BASE) {
        const char *b = strstr(pairs, "base=");
        while (b && b != pairs && b[-1] != ',') b = strstr(b + 1, "base=");
        char bname[64] = "taylor";
        if (b) {
            size_t len = strcspn(b + 5, ",");
            if (len >= sizeof bname) len = sizeof bname - 1;
            memcpy(bname, b + 5, len);
            bname[len] = '\0';
        }
        m->base = hc_pred_type_find(bname);
        if (!m->base || !(m->base->caps & HC_PRED_ORDER0) || (m->base->caps & (HC_PRED_WRAPS_BASE | HC_PRED_NO_CACHE)))
            return hc_fail(HC_EINVAL,
                           "method '%s': base=%s (valid: a predictor with an order-0 cache: reuse, taylor, "
                           "hermite, hicache, hermite-arg, hermite-coef, hitaylor)", spec, bname);
        HC_TRY(apply_pairs(m, m->base->defaults, spec, NULL));
    }
    HC_TRY(apply_pairs(m, m->type->defaults, spec, NULL));
    /* the DiT code's own warm-up is 2 full steps; an explicit W wins */
    if (strstr(pairs, "sched=dit")) m->sched.W = 2;
    if (m->type->caps & HC_PRED_NO_CACHE) m->sched.N = 1; /* every step full */
    unsigned seen = 0;
    HC_TRY(apply_pairs(m, pairs, spec, &seen));
    *seen_out = seen;
    if ((m->type->caps & HC_PRED_NO_CACHE) && m->sched.N != 1)
        return hc_fail(HC_EINVAL, "method '%s': %s computes every step: N=%d cannot apply (only N=1 is accepted)", spec,
                       m->type->name, m->sched.N);
    if (m->K < 1) return hc_fail(HC_EINVAL, "method '%s': K must be >= 1", spec);
    return HC_OK;
}

unsigned hc_method_caps(const hc_method *m)
{
    unsigned c = m->type->caps;
    if ((c & HC_PRED_WRAPS_BASE) && m->base) c |= m->base->caps & (HC_PRED_FRESH | HC_PRED_LABELS);
    return c;
}

void hc_method_cost(const hc_method *m, size_t rows, int groups, double *terms, double *fresh_rows)
{
    *terms = m->order + 1;
    *fresh_rows = 0;
    if (m->type->cost) m->type->cost(m, rows, groups, terms, fresh_rows);
}

void hc_method_describe(const hc_method *m, char *buf, size_t n)
{
    char keys[128];
    accepted_keys(m, keys, sizeof keys);
    size_t len = (size_t)snprintf(buf, n, "%s", m->type->name);
    int first = 1;
    char kb[128];
    snprintf(kb, sizeof kb, "%s", keys);
    char *save = NULL;
    const int dyn = !(hc_policy_flags(&m->policy) & HC_POL_FIXED);
    for (char *k = strtok_r(kb, ",", &save); k && len < n; k = strtok_r(NULL, ",", &save)) {
        const keydef *d = key_find(k);
        if (dyn && hc_in_list(common_keys, k)) continue; /* the policy decides: W is the policy's */
        char v[48];
        switch (d->kind) {
        case K_INT:
            if (d->off == OFF(seed)) snprintf(v, sizeof v, "%lu", m->seed);
            else snprintf(v, sizeof v, "%d", *(const int *)((const char *)m + d->off));
            break;
        case K_DBL: snprintf(v, sizeof v, "%g", *(const double *)((const char *)m + d->off)); break;
        case K_SCHED: snprintf(v, sizeof v, "%s", hc_sched_name(m->sched.kind)); break;
        case K_BASE: snprintf(v, sizeof v, "%s", m->base ? m->base->name : "-"); break;
        case K_FRESH: snprintf(v, sizeof v, "%s", m->fresh_all ? "all" : "mlp"); break;
        case K_CACHE: snprintf(v, sizeof v, "%s", hc_cache_dtype_name(m->cache)); break;
        }
        len += (size_t)snprintf(buf + len, n - len, "%s%s=%s", first ? ":" : ",", k, v);
        first = 0;
    }
    if (m->cache != HC_CACHE_F32 && len < n) /* f32, the default, is left out: descriptions stay as they were */
        len += (size_t)snprintf(buf + len, n - len, "%scache=%s", first ? ":" : ",", hc_cache_dtype_name(m->cache));
    if (dyn && len < n) hc_policy_describe(&m->policy, buf + len, n - len);
}

void hc_method_label(const hc_method *m, char *buf, size_t n)
{
    const hc_pred_type *basis = m->base ? m->base : m->type;
    if (m->type->caps & HC_PRED_NO_CACHE) {
        snprintf(buf, n, "%s", m->type->display);
        return;
    }
    const char *display = m->type->display;
    if (m->base && strcmp(m->base->name, "hicache") == 0) display = "Hi-ClusCa";
    else if (m->base && strcmp(m->base->name, "taylor") != 0) display = "ClusCa";
    size_t len = (size_t)snprintf(buf, n, "%s", display);
    if (m->base && strcmp(m->base->name, "taylor") != 0 && strcmp(m->base->name, "hicache") != 0)
        len += (size_t)snprintf(buf + len, n - len, "+%s", m->base->display);
    if (!(hc_policy_flags(&m->policy) & HC_POL_FIXED)) { /* "TaylorSeer (O=2) @ TeaCache (δ=0.1)" */
        char inner[HC_SPEC_MAX] = "";
        size_t k = 0;
        if (hc_in_list(basis->keys, "O")) k += (size_t)snprintf(inner + k, sizeof inner - k, "O=%d", m->order);
        if (hc_in_list(basis->keys, "sigma")) k += (size_t)snprintf(inner + k, sizeof inner - k, "%sσ=%g", k ? ", " : "", m->sigma);
        if (m->base) k += (size_t)snprintf(inner + k, sizeof inner - k, "%sK=%d", k ? ", " : "", m->K);
        if (m->cache != HC_CACHE_F32)
            k += (size_t)snprintf(inner + k, sizeof inner - k, "%s%s cache", k ? ", " : "", hc_cache_dtype_name(m->cache));
        snprintf(buf + len, n - len, "%s%s%s @ %s (δ=%g%s)", k ? " (" : "", inner, k ? ")" : "", m->policy.type->display,
                 m->policy.delta, m->policy.calib[0] ? ", calibrated" : "");
        return;
    }
    len += (size_t)snprintf(buf + len, n - len, " (N=%d", m->sched.N);
    if (hc_in_list(basis->keys, "O")) len += (size_t)snprintf(buf + len, n - len, ", O=%d", m->order);
    if (hc_in_list(basis->keys, "sigma")) len += (size_t)snprintf(buf + len, n - len, ", σ=%g", m->sigma);
    if (hc_in_list(basis->keys, "r")) len += (size_t)snprintf(buf + len, n - len, ", r=%d, m=%d", m->rank, m->snaps);
    if (hc_in_list(basis->keys, "M"))
        len += (size_t)snprintf(buf + len, n - len, ", M=%d, λ=%g, win=%d", m->degree, m->lam, m->window);
    if (m->base) len += (size_t)snprintf(buf + len, n - len, ", K=%d", m->K);
    if (m->cache != HC_CACHE_F32 && len < n)
        len += (size_t)snprintf(buf + len, n - len, ", %s cache", hc_cache_dtype_name(m->cache));
    if (len < n) snprintf(buf + len, n - len, ")");
}

int hc_method_max_horizon(const hc_method *m)
{
    if (!(hc_policy_flags(&m->policy) & HC_POL_FIXED)) return m->policy.max_skip > 0 ? m->policy.max_skip : 1000;
    return m->sched.N;
}
