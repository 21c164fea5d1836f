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

int exp_cell_reference(const hc_experiment *e, const exp_cell *c)
{
    if (c->eng != HC_ENG_LIVE) return -1;
    if (c->ref >= 0) return c->ref;
    if (e->rows[c->row].is_ref) return -1;
    for (int k = 0; k < e->n_cells; k++) {
        const exp_cell *q = &e->cells[k];
        if (q != c && q->eng == HC_ENG_LIVE && e->rows[q->row].is_ref && q->seed == c->seed && q->steps == c->steps)
            return k;
    }
    return -1;
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
    for (int i = 0; i < e->n_cells; i++) {
        int r = w[i] && !e->cells[i].doc ? exp_cell_reference(e, &e->cells[i]) : -1;
        if (r >= 0 && !e->cells[r].doc) w[r] = 1;
    }
    free(order);
    free(load);
    *want = w;
    return HC_OK;
}
