/* safetensors.h: a strict reader for the safetensors container.
 * Layout: u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {string: string}}, then the data buffer.  The file is
 * mmap'd; tensors are converted to float32 on request (F32, F16, BF16).
 * Validation: 8 <= file size, 2 <= N <= 100 MiB, 8 + N <= file size, a
 * JSON object, known dtypes, shape entries integers in [0, 1e15] (and so
 * their product), data_offsets integers in [0, data buffer size] with
 * begin <= end, end - begin = elements x dtype size, no overlapping ranges,
 * no duplicate names.  JSON numbers are checked as doubles (finite,
 * integral, in range) before any conversion to an integer.  Each violation
 * is HC_EFORMAT (HC_EUNSUP for other dtypes) with a message naming the file,
 * the tensor and the key. */
#ifndef HC_SAFETENSORS_H
#define HC_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define HC_ST_MAX_RANK 8
#define HC_ST_MAX_HEADER (100u << 20)

typedef enum hc_st_dtype { HC_ST_F32 = 0, HC_ST_F16 = 1, HC_ST_BF16 = 2 } hc_st_dtype;

typedef struct hc_st_tensor {
    char name[160];
    hc_st_dtype dtype;
    int rank;
    int64_t shape[HC_ST_MAX_RANK];
    size_t n_elem;
    uint64_t begin, end;      /* offsets in the data buffer */
} hc_st_tensor;

typedef struct hc_st hc_st;

hc_status hc_st_open(const char *path, hc_st **out);
void hc_st_close(hc_st *st);

size_t hc_st_count(const hc_st *st);
const hc_st_tensor *hc_st_at(const hc_st *st, size_t i);
const hc_st_tensor *hc_st_find(const hc_st *st, const char *name);

/* `__metadata__[key]` or NULL. */
const char *hc_st_meta(const hc_st *st, const char *key);

/* Convert tensor `name` to float32 into out (n_elem floats), checking that
 * it exists and has exactly the given shape.  HC_EFORMAT names the tensor,
 * the expected and the actual shape; also when any converted value is NaN
 * or Inf (weights are refused at load), naming the tensor and the count. */
hc_status hc_st_read_f32(const hc_st *st, const char *name, int rank, const int64_t *shape, float *out);

const char *hc_st_path(const hc_st *st);

/* IEEE binary16 / bfloat16 bits to float. */
float hc_f16_to_f32(uint16_t h);
float hc_bf16_to_f32(uint16_t h);

#endif
