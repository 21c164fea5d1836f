/* traj_read.c: the validating reader of the HDF5 trajectory store (schema
 * v1, traj.h): root attributes, /steps/t, the /features, /hidden and
 * /latents trees checked against the schema on open, then one hyperslab per
 * row read. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "half.h"
#include "traj_internal.h"

const char *hc_dtype_name(hc_dtype d) { return d == HC_F16 ? "float16" : "float32"; }

/* Read a string attribute (fixed or variable length) into buf.
 * *present = 0 when absent.  HC_EFORMAT when present but not a string. */
static hc_status attr_string(const char *file, hid_t obj, const char *objname, const char *name,
                             char *buf, size_t n, int *present)
{
    *present = 0;
    buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0) return HC_OK;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    hid_t sp = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    hc_status st = HC_OK;
    if (ft < 0 || sp < 0 || H5Tget_class(ft) != H5T_STRING || H5Sget_simple_extent_npoints(sp) != 1) {
        st = hc_fail(HC_EFORMAT, "%s: attribute '%s' of %s: expected a string", file, name, objname);
        goto done;
    }
    if (H5Tis_variable_str(ft) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        char *s = NULL;
        if (H5Aread(a, mt, &s) < 0 || !s) {
            st = hc_fail(HC_EFORMAT, "%s: cannot read attribute '%s' of %s", file, name, objname);
        } else {
            snprintf(buf, n, "%s", s);
            H5free_memory(s);
        }
        H5Tclose(mt);
    } else {
        size_t sz = H5Tget_size(ft);
        char *tmp = calloc(sz + 1, 1);
        if (!tmp) { st = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz);
        H5Tset_strpad(mt, H5T_STR_NULLPAD);
        H5Tset_cset(mt, H5Tget_cset(ft)); /* UTF-8 does not convert to ASCII */
        if (H5Aread(a, mt, tmp) < 0)
            st = hc_fail(HC_EFORMAT, "%s: cannot read attribute '%s' of %s", file, name, objname);
        else
            snprintf(buf, n, "%s", tmp);
        H5Tclose(mt);
        free(tmp);
    }
    if (st == HC_OK) *present = 1;
done:
    traj_close_id(&ft, H5Tclose);
    traj_close_id(&sp, H5Sclose);
    traj_close_id(&a, H5Aclose);
    return st;
}

/* Read a scalar numeric attribute as double (want_int: must be an integer
 * type).  *present = 0 when absent. */
static hc_status attr_number(const char *file, hid_t obj, const char *objname, const char *name,
                             int want_int, double *v, int *present)
{
    *present = 0;
    if (H5Aexists(obj, name) <= 0) return HC_OK;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    hid_t sp = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    hc_status st = HC_OK;
    H5T_class_t cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    int ok = ft >= 0 && sp >= 0 && H5Sget_simple_extent_npoints(sp) == 1 &&
             (cls == H5T_INTEGER || (!want_int && cls == H5T_FLOAT));
    if (!ok) {
        st = hc_fail(HC_EFORMAT, "%s: attribute '%s' of %s: expected a scalar %s", file, name,
                     objname, want_int ? "integer" : "number");
    } else if (cls == H5T_INTEGER) {
        long long x = 0;
        if (H5Aread(a, H5T_NATIVE_LLONG, &x) < 0)
            st = hc_fail(HC_EFORMAT, "%s: cannot read attribute '%s' of %s", file, name, objname);
        *v = (double)x;
    } else if (H5Aread(a, H5T_NATIVE_DOUBLE, v) < 0) {
        st = hc_fail(HC_EFORMAT, "%s: cannot read attribute '%s' of %s", file, name, objname);
    }
    if (st == HC_OK) *present = 1;
    traj_close_id(&ft, H5Tclose);
    traj_close_id(&sp, H5Sclose);
    traj_close_id(&a, H5Aclose);
    return st;
}

typedef struct ent {
    hc_traj_entry e;
    hid_t dset;
    hid_t fspace;
    hid_t mspace;
    hid_t rawtype; /* IEEE half, little-endian: the file type, read without
                    * HDF5's conversion into hc_traj.raw; else -1 */
} ent;

