/* safetensors.c: strict mmap-based safetensors reader (see safetensors.h). */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "half.h"

struct hc_st {
    char path[1024];
    const unsigned char *map;
    size_t size;
    const unsigned char *data; /* start of the data buffer */
    uint64_t data_size;
    hc_st_tensor *t;
    size_t n;
    cJSON *meta;
};

static const struct { const char *name; hc_st_dtype dt; size_t size; } dtypes[] = {
    {"F32", HC_ST_F32, 4}, {"F16", HC_ST_F16, 2}, {"BF16", HC_ST_BF16, 2},
};
static const char *const other_dtypes[] = {"BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64",
                                           "F64", "F8_E4M3", "F8_E5M2"};

static size_t dtype_size(hc_st_dtype d) { return dtypes[d].size; }

const char *hc_st_path(const hc_st *st) { return st->path; }
size_t hc_st_count(const hc_st *st) { return st->n; }
const hc_st_tensor *hc_st_at(const hc_st *st, size_t i)
{
    HC_ASSERT(i < st->n);
    return &st->t[i];
}

const hc_st_tensor *hc_st_find(const hc_st *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0) return &st->t[i];
    return NULL;
}

const char *hc_st_meta(const hc_st *st, const char *key)
{
    return st->meta ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st->meta, key)) : NULL;
}

void hc_st_close(hc_st *st)
{
    if (!st) return;
    if (st->map) munmap((void *)st->map, st->size);
    free(st->t);
    cJSON_Delete(st->meta);
    free(st);
}

static int cmp_begin(const void *a, const void *b)
{
    const hc_st_tensor *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Largest shape entry and element count accepted (exact in a double). */
#define MAX_DIM 1e15

/* x (a JSON number) is finite, integral and in [0, max]: safe to convert. */
static int json_int_in(const cJSON *x, double max)
{
    double v = x->valuedouble;
    return isfinite(v) && v >= 0 && v == floor(v) && v <= max;
}

/* t->shape, t->rank and t->n_elem from the JSON array sh (file f). */
static hc_status parse_shape(const char *f, const cJSON *sh, hc_st_tensor *t)
{
    t->rank = cJSON_GetArraySize(sh);
    if (t->rank > HC_ST_MAX_RANK) return hc_fail(HC_EFORMAT, "%s: tensor '%s' has rank %d > %d", f, t->name, t->rank, HC_ST_MAX_RANK);
    double n = 1;
    for (int i = 0; i < t->rank; i++) {
        const cJSON *d = cJSON_GetArrayItem(sh, i);
        if (!cJSON_IsNumber(d)) return hc_fail(HC_EFORMAT, "%s: tensor '%s': shape[%d] is not a number", f, t->name, i);
        if (!json_int_in(d, MAX_DIM))
            return hc_fail(HC_EFORMAT, "%s: tensor '%s': shape[%d] is %.15g; expected an integer in [0, 1e15]", f,
                           t->name, i, d->valuedouble);
        t->shape[i] = (int64_t)d->valuedouble;
        n *= d->valuedouble;
    }
    if (n > MAX_DIM) return hc_fail(HC_EFORMAT, "%s: tensor '%s' is impossibly large (%.15g elements)", f, t->name, n);
    t->n_elem = (size_t)n;
    return HC_OK;
}

/* t->begin, t->end from the JSON pair of (st's) tensor t: every check is
 * made on the double before it is converted to an integer. */
static hc_status parse_offsets(const hc_st *st, const cJSON *of, hc_st_tensor *t)
{
    const char *f = st->path;
    const cJSON *be[2] = {cJSON_GetArrayItem(of, 0), cJSON_GetArrayItem(of, 1)};
    for (int i = 0; i < 2; i++) {
        if (!cJSON_IsNumber(be[i]))
            return hc_fail(HC_EFORMAT, "%s: tensor '%s': data_offsets[%d] is not a number", f, t->name, i);
        if (!json_int_in(be[i], INFINITY))
            return hc_fail(HC_EFORMAT, "%s: tensor '%s': data_offsets[%d] is %.15g; expected an integer >= 0", f,
                           t->name, i, be[i]->valuedouble);
    }
    double b = be[0]->valuedouble, e = be[1]->valuedouble;
    if (b > (double)st->data_size || e > (double)st->data_size)
        return hc_fail(HC_EFORMAT, "%s: tensor '%s': data_offsets [%.15g, %.15g] run past the data buffer (%llu bytes)",
                       f, t->name, b, e, (unsigned long long)st->data_size);
    if (e < b)
        return hc_fail(HC_EFORMAT, "%s: tensor '%s': data_offsets [%.15g, %.15g]: must be 0 <= begin <= end", f, t->name,
                       b, e);
    t->begin = (uint64_t)b; /* both now in [0, data_size]: in range of the type */
    t->end = (uint64_t)e;
    if (t->end > st->data_size) /* a data size over 2^53 rounds in the double test */
        return hc_fail(HC_EFORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] run past the data buffer (%llu bytes)", f,
                       t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                       (unsigned long long)st->data_size);
    return HC_OK;
}

