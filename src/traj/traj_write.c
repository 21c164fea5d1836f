/* traj_write.c: the streaming writer of the HDF5 trajectory store (schema
 * v1, traj.h): datasets declared up front, chunked one row per chunk with a
 * Fletcher-32 checksum per chunk, rows written in any order into
 * "<path>.partial", renamed and marked complete only when every row and time
 * was written. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "traj_internal.h"

typedef struct wds {
    hid_t dset, fspace, mspace;
    int rank;
    hsize_t dims[HC_TRAJ_MAX_RANK];
    unsigned char *written; /* one flag per row */
    char path[256];
} wds;

struct hc_traj_writer {
    char final_path[1024];
    char tmp_path[1100];
    hid_t file, ftype, times;
    int num_steps;
    unsigned char *time_written;
    hc_traj_write_opts opts;
    int no_checksum;        /* hc_traj_writer_set_checksum(w, 0) */
    wds *ds;
    int n_ds, cap_ds;
};

static hc_status put_attr_str(hc_traj_writer *w, hid_t obj, const char *name, const char *val)
{
    hid_t ty = H5Tcopy(H5T_C_S1);
    H5Tset_size(ty, H5T_VARIABLE);
    H5Tset_cset(ty, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, ty, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t r = a >= 0 ? H5Awrite(a, ty, &val) : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(ty);
    return r < 0 ? hc_fail(HC_EIO, "%s: cannot write attribute '%s'", w->tmp_path, name) : HC_OK;
}

static hc_status put_attr_num(hc_traj_writer *w, hid_t obj, const char *name, hid_t type, const void *val)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t ft = type == H5T_NATIVE_DOUBLE ? H5T_IEEE_F64LE : H5T_STD_I64LE;
    hid_t a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT)
                                       : H5Acreate2(obj, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t r = a >= 0 ? H5Awrite(a, type, val) : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return r < 0 ? hc_fail(HC_EIO, "%s: cannot write attribute '%s'", w->tmp_path, name) : HC_OK;
}

static hc_status put_attr_i64(hc_traj_writer *w, hid_t obj, const char *name, long long v)
{
    return put_attr_num(w, obj, name, H5T_NATIVE_LLONG, &v);
}

/* IEEE binary16 as an HDF5 float type (the layout h5py uses for float16). */
static hid_t make_f16_type(void)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    H5Tset_precision(t, 16);
    return t;
}

/* Close every handle; a file that is not kept through a memory file
 * (traj_sink_drop), so that no close can fail on a full disk.  0 or -1. */
static int close_all(hc_traj_writer *w, int keep)
{
    if (!keep) traj_sink_drop(w->file);
    for (int i = 0; i < w->n_ds; i++) {
        traj_close_id(&w->ds[i].mspace, H5Sclose);
        traj_close_id(&w->ds[i].fspace, H5Sclose);
        traj_close_id(&w->ds[i].dset, H5Dclose);
    }
    traj_close_id(&w->times, H5Dclose);
    traj_close_id(&w->ftype, H5Tclose);
    herr_t r = w->file >= 0 ? H5Fclose(w->file) : 0;
    w->file = H5I_INVALID_HID;
    return r < 0 ? -1 : 0;
}

void hc_traj_writer_free(hc_traj_writer *w)
{
    if (!w) return;
    if (w->file >= 0) {
        close_all(w, 0);
        unlink(w->tmp_path); /* abandoned: leave nothing half-written */
    }
    for (int i = 0; i < w->n_ds; i++) free(w->ds[i].written);
    free(w->ds);
    free(w->time_written);
    free(w);
}