struct hc_traj {
    char path[1024];
    hid_t file;
    hc_traj_nonfinite nonfinite;
    hc_traj_meta meta;
    double *times;
    ent *ents;
    size_t n_ents, cap_ents, n_features;
    uint16_t *raw; /* one row of the largest raw-half entry (hc_traj_read_row) */
};

const char *hc_traj_path(const hc_traj *t) { return t->path; }
const hc_traj_meta *hc_traj_get_meta(const hc_traj *t) { return &t->meta; }
const double *hc_traj_times(const hc_traj *t) { return t->times; }
size_t hc_traj_num_entries(const hc_traj *t) { return t->n_ents; }
size_t hc_traj_num_features(const hc_traj *t) { return t->n_features; }

const hc_traj_entry *hc_traj_entry_at(const hc_traj *t, size_t index)
{
    HC_ASSERT(index < t->n_ents);
    return &t->ents[index].e;
}

long hc_traj_find(const hc_traj *t, hc_entry_kind kind, const char *name)
{
    for (size_t i = 0; i < t->n_ents; i++)
        if (t->ents[i].e.kind == kind && strcmp(t->ents[i].e.name, name) == 0) return (long)i;
    return -1;
}

void hc_traj_close(hc_traj *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_ents; i++) {
        traj_close_id(&t->ents[i].rawtype, H5Tclose);
        traj_close_id(&t->ents[i].mspace, H5Sclose);
        traj_close_id(&t->ents[i].fspace, H5Sclose);
        traj_close_id(&t->ents[i].dset, H5Dclose);
    }
    free(t->ents);
    free(t->raw);
    free(t->times);
    free(t->meta.provenance);
    traj_close_id(&t->file, H5Fclose);
    free(t);
}

/* 1 when float type ty is IEEE binary16, little-endian (what the writer and
 * h5py store): its bits are then read as they are and converted by half.h,
 * bit for bit what HDF5's conversion gives, without HDF5's slow soft
 * conversion. */
static int is_ieee_half_le(hid_t ty)
{
    size_t spos, epos, esize, mpos, msize;
    if (H5Tget_fields(ty, &spos, &epos, &esize, &mpos, &msize) < 0) return 0;
    return spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 && H5Tget_ebias(ty) == 15 &&
           H5Tget_precision(ty) == 16 && H5Tget_offset(ty) == 0 && H5Tget_norm(ty) == H5T_NORM_IMPLIED &&
           H5Tget_order(ty) == H5T_ORDER_LE && H5T_ORDER_LE == H5Tget_order(H5T_NATIVE_USHORT);
}

