/* traj_check.c: integrity checks of the trajectory reader (traj_read.c,
 * traj_internal.h): every chunk written, every filter decodable, checksum
 * failures told apart from other read failures, non-finite values counted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traj_internal.h"

static herr_t find_fletcher(unsigned n, const H5E_error2_t *err, void *ud)
{
    (void)n;
    if (err->desc && strstr(err->desc, "Fletcher32")) *(int *)ud = 1;
    return 0;
}

/* After a failed read (called right after it, while HDF5's error stack
 * holds its cause): whether a Fletcher-32 checksum failed.  The stack names
 * the filter; failing that, a read with error detection off that succeeds
 * (buf then holds the corrupt values; the caller reports the error). */
int traj_checksum_failed(hid_t d, hid_t mtype, hid_t ms, hid_t fs, void *buf)
{
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_fletcher, &found);
    if (found) return 1;
    hid_t dx = H5Pcreate(H5P_DATASET_XFER);
    herr_t r = dx >= 0 && H5Pset_edc_check(dx, H5Z_DISABLE_EDC) >= 0 ? H5Dread(d, mtype, ms, fs, dx, buf) : -1;
    if (dx >= 0) H5Pclose(dx);
    return r >= 0;
}

/* Every filter of the dataset's pipeline must be there to decode it (a
 * file from a tool with a plugin this HDF5 lacks: LZF, Blosc, ...);
 * otherwise every read would fail as if the file were corrupt. */
hc_status traj_check_filters(const char *file, const char *path, hid_t dcpl)
{
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; i++) {
        unsigned flags, cd[8], cfg = 0;
        size_t ncd = 8;
        char name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, &cfg);
        unsigned info = 0;
        if (id >= 0 && H5Zfilter_avail(id) > 0 && H5Zget_filter_info(id, &info) >= 0 &&
            (info & H5Z_FILTER_CONFIG_DECODE_ENABLED))
            continue;
        return hc_fail(HC_EUNSUP, "%s: dataset %s needs HDF5 filter %d (%s), which this HDF5 library cannot decode (a plugin missing?)",
                       file, path, (int)id, name[0] ? name : "unnamed");
    }
    return HC_OK;
}

void traj_describe_filters(hid_t dcpl, hc_traj_entry *e)
{
    e->filters[0] = '\0';
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char name[64] = "";
        unsigned cfg;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, &cfg);
        char one[48];
        if (id == H5Z_FILTER_DEFLATE)
            snprintf(one, sizeof one, "deflate(%u)", ncd > 0 ? cd[0] : 0u);
        else if (id == H5Z_FILTER_SHUFFLE)
            snprintf(one, sizeof one, "shuffle");
        else if (id == H5Z_FILTER_FLETCHER32)
            snprintf(one, sizeof one, "fletcher32");
        else
            snprintf(one, sizeof one, "filter%d", (int)id);
        size_t len = strlen(e->filters);
        snprintf(e->filters + len, sizeof e->filters - len, "%s%s", len ? "+" : "", one);
    }
    if (!e->filters[0]) snprintf(e->filters, sizeof e->filters, "none");
}