hc_status hc_traj_writer_open(const char *path, const hc_traj_meta *meta,
                              const hc_traj_write_opts *opts, const char *provenance_json,
                              hc_traj_writer **out)
{
    *out = NULL;
    hc_init();
    HC_ASSERT(path && meta);
    if (meta->num_steps < 1)
        return hc_fail(HC_EINVAL, "%s: num_steps must be >= 1 (got %d)", path, meta->num_steps);
    if (opts && (opts->deflate < 0 || opts->deflate > 9))
        return hc_fail(HC_EINVAL, "deflate level %d out of range 0..9", opts->deflate);
    hc_traj_writer *w = calloc(1, sizeof *w);
    if (!w) return hc_fail(HC_ENOMEM, "out of memory");
    w->file = w->ftype = w->times = H5I_INVALID_HID;
    snprintf(w->final_path, sizeof w->final_path, "%s", path);
    snprintf(w->tmp_path, sizeof w->tmp_path, "%s.partial", path);
    w->num_steps = meta->num_steps;
    if (opts) w->opts = *opts;
    hc_status st = HC_OK;
    w->time_written = calloc((size_t)meta->num_steps, 1);
    if (!w->time_written) { st = hc_fail(HC_ENOMEM, "out of memory"); goto fail; }
    if ((st = traj_fsize_check(H5I_INVALID_HID, w->tmp_path, 0)) != HC_OK) goto fail;
    w->file = H5Fcreate(w->tmp_path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) {
        st = hc_fail(HC_EIO, "%s: cannot create file (%s)", w->tmp_path, strerror(errno));
        goto fail;
    }
    w->ftype = w->opts.dtype == HC_F16 ? make_f16_type() : H5Tcopy(H5T_IEEE_F32LE);
    if ((st = put_attr_str(w, w->file, "schema", HC_TRAJ_SCHEMA)) ||
        (st = put_attr_i64(w, w->file, "schema_version", HC_TRAJ_SCHEMA_VERSION)) ||
        (st = put_attr_str(w, w->file, "model", meta->model)) ||
        (st = put_attr_str(w, w->file, "sampler", meta->sampler)) ||
        (st = put_attr_i64(w, w->file, "num_steps", meta->num_steps)) ||
        (st = put_attr_i64(w, w->file, "complete", 0)))
        goto fail;
    if (meta->has_seed && (st = put_attr_i64(w, w->file, "seed", (long long)meta->seed))) goto fail;
    if (meta->label[0] && (st = put_attr_str(w, w->file, "label", meta->label))) goto fail;
    if (meta->has_guidance && (st = put_attr_num(w, w->file, "guidance", H5T_NATIVE_DOUBLE, &meta->guidance)))
        goto fail;
    if (provenance_json && (st = put_attr_str(w, w->file, "provenance", provenance_json))) goto fail;
    *out = w;
    return HC_OK;
fail:
    hc_traj_writer_free(w);
    return st;
}

hc_status hc_traj_writer_set_checksum(hc_traj_writer *w, int on)
{
    if (w->times >= 0 || w->n_ds > 0)
        return hc_fail(HC_EINVAL, "%s: checksums are set before the first dataset", w->tmp_path);
    w->no_checksum = !on;
    return HC_OK;
}

/* /steps/t: float64 [S], NaN until written; made with the first dataset
 * (after hc_traj_writer_set_checksum's last chance). */
