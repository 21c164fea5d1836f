/* schedule.c: which steps are full.  The counter semantics are the official
 * TaylorSeer/HiCache `cal_type`: the first W steps are full, then a counter
 * advances on each cached step and a step is full when it reaches N-1.  For
 * S=50, W=3 and N=3..10 this gives 18, 14, 12, 10, 9, 8, 8, 7 full steps. */
#include "predictor.h"

static const char *const sched_names[] = {"flux", "dit", "mod"};

const char *hc_sched_name(hc_sched_kind k) { return sched_names[k]; }

int hc_schedule_mask(const hc_schedule *sc, int S, unsigned char *full)
{
    HC_ASSERT(sc->N >= 1 && sc->W >= 1 && S >= 1);
    int n_full = 0, counter = 0;
    for (int s = 0; s < S; s++) {
        int f;
        switch (sc->kind) {
        case HC_SCHED_DIT: {
            /* the DiT code walks t = S-1 .. 0 and tests t > S - W - 1 */
            int down = S - 1 - s;
            f = down > S - sc->W - 1 || counter == sc->N - 1;
            break;
        }
        case HC_SCHED_MOD:
            f = s % sc->N == 0;
            break;
        case HC_SCHED_FLUX:
        default:
            f = s < sc->W || counter == sc->N - 1;
            break;
        }
        counter = f ? 0 : counter + 1;
        full[s] = (unsigned char)f;
        n_full += f;
    }
    return n_full;
}

int hc_schedule_updates_derivatives(const hc_schedule *sc, int step)
{
    switch (sc->kind) {
    case HC_SCHED_MOD: return 1;
    /* DiT: down < S - W + 1 with down = S-1-step, i.e. step > W - 2 */
    case HC_SCHED_DIT:
    case HC_SCHED_FLUX:
    default: return step > sc->W - 2;
    }
}