/* "2, 4-7, 9" for the rows flagged in miss[0..n-1], cut with ", ..." to fit. */
static void format_rows(const unsigned char *miss, hsize_t n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (hsize_t r = 0; r < n; r++) {
        if (!miss[r]) continue;
        hsize_t e = r;
        while (e + 1 < n && miss[e + 1]) e++;
        char one[48];
        if (e == r) snprintf(one, sizeof one, "%s%llu", len ? ", " : "", (unsigned long long)r);
        else snprintf(one, sizeof one, "%s%llu-%llu", len ? ", " : "", (unsigned long long)r, (unsigned long long)e);
        if (len + strlen(one) + 6 >= cap) {
            snprintf(out + len, cap - len, ", ...");
            return;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s", one);
        r = e;
    }
}

/* Mark in miss[] the rows of every chunk of d that was never written:
 * H5Dget_chunk_info_by_coord per chunk, in row order, until `missing`
 * chunks are found (0: look at all).  The number found, or -1 if a lookup
 * fails. */
static long long find_unwritten(hid_t d, int rank, const hsize_t *dims, const int64_t *chunk, hsize_t missing,
                          unsigned char *miss)
{
    hsize_t off[HC_TRAJ_MAX_RANK] = {0}, found = 0;
    for (;;) {
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        if (H5Dget_chunk_info_by_coord(d, off, &mask, &addr, &size) < 0) return -1;
        if (addr == HADDR_UNDEF) {
            for (hsize_t r = off[0]; r < off[0] + (hsize_t)chunk[0] && r < dims[0]; r++) miss[r] = 1;
            if (++found == missing) break;
        }
        int i = rank - 1; /* next chunk offset, last dimension fastest */
        while (i >= 0 && (off[i] += (hsize_t)chunk[i]) >= dims[i]) off[i--] = 0;
        if (i < 0) break;
    }
    return (long long)found;
}

/* Data that was never written reads as the fill value and would be scored
 * as a perfect forecast: refuse it, naming the steps.  Chunked: every chunk
 * must exist.  They are counted with the dataset's own dataspace (HDF5 1.10
 * answers -1 for H5S_ALL), and where some are missing, found by coordinate
 * (H5Dget_chunk_info_by_coord: 1.10.5 and later). */
hc_status traj_check_written(const char *file, const char *path, hid_t dset, hid_t fspace, const hc_traj_entry *e,
                             int chunked, const hsize_t *dims)
{
    if (!chunked) {
        H5D_space_status_t alloc;
        if (H5Dget_space_status(dset, &alloc) >= 0 && alloc == H5D_SPACE_STATUS_NOT_ALLOCATED)
            return hc_fail(HC_EFORMAT, "%s: dataset %s: its data was never written", file, path);
        return HC_OK;
    }
    hsize_t want = 1, have = 0;
    for (int i = 0; i < e->rank; i++) want *= (dims[i] + (hsize_t)e->chunk[i] - 1) / (hsize_t)e->chunk[i];
    /* no chunk index exists before the first write: the count fails then */
    int counted = H5Dget_num_chunks(dset, fspace, &have) >= 0;
    if (!counted && e->stored_bytes == 0) have = 0, counted = 1;
    if (counted && have >= want) return HC_OK;
    if (!counted && want > ((hsize_t)1 << 24)) /* too many to look up one by one */
        return hc_fail(HC_EFORMAT, "%s: dataset %s: cannot count its %llu chunks to check that all were written",
                       file, path, (unsigned long long)want);
    unsigned char *miss = calloc((size_t)dims[0] + 1, 1);
    if (!miss) return hc_fail(HC_ENOMEM, "out of memory checking %s", path);
    long long n = (long long)want;
    if (counted && have == 0) memset(miss, 1, (size_t)dims[0]);
    else n = find_unwritten(dset, e->rank, dims, e->chunk, counted ? want - have : 0, miss);
    char rows[160];
    format_rows(miss, dims[0], rows, sizeof rows);
    free(miss);
    if (n < 0) return hc_fail(HC_EFORMAT, "%s: dataset %s: cannot tell which of its chunks were written", file, path);
    if (n == 0) return HC_OK; /* counted short, yet every chunk is there */
    return hc_fail(HC_EFORMAT,
                   "%s: dataset %s: steps never written: %s (%lld of %llu chunks missing; they would read as the fill value)",
                   file, path, rows, n, (unsigned long long)want);
}


static const char *const nonfinite_names[] = {"refuse", "zero", "skip"};

const char *hc_traj_nonfinite_name(hc_traj_nonfinite p)
{
    return (unsigned)p < 3 ? nonfinite_names[p] : "?";
}

hc_status hc_traj_nonfinite_parse(const char *s, hc_traj_nonfinite *out)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, nonfinite_names[i]) == 0) {
            *out = (hc_traj_nonfinite)i;
            return HC_OK;
        }
    return hc_fail(HC_EINVAL, "non-finite policy '%s' (valid: refuse, zero, skip)", s ? s : "");
}

size_t traj_zero_nonfinite_f(float *x, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            x[i] = 0.0f;
            bad++;
        }
    return bad;
}

size_t traj_count_nonfinite_d(const double *x, size_t n, size_t *first)
{
    size_t bad = 0;
    for (size_t i = n; i-- > 0;)
        if (!isfinite(x[i])) {
            *first = i;
            bad++;
        }
    return bad;
}
