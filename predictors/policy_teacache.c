/* policy_teacache.c: TeaCache (Liu et al., arXiv 2411.19108).  At each step
 * r_s = |m_s - m_{s-1}|_1 / |m_{s-1}|_1, the relative L1 change of the first
 * block's timestep-modulated image input (signal mod_in_change); the
 * accumulator acc += p(r_s) with p the rescaling polynomial (from a
 * calibration file, `hicache calibrate`; identity without one); the step is
 * cached while acc < delta, computed (and acc reset) otherwise.  The paper's
 * FLUX thresholds (0.25..0.8) apply to its rescaled indicator; without a
 * calibration the identity is used, whose sum over flux-mini's 50 steps is
 * about 1.8, so the default delta = 0.1 computes about every third step. */
#include <math.h>

#include "policy.h"

static int teacache_decide(const hc_policy *p, hc_policy_state *st, int step, int steps, hc_signal_fn sig, void *ud)
{
    (void)steps, (void)p;
    if (step == 0) return 1;
    double r = sig(ud, HC_SIG_MOD_IN, step, -1);
    if (!isfinite(r)) return 1;
    st->acc += hc_policy_poly(st, r);
    return st->acc >= p->delta;
}

const hc_policy_type hc_policy_teacache = {
    .name = "teacache",
    .display = "TeaCache",
    .summary = "accumulated rescaled relative-L1 change of the first block's modulated input; compute past delta",
    .flags = 0,
    .needs = 1u << HC_SIG_MOD_IN,
    .keys = "delta,calib",
    .defaults = "W=1,max_skip=0,last=0,delta=0.1",
    .calib_key = "poly",
    .decide = teacache_decide,
};
