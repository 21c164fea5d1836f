/* signals.h: the policies' per-step scalar signals (policy.h) computed in a
 * live run from the model's signal tensors (model.h, hc_model_signal) and
 * the network output, fed to the cache driver and, when recording, kept for
 * the trajectory's /signals group.
 *
 *   mod_in_change      <- HC_MSIG_MOD_IN      relative L1 vs the previous step
 *   head_resid_change  <- HC_MSIG_HEAD_RESID  relative L1 vs a full step (live: the
 *                                            driver's last full step; recorded: every earlier step)
 *   resid_norm         <- HC_MSIG_RESID       mean over tokens of the L2 norm
 *   out_change         <- the network output  relative L1 vs the previous step
 *
 * Live decisions read the whole batch ([cond ; uncond] of every image of the
 * run); the recording reads the recorded sample's rows (image 0, conditional
 * branch), as its features do. */
#ifndef HC_SIGNALS_H
#define HC_SIGNALS_H

#include <stddef.h>

#include "driver.h"
#include "traj.h"

typedef struct hc_sigs hc_sigs;

/* For a run of S steps: `needs` the policy's signals (hc_policy_needs),
 * `record` whether the recorded sample's signals are kept; tensors are
 * [rows, D] with rows0 rows of the recorded sample first; outputs of
 * out_elems floats (the recorded sample's). */
hc_status hc_sigs_alloc(unsigned needs, int record, int S, size_t rows, size_t rows0, size_t D, size_t out_elems,
                        hc_sigs **out);
void hc_sigs_free(hc_sigs *g);
/* The model signal tensors wanted (bit 1 << hc_model_signal). */
unsigned hc_sigs_model_mask(const hc_sigs *g);
/* The model signal tensors a policy's signals `needs` come from. */
unsigned hc_sigs_model_mask_for(unsigned needs);
/* A tensor of kind k at step s: the scalars into d (live) and the recording. */
void hc_sigs_tensor(hc_sigs *g, hc_driver *d, int step, int kind, const float *x, size_t rows);
/* After the forward of step s (decided by then): out0 the recorded sample's output. */
void hc_sigs_end_step(hc_sigs *g, hc_driver *d, int step, const float *out0);
/* Write the recorded signals as /signals/<name>. */
hc_status hc_sigs_write(const hc_sigs *g, hc_traj_writer *w);

/* Relative L1 change sum|a - b| / sum|b| over n floats (0 when b is all 0). */
double hc_rel_l1(const float *a, const float *b, size_t n);

#endif