/* Open dataset `path`, check its type and rank/rows, fill entry e. */
static hc_status open_entry(hc_traj *t, const char *path, int want_rank, int64_t want_rows,
                            ent *out)
{
    hc_traj_entry *e = &out->e;
    out->dset = out->fspace = out->mspace = out->rawtype = H5I_INVALID_HID;
    snprintf(e->path, sizeof e->path, "%s", path);
    hid_t d = H5Dopen2(t->file, path, H5P_DEFAULT);
    if (d < 0) return hc_fail(HC_EFORMAT, "%s: cannot open dataset %s", t->path, path);
    out->dset = d;
    hid_t ty = H5Dget_type(d);
    H5T_class_t cls = H5Tget_class(ty);
    size_t sz = H5Tget_size(ty);
    if (cls == H5T_FLOAT && sz == 2 && is_ieee_half_le(ty)) out->rawtype = ty;
    else H5Tclose(ty);
    if (cls != H5T_FLOAT || (sz != 4 && sz != 2)) {
        const char *what = cls == H5T_FLOAT ? (sz == 8 ? "float64" : "a float of unusual size")
                          : cls == H5T_INTEGER ? "an integer type"
                                               : "a non-numeric type";
        return hc_fail(HC_EUNSUP, "%s: dataset %s has %s; expected float32 or float16", t->path,
                       path, what);
    }
    e->dtype = sz == 4 ? HC_F32 : HC_F16;
    out->fspace = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(out->fspace);
    if (rank < 1 || rank > HC_TRAJ_MAX_RANK || (want_rank > 0 && rank != want_rank))
        return hc_fail(HC_EFORMAT, "%s: dataset %s has rank %d; expected %s%d (steps, tokens, channels)",
                       t->path, path, rank, want_rank > 0 ? "" : "1..", want_rank > 0 ? want_rank : HC_TRAJ_MAX_RANK);
    hsize_t dims[HC_TRAJ_MAX_RANK];
    H5Sget_simple_extent_dims(out->fspace, dims, NULL);
    e->rank = rank;
    e->row_elems = 1;
    for (int i = 0; i < rank; i++) {
        e->dims[i] = (int64_t)dims[i];
        /* one row is read into memory at once: cap it (2^31 floats, 8 GiB) so
         * that no size computation downstream can overflow */
        if (i > 0 && (dims[i] > ((hsize_t)1 << 31) || (e->row_elems *= (size_t)dims[i]) > ((size_t)1 << 31)))
            return hc_fail(HC_EFORMAT, "%s: dataset %s: one step has more than 2^31 elements", t->path, path);
    }
    if (want_rows >= 0 && e->dims[0] != want_rows)
        return hc_fail(HC_EFORMAT, "%s: dataset %s has %lld rows; expected %lld (num_steps%s)",
                       t->path, path, (long long)e->dims[0], (long long)want_rows,
                       want_rows == t->meta.num_steps ? "" : " + 1");
    if (e->row_elems == 0)
        return hc_fail(HC_EFORMAT, "%s: dataset %s is empty", t->path, path);
    hsize_t mdims[HC_TRAJ_MAX_RANK];
    mdims[0] = 1;
    for (int i = 1; i < rank; i++) mdims[i] = dims[i];
    out->mspace = H5Screate_simple(rank, mdims, NULL);
    e->stored_bytes = (uint64_t)H5Dget_storage_size(d);
    hid_t dcpl = H5Dget_create_plist(d);
    memset(e->chunk, 0, sizeof e->chunk);
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t ch[HC_TRAJ_MAX_RANK];
        H5Pget_chunk(dcpl, rank, ch);
        for (int i = 0; i < rank; i++) e->chunk[i] = (int64_t)ch[i];
    }
    traj_describe_filters(dcpl, e);
    int chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
    hc_status fst = traj_check_filters(t->path, path, dcpl);
    H5Pclose(dcpl);
    HC_TRY(fst);
    HC_TRY(traj_check_written(t->path, path, d, out->fspace, e, chunked, dims));
    /* stream: attribute if present, else inferred from the module name */
    int present = 0;
    HC_TRY(attr_string(t->path, d, path, "stream", e->stream, sizeof e->stream, &present));
    if (!present && e->kind != HC_ENTRY_LATENT) {
        const char *s = strncmp(e->module, "img", 3) == 0 ? "img"
                        : strncmp(e->module, "txt", 3) == 0 ? "txt" : "joint";
        snprintf(e->stream, sizeof e->stream, "%s", s);
    }
    return HC_OK;
}

static hc_status push_ent(hc_traj *t, ent **slot)
{
    if (t->n_ents == t->cap_ents) {
        size_t nc = t->cap_ents ? 2 * t->cap_ents : 32;
        ent *ne = realloc(t->ents, nc * sizeof *ne);
        if (!ne) return hc_fail(HC_ENOMEM, "out of memory listing %s", t->path);
        t->ents = ne;
        t->cap_ents = nc;
    }
    *slot = &t->ents[t->n_ents++];
    memset(*slot, 0, sizeof **slot);
    (*slot)->dset = (*slot)->fspace = (*slot)->mspace = (*slot)->rawtype = H5I_INVALID_HID;
    return HC_OK;
}

/* Names of the links in group `path` (sorted by name); caller frees. */
typedef struct namelist { char **v; size_t n, cap; } namelist;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *ud)
{
    (void)g;
    (void)info;
    namelist *l = ud;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 16;
        char **nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n] = strdup(name);
    if (!l->v[l->n]) return -1;
    l->n++;
    return 0;
}

