/* classifier.c: Fashion-MNIST CNN forward (see classifier.h). */
#include "classifier.h"

#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "safetensors.h"

struct hc_classifier {
    float *w;                       /* all weights */
    const float *c1w, *c1b, *c2w, *c2b, *f1w, *f1b, *f2w, *f2b;
    float *in, *col1, *a1, *p1, *col2, *a2, *p2, *f1, *f2; /* one image's workspace */
};

static const struct { const char *name; int rank; int64_t shape[4]; } tensors[] = {
    {"conv1.weight", 4, {32, 1, 3, 3}}, {"conv1.bias", 1, {32}},   {"conv2.weight", 4, {64, 32, 3, 3}},
    {"conv2.bias", 1, {64}},            {"fc1.weight", 2, {128, 3136}}, {"fc1.bias", 1, {128}},
    {"fc2.weight", 2, {10, 128}},       {"fc2.bias", 1, {10}},
};
#define N_T (sizeof tensors / sizeof tensors[0])

void hc_classifier_free(hc_classifier *c)
{
    if (!c) return;
    free(c->w);
    free(c->in);
    free(c);
}

hc_status hc_classifier_load(const char *path, hc_classifier **out)
{
    *out = NULL;
    hc_st *st;
    HC_TRY(hc_st_open(path, &st));
    hc_classifier *c = calloc(1, sizeof *c);
    size_t total = 0, sizes[N_T];
    for (size_t i = 0; i < N_T; i++) {
        sizes[i] = 1;
        for (int k = 0; k < tensors[i].rank; k++) sizes[i] *= (size_t)tensors[i].shape[k];
        total += sizes[i];
    }
    hc_status s = HC_OK;
    if (c) c->w = malloc(total * sizeof *c->w);
    /* workspace: in 784, col1 9x784, a1 32x784, p1 32x196, col2 288x196, a2 64x196, p2 3136, f1 128, f2 10 */
    size_t ws = 784 + 9 * 784 + 32 * 784 + 32 * 196 + 288 * 196 + 64 * 196 + 3136 + 128 + 10;
    if (c) c->in = malloc(ws * sizeof *c->in);
    if (!c || !c->w || !c->in) {
        s = hc_fail(HC_ENOMEM, "out of memory");
        goto done;
    }
    const float **dst[N_T] = {&c->c1w, &c->c1b, &c->c2w, &c->c2b, &c->f1w, &c->f1b, &c->f2w, &c->f2b};
    float *p = c->w;
    for (size_t i = 0; i < N_T && s == HC_OK; i++) {
        s = hc_st_read_f32(st, tensors[i].name, tensors[i].rank, tensors[i].shape, p);
        *dst[i] = p;
        p += sizes[i];
    }
    float *q = c->in;
    float **bufs[] = {&c->in, &c->col1, &c->a1, &c->p1, &c->col2, &c->a2, &c->p2, &c->f1, &c->f2};
    size_t lens[] = {784, 9 * 784, 32 * 784, 32 * 196, 288 * 196, 64 * 196, 3136, 128, 10};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        *bufs[i] = q;
        q += lens[i];
    }
done:
    hc_st_close(st);
    if (s != HC_OK) hc_classifier_free(c);
    else *out = c;
    return s;
}

/* col [Cin*9, HW*HW] of a zero-padded 3x3 neighbourhood */
static void im2col(const float *in, int Cin, int HW, float *col)
{
    for (int ci = 0; ci < Cin; ci++)
        for (int dy = 0; dy < 3; dy++)
            for (int dx = 0; dx < 3; dx++) {
                float *row = col + ((size_t)(ci * 9 + dy * 3 + dx)) * HW * HW;
                for (int y = 0; y < HW; y++)
                    for (int x = 0; x < HW; x++) {
                        int yy = y + dy - 1, xx = x + dx - 1;
                        row[y * HW + x] = (yy < 0 || yy >= HW || xx < 0 || xx >= HW) ? 0.0f : in[((size_t)ci * HW + yy) * HW + xx];
                    }
            }
}

/* out [C, HW, HW] = relu(W [C, K] col [K, HW*HW] + b) */
static void conv_relu(const float *W, const float *b, int C, int K, const float *col, int HW, float *out)
{
    int n = HW * HW;
    for (int o = 0; o < C; o++)
        for (int i = 0; i < n; i++) out[(size_t)o * n + i] = b[o];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, n, K, 1.0f, W, K, col, n, 1.0f, out, n);
    for (size_t i = 0; i < (size_t)C * n; i++) out[i] = out[i] > 0 ? out[i] : 0;
}

static void maxpool2(const float *in, int C, int HW, float *out)
{
    int h = HW / 2;
    for (int c = 0; c < C; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < h; x++) {
                const float *p = in + ((size_t)c * HW + 2 * y) * HW + 2 * x;
                float m = p[0];
                if (p[1] > m) m = p[1];
                if (p[HW] > m) m = p[HW];
                if (p[HW + 1] > m) m = p[HW + 1];
                out[((size_t)c * h + y) * h + x] = m;
            }
}

hc_status hc_classifier_run(hc_classifier *c, const float *x, int n, float *features, int *classes)
{
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 784; k++) {
            float v = x[(size_t)i * 784 + k];
            c->in[k] = v < -1 ? -1 : v > 1 ? 1 : v;
        }
        im2col(c->in, 1, 28, c->col1);
        conv_relu(c->c1w, c->c1b, 32, 9, c->col1, 28, c->a1);
        maxpool2(c->a1, 32, 28, c->p1);
        im2col(c->p1, 32, 14, c->col2);
        conv_relu(c->c2w, c->c2b, 64, 288, c->col2, 14, c->a2);
        maxpool2(c->a2, 64, 14, c->p2);
        memcpy(c->f1, c->f1b, 128 * sizeof *c->f1);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, 128, 3136, 1.0f, c->f1w, 3136, c->p2, 1, 1.0f, c->f1, 1);
        for (int k = 0; k < 128; k++) c->f1[k] = c->f1[k] > 0 ? c->f1[k] : 0;
        if (features) memcpy(features + (size_t)i * 128, c->f1, 128 * sizeof *c->f1);
        memcpy(c->f2, c->f2b, 10 * sizeof *c->f2);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, 10, 128, 1.0f, c->f2w, 128, c->f1, 1, 1.0f, c->f2, 1);
        if (classes) {
            int best = 0;
            for (int k = 1; k < 10; k++)
                if (c->f2[k] > c->f2[best]) best = k;
            classes[i] = best;
        }
    }
    return HC_OK;
}
