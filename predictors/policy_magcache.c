/* policy_magcache.c: MagCache (Ma et al., "MagCache: fast video generation
 * with magnitude-aware cache", 2025; diffusers hooks/mag_cache.py).  With
 * per-step magnitude ratios gamma_s = mean ||r_s|| / ||r_{s-1}|| of the
 * transformer residual r (output - input), while skipping keep
 * R <- R gamma_s and err += |1 - R|; compute (and reset) when err > delta or
 * after max_skip cached steps.  The ratios come from a calibration file
 * (`hicache calibrate`, "magcache.ratios"); without one, gamma is estimated
 * from the residual norms of the last two full steps a > b (signal
 * resid_norm) as (n_a / n_b)^(1 / (a - b)), 1 before two full steps exist.
 * Defaults: the diffusers config (threshold 0.06, 3 skips, retention of the
 * first 20% of steps: W=10 of 50). */
#include <math.h>

#include "policy.h"

static double ratio(const hc_policy *p, const hc_policy_state *st, int step, hc_signal_fn sig, void *ud)
{
    (void)p;
    if (st->n_ratios > 0) return step < st->n_ratios ? st->ratios[step] : 1.0;
    if (st->anchor < 0 || st->prev_full < 0) return 1.0;
    double na = sig(ud, HC_SIG_RESID_NORM, st->anchor, -1), nb = sig(ud, HC_SIG_RESID_NORM, st->prev_full, -1);
    if (!(na > 0) || !(nb > 0) || !isfinite(na) || !isfinite(nb)) return 1.0;
    return pow(na / nb, 1.0 / (st->anchor - st->prev_full));
}

static int magcache_decide(const hc_policy *p, hc_policy_state *st, int step, int steps, hc_signal_fn sig, void *ud)
{
    (void)steps;
    if (step == 0) return 1;
    st->R *= ratio(p, st, step, sig, ud);
    st->acc += fabs(1.0 - st->R);
    return st->acc > p->delta;
}

const hc_policy_type hc_policy_magcache = {
    .name = "magcache",
    .display = "MagCache",
    .summary = "accumulated |1 - product of per-step residual magnitude ratios|; compute past delta or max_skip",
    .flags = 0,
    .needs = 1u << HC_SIG_RESID_NORM,
    .keys = "delta,calib",
    .defaults = "W=10,max_skip=3,last=0,delta=0.06",
    .calib_key = "ratios",
    .decide = magcache_decide,
};
