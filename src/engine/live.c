/* live.c: live sampling engine and quality metrics (see live.h). */
#include "live.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include "classifier.h"
#include "model.h"
#include "fmnist.h"
#include "quality.h"
#include "sampler.h"
#include "outfile.h"
#include "pngout.h"
#include "provenance.h"

/* OpenBLAS's thread count (its cblas.h clashes with GSL's headers here) */
int openblas_get_num_threads(void);

const char *const hc_fmnist_classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

void hc_live_defaults(hc_live_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model_path = "data/models/flux_mini.safetensors";
    o->classifier_path = "data/models/fmnist_classifier.safetensors";
    o->data_dir = "/usr/share/datasets/fashion-mnist";
    o->n = 64;
    o->batch = 16;
    o->steps = 50;
    o->cfg = 2.5;
    o->shift = 1;
    o->n_real = 2000;
    o->out_dir = "out/sample";
}

/* Run all n samples in chunks; x holds the noise on entry. */
static hc_status run_all(hc_sampler *smp, const hc_method *m, const hc_live_opts *o, const int *labels, float *x,
                         size_t img, hc_sample_stats *tot)
{
    memset(tot, 0, sizeof *tot);
    for (int i0 = 0; i0 < o->n; i0 += o->batch) {
        int k = o->n - i0 < o->batch ? o->n - i0 : o->batch;
        hc_sample_opts so = {o->steps, o->cfg, o->shift};
        hc_sample_stats st;
        HC_TRY(hc_sampler_run(smp, m, &so, labels + i0, k, x + (size_t)i0 * img, &st));
        tot->full_steps = st.full_steps;
        tot->steps = st.steps;
        tot->macs += st.macs;
        tot->seconds += st.seconds;
        hc_sampler_record(smp, NULL, NULL); /* only the first chunk is recorded */
    }
    return HC_OK;
}

/* What identifies a sampling run, stored with its samples so that a later
 * run can reuse them as its full-compute reference. */
typedef struct run_id {
    unsigned long seed;
    int steps, shift;
    double cfg, seconds, macs;
} run_id;

static hc_status write_samples(const char *path, const float *x, const int *labels, int n, int C, int H,
                               const char *prov, const run_id *id)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.partial", path);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return hc_fail(HC_EIO, "%s: cannot create", tmp);
    hsize_t d4[4] = {(hsize_t)n, (hsize_t)C, (hsize_t)H, (hsize_t)H}, d1 = (hsize_t)n;
    herr_t r = H5LTmake_dataset_float(f, "/samples", 4, d4, x);
    if (r >= 0) r = H5LTmake_dataset_int(f, "/labels", 1, &d1, labels);
    if (r >= 0) r = H5LTset_attribute_string(f, "/", "provenance", prov);
    if (r >= 0) r = H5LTset_attribute_string(f, "/", "content", "final samples [n, C, H, W] in [-1, 1] (unclamped), labels [n]");
    double seed = (double)id->seed, steps = id->steps, shift = id->shift;
    if (r >= 0) r = H5LTset_attribute_double(f, "/", "seed", &seed, 1);
    if (r >= 0) r = H5LTset_attribute_double(f, "/", "steps", &steps, 1);
    if (r >= 0) r = H5LTset_attribute_double(f, "/", "time_shift", &shift, 1);
    if (r >= 0) r = H5LTset_attribute_double(f, "/", "guidance", &id->cfg, 1);
    if (r >= 0) r = H5LTset_attribute_double(f, "/", "seconds", &id->seconds, 1);
    if (r >= 0) r = H5LTset_attribute_double(f, "/", "macs", &id->macs, 1);
    if (H5Fclose(f) < 0 || r < 0) {
        unlink(tmp);
        return hc_fail(HC_EIO, "%s: writing samples failed", tmp);
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return hc_fail(HC_EIO, "%s: cannot rename", tmp);
    }
    return HC_OK;
}

/* Load a reference run's samples [n, img] and its cost, checking that it was
 * sampled with the same noise, labels and sampler settings. */