static hc_status parse_entry(hc_st *st, const cJSON *it, hc_st_tensor *t)
{
    const char *f = st->path;
    if (strlen(it->string) >= sizeof t->name)
        return hc_fail(HC_EFORMAT, "%s: tensor name '%.40s...' too long", f, it->string);
    snprintf(t->name, sizeof t->name, "%s", it->string);
    if (!cJSON_IsObject(it)) return hc_fail(HC_EFORMAT, "%s: tensor '%s': expected an object", f, t->name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2)
        return hc_fail(HC_EFORMAT, "%s: tensor '%s': expected dtype (string), shape (array), data_offsets ([begin, end])", f, t->name);
    int found = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dt->valuestring, dtypes[i].name) == 0) {
            t->dtype = dtypes[i].dt;
            found = 1;
        }
    if (!found) {
        for (size_t i = 0; i < sizeof other_dtypes / sizeof other_dtypes[0]; i++)
            if (strcmp(dt->valuestring, other_dtypes[i]) == 0)
                return hc_fail(HC_EUNSUP, "%s: tensor '%s' has dtype %s; supported: F32, F16, BF16", f, t->name, dt->valuestring);
        return hc_fail(HC_EFORMAT, "%s: tensor '%s' has unknown dtype '%s'", f, t->name, dt->valuestring);
    }
    HC_TRY(parse_shape(f, sh, t));
    HC_TRY(parse_offsets(st, of, t));
    if (t->end - t->begin != (uint64_t)t->n_elem * dtype_size(t->dtype))
        return hc_fail(HC_EFORMAT, "%s: tensor '%s': %llu bytes for %zu %s elements (expected %zu)", f, t->name,
                       (unsigned long long)(t->end - t->begin), t->n_elem, dt->valuestring,
                       t->n_elem * dtype_size(t->dtype));
    return HC_OK;
}

/* Map the file at path into st (map, size) and locate its data buffer
 * after the 8-byte little-endian header length; *hdr_len gets that length. */
static hc_status map_file(hc_st *st, const char *path, uint64_t *hdr_len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return hc_fail(HC_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return hc_fail(HC_EIO, "%s: not a regular file", path);
    }
    st->size = (size_t)sb.st_size;
    if (st->size < 8) {
        close(fd);
        return hc_fail(HC_EFORMAT, "%s: %zu bytes: too short for a safetensors file (8-byte header length)", path, st->size);
    }
    st->map = mmap(NULL, st->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (st->map == MAP_FAILED) {
        st->map = NULL;
        return hc_fail(HC_EIO, "%s: mmap failed: %s", path, strerror(errno));
    }
    uint64_t N = 0;
    for (int i = 7; i >= 0; i--) N = (N << 8) | st->map[i];
    const char *why = N < 2                  ? "shorter than the 2 bytes of '{}'"
                      : N > HC_ST_MAX_HEADER ? "over the 100 MiB limit"
                      : N > st->size - 8     ? "runs past the end of the file"
                                             : NULL;
    if (why)
        return hc_fail(HC_EFORMAT, "%s: header length %llu invalid: %s (file has %zu bytes)", path,
                       (unsigned long long)N, why, st->size);
    st->data = st->map + 8 + N;
    st->data_size = st->size - 8 - N;
    *hdr_len = N;
    return HC_OK;
}

/* The header's "__metadata__" entry it: once, an object of strings, kept in st->meta. */
static hc_status read_metadata(hc_st *st, const char *path, const cJSON *it)
{
    if (st->meta) return hc_fail(HC_EFORMAT, "%s: duplicate __metadata__", path);
    if (!cJSON_IsObject(it)) return hc_fail(HC_EFORMAT, "%s: __metadata__ is not an object", path);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, it)
    {
        if (!cJSON_IsString(kv)) return hc_fail(HC_EFORMAT, "%s: __metadata__['%s'] is not a string", path, kv->string);
    }
    st->meta = cJSON_Duplicate(it, 1);
    return HC_OK;
}

/* Every entry of the header object hdr: the metadata and the tensors
 * (unique names, parsed into st->t, st->n). */
