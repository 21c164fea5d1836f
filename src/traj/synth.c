/* synth.c: synthetic trajectories with known ground truth (see synth.h). */
#include "synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "provenance.h"

static const char *const kind_names[] = {"poly", "sin", "gp"};

void hc_synth_defaults(hc_synth_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kind = HC_SYNTH_GP;
    o->steps = 50;
    o->tokens = 16;
    o->channels = 32;
    o->modules = 4;
    o->degree = 2;
    o->length_scale = 0.2;
    o->max_freq = 1.5;
    o->clusters = 4;
    o->token_noise = 0.2;
    o->hidden = 1;
    o->seed = 0;
    o->write.dtype = HC_F32;
    o->write.deflate = 0;
}

const char *hc_synth_kind_name(hc_synth_kind k) { return kind_names[k]; }

hc_status hc_synth_kind_parse(const char *s, hc_synth_kind *out)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (hc_synth_kind)i;
            return HC_OK;
        }
    return hc_fail(HC_EINVAL, "unknown trajectory kind '%s' (valid: poly, sin, gp)", s);
}

hc_status hc_synth_validate(const hc_synth_opts *o)
{
    static const struct { const char *name; size_t off; int lo, hi; } ints[] = {
        {"--steps", offsetof(hc_synth_opts, steps), 2, 100000},
        {"--tokens", offsetof(hc_synth_opts, tokens), 1, 1 << 20},
        {"--channels", offsetof(hc_synth_opts, channels), 1, 1 << 20},
        {"--modules", offsetof(hc_synth_opts, modules), 1, 10000},
        {"--degree", offsetof(hc_synth_opts, degree), 0, 12},
        {"--clusters", offsetof(hc_synth_opts, clusters), 0, 1 << 20},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int v = *(const int *)((const char *)o + ints[i].off);
        if (v < ints[i].lo || v > ints[i].hi)
            return hc_fail(HC_EINVAL, "%s %d out of range [%d, %d]", ints[i].name, v, ints[i].lo, ints[i].hi);
    }
    if (o->kind == HC_SYNTH_GP && o->steps > 5000)
        return hc_fail(HC_EINVAL, "--steps %d: gp trajectories factor an S x S kernel; at most 5000 steps", o->steps);
    if (o->clusters > o->tokens)
        return hc_fail(HC_EINVAL, "--clusters %d exceeds --tokens %d", o->clusters, o->tokens);
    if (!(o->length_scale > 0 && o->length_scale < 100))
        return hc_fail(HC_EINVAL, "--length-scale %g must be in (0, 100)", o->length_scale);
    if (!(o->max_freq > 0 && o->max_freq < 1000))
        return hc_fail(HC_EINVAL, "--max-freq %g must be in (0, 1000)", o->max_freq);
    if (!(o->token_noise >= 0 && o->token_noise <= 10))
        return hc_fail(HC_EINVAL, "--token-noise %g must be in [0, 10]", o->token_noise);
    if ((double)o->steps * o->tokens * o->channels > 1e9)
        return hc_fail(HC_EINVAL, "steps x tokens x channels = %.3g exceeds 1e9 elements per module",
                       (double)o->steps * o->tokens * o->channels);
    return HC_OK;
}

double hc_synth_time(const hc_synth_opts *o, int s) { return 1.0 - (double)s / o->steps; }

void hc_synth_module_name(int m, int *layer, const char **module)
{
    *layer = m / 2;
    *module = (m % 2) ? "mlp" : "attn";
}

/* One scalar signal of S samples into y[0..S-1] with stride `stride`. */
typedef struct sig_ctx {
    const hc_synth_opts *o;
    gsl_rng *rng;
    const double *chol; /* gp: lower Cholesky factor, S x S row-major */
    double *z;          /* gp: S scratch */
} sig_ctx;

