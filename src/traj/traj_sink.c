/* traj_sink.c: closing an HDF5 file that is being written without HDF5
 * failing at close (traj_internal.h).
 *
 * Why: on HDF5 before 1.14.1 (HDFFV-11052) a close whose flush fails (a full
 * disk) frees the file but leaves its ID registered, and the library's
 * shutdown at exit then crashes on it (status 139 after the right error
 * message); a failed H5Fflush leaves the metadata cache unable to flush
 * again.  So no write that can fail is left to HDF5 at close:
 *   - a file that is kept gets its disk space reserved first (fallocate,
 *     size unchanged): the close writes into blocks that already exist, and
 *     a full disk is an ordinary error before the close;
 *   - a file given up on gets its descriptor pointed at an anonymous memory
 *     file: the close flushes there and the file is deleted.
 * A file-size limit (RLIMIT_FSIZE) counts every file: the writer keeps the
 * file below it (traj_fsize_check), so that the close never passes it. */
#define _GNU_SOURCE /* memfd_create, fallocate */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "traj_internal.h"

/* What the close may add past the end of allocation: object headers, chunk
 * indexes, free-space bookkeeping. */
static uint64_t close_slack(uint64_t eoa) { return 64 * 1024 + eoa / 64; }

static int vfd_fd(hid_t file)
{
    int *fdp = NULL;
    if (file < 0 || H5Fget_vfd_handle(file, H5P_DEFAULT, (void **)&fdp) < 0 || !fdp) return -1;
    return *fdp;
}

void traj_sink_drop(hid_t file)
{
    int fd = vfd_fd(file);
    if (fd < 0) return;
    int mem = memfd_create("hicache-dropped", 0);
    if (mem < 0) return;
    struct stat sb;
    /* the same size, so that HDF5's closing truncate is a shrink or nothing */
    if (fstat(fd, &sb) == 0 && ftruncate(mem, sb.st_size) == 0) dup2(mem, fd);
    close(mem);
}

int traj_sink_reserve(hid_t file)
{
    int fd = vfd_fd(file);
    haddr_t eoa = 0;
    if (fd < 0 || H5Fget_eoa(file, &eoa) < 0) return 0;
    off_t len = (off_t)(eoa + close_slack(eoa));
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len) == 0) return 0;
    /* out of space; anything else (a file system without fallocate) leaves
     * the close as it always was */
    return errno == ENOSPC || errno == EFBIG || errno == EDQUOT ? errno : 0;
}

hc_status traj_fsize_check(hid_t file, const char *path, uint64_t more)
{
    struct rlimit lim;
    haddr_t eoa = 64 * 1024; /* before creating it: the superblock and root group */
    if (getrlimit(RLIMIT_FSIZE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return HC_OK;
    if (file >= 0 && H5Fget_eoa(file, &eoa) < 0) return HC_OK;
    if ((uint64_t)eoa + more + close_slack(eoa + more) <= (uint64_t)lim.rlim_cur) return HC_OK;
    return hc_fail(HC_EIO, "%s: write failed: File too large (it would pass the file-size limit of %llu bytes)", path,
                   (unsigned long long)lim.rlim_cur);
}