static void namelist_free(namelist *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static hc_status list_group(hc_traj *t, const char *path, namelist *out)
{
    memset(out, 0, sizeof *out);
    hid_t g = H5Gopen2(t->file, path, H5P_DEFAULT);
    if (g < 0) return hc_fail(HC_EFORMAT, "%s: %s is not a group", t->path, path);
    hsize_t idx = 0;
    herr_t r = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, out);
    H5Gclose(g);
    if (r < 0) {
        namelist_free(out);
        return hc_fail(HC_EFORMAT, "%s: cannot list group %s", t->path, path);
    }
    return HC_OK;
}

/* H5I type of the object at path, or H5I_BADID. */
static H5I_type_t object_type(hid_t file, const char *path)
{
    if (H5LTpath_valid(file, path, 1) <= 0) return H5I_BADID;
    hid_t o = H5Oopen(file, path, H5P_DEFAULT);
    if (o < 0) return H5I_BADID;
    H5I_type_t ty = H5Iget_type(o);
    H5Oclose(o);
    return ty;
}

static int parse_layer(const char *s, int *layer)
{
    /* canonical decimal only ("3", not "03", "+3" or " 3"): one name per layer */
    if (!*s || strlen(s) > 7 || (s[0] == '0' && s[1]) || strspn(s, "0123456789") != strlen(s)) return 0;
    *layer = atoi(s);
    return 1;
}

/* Walk /features/<kind>/<layer>/<module> (depth 3) or /hidden/<kind>/<layer>
 * (depth 2). */
static hc_status scan_tree(hc_traj *t, hc_entry_kind kind)
{
    const char *root = kind == HC_ENTRY_FEATURE ? "/features" : "/hidden";
    H5I_type_t rt = object_type(t->file, root);
    if (rt == H5I_BADID) {
        if (kind == HC_ENTRY_HIDDEN) return HC_OK; /* optional */
        return hc_fail(HC_EFORMAT, "%s: missing group /features (expected /features/<block_kind>/<layer>/<module>)", t->path);
    }
    if (rt != H5I_GROUP) return hc_fail(HC_EFORMAT, "%s: %s is not a group", t->path, root);
    namelist kinds;
    HC_TRY(list_group(t, root, &kinds));
    hc_status st = HC_OK;
    for (size_t i = 0; i < kinds.n && st == HC_OK; i++) {
        char p1[512];
        snprintf(p1, sizeof p1, "%s/%s", root, kinds.v[i]);
        if (strlen(kinds.v[i]) >= sizeof t->ents[0].e.block_kind || object_type(t->file, p1) != H5I_GROUP) {
            st = hc_fail(HC_EFORMAT, "%s: %s: expected a group named after a block kind", t->path, p1);
            break;
        }
        namelist layers;
        if ((st = list_group(t, p1, &layers)) != HC_OK) break;
        for (size_t j = 0; j < layers.n && st == HC_OK; j++) {
            char p2[768];
            int layer;
            snprintf(p2, sizeof p2, "%s/%s", p1, layers.v[j]);
            if (!parse_layer(layers.v[j], &layer)) {
                st = hc_fail(HC_EFORMAT, "%s: %s: expected a layer index (a non-negative integer)", t->path, p2);
                break;
            }
            if (kind == HC_ENTRY_HIDDEN) {
                ent *e = NULL;
                if ((st = push_ent(t, &e)) != HC_OK) break;
                e->e.kind = kind;
                snprintf(e->e.block_kind, sizeof e->e.block_kind, "%s", kinds.v[i]);
                e->e.layer = layer;
                snprintf(e->e.name, sizeof e->e.name, "%s/%d", kinds.v[i], layer);
                st = open_entry(t, p2, 3, t->meta.num_steps, e);
                continue;
            }
            if (object_type(t->file, p2) != H5I_GROUP) {
                st = hc_fail(HC_EFORMAT, "%s: %s: expected a group of module datasets", t->path, p2);
                break;
            }
            namelist mods;
            if ((st = list_group(t, p2, &mods)) != HC_OK) break;
            for (size_t k = 0; k < mods.n && st == HC_OK; k++) {
                char p3[1024];
                snprintf(p3, sizeof p3, "%s/%s", p2, mods.v[k]);
                if (strlen(mods.v[k]) >= sizeof t->ents[0].e.module) {
                    st = hc_fail(HC_EFORMAT, "%s: %s: module name too long", t->path, p3);
                    break;
                }
                ent *e = NULL;
                if ((st = push_ent(t, &e)) != HC_OK) break;
                e->e.kind = kind;
                snprintf(e->e.block_kind, sizeof e->e.block_kind, "%s", kinds.v[i]);
                e->e.layer = layer;
                snprintf(e->e.module, sizeof e->e.module, "%s", mods.v[k]);
                snprintf(e->e.name, sizeof e->e.name, "%s/%d/%s", kinds.v[i], layer, mods.v[k]);
                if (object_type(t->file, p3) != H5I_DATASET) {
                    st = hc_fail(HC_EFORMAT, "%s: %s: expected a dataset [steps, tokens, channels]", t->path, p3);
                    break;
                }
                st = open_entry(t, p3, 3, t->meta.num_steps, e);
            }
            namelist_free(&mods);
        }
        namelist_free(&layers);
    }
    namelist_free(&kinds);
    return st;
}

