/* policy_fixed.c: the predictor's fixed schedule (N, W, sched: flux | dit |
 * mod, predictors/schedule.c).  `P@fixed:N=7` is `P:N=7`: its keys are the
 * method's schedule keys, parsed by method.c; the driver uses the schedule
 * mask and never calls decide. */
#include "policy.h"

static int fixed_decide(const hc_policy *p, hc_policy_state *st, int step, int steps, hc_signal_fn sig, void *ud)
{
    (void)p, (void)st, (void)step, (void)steps, (void)sig, (void)ud;
    return 1;
}

const hc_policy_type hc_policy_fixed = {
    .name = "fixed",
    .display = "fixed",
    .summary = "fixed interval schedule (the predictor's N, W, sched; the default)",
    .flags = HC_POL_FIXED,
    .needs = 0,
    .keys = "",
    .defaults = "",
    .decide = fixed_decide,
};