static hc_status read_entries(hc_st *st, const char *path, const cJSON *hdr)
{
    size_t cap = (size_t)cJSON_GetArraySize(hdr);
    st->t = calloc(cap ? cap : 1, sizeof *st->t);
    if (!st->t) return hc_fail(HC_ENOMEM, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, hdr)
    {
        if (strcmp(it->string, "__metadata__") == 0) {
            HC_TRY(read_metadata(st, path, it));
            continue;
        }
        for (size_t i = 0; i < st->n; i++)
            if (strcmp(st->t[i].name, it->string) == 0)
                return hc_fail(HC_EFORMAT, "%s: duplicate tensor name '%s'", path, it->string);
        HC_TRY(parse_entry(st, it, &st->t[st->n]));
        st->n++;
    }
    return HC_OK;
}

/* The tensors' byte ranges must not overlap. */
static hc_status check_overlaps(const hc_st *st, const char *path)
{
    hc_status s = HC_OK;
    hc_st_tensor *sorted = malloc((st->n ? st->n : 1) * sizeof *sorted);
    if (!sorted) return hc_fail(HC_ENOMEM, "out of memory");
    memcpy(sorted, st->t, st->n * sizeof *sorted);
    qsort(sorted, st->n, sizeof *sorted, cmp_begin);
    /* sorted by begin: a range overlaps an earlier one iff it starts before
     * the furthest end seen so far (empty tensors own no bytes) */
    uint64_t max_end = 0;
    size_t max_i = 0;
    for (size_t i = 0; i < st->n && s == HC_OK; i++) {
        if (sorted[i].end == sorted[i].begin) continue;
        if (sorted[i].begin < max_end)
            s = hc_fail(HC_EFORMAT, "%s: tensors '%s' and '%s' overlap in the data buffer", path, sorted[max_i].name,
                        sorted[i].name);
        if (sorted[i].end > max_end) {
            max_end = sorted[i].end;
            max_i = i;
        }
    }
    free(sorted);
    return s;
}

hc_status hc_st_open(const char *path, hc_st **out)
{
    *out = NULL;
    hc_st *st = calloc(1, sizeof *st);
    if (!st) return hc_fail(HC_ENOMEM, "out of memory");
    snprintf(st->path, sizeof st->path, "%s", path);
    cJSON *hdr = NULL;
    uint64_t N = 0;
    hc_status s = map_file(st, path, &N);
    if (s == HC_OK) {
        hdr = cJSON_ParseWithLength((const char *)st->map + 8, (size_t)N);
        if (!hdr || !cJSON_IsObject(hdr)) s = hc_fail(HC_EFORMAT, "%s: header is not a JSON object", path);
    }
    if (s == HC_OK) s = read_entries(st, path, hdr);
    if (s == HC_OK) s = check_overlaps(st, path);
    cJSON_Delete(hdr);
    if (s != HC_OK) {
        hc_st_close(st);
        return s;
    }
    *out = st;
    return HC_OK;
}

float hc_f16_to_f32(uint16_t h) { return hc_half_to_float(h); }

float hc_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

hc_status hc_st_read_f32(const hc_st *st, const char *name, int rank, const int64_t *shape, float *out)
{
    const hc_st_tensor *t = hc_st_find(st, name);
    if (!t) return hc_fail(HC_EFORMAT, "%s: tensor '%s' missing", st->path, name);
    int ok = t->rank == rank;
    for (int i = 0; ok && i < rank; i++) ok = t->shape[i] == shape[i];
    if (!ok) {
        char want[96] = "", got[96] = "";
        size_t lw = 0, lg = 0;
        for (int i = 0; i < rank && lw < sizeof want; i++)
            lw += (size_t)snprintf(want + lw, sizeof want - lw, "%s%lld", i ? "," : "", (long long)shape[i]);
        for (int i = 0; i < t->rank && lg < sizeof got; i++)
            lg += (size_t)snprintf(got + lg, sizeof got - lg, "%s%lld", i ? "," : "", (long long)t->shape[i]);
        return hc_fail(HC_EFORMAT, "%s: tensor '%s' has shape [%s]; the config expects [%s]", st->path, name, got, want);
    }
    const unsigned char *p = st->data + t->begin;
    switch (t->dtype) {
    case HC_ST_F32:
        memcpy(out, p, t->n_elem * sizeof *out); /* little-endian host */
        break;
    case HC_ST_F16:
        for (size_t i = 0; i < t->n_elem; i++) out[i] = hc_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    case HC_ST_BF16:
        for (size_t i = 0; i < t->n_elem; i++) out[i] = hc_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    }
    /* weights must be finite: one NaN would make every sample NaN */
    size_t bad = 0;
    for (size_t i = 0; i < t->n_elem; i++) bad += !isfinite(out[i]);
    if (bad)
        return hc_fail(HC_EFORMAT, "%s: tensor '%s' has %zu non-finite value%s (NaN or Inf) among %zu; weights must be finite",
                       st->path, name, bad, bad == 1 ? "" : "s", t->n_elem);
    return HC_OK;
}