static hc_status make_times(hc_traj_writer *w)
{
    if (w->times >= 0) return HC_OK;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hsize_t s = (hsize_t)w->num_steps;
    hid_t sp = H5Screate_simple(1, &s, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    double nan = NAN;
    H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan);
    if (!w->no_checksum) { /* a checksum needs a chunked layout: one chunk */
        H5Pset_chunk(dcpl, 1, &s);
        H5Pset_fletcher32(dcpl);
    }
    w->times = H5Dcreate2(w->file, "/steps/t", H5T_IEEE_F64LE, sp, lcpl, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Pclose(lcpl);
    return w->times < 0 ? hc_fail(HC_EIO, "%s: cannot create /steps/t", w->tmp_path) : HC_OK;
}

/* Create a chunked (one row per chunk) dataset of `rank` dims. */
static hc_status add_dataset(hc_traj_writer *w, const char *path, int rank, const hsize_t *dims,
                             const char *block_kind, int layer, const char *module,
                             const char *stream, int *handle)
{
    for (int i = 0; i < w->n_ds; i++)
        if (strcmp(w->ds[i].path, path) == 0)
            return hc_fail(HC_EINVAL, "%s: dataset %s declared twice", w->tmp_path, path);
    size_t chunk_bytes = 4;
    for (int i = 1; i < rank; i++) {
        if (dims[i] == 0) return hc_fail(HC_EINVAL, "%s: %s has a zero dimension", w->tmp_path, path);
        chunk_bytes *= dims[i];
    }
    if (chunk_bytes >= (size_t)1 << 32)
        return hc_fail(HC_EUNSUP, "%s: one step of %s exceeds HDF5's 4 GiB chunk limit", w->tmp_path, path);
    HC_TRY(make_times(w));
    HC_TRY(traj_fsize_check(w->file, w->tmp_path, 4096)); /* its object header */
    if (w->n_ds == w->cap_ds) {
        int nc = w->cap_ds ? 2 * w->cap_ds : 16;
        wds *nd = realloc(w->ds, (size_t)nc * sizeof *nd);
        if (!nd) return hc_fail(HC_ENOMEM, "out of memory");
        w->ds = nd;
        w->cap_ds = nc;
    }
    wds *d = &w->ds[w->n_ds];
    memset(d, 0, sizeof *d);
    d->dset = d->fspace = d->mspace = H5I_INVALID_HID;
    snprintf(d->path, sizeof d->path, "%s", path);
    d->rank = rank;
    memcpy(d->dims, dims, (size_t)rank * sizeof *dims);
    d->written = calloc((size_t)dims[0], 1);
    if (!d->written) return hc_fail(HC_ENOMEM, "out of memory");
    hsize_t chunk[HC_TRAJ_MAX_RANK];
    chunk[0] = 1;
    for (int i = 1; i < rank; i++) chunk[i] = dims[i];
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, rank, chunk);
    float nan = NAN;
    H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &nan);
    if (w->opts.deflate > 0) {
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, (unsigned)w->opts.deflate);
    }
    if (!w->no_checksum) H5Pset_fletcher32(dcpl); /* last: over the stored bytes */
    /* no chunk cache: each row (one chunk, written once and whole) goes to
     * the file in hc_traj_writer_put, where a full disk is reported, and
     * the close has no raw data left to place */
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(dapl, 0, 0, 1.0);
    d->fspace = H5Screate_simple(rank, dims, NULL);
    d->dset = H5Dcreate2(w->file, path, w->ftype, d->fspace, lcpl, dcpl, dapl);
    H5Pclose(dapl);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    w->n_ds++; /* owned from here on, freed by writer_free */
    if (d->dset < 0) return hc_fail(HC_EIO, "%s: cannot create dataset %s", w->tmp_path, path);
    d->mspace = H5Screate_simple(rank, chunk, NULL);
    hc_status st = HC_OK;
    if (block_kind) {
        if ((st = put_attr_str(w, d->dset, "block_kind", block_kind)) ||
            (st = put_attr_i64(w, d->dset, "layer", layer)) ||
            (module && (st = put_attr_str(w, d->dset, "module", module))) ||
            (stream && (st = put_attr_str(w, d->dset, "stream", stream))))
            return st;
    }
    *handle = w->n_ds - 1;
    return HC_OK;
}

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 60) return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '.' || (unsigned char)*s < 32) return 0;
    return 1;
}

