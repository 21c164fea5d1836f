/* calibrate.c: policy and σ calibration from trajectories (calibrate.h). */
#include "calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_multifit.h>

#include "policy.h"
#include "replay.h"
#include "traj.h"

hc_status hc_calib_polyfit(const double *x, const double *y, size_t n, int degree, double *coef, double *rms)
{
    if (degree < 0 || degree >= HC_POL_MAX_POLY) return hc_fail(HC_EINVAL, "degree %d out of range [0, %d]", degree, HC_POL_MAX_POLY - 1);
    size_t p = (size_t)degree + 1;
    if (n < p) return hc_fail(HC_EINVAL, "%zu points cannot fit a polynomial of degree %d", n, degree);
    gsl_matrix *X = gsl_matrix_alloc(n, p), *cov = gsl_matrix_alloc(p, p);
    gsl_vector *Y = gsl_vector_alloc(n), *c = gsl_vector_alloc(p);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, p);
    hc_status st = HC_OK;
    double chisq = 0;
    if (!X || !cov || !Y || !c || !w) st = hc_fail(HC_ENOMEM, "out of memory");
    for (size_t i = 0; st == HC_OK && i < n; i++) {
        double v = 1;
        for (size_t k = 0; k < p; k++, v *= x[i]) gsl_matrix_set(X, i, p - 1 - k, v);
        gsl_vector_set(Y, i, y[i]);
    }
    if (st == HC_OK && gsl_multifit_linear(X, Y, c, cov, &chisq, w) != 0)
        st = hc_fail(HC_ENUM, "the polynomial least-squares fit failed");
    for (size_t k = 0; st == HC_OK && k < p; k++) coef[k] = gsl_vector_get(c, k);
    if (rms) *rms = sqrt(chisq / (double)n);
    gsl_multifit_linear_free(w);
    gsl_matrix_free(X);
    gsl_matrix_free(cov);
    gsl_vector_free(Y);
    gsl_vector_free(c);
    return st;
}

static cJSON *array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

/* The signals of every file: teacache pairs and magcache ratios. */
static hc_status policy_fits(const hc_calib_opts *o, cJSON *doc)
{
    int S = 0;
    size_t n = 0, cap = 0;
    double *x = NULL, *y = NULL, *ratios = NULL, *a = NULL, *b = NULL;
    hc_status st = HC_OK;
    for (int f = 0; f < o->n_files && st == HC_OK; f++) {
        hc_traj *t = NULL;
        if ((st = hc_traj_open(o->files[f], &t)) != HC_OK) break;
        int s1 = hc_traj_get_meta(t)->num_steps;
        if (f == 0) {
            S = s1;
            ratios = calloc((size_t)S, sizeof *ratios);
            a = malloc((size_t)S * sizeof *a);
            b = malloc((size_t)S * sizeof *b);
            cap = (size_t)o->n_files * (size_t)S;
            x = malloc(cap * sizeof *x);
            y = malloc(cap * sizeof *y);
            if (!ratios || !a || !b || !x || !y) st = hc_fail(HC_ENOMEM, "out of memory");
        } else if (s1 != S) {
            st = hc_fail(HC_EINVAL, "%s: %d steps; %s has %d (the magnitude ratios are per step)", o->files[f], s1,
                         o->files[0], S);
        }
        if (st == HC_OK) st = hc_traj_read_signal(t, hc_signal_name(HC_SIG_MOD_IN), 1, a);
        if (st == HC_OK) st = hc_traj_read_signal(t, hc_signal_name(HC_SIG_OUT_CHANGE), 1, b);
        for (int s = 1; st == HC_OK && s < S; s++) {
            x[n] = a[s];
            y[n++] = b[s];
        }
        if (st == HC_OK) st = hc_traj_read_signal(t, hc_signal_name(HC_SIG_RESID_NORM), 1, a);
        for (int s = 1; st == HC_OK && s < S; s++) {
            if (!(a[s - 1] > 0)) st = hc_fail(HC_EFORMAT, "%s: resid_norm[%d] = %g is not positive", o->files[f], s - 1, a[s - 1]);
            else ratios[s] += a[s] / a[s - 1] / o->n_files;
        }
        hc_traj_close(t);
    }
    double coef[HC_POL_MAX_POLY], rms = 0;
    if (st == HC_OK) st = hc_calib_polyfit(x, y, n, o->degree, coef, &rms);
    if (st == HC_OK) {
        ratios[0] = 1;
        cJSON *tc = cJSON_AddObjectToObject(doc, "teacache"), *mc = cJSON_AddObjectToObject(doc, "magcache");
        cJSON_AddItemToObject(tc, "poly", array(coef, (size_t)o->degree + 1));
        cJSON_AddStringToObject(tc, "fit", "least squares out_change[s] ~ poly(mod_in_change[s]), s >= 1, highest power first");
        cJSON_AddNumberToObject(tc, "pairs", (double)n);
        cJSON_AddNumberToObject(tc, "rms_residual", rms);
        cJSON_AddItemToObject(mc, "ratios", array(ratios, (size_t)S));
        cJSON_AddStringToObject(mc, "fit", "gamma_s = mean over files of resid_norm[s] / resid_norm[s-1]; gamma_0 = 1");
    }
    free(x);
    free(y);
    free(ratios);
    free(a);
    free(b);
    return st;
}