static hc_status scan_latents(hc_traj *t)
{
    H5I_type_t rt = object_type(t->file, "/latents");
    if (rt == H5I_BADID) return HC_OK;
    if (rt != H5I_GROUP) return hc_fail(HC_EFORMAT, "%s: /latents is not a group", t->path);
    namelist names;
    HC_TRY(list_group(t, "/latents", &names));
    hc_status st = HC_OK;
    for (size_t i = 0; i < names.n && st == HC_OK; i++) {
        char p[512];
        snprintf(p, sizeof p, "/latents/%s", names.v[i]);
        if (object_type(t->file, p) != H5I_DATASET) continue; /* compatible extension */
        ent *e = NULL;
        if ((st = push_ent(t, &e)) != HC_OK) break;
        e->e.kind = HC_ENTRY_LATENT;
        e->e.layer = -1;
        snprintf(e->e.name, sizeof e->e.name, "%s", names.v[i]);
        int64_t rows = strcmp(names.v[i], "x") == 0 ? t->meta.num_steps + 1
                       : strcmp(names.v[i], "out") == 0 ? t->meta.num_steps : -1;
        st = open_entry(t, p, 0, rows, e);
    }
    namelist_free(&names);
    return st;
}

static int ent_cmp(const void *a, const void *b)
{
    const hc_traj_entry *x = &((const ent *)a)->e, *y = &((const ent *)b)->e;
    if (x->kind != y->kind) return (int)x->kind - (int)y->kind;
    int c = strcmp(x->block_kind, y->block_kind);
    if (c) return c;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    c = strcmp(x->module, y->module);
    return c ? c : strcmp(x->name, y->name);
}

static hc_status read_meta(hc_traj *t)
{
    hc_traj_meta *m = &t->meta;
    const char *f = t->path;
    hid_t r = t->file;
    char schema[64];
    int present;
    double v;
    HC_TRY(attr_string(f, r, "/", "schema", schema, sizeof schema, &present));
    if (!present)
        return hc_fail(HC_EFORMAT, "%s: not a hicache trajectory (root attribute 'schema' = \"%s\" missing)", f, HC_TRAJ_SCHEMA);
    if (strcmp(schema, HC_TRAJ_SCHEMA) != 0)
        return hc_fail(HC_EFORMAT, "%s: root attribute 'schema' is \"%s\"; expected \"%s\"", f, schema, HC_TRAJ_SCHEMA);
    HC_TRY(attr_number(f, r, "/", "schema_version", 1, &v, &present));
    if (!present) return hc_fail(HC_EFORMAT, "%s: root attribute 'schema_version' missing (expected 1)", f);
    if (v != HC_TRAJ_SCHEMA_VERSION)
        return hc_fail(HC_EUNSUP, "%s: schema_version %g is not supported (this build reads version %d)", f, v, HC_TRAJ_SCHEMA_VERSION);
    HC_TRY(attr_string(f, r, "/", "model", m->model, sizeof m->model, &present));
    if (!present) return hc_fail(HC_EFORMAT, "%s: root attribute 'model' (string) missing", f);
    HC_TRY(attr_string(f, r, "/", "sampler", m->sampler, sizeof m->sampler, &present));
    if (!present) return hc_fail(HC_EFORMAT, "%s: root attribute 'sampler' (string) missing", f);
    HC_TRY(attr_number(f, r, "/", "num_steps", 1, &v, &present));
    if (!present) return hc_fail(HC_EFORMAT, "%s: root attribute 'num_steps' (integer) missing", f);
    if (v < 1 || v > 1e6) return hc_fail(HC_EFORMAT, "%s: num_steps = %g; expected a positive step count", f, v);
    m->num_steps = (int)v;
    HC_TRY(attr_number(f, r, "/", "seed", 1, &v, &m->has_seed));
    m->seed = m->has_seed ? (int64_t)v : 0;
    HC_TRY(attr_string(f, r, "/", "label", m->label, sizeof m->label, &present));
    if (!present) HC_TRY(attr_string(f, r, "/", "prompt", m->label, sizeof m->label, &present));
    HC_TRY(attr_number(f, r, "/", "guidance", 0, &m->guidance, &m->has_guidance));
    HC_TRY(attr_number(f, r, "/", "complete", 1, &v, &present));
    m->complete = present ? (v != 0) : -1;
    if (H5Aexists(r, "provenance") > 0) { /* optional, any length */
        size_t cap = 1 << 20;
        char *buf = malloc(cap);
        if (!buf) return hc_fail(HC_ENOMEM, "out of memory");
        hc_status st = attr_string(f, r, "/", "provenance", buf, cap, &present);
        if (st != HC_OK) {
            free(buf);
            return st;
        }
        m->provenance = realloc(buf, strlen(buf) + 1);
        if (!m->provenance) m->provenance = buf;
    }
    if (m->complete == 0)
        return hc_fail(HC_EFORMAT, "%s: incomplete trajectory (attribute 'complete' = 0: the writer did not finish)", f);
    return HC_OK;
}