static hc_status read_reference(const hc_live_opts *o, const int *labels, size_t img, float *ref, hc_sample_stats *fs)
{
    const char *p = o->reference_path;
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return hc_fail(HC_EIO, "%s: cannot open the reference samples", p);
    hsize_t dims[4] = {0}, ldim = 0;
    int rs = 0, rl = 0;
    if (H5LTget_dataset_ndims(f, "/samples", &rs) < 0 || rs != 4 || H5LTget_dataset_ndims(f, "/labels", &rl) < 0 ||
        rl != 1 || H5LTget_dataset_info(f, "/labels", &ldim, NULL, NULL) < 0 || ldim != (hsize_t)o->n) {
        H5Fclose(f);
        return hc_fail(HC_EFORMAT, "%s: expected /samples [n, C, H, W] and /labels [n] with n = %d", p, o->n);
    }
    double seed = -1, steps = -1, shift = -1, cfg = -1, seconds = 0, macs = 0;
    int *lab = malloc((size_t)o->n * sizeof *lab);
    hc_status s = HC_OK;
    if (!lab || H5LTget_dataset_info(f, "/samples", dims, NULL, NULL) < 0 ||
        H5LTget_attribute_double(f, "/", "seed", &seed) < 0 || H5LTget_attribute_double(f, "/", "steps", &steps) < 0 ||
        H5LTget_attribute_double(f, "/", "time_shift", &shift) < 0 ||
        H5LTget_attribute_double(f, "/", "guidance", &cfg) < 0 ||
        H5LTget_attribute_double(f, "/", "seconds", &seconds) < 0 || H5LTget_attribute_double(f, "/", "macs", &macs) < 0)
        s = hc_fail(HC_EFORMAT, "%s: not a hicache samples file with run attributes", p);
    else if (dims[0] != (hsize_t)o->n || dims[1] * dims[2] * dims[3] != img || seed != (double)o->seed ||
             steps != o->steps || shift != o->shift || cfg != o->cfg)
        s = hc_fail(HC_EINVAL, "%s: reference run differs (n, image size, seed, steps, shift or guidance)", p);
    else if (H5LTread_dataset_int(f, "/labels", lab) < 0 || H5LTread_dataset_float(f, "/samples", ref) < 0)
        s = hc_fail(HC_EFORMAT, "%s: cannot read /samples or /labels", p);
    else if (memcmp(lab, labels, (size_t)o->n * sizeof *lab) != 0)
        s = hc_fail(HC_EINVAL, "%s: reference run has other labels", p);
    H5Fclose(f);
    free(lab);
    if (s == HC_OK) {
        fs->full_steps = fs->steps = o->steps;
        fs->seconds = seconds;
        fs->macs = macs;
    }
    return s;
}

static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