hc_status hc_traj_writer_add_feature(hc_traj_writer *w, const char *block_kind, int layer,
                                     const char *module, const char *stream,
                                     int64_t n_tokens, int64_t n_channels, int *handle)
{
    if (!valid_name(block_kind) || !valid_name(module) || layer < 0 || n_tokens < 1 || n_channels < 1)
        return hc_fail(HC_EINVAL, "%s: invalid feature declaration %s/%d/%s [%lld, %lld]", w->tmp_path,
                       block_kind ? block_kind : "?", layer, module ? module : "?",
                       (long long)n_tokens, (long long)n_channels);
    if (stream && strcmp(stream, "img") && strcmp(stream, "txt") && strcmp(stream, "joint"))
        return hc_fail(HC_EINVAL, "stream '%s' must be img, txt or joint", stream);
    char path[256];
    snprintf(path, sizeof path, "/features/%s/%d/%s", block_kind, layer, module);
    hsize_t dims[3] = {(hsize_t)w->num_steps, (hsize_t)n_tokens, (hsize_t)n_channels};
    return add_dataset(w, path, 3, dims, block_kind, layer, module, stream ? stream : "joint", handle);
}

hc_status hc_traj_writer_add_hidden(hc_traj_writer *w, const char *block_kind, int layer, const char *stream,
                                    int64_t n_tokens, int64_t n_channels, int *handle)
{
    if (!valid_name(block_kind) || layer < 0 || n_tokens < 1 || n_channels < 1)
        return hc_fail(HC_EINVAL, "%s: invalid hidden-state declaration", w->tmp_path);
    char path[256];
    snprintf(path, sizeof path, "/hidden/%s/%d", block_kind, layer);
    hsize_t dims[3] = {(hsize_t)w->num_steps, (hsize_t)n_tokens, (hsize_t)n_channels};
    return add_dataset(w, path, 3, dims, block_kind, layer, NULL, stream ? stream : "joint", handle);
}

hc_status hc_traj_writer_add_latent(hc_traj_writer *w, const char *name, int64_t rows,
                                    int row_rank, const int64_t *row_dims, int *handle)
{
    if (!valid_name(name) || rows < 1 || row_rank < 1 || row_rank >= HC_TRAJ_MAX_RANK)
        return hc_fail(HC_EINVAL, "%s: invalid latent declaration '%s'", w->tmp_path, name ? name : "?");
    hsize_t dims[HC_TRAJ_MAX_RANK];
    dims[0] = (hsize_t)rows;
    for (int i = 0; i < row_rank; i++) {
        if (row_dims[i] < 1) return hc_fail(HC_EINVAL, "latent '%s': dimension %d < 1", name, i + 1);
        dims[i + 1] = (hsize_t)row_dims[i];
    }
    char path[256];
    snprintf(path, sizeof path, "/latents/%s", name);
    return add_dataset(w, path, row_rank + 1, dims, NULL, -1, NULL, NULL, handle);
}

hc_status hc_traj_writer_put_time(hc_traj_writer *w, int64_t step, double t)
{
    if (step < 0 || step >= w->num_steps)
        return hc_fail(HC_EINVAL, "step %lld out of range [0, %d)", (long long)step, w->num_steps);
    HC_TRY(make_times(w));
    hid_t fs = H5Dget_space(w->times);
    hsize_t start = (hsize_t)step, count = 1;
    hid_t ms = H5Screate_simple(1, &count, NULL);
    herr_t r = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL);
    if (r >= 0) r = H5Dwrite(w->times, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, &t);
    H5Sclose(ms);
    H5Sclose(fs);
    if (r < 0) return hc_fail(HC_EIO, "%s: cannot write /steps/t[%lld]", w->tmp_path, (long long)step);
    w->time_written[step] = 1;
    return HC_OK;
}