static hc_status read_times(hc_traj *t)
{
    if (object_type(t->file, "/steps/t") != H5I_DATASET)
        return hc_fail(HC_EFORMAT, "%s: missing dataset /steps/t (float64 [%d], the sampler time per step)", t->path, t->meta.num_steps);
    hid_t d = H5Dopen2(t->file, "/steps/t", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hid_t ty = H5Dget_type(d);
    hc_status st = HC_OK;
    hsize_t n = 0;
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank == 1) H5Sget_simple_extent_dims(sp, &n, NULL);
    hid_t dcpl = H5Dget_create_plist(d);
    if (dcpl >= 0) {
        st = traj_check_filters(t->path, "/steps/t", dcpl);
        H5Pclose(dcpl);
    }
    if (st == HC_OK && H5Tget_class(ty) != H5T_FLOAT)
        st = hc_fail(HC_EUNSUP, "%s: /steps/t is not a float dataset; expected float64 [%d]", t->path, t->meta.num_steps);
    else if (st == HC_OK && (rank != 1 || (int64_t)n != t->meta.num_steps))
        st = hc_fail(HC_EFORMAT, "%s: /steps/t has shape %s%llu; expected [%d] (num_steps)", t->path,
                     rank == 1 ? "" : "rank != 1, ", (unsigned long long)n, t->meta.num_steps);
    else if (st == HC_OK && !(t->times = malloc((size_t)n * sizeof *t->times)))
        st = hc_fail(HC_ENOMEM, "out of memory");
    else if (st == HC_OK && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->times) < 0)
        st = traj_checksum_failed(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, t->times)
                 ? hc_fail(HC_EFORMAT, "%s: dataset /steps/t: Fletcher-32 checksum mismatch (the file is corrupt)", t->path)
                 : hc_fail(HC_EFORMAT, "%s: cannot read /steps/t (truncated or corrupt file?)", t->path);
    H5Tclose(ty);
    H5Sclose(sp);
    H5Dclose(d);
    return st;
}

/* Non-finite step times: refused, or set to 0 and counted. */
static hc_status check_times(hc_traj *t)
{
    size_t S = (size_t)t->meta.num_steps, first = 0;
    size_t bad = traj_count_nonfinite_d(t->times, S, &first);
    t->meta.nonfinite_times = (int)bad;
    if (!bad) return HC_OK;
    if (t->nonfinite == HC_NONFINITE_REFUSE)
        return hc_fail(HC_EFORMAT, "%s: dataset /steps/t: %zu of %zu step times are not finite (NaN or Inf), the first at step %zu",
                       t->path, bad, S, first);
    for (size_t s = 0; s < S; s++)
        if (!isfinite(t->times[s])) t->times[s] = 0.0;
    return HC_OK;
}

