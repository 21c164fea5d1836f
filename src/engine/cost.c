/* cost.c: MACs of a caching run from the model registry (cost.h). */
#include "cost.h"

#include <stdlib.h>

#include "model.h"
#include "signals.h"

struct hc_cost {
    hc_model_config *config;
    hc_point_plan *plan; /* [n_points] scratch */
};

void hc_cost_free(hc_cost *c)
{
    if (!c) return;
    hc_model_config_free(c->config);
    free(c->plan);
    free(c);
}

hc_status hc_cost_from_config(const char *origin, const cJSON *config, hc_cost **out)
{
    *out = NULL;
    hc_cost *c = calloc(1, sizeof *c);
    if (!c) return hc_fail(HC_ENOMEM, "out of memory");
    hc_status st = hc_model_config_parse(origin, config, &c->config);
    if (st == HC_OK && !(c->plan = calloc((size_t)c->config->n_points, sizeof *c->plan)))
        st = hc_fail(HC_ENOMEM, "out of memory");
    if (st != HC_OK) {
        hc_cost_free(c);
        return st;
    }
    *out = c;
    return HC_OK;
}

double hc_cost_step(hc_cost *c, const hc_driver *d, int B, int step)
{
    /* every model point follows the step, but a head policy's head points */
    for (int p = 0; p < c->config->n_points; p++) {
        const hc_cache_point *q = &c->config->points[p];
        hc_point_plan *pl = &c->plan[p];
        pl->compute = (unsigned char)hc_driver_point_computes(d, q->head, step);
        pl->forecast_terms = pl->fresh_rows = 0;
        if (pl->compute) continue;
        hc_driver_point dp = {.name = q->name, .module = q->module, .tokens = (size_t)q->tokens,
                              .channels = (size_t)q->channels, .fresh = q->fresh, .cluster = q->cluster_input};
        hc_driver_forecast_cost(d, &dp, &pl->forecast_terms, &pl->fresh_rows);
    }
    /* a policy's signals, computed at every step */
    unsigned sig = hc_sigs_model_mask_for(hc_policy_needs(&hc_driver_method(d)->policy));
    return hc_model_macs(c->config, B, c->plan) + hc_model_signal_macs(c->config, B, sig);
}

double hc_cost_full(hc_cost *c, int B)
{
    for (int p = 0; p < c->config->n_points; p++) c->plan[p] = (hc_point_plan){.compute = 1};
    return hc_model_macs(c->config, B, c->plan);
}
