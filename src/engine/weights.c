/* weights.c: equivalent snapshot weights by impulse response (weights.h). */
#include "weights.h"

#include <stdlib.h>
#include <string.h>

void hc_weights_free(hc_weights *w)
{
    if (!w) return;
    free(w->snap_step);
    free(w->w);
    free(w);
}

hc_status hc_weights_compute(const hc_method *m, int S, int anchor, hc_weights **out)
{
    *out = NULL;
    if (!(hc_method_caps(m) & HC_PRED_LINEAR))
        return hc_fail(HC_EINVAL, "%s: %s's forecast is not a fixed linear combination of snapshots (it depends on "
                       "fresh tokens, clusters or a parameter fitted to the features); show the weights of its base", m->spec, m->type->display);
    if (S < 2 || S > 100000) return hc_fail(HC_EINVAL, "steps %d out of range [2, 100000]", S);
    if (!(hc_policy_flags(&m->policy) & HC_POL_FIXED))
        return hc_fail(HC_EINVAL, "%s: a policy's full steps depend on signals; show the weights under a fixed schedule "
                       "(PREDICTOR:N=...)", m->spec);
    if (m->sched.N < 2) return hc_fail(HC_EINVAL, "%s: N=%d has no cached steps: no forecast to show", m->spec, m->sched.N);
    unsigned char *full = malloc((size_t)S);
    if (!full) return hc_fail(HC_ENOMEM, "out of memory");
    hc_schedule_mask(&m->sched, S, full);
    if (anchor < 0) {
        for (int a = S - 1; a >= 0 && anchor < 0; a--) {
            if (!full[a] || a + m->sched.N >= S || !full[a + m->sched.N]) continue;
            int ok = 1;
            for (int x = 1; x < m->sched.N; x++) ok &= !full[a + x];
            if (ok) anchor = a;
        }
        if (anchor < 0) {
            free(full);
            return hc_fail(HC_EINVAL, "%s: no full step followed by %d cached steps within %d steps",
                           m->spec, m->sched.N - 1, S);
        }
    } else if (anchor >= S - 1 || !full[anchor] || full[anchor + 1]) {
        free(full);
        return hc_fail(HC_EINVAL, "%s: anchor step %d must be a full step followed by a cached step (S=%d)",
                       m->spec, anchor, S);
    }
    hc_weights *w = calloc(1, sizeof *w);
    hc_status st = HC_OK;
    hc_predictor *p = NULL;
    float *feat = NULL, *pred = NULL;
    if (!w) { st = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
    w->S = S;
    w->anchor = anchor;
    for (int s = 0; s <= anchor; s++) w->n_snap += full[s];
    while (anchor + w->n_h + 1 < S && !full[anchor + w->n_h + 1]) w->n_h++;
    size_t J = (size_t)w->n_snap;
    w->snap_step = malloc(J * sizeof *w->snap_step);
    w->w = malloc((size_t)w->n_h * J * sizeof *w->w);
    feat = malloc(J * sizeof *feat);
    pred = malloc(J * sizeof *pred);
    if (!w->snap_step || !w->w || !feat || !pred) { st = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
    if ((st = hc_predictor_alloc(m, J, 1, 0, &p)) != HC_OK) goto done;
    hc_step_ctx ctx = {0};
    int j = 0;
    for (int s = 0; s <= anchor; s++) {
        if (!full[s]) continue;
        memset(feat, 0, J * sizeof *feat);
        feat[j] = 1.0f; /* element j is the impulse at full step j */
        w->snap_step[j++] = s;
        ctx.step = s;
        p->type->observe(p->state, &ctx, feat);
    }
    for (int x = 1; x <= w->n_h; x++) {
        ctx.step = anchor + x;
        if ((st = p->type->predict(p->state, &ctx, pred)) != HC_OK) goto done;
        for (size_t k = 0; k < J; k++) w->w[(size_t)(x - 1) * J + k] = pred[k];
    }
done:
    hc_predictor_free(p);
    free(feat);
    free(pred);
    free(full);
    if (st != HC_OK) hc_weights_free(w);
    else *out = w;
    return st;
}
