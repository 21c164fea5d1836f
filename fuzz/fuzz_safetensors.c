/* fuzz_safetensors.c: the safetensors reader (hc_st_open on a file holding
 * the input), then every tensor converted to float32 with its own shape,
 * and the `config` metadata entry looked up.  Seeds: tools/fuzz_seeds.sh. */
#include "fuzz_util.h"
#include "safetensors.h"

FUZZ_INIT_LIBRARY

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hc_st *st = NULL;
    if (hc_st_open(fuzz_write_file(data, size, "in.safetensors"), &st) != HC_OK) return 0;
    (void)hc_st_meta(st, "config");
    for (size_t i = 0; i < hc_st_count(st); i++) {
        const hc_st_tensor *t = hc_st_at(st, i);
        if (hc_st_find(st, t->name) != t) abort(); /* names are unique */
        if (t->n_elem > FUZZ_MAX_FLOATS) continue;
        float *buf = malloc((t->n_elem ? t->n_elem : 1) * sizeof *buf);
        if (!buf) abort();
        /* validated at open; only non-finite values may be refused at read */
        if (hc_st_read_f32(st, t->name, t->rank, t->shape, buf) != HC_OK && !strstr(hc_errmsg(), "non-finite")) abort();
        free(buf);
    }
    hc_st_close(st);
    return 0;
}