static void signal(sig_ctx *c, double scale, float *y, size_t stride, int accumulate)
{
    const hc_synth_opts *o = c->o;
    int S = o->steps;
    switch (o->kind) {
    case HC_SYNTH_POLY: {
        double a[13];
        for (int j = 0; j <= o->degree; j++) a[j] = gsl_ran_gaussian(c->rng, 1.0);
        for (int s = 0; s < S; s++) {
            double u = (double)s / (S - 1), v = 0;
            for (int j = o->degree; j >= 0; j--) v = v * u + a[j]; /* Horner */
            y[(size_t)s * stride] = (float)((accumulate ? y[(size_t)s * stride] : 0) + scale * v);
        }
        break;
    }
    case HC_SYNTH_SIN: {
        double amp = 0.5 + gsl_rng_uniform(c->rng);
        double f = gsl_rng_uniform(c->rng) * o->max_freq;
        double ph = 2 * M_PI * gsl_rng_uniform(c->rng);
        double off = gsl_ran_gaussian(c->rng, 0.5);
        for (int s = 0; s < S; s++) {
            double u = (double)s / (S - 1);
            double v = off + amp * sin(2 * M_PI * f * u + ph);
            y[(size_t)s * stride] = (float)((accumulate ? y[(size_t)s * stride] : 0) + scale * v);
        }
        break;
    }
    case HC_SYNTH_GP:
        for (int s = 0; s < S; s++) c->z[s] = gsl_ran_gaussian_ziggurat(c->rng, 1.0);
        for (int s = 0; s < S; s++) {
            const double *row = c->chol + (size_t)s * S;
            double v = 0;
            for (int k = 0; k <= s; k++) v += row[k] * c->z[k];
            y[(size_t)s * stride] = (float)((accumulate ? y[(size_t)s * stride] : 0) + scale * v);
        }
        break;
    }
}

/* Lower Cholesky factor of the SE kernel over the time grid (+ jitter). */
static hc_status gp_factor(const hc_synth_opts *o, double *L)
{
    int S = o->steps;
    gsl_matrix_view K = gsl_matrix_view_array(L, (size_t)S, (size_t)S);
    for (int jitter_pow = 10; jitter_pow >= 4; jitter_pow--) {
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                double d = hc_synth_time(o, i) - hc_synth_time(o, j);
                double k = exp(-d * d / (2 * o->length_scale * o->length_scale));
                gsl_matrix_set(&K.matrix, (size_t)i, (size_t)j, k + (i == j ? pow(10, -jitter_pow) : 0));
            }
        if (gsl_linalg_cholesky_decomp1(&K.matrix) == GSL_SUCCESS) {
            for (int i = 0; i < S; i++) /* zero the upper triangle GSL leaves */
                for (int j = i + 1; j < S; j++) gsl_matrix_set(&K.matrix, (size_t)i, (size_t)j, 0);
            return HC_OK;
        }
    }
    return hc_fail(HC_ENUM, "GP kernel with length scale %g over %d steps is not positive definite even with jitter 1e-4",
                   o->length_scale, S);
}

