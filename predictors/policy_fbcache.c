/* policy_fbcache.c: first-block caching (ParaAttention's First Block Cache,
 * diffusers FirstBlockCache, cache-dit's DBCache with one front block).  The
 * first block is computed at every step (HC_POL_HEAD); when the relative L1
 * change of its image residual since the last full step (signal
 * head_resid_change at (s, anchor)) is below delta the remaining blocks are
 * forecast, else computed.  Default delta 0.08, ParaAttention's FLUX value
 * (diffusers' default 0.05). */
#include <math.h>

#include "policy.h"

static int fbcache_decide(const hc_policy *p, hc_policy_state *st, int step, int steps, hc_signal_fn sig, void *ud)
{
    (void)steps;
    if (step == 0 || st->anchor < 0) return 1;
    double c = sig(ud, HC_SIG_HEAD_RESID, step, st->anchor);
    return !(c < p->delta);
}

const hc_policy_type hc_policy_fbcache = {
    .name = "fbcache",
    .display = "FBCache",
    .summary = "first block always computed; forecast the rest while its residual changed less than delta",
    .flags = HC_POL_HEAD,
    .needs = 1u << HC_SIG_HEAD_RESID,
    .keys = "delta",
    .defaults = "W=1,max_skip=0,last=0,delta=0.08",
    .decide = fbcache_decide,
};
