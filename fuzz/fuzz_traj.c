/* fuzz_traj.c: the trajectory reader on well-formed HDF5 with fuzzed
 * content.  The input is a little program that builds a file through the
 * HDF5 API: root attributes (each absent, right, or of a wrong type or
 * value), /steps/t, and up to 6 datasets under /features, /hidden,
 * /latents or elsewhere, with fuzzed names, dtype, rank, dims, layout,
 * filters, `stream` attribute, rows written (all, none, some) and values
 * (raw bits: NaN, Inf, subnormals).  Then hc_traj_open, every row of every
 * entry read, hc_traj_close, and no HDF5 object may remain open.
 *
 * HDF5's decoder itself is out of scope here (fuzz_traj_raw.c): every byte
 * decides schema content, which is what hicache validates. */
#include <hdf5.h>

#include "fuzz_util.h"
#include "traj.h"

FUZZ_INIT_LIBRARY

typedef struct rd { const uint8_t *p; size_t n; } rd;

static unsigned u8(rd *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}
static unsigned pick(rd *r, unsigned n) { return u8(r) % n; }
static long long s16(rd *r) { return (long long)(int16_t)(u8(r) | u8(r) << 8); }

/* A name of 0..11 input bytes (any byte but NUL; HDF5 may refuse it). */
static void fuzz_name(rd *r, char *buf)
{
    unsigned n = pick(r, 12), k = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned c = u8(r);
        if (c) buf[k++] = (char)c;
    }
    buf[k] = '\0';
}

/* One of the listed names, or (last choice) a name from the input. */
static void choose(rd *r, const char *const *names, unsigned n, char *buf)
{
    unsigned i = pick(r, n + 1);
    if (i < n) snprintf(buf, 64, "%s", names[i]);
    else fuzz_name(r, buf);
}

static void attr_write(hid_t obj, const char *name, hid_t type, hid_t space, const void *v)
{
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Awrite(a, type, v);
        H5Aclose(a);
    }
}

/* Attribute `name`: 0-3 its right value (str or num), 4 absent, 5 a fixed
 * string, 6 a variable-length string, 7 an integer, 8 a double, 9 an
 * integer array [2]. */
static void put_attr(rd *r, hid_t obj, const char *name, const char *str, double num)
{
    unsigned c = pick(r, 10);
    if (c == 4) return;
    int right = c < 4;
    if (right) c = str ? 5 : num == (double)(long long)num ? 7 : 8;
    char s[64];
    if (right && str) snprintf(s, sizeof s, "%s", str);
    else fuzz_name(r, s);
    hid_t scalar = H5Screate(H5S_SCALAR);
    hsize_t two = 2;
    if (c == 5 || c == 6) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, c == 5 ? strlen(s) + 1 : H5T_VARIABLE);
        const char *vs = s;
        attr_write(obj, name, t, scalar, c == 5 ? (const void *)s : (const void *)&vs);
        H5Tclose(t);
    } else if (c == 7) {
        long long v = right ? (long long)num : s16(r);
        attr_write(obj, name, H5T_NATIVE_LLONG, scalar, &v);
    } else if (c == 8) {
        double v = right ? num : num + (double)s16(r) / 7;
        attr_write(obj, name, H5T_NATIVE_DOUBLE, scalar, &v);
    } else {
        hid_t sp = H5Screate_simple(1, &two, NULL);
        int v[2] = {1, 2};
        attr_write(obj, name, H5T_NATIVE_INT, sp, v);
        H5Sclose(sp);
    }
    H5Sclose(scalar);
}

static hid_t make_f16(void)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    H5Tset_precision(t, 16);
    return t;
}

/* One dataset at `path` (its groups made on the way): dtype, rank, dims,
 * layout and filters, rows written and values from the input. */
static void put_dataset(rd *r, hid_t f, const char *path, int S, int is_x)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    unsigned dt = pick(r, 8); /* 0-4 f32, 5 f16, 6 f64, 7 int */
    hid_t ftype = dt < 5 ? H5Tcopy(H5T_IEEE_F32LE) : dt == 5 ? make_f16() : H5Tcopy(dt == 6 ? H5T_IEEE_F64LE : H5T_STD_I32LE);
    int rank = pick(r, 4) != 3 ? 3 : 1 + (int)pick(r, 5);
    hsize_t dims[5], chunk[5];
    dims[0] = pick(r, 4) != 3 ? (hsize_t)(S + is_x) : pick(r, 8);
    for (int i = 1; i < rank; i++) dims[i] = pick(r, 8) != 7 ? 1 + pick(r, 5) : pick(r, 3) ? 0 : 1000 + pick(r, 200);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    unsigned layout = pick(r, 4); /* 0 contiguous, 1 chunk per row, 2 fuzzed chunks + filters, 3 compact */
    if (layout == 1 || layout == 2) {
        for (int i = 0; i < rank; i++) chunk[i] = i == 0 ? 1 : dims[i] ? dims[i] : 1;
        if (layout == 2)
            for (int i = 0; i < rank; i++) chunk[i] = 1 + pick(r, 3);
        H5Pset_chunk(dcpl, rank, chunk);
        if (layout == 2 && pick(r, 2)) H5Pset_shuffle(dcpl);
        if (layout == 2 && pick(r, 2)) H5Pset_deflate(dcpl, pick(r, 10));
        if (layout == 2 && pick(r, 2)) H5Pset_fletcher32(dcpl);
    } else if (layout == 3) {
        H5Pset_layout(dcpl, H5D_COMPACT);
    }
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, path, ftype, space, lcpl, dcpl, H5P_DEFAULT);
    if (d >= 0) {
        size_t row = 1;
        for (int i = 1; i < rank; i++) row *= dims[i];
        unsigned how = pick(r, 4); /* 0-1 every row, 2 none, 3 some */
        float *buf = row <= 4096 ? malloc((row ? row : 1) * sizeof *buf) : NULL;
        for (hsize_t s = 0; buf && how != 2 && s < dims[0]; s++) {
            if (how == 3 && !pick(r, 2)) continue;
            for (size_t k = 0; k < row; k++) {
                uint32_t bits = pick(r, 4) != 3 ? 0x3f800000u + (u8(r) << 12) : (uint32_t)(u8(r) * 0x01010101u);
                memcpy(&buf[k], &bits, sizeof bits);
            }
            hsize_t start[5] = {s}, count[5] = {1};
            for (int i = 1; i < rank; i++) count[i] = dims[i];
            hid_t ms = H5Screate_simple(rank, count, NULL);
            H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
            H5Dwrite(d, H5T_NATIVE_FLOAT, ms, space, H5P_DEFAULT, buf);
            H5Sclose(ms);
        }
        free(buf);
        if (pick(r, 3) == 0) put_attr(r, d, "stream", "img", 0);
        H5Dclose(d);
    }
    H5Sclose(space);
    H5Pclose(dcpl);
    H5Tclose(ftype);
    H5Pclose(lcpl);
}