hc_status hc_synth_module(const hc_synth_opts *o, int m, float *out)
{
    HC_TRY(hc_synth_validate(o));
    HC_ASSERT(m >= 0 && m < o->modules && out);
    size_t S = (size_t)o->steps, T = (size_t)o->tokens, D = (size_t)o->channels, TD = T * D;
    sig_ctx c = {.o = o};
    double *chol = NULL, *z = NULL;
    hc_status st = HC_OK;
    c.rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!c.rng) return hc_fail(HC_ENOMEM, "out of memory");
    /* independent stream per module: same (seed, m), same data */
    gsl_rng_set(c.rng, (o->seed * 1000003UL) ^ (0x9E3779B97F4A7C15UL * (unsigned long)(m + 1)));
    if (o->kind == HC_SYNTH_GP) {
        chol = malloc(S * S * sizeof *chol);
        z = malloc(S * sizeof *z);
        if (!chol || !z) { st = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
        if ((st = gp_factor(o, chol)) != HC_OK) goto done;
        c.chol = chol;
        c.z = z;
    }
    if (o->clusters > 0) {
        /* token i belongs to cluster i % C: shared base + token_noise x own part */
        int C = o->clusters;
        float *base = malloc((size_t)C * D * S * sizeof *base);
        if (!base) { st = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
        for (int k = 0; k < C; k++)
            for (size_t d = 0; d < D; d++) signal(&c, 1.0, base + ((size_t)k * D + d) * S, 1, 0);
        for (size_t tok = 0; tok < T; tok++)
            for (size_t d = 0; d < D; d++) {
                const float *b = base + ((tok % (size_t)C) * D + d) * S;
                for (size_t s = 0; s < S; s++) out[s * TD + tok * D + d] = b[s];
                signal(&c, o->token_noise, out + tok * D + d, TD, 1);
            }
        free(base);
    } else {
        for (size_t e = 0; e < TD; e++) signal(&c, 1.0, out + e, TD, 0);
    }
done:
    free(chol);
    free(z);
    gsl_rng_free(c.rng);
    return st;
}

static char *config_json(const hc_synth_opts *o)
{
    cJSON *prov = hc_provenance_json();
    cJSON *cfg = cJSON_AddObjectToObject(prov, "config");
    cJSON_AddStringToObject(cfg, "command", "synth");
    cJSON_AddStringToObject(cfg, "kind", hc_synth_kind_name(o->kind));
    cJSON_AddNumberToObject(cfg, "steps", o->steps);
    cJSON_AddNumberToObject(cfg, "tokens", o->tokens);
    cJSON_AddNumberToObject(cfg, "channels", o->channels);
    cJSON_AddNumberToObject(cfg, "modules", o->modules);
    cJSON_AddNumberToObject(cfg, "degree", o->degree);
    cJSON_AddNumberToObject(cfg, "length_scale", o->length_scale);
    cJSON_AddNumberToObject(cfg, "max_freq", o->max_freq);
    cJSON_AddNumberToObject(cfg, "clusters", o->clusters);
    cJSON_AddNumberToObject(cfg, "token_noise", o->token_noise);
    cJSON_AddBoolToObject(cfg, "hidden", o->hidden);
    cJSON_AddNumberToObject(cfg, "seed", (double)o->seed);
    cJSON_AddStringToObject(cfg, "dtype", hc_dtype_name(o->write.dtype));
    cJSON_AddNumberToObject(cfg, "deflate", o->write.deflate);
    char *s = cJSON_PrintUnformatted(prov);
    cJSON_Delete(prov);
    return s;
}

hc_status hc_synth_write(const char *path, const hc_synth_opts *o)
{
    HC_TRY(hc_synth_validate(o));
    size_t S = (size_t)o->steps, TD = (size_t)o->tokens * o->channels;
    int n_layers = (o->modules + 1) / 2;
    hc_traj_meta meta = {0};
    snprintf(meta.model, sizeof meta.model, "synthetic-%s", hc_synth_kind_name(o->kind));
    snprintf(meta.sampler, sizeof meta.sampler, "uniform-grid t=1-s/S");
    meta.num_steps = o->steps;
    meta.has_seed = 1;
    meta.seed = (int64_t)o->seed;
    if (o->kind == HC_SYNTH_POLY)
        snprintf(meta.label, sizeof meta.label, "polynomial degree %d in the step index", o->degree);
    else if (o->kind == HC_SYNTH_GP)
        snprintf(meta.label, sizeof meta.label, "GP, SE kernel over t, length scale %g", o->length_scale);
    else
        snprintf(meta.label, sizeof meta.label, "sinusoids, up to %g cycles", o->max_freq);
    char *prov = config_json(o);
    float *buf = malloc(S * TD * sizeof *buf);
    float *hid = o->hidden ? calloc(S * TD, sizeof *hid) : NULL;
    hc_traj_writer *w = NULL;
    hc_status st = HC_OK;
    if (!prov || !buf || (o->hidden && !hid)) { st = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
    if ((st = hc_traj_writer_open(path, &meta, &o->write, prov, &w)) != HC_OK) goto done;
    for (size_t s = 0; s < S; s++)
        if ((st = hc_traj_writer_put_time(w, (int64_t)s, hc_synth_time(o, (int)s))) != HC_OK) goto done;
    for (int m = 0; m < o->modules; m++) {
        int layer, h;
        const char *mod;
        hc_synth_module_name(m, &layer, &mod);
        if ((st = hc_traj_writer_add_feature(w, "dit", layer, mod, "joint", o->tokens, o->channels, &h)) ||
            (st = hc_synth_module(o, m, buf)) != HC_OK)
            goto done;
        for (size_t s = 0; s < S; s++)
            if ((st = hc_traj_writer_put(w, h, (int64_t)s, buf + s * TD)) != HC_OK) goto done;
        if (hid) { /* hidden state of a layer = mean of its modules (the residual update) */
            int per_layer = (m / 2 == n_layers - 1 && o->modules % 2) ? 1 : 2;
            for (size_t i = 0; i < S * TD; i++) hid[i] += buf[i] / (float)per_layer;
            if (m % 2 == 1 || m == o->modules - 1) {
                if ((st = hc_traj_writer_add_hidden(w, "dit", layer, "joint", o->tokens, o->channels, &h))) goto done;
                for (size_t s = 0; s < S; s++)
                    if ((st = hc_traj_writer_put(w, h, (int64_t)s, hid + s * TD)) != HC_OK) goto done;
                memset(hid, 0, S * TD * sizeof *hid);
            }
        }
    }
    st = hc_traj_writer_finish(w);
    w = NULL;
done:
    hc_traj_writer_free(w);
    free(buf);
    free(hid);
    free(prov);
    return st;
}