/* The module kind of "double/1/img_attn": "img_attn". */
static const char *kind_of(const char *module)
{
    const char *k = strrchr(module, '/');
    return k ? k + 1 : module;
}

/* HiCache's σ per module kind: the grid's σ with the least mean rel-L2. */
static hc_status best_sigma(const hc_calib_opts *o, cJSON *doc)
{
    int M = o->n_sigmas;
    hc_method *ms = calloc((size_t)M, sizeof *ms);
    if (!ms) return hc_fail(HC_ENOMEM, "out of memory");
    hc_status st = HC_OK;
    for (int i = 0; i < M && st == HC_OK; i++) {
        char spec[HC_SPEC_MAX];
        snprintf(spec, sizeof spec, "%s%ssigma=%g", o->sigma_base, strchr(o->sigma_base, ':') ? "," : ":", o->sigmas[i]);
        st = hc_method_parse(spec, &ms[i]);
    }
    hc_replay_opts ro = {.files = o->files, .n_files = o->n_files, .methods = ms, .n_methods = M,
                         .quiet = 1};
    hc_replay_result *r = NULL;
    if (st == HC_OK) st = hc_replay_compute(&ro, &r);
    cJSON *hc = st == HC_OK ? cJSON_AddObjectToObject(doc, "hicache") : NULL;
    cJSON *best = NULL, *errs = NULL;
    if (hc) {
        cJSON_AddStringToObject(hc, "base", o->sigma_base);
        cJSON_AddItemToObject(hc, "sigma_grid", array(o->sigmas, (size_t)M));
        best = cJSON_AddObjectToObject(hc, "best_sigma");
        errs = cJSON_AddObjectToObject(hc, "rel_l2");
        cJSON_AddStringToObject(hc, "fit", "per module kind, the grid's sigma with the least mean replay rel_l2 over cached steps");
    }
    for (int f = 0; hc && f < r->n_files; f++)
        for (int mi = 0; mi < r->files[f].n_modules; mi++) {
            const char *kind = kind_of(r->files[f].modules[mi]);
            if (cJSON_GetObjectItemCaseSensitive(best, kind)) continue;
            double *sum = calloc((size_t)M, sizeof *sum), *cnt = calloc((size_t)M, sizeof *cnt);
            if (!sum || !cnt) st = hc_fail(HC_ENOMEM, "out of memory");
            for (int m = 0; st == HC_OK && m < M; m++)
                for (size_t k = 0; k < r->methods[m].n_records; k++) {
                    const hc_replay_record *rec = &r->methods[m].records[k];
                    if (strcmp(kind_of(r->files[rec->file].modules[rec->module]), kind) != 0) continue;
                    sum[m] += rec->v[HC_REL_L2];
                    cnt[m]++;
                }
            int arg = 0;
            for (int m = 0; st == HC_OK && m < M; m++) {
                sum[m] = cnt[m] ? sum[m] / cnt[m] : 0;
                if (sum[m] < sum[arg]) arg = m;
            }
            if (st == HC_OK) {
                cJSON_AddNumberToObject(best, kind, o->sigmas[arg]);
                cJSON_AddItemToObject(errs, kind, array(sum, (size_t)M));
            }
            free(sum);
            free(cnt);
        }
    hc_replay_result_free(r);
    free(ms);
    return st;
}

hc_status hc_calibrate(const hc_calib_opts *o, cJSON **out)
{
    *out = NULL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return hc_fail(HC_ENOMEM, "out of memory");
    hc_status st = policy_fits(o, doc);
    if (st == HC_OK && o->n_sigmas > 0) st = best_sigma(o, doc);
    if (st != HC_OK) {
        cJSON_Delete(doc);
        return st;
    }
    *out = doc;
    return HC_OK;
}

hc_status hc_calib_sweep(const hc_calib_opts *o, const char *spec, const double *deltas, int n, hc_sweep_row *rows)
{
    hc_method *ms = calloc((size_t)n, sizeof *ms);
    if (!ms) return hc_fail(HC_ENOMEM, "out of memory");
    hc_status st = strchr(spec, '@') ? HC_OK : hc_fail(HC_EINVAL, "--sweep '%s': write PREDICTOR@POLICY", spec);
    for (int i = 0; i < n && st == HC_OK; i++) {
        char s[HC_SPEC_MAX];
        const char *at = strchr(spec, '@');
        snprintf(s, sizeof s, "%s%sdelta=%g", spec, strchr(at, ':') ? "," : ":", deltas[i]);
        st = hc_method_parse(s, &ms[i]);
    }
    hc_replay_opts ro = {.files = o->files, .n_files = o->n_files, .methods = ms, .n_methods = n, .quiet = 1};
    hc_replay_result *r = NULL;
    if (st == HC_OK) st = hc_replay_compute(&ro, &r);
    for (int i = 0; st == HC_OK && i < n; i++) {
        const hc_replay_method *rm = &r->methods[i];
        rows[i] = (hc_sweep_row){.delta = deltas[i], .full_steps = rm->full_steps, .steps = rm->steps,
                                 .flops_speedup = rm->flops_speedup, .rel_l2 = rm->stat[HC_REL_L2].mean};
    }
    hc_replay_result_free(r);
    free(ms);
    return st;
}