static void build(rd *r, const char *path)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) abort();
    int S = 1 + (int)pick(r, 6);
    put_attr(r, f, "schema", HC_TRAJ_SCHEMA, 0);
    put_attr(r, f, "schema_version", NULL, HC_TRAJ_SCHEMA_VERSION);
    put_attr(r, f, "model", "m", 0);
    put_attr(r, f, "sampler", "s", 0);
    put_attr(r, f, "num_steps", NULL, S);
    put_attr(r, f, "seed", NULL, 3);
    put_attr(r, f, pick(r, 2) ? "label" : "prompt", "a label", 0);
    put_attr(r, f, "guidance", NULL, 2.5);
    put_attr(r, f, "complete", NULL, 1);
    put_attr(r, f, "provenance", "{\"a\": 1}", 0);
    if (pick(r, 8) != 7) { /* /steps/t: [S] float64, else fuzzed */
        hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(lcpl, 1);
        hsize_t n = pick(r, 4) != 3 ? (hsize_t)S : pick(r, 8);
        hid_t sp = H5Screate_simple(1, &n, NULL);
        hid_t d = H5Dcreate2(f, "/steps/t", pick(r, 4) != 3 ? H5T_IEEE_F64LE : H5T_STD_I32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        double t[8];
        for (int i = 0; i < 8; i++) t[i] = 1.0 - i / 8.0 + (pick(r, 8) != 7 ? 0 : (double)s16(r) * 1e300);
        if (d >= 0 && pick(r, 8) != 7) H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t);
        if (d >= 0) H5Dclose(d);
        H5Sclose(sp);
        H5Pclose(lcpl);
    }
    static const char *const roots[] = {"features", "features", "features", "hidden", "latents", "steps"};
    static const char *const kinds[] = {"dit", "double", "single"};
    static const char *const layers[] = {"0", "1", "3", "10", "03", "-1", "x"};
    static const char *const mods[] = {"attn", "mlp", "img_attn", "txt_mlp", "total"};
    static const char *const lats[] = {"x", "out", "other"};
    int n = (int)(pick(r, 8) + 1) % 8; /* 0..7 datasets, 1 first */
    for (int i = 0; i < n; i++) {
        unsigned w = pick(r, 6);
        char a[64], b[64], c[64], p[256];
        choose(r, kinds, 3, a);
        choose(r, layers, 7, b);
        choose(r, mods, 5, c);
        if (w <= 2) snprintf(p, sizeof p, "/features/%s/%s/%s", a, b, c);
        else if (w == 3) snprintf(p, sizeof p, "/hidden/%s/%s", a, b);
        else if (w == 4) choose(r, lats, 3, c), snprintf(p, sizeof p, "/latents/%s", c);
        else snprintf(p, sizeof p, "/%s/%s", roots[pick(r, 6)], a);
        put_dataset(r, f, p, S, w == 4 && strcmp(c, "x") == 0);
    }
    H5Fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(NULL, 0, "in.h5");
    rd r = {data, size};
    build(&r, path);
    if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) abort(); /* the builder closed all */
    hc_traj *t = NULL;
    if (hc_traj_open(path, &t) == HC_OK) {
        const hc_traj_meta *m = hc_traj_get_meta(t);
        const double *times = hc_traj_times(t);
        volatile double sum = times[0] + times[m->num_steps - 1];
        for (size_t i = 0; i < hc_traj_num_entries(t); i++) {
            const hc_traj_entry *e = hc_traj_entry_at(t, i);
            if (hc_traj_find(t, e->kind, e->name) != (long)i) abort(); /* names are unique per kind */
            if (e->row_elems > FUZZ_MAX_FLOATS) continue;
            float *row = malloc(e->row_elems * sizeof *row);
            if (!row) abort();
            for (int64_t s = 0; s < e->dims[0]; s++)
                if (hc_traj_read_row(t, i, s, row) == HC_OK) sum += row[0] + row[e->row_elems - 1];
            free(row);
        }
        (void)sum;
    }
    hc_traj_close(t);
    ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open != 0) {
        fprintf(stderr, "hc_traj left %zd HDF5 objects open\n", open);
        abort();
    }
    return 0;
}
