/* registry.c: the one table of predictor types.  Adding a predictor = one
 * file in predictors/ + one row here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predictor.h"

extern const hc_pred_type hc_pred_full, hc_pred_reuse, hc_pred_taylor, hc_pred_hermite,
    hc_pred_hicache, hc_pred_hermite_arg, hc_pred_hermite_coef, hc_pred_hitaylor,
    hc_pred_lagrange, hc_pred_clusca;
extern const hc_pred_type hc_pred_foca, hc_pred_spectrum, hc_pred_hicache_analytic, hc_pred_adams,
    hc_pred_dmd;

const hc_pred_type *const hc_pred_types[] = {
    &hc_pred_full,
    &hc_pred_reuse,
    &hc_pred_taylor,
    &hc_pred_hermite,
    &hc_pred_hicache,
    &hc_pred_hermite_arg,
    &hc_pred_hermite_coef,
    &hc_pred_hitaylor,
    &hc_pred_lagrange,
    &hc_pred_clusca,
    &hc_pred_foca,
    &hc_pred_spectrum,
    &hc_pred_hicache_analytic,
    &hc_pred_adams,
    &hc_pred_dmd,
    NULL,
};

const hc_pred_type *hc_pred_type_find(const char *name)
{
    for (const hc_pred_type *const *t = hc_pred_types; *t; t++)
        if (strcmp((*t)->name, name) == 0) return *t;
    return NULL;
}

void hc_pred_type_list(char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (const hc_pred_type *const *t = hc_pred_types; *t && len < n; t++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", t == hc_pred_types ? "" : ", ", (*t)->name);
}

hc_status hc_predictor_alloc(const hc_method *m, size_t T, size_t D, unsigned long stream,
                             hc_predictor **out)
{
    *out = NULL;
    hc_predictor *p = calloc(1, sizeof *p);
    if (!p) return hc_fail(HC_ENOMEM, "out of memory");
    p->type = m->type;
    hc_status st = m->type->alloc(m, T, D, stream, &p->state);
    if (st != HC_OK) {
        free(p);
        return st;
    }
    m->type->reset(p->state);
    *out = p;
    return HC_OK;
}

void hc_predictor_free(hc_predictor *p)
{
    if (!p) return;
    p->type->free(p->state);
    free(p);
}