hc_status hc_traj_open(const char *path, hc_traj **out) { return hc_traj_open_with(path, NULL, out); }

hc_status hc_traj_open_with(const char *path, const hc_traj_open_opts *o, hc_traj **out)
{
    *out = NULL;
    hc_init();
    struct stat sb;
    if (stat(path, &sb) != 0) return hc_fail(HC_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return hc_fail(HC_EIO, "%s: is a directory; expected an HDF5 trajectory file", path);
    if (!S_ISREG(sb.st_mode)) return hc_fail(HC_EIO, "%s: not a regular file; expected an HDF5 trajectory file", path);
    FILE *fp = fopen(path, "rb");
    if (!fp) return hc_fail(HC_EIO, "%s: cannot open: %s", path, strerror(errno));
    fclose(fp);
    hc_traj *t = calloc(1, sizeof *t);
    if (!t) return hc_fail(HC_ENOMEM, "out of memory");
    t->file = H5I_INVALID_HID;
    t->nonfinite = o ? o->nonfinite : HC_NONFINITE_REFUSE;
    snprintf(t->path, sizeof t->path, "%s", path);
    hc_status st;
    t->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (t->file < 0) {
        htri_t is = H5Fis_hdf5(path);
        st = is > 0 ? hc_fail(HC_EFORMAT, "%s: HDF5 file cannot be opened (truncated or corrupt)", path)
                    : hc_fail(HC_EFORMAT, "%s: not an HDF5 file (expected a hicache trajectory, schema v1)", path);
        goto fail;
    }
    if ((st = read_meta(t)) != HC_OK) goto fail;
    if ((st = read_times(t)) != HC_OK) goto fail;
    if ((st = check_times(t)) != HC_OK) goto fail;
    if ((st = scan_tree(t, HC_ENTRY_FEATURE)) != HC_OK) goto fail;
    if ((st = scan_tree(t, HC_ENTRY_HIDDEN)) != HC_OK) goto fail;
    if ((st = scan_latents(t)) != HC_OK) goto fail;
    if (t->n_ents > 1) qsort(t->ents, t->n_ents, sizeof *t->ents, ent_cmp); /* never qsort(NULL, 0) */
    for (size_t i = 0; i < t->n_ents; i++)
        if (t->ents[i].e.kind == HC_ENTRY_FEATURE) t->n_features++;
    if (t->n_features == 0) {
        st = hc_fail(HC_EFORMAT, "%s: no datasets under /features (expected /features/<block_kind>/<layer>/<module>)", path);
        goto fail;
    }
    size_t raw_max = 0;
    for (size_t i = 0; i < t->n_ents; i++)
        if (t->ents[i].rawtype >= 0 && t->ents[i].e.row_elems > raw_max) raw_max = t->ents[i].e.row_elems;
    if (raw_max && !(t->raw = malloc(raw_max * sizeof *t->raw))) {
        st = hc_fail(HC_ENOMEM, "%s: out of memory for a row of %zu halves", path, raw_max);
        goto fail;
    }
    *out = t;
    return HC_OK;
fail:
    hc_traj_close(t);
    return st;
}

hc_status hc_traj_read_row(hc_traj *t, size_t index, int64_t row, float *buf)
{
    return hc_traj_read_row_counted(t, index, row, buf, NULL);
}

hc_status hc_traj_read_row_counted(hc_traj *t, size_t index, int64_t row, float *buf, size_t *n_nonfinite)
{
    if (n_nonfinite) *n_nonfinite = 0;
    HC_ASSERT(index < t->n_ents && buf);
    ent *e = &t->ents[index];
    if (row < 0 || row >= e->e.dims[0])
        return hc_fail(HC_EINVAL, "%s: row %lld of %s out of range [0, %lld)", t->path,
                       (long long)row, e->e.path, (long long)e->e.dims[0]);
    hsize_t start[HC_TRAJ_MAX_RANK] = {0}, count[HC_TRAJ_MAX_RANK];
    start[0] = (hsize_t)row;
    count[0] = 1;
    for (int i = 1; i < e->e.rank; i++) count[i] = (hsize_t)e->e.dims[i];
    if (H5Sselect_hyperslab(e->fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
        return hc_fail(HC_EFORMAT, "%s: cannot select step %lld of %s", t->path, (long long)row, e->e.path);
    /* float16 as stored (no conversion) into t->raw, then half.h; else HDF5 converts */
    hid_t mtype = e->rawtype >= 0 ? e->rawtype : H5T_NATIVE_FLOAT;
    void *dst = e->rawtype >= 0 ? (void *)t->raw : (void *)buf;
    if (H5Dread(e->dset, mtype, e->mspace, e->fspace, H5P_DEFAULT, dst) < 0) {
        if (traj_checksum_failed(e->dset, mtype, e->mspace, e->fspace, dst))
            return hc_fail(HC_EFORMAT, "%s: dataset %s, step %lld: Fletcher-32 checksum mismatch (the file is corrupt)",
                           t->path, e->e.path, (long long)row);
        return hc_fail(HC_EFORMAT, "%s: cannot read step %lld of %s (truncated or corrupt file?)",
                       t->path, (long long)row, e->e.path);
    }
    /* a half row with no inf/NaN converts to finite floats: no second scan */
    int scan = e->rawtype >= 0 ? hc_half_to_float_n(t->raw, buf, e->e.row_elems) : 1;
    size_t bad = scan ? traj_zero_nonfinite_f(buf, e->e.row_elems) : 0;
    if (bad && t->nonfinite == HC_NONFINITE_REFUSE)
        return hc_fail(HC_EFORMAT, "%s: %s step %lld: %zu of %zu values are not finite (NaN or Inf) in dataset %s",
                       t->path, e->e.name, (long long)row, bad, e->e.row_elems, e->e.path);
    if (n_nonfinite) *n_nonfinite = bad;
    return HC_OK;
}

/* ---- signals: /signals/<name>, float64 [S] or [S, cols] (optional) ---------------- */

int64_t hc_traj_signal_cols(const hc_traj *t, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "/signals/%s", name);
    if (object_type(t->file, "/signals") != H5I_GROUP || object_type(t->file, p) != H5I_DATASET) return 0;
    hid_t d = H5Dopen2(t->file, p, H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 1};
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank == 1 || rank == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    return (rank == 1 || rank == 2) && (int64_t)dims[0] == t->meta.num_steps ? (int64_t)(rank == 2 ? dims[1] : 1) : 0;
}

hc_status hc_traj_read_signal(hc_traj *t, const char *name, int64_t cols, double *out)
{
    char p[256];
    snprintf(p, sizeof p, "/signals/%s", name);
    const int S = t->meta.num_steps;
    if (object_type(t->file, "/signals") != H5I_GROUP || object_type(t->file, p) != H5I_DATASET)
        return hc_fail(HC_EFORMAT, "%s: no signal %s (dataset %s), which the policy needs; record it with hicache sample --record", t->path,
                       name, p);
    hid_t d = H5Dopen2(t->file, p, H5P_DEFAULT);
    hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
    hsize_t dims[2] = {0, 1};
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank == 1 || rank == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
    hc_status st = HC_OK;
    if (H5Tget_class(ty) != H5T_FLOAT)
        st = hc_fail(HC_EUNSUP, "%s: %s is not a float dataset", t->path, p);
    else if ((rank != 1 && rank != 2) || (int64_t)dims[0] != S || (int64_t)(rank == 2 ? dims[1] : 1) != cols)
        st = hc_fail(HC_EFORMAT, "%s: %s has the wrong shape; expected [%d%s]", t->path, p, S, cols > 1 ? ", S" : "");
    else if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        st = hc_fail(HC_EFORMAT, "%s: cannot read %s (truncated or corrupt file?)", t->path, p);
    size_t first = 0;
    if (st == HC_OK && traj_count_nonfinite_d(out, (size_t)S * (size_t)cols, &first))
        st = hc_fail(HC_EFORMAT, "%s: %s: value %zu is not finite", t->path, p, first);
    H5Tclose(ty);
    H5Sclose(sp);
    H5Dclose(d);
    return st;
}