hc_status hc_live_sample(const hc_live_opts *o, const hc_method *method, cJSON **metrics)
{
    if (metrics) *metrics = NULL;
    if (o->n < 1 || o->batch < 1 || o->steps < 1)
        return hc_fail(HC_EINVAL, "n, batch and steps must be >= 1 (got %d, %d, %d)", o->n, o->batch, o->steps);
    hc_model *m = NULL;
    hc_sampler *smp = NULL;
    hc_classifier *cls = NULL;
    hc_traj_writer *rec = NULL;
    float *noise = NULL, *x = NULL, *ref = NULL, *feat = NULL, *real = NULL;
    int *labels = NULL, *pred = NULL, *real_lab = NULL;
    double *mu = NULL, *cov = NULL, *mur = NULL, *covr = NULL;
    char *prov_s = NULL;
    cJSON *doc = NULL;
    int batch = o->batch < o->n ? o->batch : o->n;
    hc_status s = hc_model_open(o->model_path, 2 * batch, &m);
    if (s != HC_OK) goto done;
    hc_model_info info;
    hc_model_get_info(m, &info);
    const hc_model_info *c = &info;
    size_t img = (size_t)c->image_channels * c->image_size * c->image_size, N = (size_t)o->n * img;
    if ((s = hc_sampler_alloc(m, batch, &smp)) != HC_OK) goto done;
    noise = malloc(N * sizeof *noise);
    x = malloc(N * sizeof *x);
    ref = malloc(N * sizeof *ref);
    labels = malloc((size_t)o->n * sizeof *labels);
    if (!noise || !x || !ref || !labels) { s = hc_fail(HC_ENOMEM, "out of memory for %d samples", o->n); goto done; }
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    for (int i = 0; i < o->n; i++) {
        gsl_rng_set(rng, o->seed * 1000003UL + (unsigned long)i);
        for (size_t k = 0; k < img; k++) noise[(size_t)i * img + k] = (float)gsl_ran_gaussian_ziggurat(rng, 1.0);
        labels[i] = o->labels ? o->labels[i] : i % c->num_classes;
        if (labels[i] < 0 || labels[i] >= c->num_classes) {
            s = hc_fail(HC_EINVAL, "label %d out of range [0, %d)", labels[i], c->num_classes);
            break;
        }
    }
    gsl_rng_free(rng);
    if (s != HC_OK) goto done;
    hc_live_opts oo = *o;
    oo.batch = batch;
    /* provenance and resolved config */
    doc = cJSON_CreateObject();
    cJSON *prov = hc_provenance_json();
    cJSON *cfg = cJSON_AddObjectToObject(prov, "config");
    char desc[512], label[256];
    hc_method_describe(method, desc, sizeof desc);
    hc_method_label(method, label, sizeof label);
    cJSON_AddStringToObject(cfg, "command", "sample");
    cJSON_AddStringToObject(cfg, "method", method->spec);
    cJSON_AddStringToObject(cfg, "method_resolved", desc);
    cJSON_AddStringToObject(cfg, "model", o->model_path);
    cJSON_AddNumberToObject(cfg, "n", o->n);
    cJSON_AddNumberToObject(cfg, "batch", batch);
    cJSON_AddNumberToObject(cfg, "steps", o->steps);
    cJSON_AddNumberToObject(cfg, "guidance", o->cfg);
    cJSON_AddBoolToObject(cfg, "time_shift", o->shift);
    cJSON_AddNumberToObject(cfg, "seed", (double)o->seed);
    cJSON_AddStringToObject(cfg, "noise", "sample i: gsl mt19937 seeded seed*1000003+i, ziggurat N(0,1)");
    cJSON_AddItemToObject(cfg, "labels", cJSON_CreateIntArray(labels, o->n));
    cJSON_AddItemToObject(prov, "model_metadata", cJSON_Duplicate(m->meta, 1));
    prov_s = cJSON_PrintUnformatted(prov);
    cJSON_AddItemToObject(doc, "provenance", prov);
    cJSON_AddStringToObject(doc, "method", method->spec);
    cJSON_AddStringToObject(doc, "label", label);

    /* full-compute reference (recorded if asked) */
    hc_method full;
    hc_method_parse("full", &full);
    hc_sample_stats fs = {0}, ms = {0};
    if (o->record_path) {
        hc_traj_meta meta = {0};
        snprintf(meta.model, sizeof meta.model, "%s (%s)", info.arch, o->model_path);
        snprintf(meta.sampler, sizeof meta.sampler, "euler rectified flow, %s, cfg %g, batch [cond; uncond]",
                 o->shift ? "FLUX time shift" : "no shift", o->cfg);
        meta.num_steps = o->steps;
        meta.has_seed = 1;
        meta.seed = (int64_t)(o->seed * 1000003UL);
        snprintf(meta.label, sizeof meta.label, "%d %s", labels[0], hc_fmnist_classes[labels[0] % 10]);
        meta.has_guidance = 1;
        meta.guidance = o->cfg;
        hc_traj_write_opts wo = {o->record_f16 ? HC_F16 : HC_F32, o->record_deflate};
        if ((s = hc_traj_writer_open(o->record_path, &meta, &wo, prov_s, &rec)) != HC_OK) goto done;
        if ((s = hc_sampler_record(smp, rec, o->record_glob)) != HC_OK) goto done;
    }
    memcpy(ref, noise, N * sizeof *ref);
    if (o->reference_path && !o->record_path) {
        if ((s = read_reference(o, labels, img, ref, &fs)) != HC_OK) goto done;
        cJSON_AddStringToObject(cfg, "reference", o->reference_path);
    } else {
        if (!o->quiet) fprintf(stderr, "sample: full compute, %d images x %d steps\n", o->n, o->steps);
        if ((s = run_all(smp, &full, &oo, labels, ref, img, &fs)) != HC_OK) goto done;
    }
    if (rec) {
        s = hc_traj_writer_finish(rec);
        rec = NULL;
        if (s != HC_OK) goto done;
    }
    memcpy(x, noise, N * sizeof *x);
    if (hc_method_caps(method) & HC_PRED_NO_CACHE) {
        memcpy(x, ref, N * sizeof *x);
        ms = fs;
    } else {
        if (!o->quiet) fprintf(stderr, "sample: %s\n", desc);
        if ((s = run_all(smp, method, &oo, labels, x, img, &ms)) != HC_OK) goto done;
    }

    /* fidelity against full compute, same noise and labels */
    double rl2 = 0, psnr = 0, ssim = 0;
    int H = c->image_size;
    for (int i = 0; i < o->n; i++) {
        const float *a = x + (size_t)i * img, *b = ref + (size_t)i * img;
        double d2 = 0, r2 = 0;
        for (size_t k = 0; k < img; k++) {
            d2 += ((double)a[k] - b[k]) * ((double)a[k] - b[k]);
            r2 += (double)b[k] * b[k];
        }
        rl2 += sqrt(d2 / fmax(r2, 1e-30));
        psnr += hc_psnr(a, b, img);
        double ss = 0;
        for (int ch = 0; ch < c->image_channels; ch++) ss += hc_ssim(a + (size_t)ch * H * H, b + (size_t)ch * H * H, H, H);
        ssim += ss / c->image_channels;
    }
    cJSON *mt = cJSON_AddObjectToObject(doc, "metrics");
    add_num(mt, "rel_l2", rl2 / o->n);
    add_num(mt, "psnr", psnr / o->n);
    add_num(mt, "ssim", ssim / o->n);
    cJSON_AddNumberToObject(mt, "full_steps", ms.full_steps);
    cJSON_AddNumberToObject(mt, "steps", ms.steps);
    cJSON_AddNumberToObject(mt, "flops", 2 * ms.macs);
    cJSON_AddNumberToObject(mt, "flops_full", 2 * fs.macs);
    cJSON_AddNumberToObject(mt, "flops_speedup", fs.macs / ms.macs);
    cJSON_AddNumberToObject(mt, "seconds", ms.seconds);
    cJSON_AddNumberToObject(mt, "seconds_full", fs.seconds);
    cJSON_AddNumberToObject(mt, "wall_speedup", fs.seconds / ms.seconds);
    cJSON_AddNumberToObject(mt, "threads", openblas_get_num_threads());

    /* classifier: accuracy and FD against real held-out images */
    if (o->classifier_path && o->classifier_path[0]) {
        if ((s = hc_classifier_load(o->classifier_path, &cls)) != HC_OK) goto done;
        feat = malloc((size_t)o->n * HC_CLS_FEATURES * sizeof *feat);
        pred = malloc((size_t)o->n * sizeof *pred);
        mu = malloc(HC_CLS_FEATURES * sizeof *mu);
        cov = malloc(HC_CLS_FEATURES * HC_CLS_FEATURES * sizeof *cov);
        mur = malloc(HC_CLS_FEATURES * sizeof *mur);
        covr = malloc(HC_CLS_FEATURES * HC_CLS_FEATURES * sizeof *covr);
        if (!feat || !pred || !mu || !cov || !mur || !covr) { s = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
        int correct = 0;
        if ((s = hc_classifier_run(cls, x, o->n, feat, pred)) != HC_OK) goto done;
        for (int i = 0; i < o->n; i++) correct += pred[i] == labels[i];
        cJSON_AddNumberToObject(mt, "class_acc", (double)correct / o->n);
        int nr = 0;
        if ((s = hc_fmnist_read(o->data_dir, "t10k", o->n_real, &real, &real_lab, &nr)) != HC_OK) goto done;
        float *rf = malloc((size_t)nr * HC_CLS_FEATURES * sizeof *rf);
        if (!rf) { s = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
        hc_classifier_run(cls, real, nr, rf, NULL);
        s = hc_feature_stats(rf, nr, HC_CLS_FEATURES, mur, covr);
        free(rf);
        if (s == HC_OK && o->n >= 2) s = hc_feature_stats(feat, o->n, HC_CLS_FEATURES, mu, cov);
        double fd = NAN;
        if (s == HC_OK && o->n >= 2) s = hc_frechet(mu, cov, mur, covr, HC_CLS_FEATURES, &fd);
        if (s != HC_OK) goto done;
        add_num(mt, "fd", fd);
        cJSON_AddNumberToObject(mt, "fd_real_images", nr);
        /* class accuracy of the full-compute reference, for comparison */
        hc_classifier_run(cls, ref, o->n, NULL, pred);
        correct = 0;
        for (int i = 0; i < o->n; i++) correct += pred[i] == labels[i];
        cJSON_AddNumberToObject(mt, "class_acc_full", (double)correct / o->n);
    }
    cJSON *defs = cJSON_AddObjectToObject(doc, "definitions");
    cJSON_AddStringToObject(defs, "rel_l2", "mean over samples of ||x - x_full||_2 / ||x_full||_2 (same noise and labels)");
    cJSON_AddStringToObject(defs, "psnr", "mean over samples, images clamped to [-1,1], data range 2, dB; null if identical");
    cJSON_AddStringToObject(defs, "ssim", "mean over samples; Wang et al. 11x11 Gaussian window sigma 1.5, valid region, K1 0.01, K2 0.03, data range 2");
    cJSON_AddStringToObject(defs, "fd", "Frechet distance between Gaussians of the bundled classifier's 128-d fc1 features: samples vs fd_real_images held-out Fashion-MNIST test images (FD, not FID)");
    cJSON_AddStringToObject(defs, "class_acc", "fraction of samples the bundled classifier labels as their conditioning class");
    cJSON_AddStringToObject(defs, "flops", "2 x multiply-accumulates of the analytic per-module model, all batch rows incl. CFG; flops_speedup = full / method");
    cJSON_AddStringToObject(defs, "wall_speedup", "wall-clock of the full-compute run / this run, same process and thread count");

    /* outputs */
    if ((s = hc_mkdir_p(o->out_dir)) != HC_OK) goto done;
    char path[1024];
    if ((s = hc_path_join(path, sizeof path, o->out_dir, "grid.png")) != HC_OK) goto done;
    int cols = o->n >= 10 ? 10 : o->n;
    if ((s = hc_png_grid(path, x, o->n * c->image_channels, H, H, cols, H < 64 ? 3 : 1)) != HC_OK) goto done;
    if ((s = hc_path_join(path, sizeof path, o->out_dir, "samples.h5")) != HC_OK) goto done;
    run_id rid = {o->seed, o->steps, o->shift, o->cfg, ms.seconds, ms.macs};
    if ((s = write_samples(path, x, labels, o->n, c->image_channels, H, prov_s, &rid)) != HC_OK) goto done;
    if ((s = hc_path_join(path, sizeof path, o->out_dir, "metrics.json")) != HC_OK) goto done;
    s = hc_write_json(path, doc);
done:
    hc_traj_writer_free(rec);
    hc_sampler_free(smp);
    hc_model_close(m);
    hc_classifier_free(cls);
    free(noise);
    free(x);
    free(ref);
    free(feat);
    free(real);
    free(labels);
    free(pred);
    free(real_lab);
    free(mu);
    free(cov);
    free(mur);
    free(covr);
    cJSON_free(prov_s);
    if (s == HC_OK && metrics) *metrics = doc;
    else cJSON_Delete(doc);
    return s;
}
