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

/* ---- reader checks (traj_check.c) ---- */

/* HC_EUNSUP naming filter and dataset when the pipeline of dcpl has a
 * filter this HDF5 cannot decode. */
hc_status traj_check_filters(const char *file, const char *path, hid_t dcpl);
/* e->filters: "shuffle+deflate(4)+fletcher32", "none", ... */
void traj_describe_filters(hid_t dcpl, hc_traj_entry *e);
/* HC_EFORMAT naming the unwritten steps when a chunk (chunked) or the data
 * (contiguous) of dataset dset was never written; dims: e->rank dims. */
hc_status traj_check_written(const char *file, const char *path, hid_t dset, hid_t fspace, const hc_traj_entry *e,
                             int chunked, const hsize_t *dims);
/* After a failed read: 1 if it fails only on a Fletcher-32 checksum. */
int traj_checksum_failed(hid_t d, hid_t mtype, hid_t ms, hid_t fs, void *buf);

/* Set the non-finite values of x[0..n-1] to 0; their number. */
size_t traj_zero_nonfinite_f(float *x, size_t n);
/* The number of non-finite values of x[0..n-1]; *first: the first one's
 * index (untouched when none). */
size_t traj_count_nonfinite_d(const double *x, size_t n, size_t *first);

/* ---- writer ---- */

/* Closing a file being written without HDF5 failing at close (traj_sink.c;
 * HDF5 before 1.14.1 crashes at exit after a failed close).
 * traj_sink_reserve: before closing a file that is kept: reserve the disk
 * space the close writes into; 0 or an errno (ENOSPC: give the file up).
 * traj_sink_drop: before closing a file given up on: its descriptor is
 * pointed at a memory file, so the close writes nothing to disk. */
int traj_sink_reserve(hid_t file);
void traj_sink_drop(hid_t file);

/* HC_EIO when writing `more` bytes would take FILE (named `path`) near the
 * process's file-size limit (RLIMIT_FSIZE): past it HDF5 could not close
 * the file, so the writer stops short of it.  file < 0: before creating
 * it. */
hc_status traj_fsize_check(hid_t file, const char *path, uint64_t more);

#endif
