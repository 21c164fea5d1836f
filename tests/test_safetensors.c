/* test_safetensors.c: the safetensors reader on valid files (F32, F16, BF16)
 * and on every malformed case: each is a clear error, never a crash. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "classifier.h"
#include "flux.h"
#include "model.h"
#include "safetensors.h"

/* Write [u64 len][header][data] (len may lie: `claimed` >= 0 overrides). */
static void write_st(const char *path, const char *header, long long claimed, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    uint64_t len = claimed >= 0 ? (uint64_t)claimed : strlen(header);
    for (int i = 0; i < 8; i++) fputc((int)((len >> (8 * i)) & 0xff), f);
    fputs(header, f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static void valid_file(void **state)
{
    (void)state;
    float f32[3] = {1.5f, -2.0f, 3.25f};
    uint16_t f16[2] = {0x3C00, 0xC000};   /* 1, -2 */
    uint16_t bf16[2] = {0x3FC0, 0x4049};  /* 1.5, 3.140625 */
    unsigned char buf[12 + 4 + 4];
    memcpy(buf, f32, 12);
    memcpy(buf + 12, f16, 4);
    memcpy(buf + 16, bf16, 4);
    write_st("ok.safetensors",
             "{\"__metadata__\":{\"config\":\"{}\",\"k\":\"v\"},"
             "\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
             "\"h\":{\"dtype\":\"F16\",\"shape\":[1,2],\"data_offsets\":[12,16]},"
             "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[16,20]},"
             "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[20,20]}}",
             -1, buf, sizeof buf);
    hc_st *st;
    assert_int_equal(hc_st_open("ok.safetensors", &st), HC_OK);
    assert_int_equal(hc_st_count(st), 4);
    assert_string_equal(hc_st_meta(st, "k"), "v");
    assert_null(hc_st_meta(st, "nope"));
    float out[3];
    int64_t s3[1] = {3}, s12[2] = {1, 2}, s2[1] = {2};
    assert_int_equal(hc_st_read_f32(st, "a", 1, s3, out), HC_OK);
    assert_memory_equal(out, f32, sizeof f32);
    assert_int_equal(hc_st_read_f32(st, "h", 2, s12, out), HC_OK);
    assert_true(out[0] == 1.0f && out[1] == -2.0f);
    assert_int_equal(hc_st_read_f32(st, "b", 1, s2, out), HC_OK);
    assert_true(out[0] == 1.5f && out[1] == 3.140625f);
    assert_int_equal(hc_st_read_f32(st, "a", 1, s2, out), HC_EFORMAT);
    assert_non_null(strstr(hc_errmsg(), "tensor 'a' has shape [3]; the config expects [2]"));
    assert_int_equal(hc_st_read_f32(st, "zz", 1, s2, out), HC_EFORMAT);
    assert_non_null(strstr(hc_errmsg(), "tensor 'zz' missing"));
    hc_st_close(st);
    hc_st_close(NULL);
    /* half-precision corner cases */
    assert_true(hc_f16_to_f32(0x0001) == ldexpf(1, -24));
    assert_true(isinf(hc_f16_to_f32(0x7C00)) && isnan(hc_f16_to_f32(0x7E00)));
    assert_true(hc_f16_to_f32(0x8000) == 0 && signbit(hc_f16_to_f32(0x8000)));
    /* not a flux model: no usable config */
    hc_flux *m;
    assert_int_equal(hc_flux_load("ok.safetensors", 1, &m), HC_EFORMAT);
    assert_non_null(strstr(hc_errmsg(), "config key"));
    /* the model registry: a config without "arch", or with an unknown one, is
     * one line naming the file, the value and the known architectures */
    hc_model *gm;
    assert_int_equal(hc_model_open("ok.safetensors", 1, &gm), HC_EFORMAT);
    assert_string_equal(hc_errmsg(), "ok.safetensors: config has no \"arch\" string (known architectures: flux-mmdit, dit)");
    write_st("arch.safetensors", "{\"__metadata__\":{\"config\":\"{\\\"arch\\\": \\\"unet\\\"}\"}}", -1, NULL, 0);
    assert_int_equal(hc_model_open("arch.safetensors", 1, &gm), HC_EFORMAT);
    assert_string_equal(hc_errmsg(),
                        "arch.safetensors: config arch \"unet\" is not a known architecture (known: flux-mmdit, dit)");
    /* a known arch with an incomplete config: the first missing key */
    write_st("arch.safetensors", "{\"__metadata__\":{\"config\":\"{\\\"arch\\\": \\\"dit\\\"}\"}}", -1, NULL, 0);
    assert_int_equal(hc_model_open("arch.safetensors", 1, &gm), HC_EFORMAT);
    assert_string_equal(hc_errmsg(), "arch.safetensors: config key 'input_size' missing or not a number");
    hc_model_close(NULL);
    remove("ok.safetensors");
    remove("arch.safetensors");
}

typedef struct bad { const char *name, *header; long long claimed; size_t data; hc_status st; const char *msg; } bad;

static const bad cases[] = {
    {"short", "", 0, 0, HC_EFORMAT, "too short"},
    {"len_past_eof", "{}", 4096, 0, HC_EFORMAT, "header length 4096 invalid"},
    {"len_huge", "{}", (long long)200 << 20, 0, HC_EFORMAT, "invalid"},
    {"not_json", "{this is not json", -1, 0, HC_EFORMAT, "not a JSON object"},
    {"array", "[1,2]", -1, 0, HC_EFORMAT, "not a JSON object"},
    {"dtype_f64", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", -1, 8, HC_EUNSUP, "dtype F64"},
    {"dtype_bad", "{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", -1, 4, HC_EFORMAT, "unknown dtype 'Q7'"},
    {"shape_neg", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", -1, 4, HC_EFORMAT, "shape[0]"},
    {"no_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", -1, 4, HC_EFORMAT, "expected dtype"},
    {"past_buffer", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", -1, 8, HC_EFORMAT, "run past the data buffer"},
    {"size_mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", -1, 8, HC_EFORMAT, "8 bytes for 3 F32 elements"},
    {"reversed", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", -1, 8, HC_EFORMAT, "begin <= end"},
    {"overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", -1, 12, HC_EFORMAT, "overlap"},
    {"duplicate", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", -1, 8, HC_EFORMAT, "duplicate tensor name 'a'"},
    {"meta_not_str", "{\"__metadata__\":{\"k\":1}}", -1, 0, HC_EFORMAT, "__metadata__['k'] is not a string"},
    /* header length: too small, and as large as a u64 allows */
    {"len_one", "{}", 1, 0, HC_EFORMAT, "header length 1 invalid"},
    {"len_max", "{}", 0x7fffffffffffffffLL, 0, HC_EFORMAT, "header length 9223372036854775807 invalid"},
    /* numbers no integer type can hold are refused before any conversion */
#define T1(shape, offs) "{\"a\":{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":" offs "}}"
    {"off_1e300", T1("[1]", "[0,1e300]"), -1, 4, HC_EFORMAT, "tensor 'a': data_offsets [0, 1e+300] run past the data buffer (4 bytes)"},
    {"off_begin_1e300", T1("[1]", "[1e300,1e300]"), -1, 4, HC_EFORMAT, "data_offsets [1e+300, 1e+300] run past the data buffer"},
    {"off_2p63", T1("[1]", "[0,9223372036854775808]"), -1, 4, HC_EFORMAT, "run past the data buffer"},
    {"off_2p64", T1("[1]", "[18446744073709551616,18446744073709551620]"), -1, 4, HC_EFORMAT, "run past the data buffer"},
    {"off_inf", T1("[1]", "[0,1e400]"), -1, 4, HC_EFORMAT, "tensor 'a': data_offsets[1] is inf; expected an integer >= 0"},
    {"off_neg", T1("[1]", "[-4,0]"), -1, 4, HC_EFORMAT, "tensor 'a': data_offsets[0] is -4; expected an integer >= 0"},
    {"off_neg_huge", T1("[1]", "[-1e300,4]"), -1, 4, HC_EFORMAT, "data_offsets[0] is -1e+300; expected an integer >= 0"},
    {"off_frac", T1("[1]", "[0.5,4.5]"), -1, 4, HC_EFORMAT, "data_offsets[0] is 0.5; expected an integer >= 0"},
    {"off_string", T1("[1]", "[\"0\",4]"), -1, 4, HC_EFORMAT, "tensor 'a': data_offsets[0] is not a number"},
    {"shape_1e300", T1("[1e300]", "[0,4]"), -1, 4, HC_EFORMAT, "tensor 'a': shape[0] is 1e+300; expected an integer in [0, 1e15]"},
    {"shape_2p64", T1("[1,18446744073709551616]", "[0,4]"), -1, 4, HC_EFORMAT, "shape[1] is 1.84467440737096e+19"},
    {"shape_inf", T1("[1e400]", "[0,4]"), -1, 4, HC_EFORMAT, "tensor 'a': shape[0] is inf"},
    {"shape_frac", T1("[0.5]", "[0,4]"), -1, 4, HC_EFORMAT, "tensor 'a': shape[0] is 0.5"},
    {"shape_neg_huge", T1("[-1e300]", "[0,4]"), -1, 4, HC_EFORMAT, "tensor 'a': shape[0] is -1e+300"},
    {"shape_string", T1("[\"1\"]", "[0,4]"), -1, 4, HC_EFORMAT, "tensor 'a': shape[0] is not a number"},
    {"shape_product", T1("[1e15,1e15]", "[0,4]"), -1, 4, HC_EFORMAT, "tensor 'a' is impossibly large"},
#undef T1
};

static void malformed_files(void **state)
{
    (void)state;
    unsigned char zeros[64] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "bad_%s.safetensors", cases[i].name);
        if (strcmp(cases[i].name, "short") == 0) {
            FILE *f = fopen(path, "wb");
            fputs("abc", f);
            fclose(f);
        } else {
            write_st(path, cases[i].header, cases[i].claimed, zeros, cases[i].data);
        }
        hc_st *st = (hc_st *)0x1;
        hc_status s = hc_st_open(path, &st);
        if (s != cases[i].st || !strstr(hc_errmsg(), cases[i].msg) || !strstr(hc_errmsg(), path))
            fail_msg("%s: status %d, message '%s'; want %d with '%s'", path, s, hc_errmsg(), cases[i].st, cases[i].msg);
        assert_null(st);
        remove(path);
    }
    hc_st *st;
    assert_int_equal(hc_st_open("no_such.safetensors", &st), HC_EIO);
}

/* a real model file with one tensor removed / reshaped is refused by name */
static void model_validation(void **state)
{
    (void)state;
    hc_flux *m;
    assert_int_equal(hc_flux_load(HC_TEST_DATA "/golden_flux_tiny.safetensors", 1, &m), HC_OK);
    assert_int_equal(hc_flux_num_points(m), 5);
    assert_string_equal(hc_flux_point(m, 4)->name, "single/1/total");
    hc_flux_free(m);
    hc_flux_free(NULL);
    /* truncate the tiny model: offsets now run past the buffer */
    FILE *f = fopen(HC_TEST_DATA "/golden_flux_tiny.safetensors", "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    f = fopen("cut.safetensors", "wb");
    fwrite(buf, 1, (size_t)n - 100, f);
    fclose(f);
    assert_int_equal(hc_flux_load("cut.safetensors", 1, &m), HC_EFORMAT);
    assert_non_null(strstr(hc_errmsg(), "run past the data buffer"));
    free(buf);
    remove("cut.safetensors");
}

/* Copy the safetensors file src to dst with element `elem` of tensor
 * `tensor` (F32) set to the float bits `bits`: the offset is found from the
 * header, independently of the reader under test. */
static void patch_f32(const char *src, const char *dst, const char *tensor, size_t elem, uint32_t bits)
{
    FILE *f = fopen(src, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    uint64_t len = 0;
    for (int i = 7; i >= 0; i--) len = len << 8 | buf[i];
    cJSON *hdr = cJSON_ParseWithLength((const char *)buf + 8, (size_t)len);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(hdr, tensor);
    assert_non_null(t);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "dtype")), "F32");
    size_t begin = (size_t)cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(t, "data_offsets"), 0)->valuedouble;
    cJSON_Delete(hdr);
    memcpy(buf + 8 + len + begin + 4 * elem, &bits, 4); /* little-endian host */
    f = fopen(dst, "wb");
    assert_int_equal(fwrite(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    free(buf);
}

/* NaN or Inf in the weights is refused at load, naming the file, the tensor
 * and the count (the flux model, the registry, the classifier). */
static void nonfinite_weights(void **state)
{
    (void)state;
    static const char *tiny = HC_TEST_DATA "/golden_flux_tiny.safetensors";
    static const char *cls = HC_TEST_DATA "/../../data/models/fmnist_classifier.safetensors";
    const char *t = "double_blocks.0.img_attn.proj.bias";
    hc_flux *m;
    hc_model *gm;
    hc_classifier *c;
    patch_f32(tiny, "nan.safetensors", t, 5, 0x7fc00000u);
    assert_int_equal(hc_flux_load("nan.safetensors", 1, &m), HC_EFORMAT);
    assert_null(m);
    assert_string_equal(hc_errmsg(), "nan.safetensors: tensor 'double_blocks.0.img_attn.proj.bias' has 1 non-finite "
                                     "value (NaN or Inf) among 32; weights must be finite");
    assert_int_equal(hc_model_open("nan.safetensors", 1, &gm), HC_EFORMAT);
    assert_non_null(strstr(hc_errmsg(), "tensor 'double_blocks.0.img_attn.proj.bias' has 1 non-finite"));
    patch_f32(tiny, "inf.safetensors", "final_layer.linear.weight", 0, 0xff800000u); /* -Inf */
    assert_int_equal(hc_flux_load("inf.safetensors", 1, &m), HC_EFORMAT);
    assert_non_null(strstr(hc_errmsg(), "inf.safetensors: tensor 'final_layer.linear.weight' has 1 non-finite"));
    /* the classifier: the bundled file loads; with a NaN it is refused */
    assert_int_equal(hc_classifier_load(cls, &c), HC_OK);
    hc_classifier_free(c);
    patch_f32(cls, "nan_cls.safetensors", "fc1.weight", 100, 0x7f800001u); /* a signalling NaN */
    assert_int_equal(hc_classifier_load("nan_cls.safetensors", &c), HC_EFORMAT);
    assert_string_equal(hc_errmsg(), "nan_cls.safetensors: tensor 'fc1.weight' has 1 non-finite value (NaN or Inf) "
                                     "among 401408; weights must be finite");
    remove("nan.safetensors");
    remove("inf.safetensors");
    remove("nan_cls.safetensors");
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_file),
        cmocka_unit_test(malformed_files),
        cmocka_unit_test(model_validation),
        cmocka_unit_test(nonfinite_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
