/* traj_internal.h: what the validating reader (traj_read.c) and the
 * streaming writer (traj_write.c) of the trajectory store share.  Private to
 * src/traj; the contract is traj.h.
 *
 * All HDF5 failures are turned into hc_status with a message that names the
 * file, the object and what was expected; HDF5's own error stack printing is
 * switched off once by hc_init(). */
#ifndef HC_TRAJ_INTERNAL_H
#define HC_TRAJ_INTERNAL_H

#include <hdf5.h>

#include "traj.h"

/* Close *id with fn (H5Dclose, H5Sclose, ...) if it is open, and mark it
 * closed (H5I_INVALID_HID), so that a second call is a no-op. */
static inline void traj_close_id(hid_t *id, herr_t (*fn)(hid_t))
{
    if (*id >= 0) fn(*id);
    *id = H5I_INVALID_HID;
}

#endif
