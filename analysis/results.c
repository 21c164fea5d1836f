/* results.c: the report's typed input (see results.h). */
#include "results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const hc_fig_type_names[HC_FIG_N_TYPES] = {"scatter", "pareto", "line", "curve"};

const char *const hc_res_row_keys[HC_RES_N_ROW_KEYS] = {"N", "W", "O", "sigma", "K", "gamma", "steps"};

int hc_res_row_key_index(const char *key)
{
    for (int i = 0; i < HC_RES_N_ROW_KEYS; i++)
        if (strcmp(hc_res_row_keys[i], key) == 0) return i;
    return -1;
}

void hc_results_free(hc_results *r)
{
    if (!r) return;
    free(r->live.seeds);
    free(r->entries);
    for (int i = 0; i < r->n_rows; i++) free(r->rows[i].cells);
    free(r->rows);
    for (int i = 0; i < r->n_cells; i++) {
        hc_res_cell *c = &r->cells[i];
        free(c->metrics);
        for (int k = 0; k < c->n_curves; k++) {
            free(c->curves[k].x);
            free(c->curves[k].y);
        }
        free(c->curves);
        free(c->samples.v);
        free(c->samples.file);
        free(c->samples.module);
        free(c->samples.step);
        free(c->samples.horizon);
        free(c->samples.names);
    }
    free(r->cells);
    free(r->figs);
    cJSON_Delete(r->config);
    cJSON_Delete(r->resolved);
    memset(r, 0, sizeof *r);
}

double hc_res_cell_metric(const hc_res_cell *c, const char *key)
{
    for (int i = 0; i < c->n_metrics; i++)
        if (strcmp(c->metrics[i].key, key) == 0) return c->metrics[i].value;
    return NAN;
}

const double *hc_res_cell_samples(const hc_res_cell *c, const char *key)
{
    for (int i = 0; i < c->samples.n_keys; i++)
        if (strcmp(c->samples.keys[i], key) == 0) return c->samples.v + (size_t)i * (size_t)c->samples.n;
    return NULL;
}

const hc_res_curve *hc_res_cell_curve(const hc_res_cell *c, const char *axis, const char *kind, const char *metric)
{
    for (int i = 0; i < c->n_curves; i++) {
        const hc_res_curve *v = &c->curves[i];
        if (strcmp(v->axis, axis) == 0 && strcmp(v->kind, kind) == 0 && strcmp(v->metric, metric) == 0) return v;
    }
    return NULL;
}

int hc_res_row_has_grid(const hc_res_row *r, const char *key)
{
    for (int i = 0; i < r->n_grid; i++)
        if (strcmp(r->grid[i].key, key) == 0) return 1;
    return 0;
}
