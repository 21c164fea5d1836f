/* dist.c: the cost estimate of a cell and the shard partition (dist.h). */
#include <stdlib.h>
#include <string.h>

#include "dist.h"

double exp_cell_cost(const hc_experiment *e, const exp_cell *c)
{
    if (c->eng == HC_ENG_REPLAY) return (double)e->n_files;
    const exp_row *r = &e->rows[c->row];
    int steps = c->steps > 0 ? c->steps : 1;
    unsigned char *mask = malloc((size_t)steps);
    int full = steps;
    if (mask) full = hc_schedule_mask(&r->method.sched, steps, mask);
    free(mask);
    return (double)e->n * ((double)full + 0.1 * (double)(steps - full));
}

hc_status exp_cell_references(const hc_experiment *e, int **out)
{
    int *ref = malloc(((size_t)e->n_cells + 1) * sizeof *ref), *full = malloc(((size_t)e->n_cells + 1) * sizeof *full);
    if (!ref || !full) {
        free(ref);
        free(full);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    int n_full = 0; /* the live reference row's cells: one per seed and steps */
    for (int k = 0; k < e->n_cells; k++)
        if (e->cells[k].eng == HC_ENG_LIVE && e->rows[e->cells[k].row].is_ref) full[n_full++] = k;
    for (int i = 0; i < e->n_cells; i++) {
        const exp_cell *c = &e->cells[i];
        ref[i] = c->eng == HC_ENG_LIVE ? c->ref : -1;
        if (c->eng != HC_ENG_LIVE || c->ref >= 0 || e->rows[c->row].is_ref) continue;
        for (int j = 0; j < n_full && ref[i] < 0; j++) {
            const exp_cell *q = &e->cells[full[j]];
            if (q->seed == c->seed && q->steps == c->steps) ref[i] = full[j];
        }
    }
    free(full);
    *out = ref;
    return HC_OK;
}

typedef struct cost_idx {
    double cost;
    int i;
} cost_idx;

static int by_cost(const void *a, const void *b)
{
    const cost_idx *x = a, *y = b;
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
    return x->i - y->i;
}

hc_status exp_shard_want(const hc_experiment *e, int shard, int n, unsigned char **want)
{
    *want = NULL;
    if (n < 1 || shard < 0 || shard >= n) return hc_fail(HC_EINVAL, "shard %d of %d does not exist", shard, n);
    cost_idx *order = malloc(((size_t)e->n_cells + 1) * sizeof *order);
    double *load = calloc((size_t)n, sizeof *load);
    unsigned char *w = calloc((size_t)e->n_cells + 1, 1);
    if (!order || !load || !w) {
        free(order);
        free(load);
        free(w);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    /* every cell, finished or not: the partition does not depend on what
     * a shard (or another one) has finished already */
    for (int i = 0; i < e->n_cells; i++) order[i] = (cost_idx){exp_cell_cost(e, &e->cells[i]), i};
    qsort(order, (size_t)e->n_cells, sizeof *order, by_cost);
    for (int k = 0; k < e->n_cells; k++) {
        int best = 0;
        for (int s = 1; s < n; s++)
            if (load[s] < load[best]) best = s;
        load[best] += order[k].cost;
        if (best == shard) w[order[k].i] = 1;
    }
    /* the references its pending live cells need, unless finished */
    int *ref = NULL;
    hc_status s = exp_cell_references(e, &ref);
    for (int i = 0; i < e->n_cells && s == HC_OK; i++) {
        int r = w[i] && !e->cells[i].doc ? ref[i] : -1;
        if (r >= 0 && !e->cells[r].doc) w[r] = 1;
    }
    free(ref);
    free(order);
    free(load);
    if (s != HC_OK) free(w);
    else *want = w;
    return s;
}
