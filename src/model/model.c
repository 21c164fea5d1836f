/* model.c: the model registry and the generic model handle (model.h).
 * Adding a model = one file in src/model/ + one row in hc_model_types. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

extern const hc_model_type hc_model_flux;
extern const hc_model_type hc_model_dit;

const hc_model_type *const hc_model_types[] = {
    &hc_model_flux,
    &hc_model_dit,
    NULL,
};

const hc_model_type *hc_model_type_find(const char *arch)
{
    for (const hc_model_type *const *t = hc_model_types; arch && *t; t++)
        if (strcmp((*t)->arch, arch) == 0) return *t;
    return NULL;
}

void hc_model_type_list(char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (const hc_model_type *const *t = hc_model_types; *t && len < n; t++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", t == hc_model_types ? "" : ", ", (*t)->arch);
}

void hc_model_config_free(hc_model_config *c)
{
    if (!c) return;
    free(c->cfg);
    free(c->points);
    free(c->inputs);
    free(c);
}

hc_status hc_model_config_parse(const char *origin, const cJSON *config, hc_model_config **out)
{
    *out = NULL;
    char known[256];
    hc_model_type_list(known, sizeof known);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(config, "arch");
    if (!cJSON_IsString(a))
        return hc_fail(HC_EFORMAT, "%s: config has no \"arch\" string (known architectures: %s)", origin, known);
    const hc_model_type *t = hc_model_type_find(a->valuestring);
    if (!t)
        return hc_fail(HC_EFORMAT, "%s: config arch \"%s\" is not a known architecture (known: %s)", origin,
                       a->valuestring, known);
    hc_model_config *c = calloc(1, sizeof *c);
    if (!c || !(c->cfg = calloc(1, t->config_size))) {
        free(c);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    c->type = t;
    hc_status st = t->config_parse(origin, config, c->cfg);
    if (st == HC_OK) {
        c->n_points = t->points(c->cfg, NULL, 0);
        c->n_inputs = t->cluster_inputs(c->cfg, NULL, 0);
        if (c->n_points < 1 || c->n_points > HC_MODEL_MAX_POINTS)
            st = hc_fail(HC_EFORMAT, "%s: %d cache points (supported: 1..%d)", origin, c->n_points, HC_MODEL_MAX_POINTS);
    }
    if (st == HC_OK) {
        c->points = calloc((size_t)c->n_points, sizeof *c->points);
        c->inputs = calloc((size_t)c->n_inputs + 1, sizeof *c->inputs);
        if (!c->points || !c->inputs) st = hc_fail(HC_ENOMEM, "out of memory");
    }
    if (st != HC_OK) {
        hc_model_config_free(c);
        return st;
    }
    t->points(c->cfg, c->points, c->n_points);
    t->cluster_inputs(c->cfg, c->inputs, c->n_inputs);
    *out = c;
    return HC_OK;
}

void hc_model_close(hc_model *m)
{
    if (!m) return;
    if (m->impl) m->config->type->close(m->impl);
    hc_model_config_free(m->config);
    cJSON_Delete(m->meta);
    free(m);
}

hc_status hc_model_open(const char *path, int max_batch, hc_model **out)
{
    *out = NULL;
    hc_model *m = calloc(1, sizeof *m);
    if (!m) return hc_fail(HC_ENOMEM, "out of memory");
    snprintf(m->path, sizeof m->path, "%s", path);
    m->max_batch = max_batch;
    hc_st *st = NULL;
    hc_status s = hc_st_open(path, &st);
    if (s == HC_OK) {
        const char *cfg = hc_st_meta(st, "config");
        const char *tr = hc_st_meta(st, "training");
        cJSON *cj = cfg ? cJSON_Parse(cfg) : NULL;
        if (!cfg) s = hc_fail(HC_EFORMAT, "%s: __metadata__ has no 'config' (not a hicache model file)", path);
        else if (!cj) s = hc_fail(HC_EFORMAT, "%s: __metadata__['config'] is not JSON", path);
        else {
            m->meta = cJSON_CreateObject();
            cJSON_AddItemToObject(m->meta, "config", cj);
            cJSON *tj = tr ? cJSON_Parse(tr) : NULL;
            if (tj) cJSON_AddItemToObject(m->meta, "training", tj);
            s = hc_model_config_parse(path, cj, &m->config);
        }
        hc_st_close(st);
    }
    if (s == HC_OK) s = m->config->type->open(path, max_batch, &m->impl);
    if (s != HC_OK) {
        hc_model_close(m);
        return s;
    }
    *out = m;
    return HC_OK;
}

hc_status hc_model_open_synthetic(const char *origin, const cJSON *config, int max_batch, unsigned long seed,
                                  hc_model **out)
{
    *out = NULL;
    hc_model *m = calloc(1, sizeof *m);
    if (!m) return hc_fail(HC_ENOMEM, "out of memory");
    snprintf(m->path, sizeof m->path, "%s (synthetic weights, seed %lu)", origin, seed);
    m->max_batch = max_batch;
    m->meta = cJSON_CreateObject();
    hc_status s = m->meta ? hc_model_config_parse(origin, config, &m->config) : hc_fail(HC_ENOMEM, "out of memory");
    if (s == HC_OK) cJSON_AddItemToObject(m->meta, "config", cJSON_Duplicate(config, 1));
    if (s == HC_OK && !m->config->type->open_synthetic)
        s = hc_fail(HC_EUNSUP, "%s: arch %s has no synthetic weights", origin, m->config->type->arch);
    if (s == HC_OK) s = m->config->type->open_synthetic(m->config->cfg, max_batch, seed, &m->impl);
    if (s != HC_OK) {
        hc_model_close(m);
        return s;
    }
    *out = m;
    return HC_OK;
}

double hc_model_default_guidance(const char *path, double fallback)
{
    hc_st *st = NULL;
    if (hc_st_open(path, &st) != HC_OK) return fallback;
    const char *cfg = hc_st_meta(st, "config");
    cJSON *cj = cfg ? cJSON_Parse(cfg) : NULL;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(cj, "default_guidance");
    double v = cJSON_IsNumber(g) && g->valuedouble >= 0 && g->valuedouble <= 100 ? g->valuedouble : fallback;
    cJSON_Delete(cj);
    hc_st_close(st);
    return v;
}

void hc_model_get_info(const hc_model *m, hc_model_info *out) { m->config->type->info(m->config->cfg, out); }

hc_status hc_model_forward(hc_model *m, const float *x, const float *t, const int *labels, int B,
                           const hc_model_hooks *hooks, float *v)
{
    if (B < 1 || B > m->max_batch) return hc_fail(HC_EINVAL, "batch %d outside 1..%d of %s", B, m->max_batch, m->path);
    return m->config->type->forward(m->impl, x, t, labels, B, hooks, v);
}

double hc_model_macs(const hc_model_config *c, int B, const hc_point_plan *plan)
{
    return c->type->macs(c->cfg, B, plan);
}

double hc_model_signal_macs(const hc_model_config *c, int B, unsigned signals)
{
    return signals && c->type->signal_macs ? c->type->signal_macs(c->cfg, B, signals) : 0;
}