hc_status hc_traj_writer_put(hc_traj_writer *w, int handle, int64_t row, const float *data)
{
    HC_ASSERT(handle >= 0 && handle < w->n_ds && data);
    wds *d = &w->ds[handle];
    if (row < 0 || (hsize_t)row >= d->dims[0])
        return hc_fail(HC_EINVAL, "%s: row %lld out of range [0, %llu)", d->path, (long long)row,
                       (unsigned long long)d->dims[0]);
    hsize_t start[HC_TRAJ_MAX_RANK] = {0}, count[HC_TRAJ_MAX_RANK];
    start[0] = (hsize_t)row;
    count[0] = 1;
    uint64_t bytes = 8;
    for (int i = 1; i < d->rank; i++) bytes *= count[i] = d->dims[i];
    HC_TRY(traj_fsize_check(w->file, w->tmp_path, bytes));
    errno = 0;
    if (H5Sselect_hyperslab(d->fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dwrite(d->dset, H5T_NATIVE_FLOAT, d->mspace, d->fspace, H5P_DEFAULT, data) < 0)
        return hc_fail(HC_EIO, "%s: cannot write row %lld of %s%s%s%s", w->tmp_path, (long long)row, d->path,
                       errno ? " (" : "", errno ? strerror(errno) : "", errno ? ")" : "");
    d->written[row] = 1;
    return HC_OK;
}

hc_status hc_traj_writer_put_signal(hc_traj_writer *w, const char *name, int64_t cols, const double *v)
{
    if (!valid_name(name) || cols < 1 || cols > w->num_steps)
        return hc_fail(HC_EINVAL, "%s: invalid signal '%s' with %lld columns", w->tmp_path, name ? name : "?",
                       (long long)cols);
    for (size_t i = 0; i < (size_t)w->num_steps * (size_t)cols; i++)
        if (!isfinite(v[i])) return hc_fail(HC_EINVAL, "%s: signal %s has a non-finite value", w->tmp_path, name);
    HC_TRY(make_times(w));
    HC_TRY(traj_fsize_check(w->file, w->tmp_path, 4096 + 8 * (uint64_t)w->num_steps * (uint64_t)cols));
    char path[256];
    snprintf(path, sizeof path, "/signals/%s", name);
    hsize_t dims[2] = {(hsize_t)w->num_steps, (hsize_t)cols};
    int rank = cols > 1 ? 2 : 1;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, rank, dims); /* one chunk: the whole signal */
    if (!w->no_checksum) H5Pset_fletcher32(dcpl);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(w->file, path, H5T_IEEE_F64LE, sp, lcpl, dcpl, H5P_DEFAULT);
    herr_t r = d >= 0 ? H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : -1;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    return r < 0 ? hc_fail(HC_EIO, "%s: cannot write dataset %s", w->tmp_path, path) : HC_OK;
}

hc_status hc_traj_writer_finish(hc_traj_writer *w)
{
    hc_status st = HC_OK;
    for (int s = 0; s < w->num_steps && st == HC_OK; s++)
        if (!w->time_written[s]) st = hc_fail(HC_EINVAL, "%s: /steps/t[%d] never written", w->final_path, s);
    for (int i = 0; i < w->n_ds && st == HC_OK; i++)
        for (hsize_t r = 0; r < w->ds[i].dims[0]; r++)
            if (!w->ds[i].written[r]) {
                st = hc_fail(HC_EINVAL, "%s: row %llu of %s never written", w->final_path,
                             (unsigned long long)r, w->ds[i].path);
                break;
            }
    if (st == HC_OK) st = put_attr_i64(w, w->file, "complete", 1);
    if (st != HC_OK) {
        hc_traj_writer_free(w);
        return st;
    }
    int err = traj_sink_reserve(w->file);
    if (err) {
        st = hc_fail(HC_EIO, "%s: writing the file failed (%s)", w->tmp_path, strerror(err));
        hc_traj_writer_free(w);
        return st;
    }
    if (close_all(w, 1) != 0) {
        st = hc_fail(HC_EIO, "%s: closing the file failed (disk full?)", w->tmp_path);
        unlink(w->tmp_path);
    } else if (rename(w->tmp_path, w->final_path) != 0) {
        st = hc_fail(HC_EIO, "%s: cannot rename to %s: %s", w->tmp_path, w->final_path, strerror(errno));
        unlink(w->tmp_path);
    }
    hc_traj_writer_free(w);
    return st;
}
