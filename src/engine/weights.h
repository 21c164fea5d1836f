/* weights.h: the linear-combination view of a forecaster.  Every
 * divided-difference or Lagrange predictor is linear in the full-step
 * snapshots it has seen: F_hat(a + x) = sum_j w_j(x) F(f_j).  The weights
 * are found by running the predictor itself on impulse snapshots (element j
 * sees 1 at full step f_j and 0 elsewhere), so they are exact for any
 * registered type, warm-up effects included. */
#ifndef HC_WEIGHTS_H
#define HC_WEIGHTS_H

#include "predictor.h"

typedef struct hc_weights {
    int S;             /* steps */
    int anchor;        /* full step a the horizons count from */
    int n_snap;        /* full steps f_0 < ... < f_{n_snap-1} = a */
    int *snap_step;    /* [n_snap] */
    int n_h;           /* horizons x = 1..n_h (steps a+1..a+n_h are cached) */
    double *w;         /* [n_h][n_snap] */
} hc_weights;

/* anchor < 0 picks a steady-state full step: the last full step a whose
 * next N-1 steps are cached and the one after is full.  HC_EINVAL for
 * ClusCa (its forecast depends on fresh tokens) or an anchor that is not a
 * full step followed by a cached one. */
hc_status hc_weights_compute(const hc_method *m, int S, int anchor, hc_weights **out);
void hc_weights_free(hc_weights *w);

#endif
