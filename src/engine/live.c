/* live.c: live sampling engine and quality metrics (see live.h). */
#include "live.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include "classifier.h"
#include "memory.h"
#include "model.h"
#include "fmnist.h"
#include "quality.h"
#include "sampler.h"
#include "stats.h"
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
        if (st.cache_bytes > tot->cache_bytes) tot->cache_bytes = st.cache_bytes;
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

/* The samples file is built in memory (HDF5's core driver without a
 * backing store) and written through outfile.h: a full disk is then an
 * ordinary write error of our own, never an HDF5 file whose close failed
 * (which HDF5 1.10 crashes on at exit). */
static hc_status write_samples(hc_outset *set, const char *path, const float *x, const int *labels, int n, int C, int H,
                               const char *prov, const run_id *id)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        return hc_fail(HC_EIO, "%s: cannot set up the in-memory HDF5 file", path);
    }
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) return hc_fail(HC_EIO, "%s: cannot create", path);
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
    if (r >= 0) r = H5Fflush(f, H5F_SCOPE_GLOBAL);
    ssize_t size = r >= 0 ? H5Fget_file_image(f, NULL, 0) : -1;
    void *image = size > 0 ? malloc((size_t)size) : NULL;
    if (image && H5Fget_file_image(f, image, (size_t)size) != size) size = -1;
    H5Fclose(f);
    hc_status st = HC_OK;
    if (size <= 0) st = hc_fail(HC_EIO, "%s: building the samples file failed", path);
    else if (!image) st = hc_fail(HC_ENOMEM, "out of memory for %s", path);
    hc_outfile *of = NULL;
    if (st == HC_OK) st = hc_outfile_open_in(set, path, &of);
    if (st == HC_OK) {
        fwrite(image, 1, (size_t)size, hc_outfile_fp(of));
        st = hc_outfile_commit(of);
    }
    free(image);
    return st;
}

void hc_live_ref_free(hc_live_ref *r)
{
    if (!r) return;
    free(r->samples);
    free(r->labels);
    free(r);
}

static hc_live_ref *ref_alloc(int n, int C, int H)
{
    hc_live_ref *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->n = n;
    r->channels = C;
    r->size = H;
    r->samples = malloc((size_t)n * C * H * H * sizeof *r->samples);
    r->labels = malloc((size_t)n * sizeof *r->labels);
    if (!r->samples || !r->labels) {
        hc_live_ref_free(r);
        return NULL;
    }
    return r;
}

/* Load a reference run's samples and its cost, checking that it was
 * sampled with the same noise, labels and sampler settings. */
hc_status hc_live_read_reference(const char *p, const hc_live_opts *o, const int *labels, hc_live_ref **out)
{
    *out = NULL;
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return hc_fail(HC_EIO, "%s: cannot open the reference samples", p);
    hsize_t dims[4] = {0}, ldim = 0;
    int rs = 0, rl = 0;
    if (H5LTget_dataset_ndims(f, "/samples", &rs) < 0 || rs != 4 || H5LTget_dataset_ndims(f, "/labels", &rl) < 0 ||
        rl != 1 || H5LTget_dataset_info(f, "/labels", &ldim, NULL, NULL) < 0 || ldim != (hsize_t)o->n ||
        H5LTget_dataset_info(f, "/samples", dims, NULL, NULL) < 0 || dims[0] != (hsize_t)o->n || dims[2] != dims[3] ||
        dims[1] < 1 || dims[1] > 64 || dims[2] < 1 || dims[2] > 4096) {
        H5Fclose(f);
        return hc_fail(HC_EFORMAT, "%s: expected /samples [n, C, H, W] and /labels [n] with n = %d", p, o->n);
    }
    double seed = -1, steps = -1, shift = -1, cfg = -1, seconds = 0, macs = 0;
    hc_live_ref *r = ref_alloc(o->n, (int)dims[1], (int)dims[2]);
    hc_status s = HC_OK;
    if (!r) s = hc_fail(HC_ENOMEM, "out of memory");
    else if (H5LTget_attribute_double(f, "/", "seed", &seed) < 0 || H5LTget_attribute_double(f, "/", "steps", &steps) < 0 ||
             H5LTget_attribute_double(f, "/", "time_shift", &shift) < 0 ||
             H5LTget_attribute_double(f, "/", "guidance", &cfg) < 0 ||
             H5LTget_attribute_double(f, "/", "seconds", &seconds) < 0 || H5LTget_attribute_double(f, "/", "macs", &macs) < 0)
        s = hc_fail(HC_EFORMAT, "%s: not a hicache samples file with run attributes", p);
    else if (seed != (double)o->seed || steps != o->steps || shift != o->shift || cfg != o->cfg)
        s = hc_fail(HC_EINVAL, "%s: reference run differs (n, image size, seed, steps, shift or guidance)", p);
    else if (H5LTread_dataset_int(f, "/labels", r->labels) < 0 || H5LTread_dataset_float(f, "/samples", r->samples) < 0)
        s = hc_fail(HC_EFORMAT, "%s: cannot read /samples or /labels", p);
    else if (memcmp(r->labels, labels, (size_t)o->n * sizeof *labels) != 0)
        s = hc_fail(HC_EINVAL, "%s: reference run has other labels", p);
    H5Fclose(f);
    if (s != HC_OK) {
        hc_live_ref_free(r);
        return s;
    }
    r->seed = o->seed;
    r->steps = o->steps;
    r->shift = o->shift;
    r->cfg = o->cfg;
    r->seconds = seconds;
    r->macs = macs;
    *out = r;
    return HC_OK;
}


/* The provenance of a run: resolved config, noise, labels, the model's metadata. */
static cJSON *run_provenance(const hc_live_opts *o, const hc_method *method, int batch, const int *labels,
                             const hc_model *m)
{
    cJSON *prov = hc_provenance_json();
    cJSON *cfg = cJSON_AddObjectToObject(prov, "config");
    char desc[512];
    hc_method_describe(method, desc, sizeof desc);
    cJSON_AddStringToObject(cfg, "command", "sample");
    cJSON_AddStringToObject(cfg, "method", method->spec);
    cJSON_AddStringToObject(cfg, "method_resolved", desc);
    cJSON_AddStringToObject(cfg, "model", o->model_path);
    cJSON_AddNumberToObject(cfg, "n", o->n);
    cJSON_AddNumberToObject(cfg, "batch", batch);
    cJSON_AddNumberToObject(cfg, "steps", o->steps);
    cJSON_AddNumberToObject(cfg, "guidance", o->cfg);
    hc_model_info info;
    hc_model_get_info(m, &info);
    if (strcmp(info.sampler, "rf-euler") == 0) cJSON_AddBoolToObject(cfg, "time_shift", o->shift);
    else cJSON_AddStringToObject(cfg, "sampler", info.sampler); /* ddim: no time shift */
    cJSON_AddNumberToObject(cfg, "seed", (double)o->seed);
    cJSON_AddStringToObject(cfg, "noise", "sample i: gsl mt19937 seeded seed*1000003+i, ziggurat N(0,1)");
    cJSON_AddItemToObject(cfg, "labels", cJSON_CreateIntArray(labels, o->n));
    cJSON_AddItemToObject(prov, "model_metadata", cJSON_Duplicate(m->meta, 1));
    return prov;
}

/* Noise of sample i: a GSL mt19937 stream seeded seed * 1000003 + i. */
static hc_status make_noise(const hc_live_opts *o, const hc_model_info *c, float *noise, int *labels)
{
    size_t img = (size_t)c->image_channels * c->image_size * c->image_size;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) return hc_fail(HC_ENOMEM, "out of memory");
    hc_status s = HC_OK;
    for (int i = 0; i < o->n && s == HC_OK; i++) {
        gsl_rng_set(rng, o->seed * 1000003UL + (unsigned long)i);
        for (size_t k = 0; k < img; k++) noise[(size_t)i * img + k] = (float)gsl_ran_gaussian_ziggurat(rng, 1.0);
        labels[i] = o->labels ? o->labels[i] : i % c->num_classes;
        if (labels[i] < 0 || labels[i] >= c->num_classes)
            s = hc_fail(HC_EINVAL, "label %d out of range [0, %d)", labels[i], c->num_classes);
    }
    gsl_rng_free(rng);
    return s;
}

/* Open the trajectory writer of the reference run. */
static hc_status open_recording(const hc_live_opts *o, const hc_model_info *info, const int *labels, const char *prov,
                                hc_traj_writer **rec)
{
    hc_traj_meta meta = {0};
    snprintf(meta.model, sizeof meta.model, "%s (%s)", info->arch, o->model_path);
    if (strcmp(info->sampler, "ddim") == 0)
        snprintf(meta.sampler, sizeof meta.sampler, "ddim eta 0, DiT respacing of %d DDPM steps, cfg %g on %d channels, "
                 "batch [cond; uncond]", info->num_train_timesteps, o->cfg, info->cfg_channels);
    else
        snprintf(meta.sampler, sizeof meta.sampler, "euler rectified flow, %s, cfg %g, batch [cond; uncond]",
                 o->shift ? "FLUX time shift" : "no shift", o->cfg);
    meta.num_steps = o->steps;
    meta.has_seed = 1;
    meta.seed = (int64_t)(o->seed * 1000003UL);
    if (info->num_classes == 10) /* Fashion-MNIST's class names */
        snprintf(meta.label, sizeof meta.label, "%d %s", labels[0], hc_fmnist_classes[labels[0] % 10]);
    else
        snprintf(meta.label, sizeof meta.label, "%d", labels[0]);
    meta.has_guidance = 1;
    meta.guidance = o->cfg;
    hc_traj_write_opts wo = {o->record_f16 ? HC_F16 : HC_F32, o->record_deflate};
    return hc_traj_writer_open(o->record_path, &meta, &wo, prov, rec);
}

/* Fidelity of every sample against its reference, and the means. */
static void score(hc_live_result *r)
{
    const size_t img = (size_t)r->channels * r->size * r->size;
    const int H = r->size;
    double rl2 = 0, psnr = 0, ssim = 0;
    for (int i = 0; i < r->n; i++) {
        const float *a = r->samples + (size_t)i * img, *b = r->reference->samples + (size_t)i * img;
        hc_live_image *im = &r->images[i];
        double d2 = 0, r2 = 0;
        for (size_t k = 0; k < img; k++) {
            d2 += ((double)a[k] - b[k]) * ((double)a[k] - b[k]);
            r2 += (double)b[k] * b[k];
        }
        im->rel_l2 = sqrt(d2 / fmax(r2, 1e-30));
        im->psnr = hc_psnr(a, b, img);
        double ss = 0;
        for (int ch = 0; ch < r->channels; ch++) ss += hc_ssim(a + (size_t)ch * H * H, b + (size_t)ch * H * H, H, H);
        im->ssim = ss / r->channels;
        rl2 += im->rel_l2;
        psnr += im->psnr;
        ssim += im->ssim;
    }
    r->rel_l2 = rl2 / r->n;
    r->psnr = psnr / r->n;
    r->ssim = ssim / r->n;
}

/* The FD's bootstrap interval over the samples and the KID of the samples'
 * features feat [n, 128] against the real ones rf [nr, 128] (stats.h). */
static hc_status fd_kid(hc_live_result *r, const float *feat, const float *rf, int nr, const double *mur,
                        const double *covr)
{
    int *idx = malloc((size_t)r->n * HC_BOOT_B * sizeof *idx);
    if (!idx) return hc_fail(HC_ENOMEM, "out of memory");
    double point;
    hc_boot_indices(r->n, HC_BOOT_B, HC_BOOT_SEED, idx);
    hc_status s = hc_fd_boot(feat, r->n, HC_CLS_FEATURES, mur, covr, idx, HC_BOOT_B, HC_BOOT_LEVEL, &point, &r->fd_lo,
                             &r->fd_hi);
    free(idx);
    if (s == HC_OK) s = hc_kid(feat, r->n, rf, nr, HC_CLS_FEATURES, &r->kid, &r->kid_se);
    return s;
}

/* The classifier and the real test images FD and KID are measured against,
 * loaded before sampling, so a bad path fails at once (and before --record
 * writes anything). */
typedef struct scorer {
    hc_classifier *cls;
    float *real; /* [nr, 1, 28, 28] float32 in [-1, 1] */
    int *real_lab, nr;
} scorer;

static void scorer_free(scorer *sc)
{
    hc_classifier_free(sc->cls);
    free(sc->real);
    free(sc->real_lab);
    *sc = (scorer){0};
}

static hc_status scorer_open(const hc_live_opts *o, scorer *sc)
{
    hc_status s = hc_classifier_load(o->classifier_path, &sc->cls);
    if (s == HC_OK) s = hc_fmnist_read(o->data_dir, "t10k", o->n_real, &sc->real, &sc->real_lab, &sc->nr);
    if (s != HC_OK) scorer_free(sc);
    return s;
}

/* Class accuracy of samples and reference; FD of the samples against real
 * held-out images. */
static hc_status classify(const scorer *sc, hc_live_result *r)
{
    hc_classifier *cls = sc->cls;
    float *feat = NULL, *rf = NULL;
    int *pred = NULL, nr = sc->nr;
    double *mu = NULL, *cov = NULL, *mur = NULL, *covr = NULL;
    hc_status s = HC_OK;
    feat = malloc((size_t)r->n * HC_CLS_FEATURES * sizeof *feat);
    pred = malloc((size_t)r->n * sizeof *pred);
    mu = malloc(HC_CLS_FEATURES * sizeof *mu);
    cov = malloc(HC_CLS_FEATURES * HC_CLS_FEATURES * sizeof *cov);
    mur = malloc(HC_CLS_FEATURES * sizeof *mur);
    covr = malloc(HC_CLS_FEATURES * HC_CLS_FEATURES * sizeof *covr);
    if (!feat || !pred || !mu || !cov || !mur || !covr) s = hc_fail(HC_ENOMEM, "out of memory");
    if (s == HC_OK) s = hc_classifier_run(cls, r->samples, r->n, feat, pred);
    int correct = 0;
    for (int i = 0; i < r->n && s == HC_OK; i++) {
        r->images[i].predicted = pred[i];
        correct += pred[i] == r->images[i].label;
    }
    r->class_acc = (double)correct / r->n;
    if (s == HC_OK && !(rf = malloc((size_t)nr * HC_CLS_FEATURES * sizeof *rf))) s = hc_fail(HC_ENOMEM, "out of memory");
    if (s == HC_OK) {
        hc_classifier_run(cls, sc->real, nr, rf, NULL);
        s = hc_feature_stats(rf, nr, HC_CLS_FEATURES, mur, covr);
    }
    r->fd = r->fd_lo = r->fd_hi = r->kid = r->kid_se = NAN;
    if (s == HC_OK && r->n >= 2) s = hc_feature_stats(feat, r->n, HC_CLS_FEATURES, mu, cov);
    if (s == HC_OK && r->n >= 2) s = hc_frechet(mu, cov, mur, covr, HC_CLS_FEATURES, &r->fd);
    r->fd_real_images = nr;
    if (s == HC_OK && r->n >= 2) s = fd_kid(r, feat, rf, nr, mur, covr);
    if (s == HC_OK) { /* class accuracy of the full-compute reference, for comparison */
        hc_classifier_run(cls, r->reference->samples, r->n, NULL, pred);
        correct = 0;
        for (int i = 0; i < r->n; i++) correct += pred[i] == r->images[i].label;
        r->class_acc_full = (double)correct / r->n;
        r->classified = 1;
    }
    free(feat);
    free(pred);
    free(rf);
    free(mu);
    free(cov);
    free(mur);
    free(covr);
    return s;
}

void hc_live_result_free(hc_live_result *r)
{
    if (!r) return;
    free(r->samples);
    free(r->images);
    hc_live_ref_free(r->reference);
    cJSON_Delete(r->provenance);
    free(r);
}

static hc_live_ref *ref_copy(const hc_live_ref *g)
{
    hc_live_ref *r = ref_alloc(g->n, g->channels, g->size);
    if (!r) return NULL;
    float *smp = r->samples;
    int *lab = r->labels;
    *r = *g;
    r->samples = smp;
    r->labels = lab;
    memcpy(r->samples, g->samples, (size_t)g->n * g->channels * g->size * g->size * sizeof *smp);
    memcpy(r->labels, g->labels, (size_t)g->n * sizeof *lab);
    return r;
}

/* The reference: given (in memory or a samples file), or full compute at
 * o->steps, recorded if asked. */
static hc_status reference_run(const hc_live_opts *o, hc_sampler *smp, const hc_model_info *info, const float *noise,
                               const int *labels, const char *prov, hc_live_result *r)
{
    const int C = info->image_channels, H = info->image_size;
    const hc_live_ref *given = o->record_path ? NULL : o->reference;
    if (given) {
        if (given->n != o->n || given->channels != C || given->size != H || given->seed != o->seed ||
            given->shift != o->shift || given->cfg != o->cfg || memcmp(given->labels, labels, (size_t)o->n * sizeof *labels))
            return hc_fail(HC_EINVAL, "reference run differs (n, image size, labels, seed, shift or guidance)");
        if (!(r->reference = ref_copy(given))) return hc_fail(HC_ENOMEM, "out of memory");
        return HC_OK;
    }
    if (o->reference_path && !o->record_path) return hc_live_read_reference(o->reference_path, o, labels, &r->reference);
    if (!(r->reference = ref_alloc(o->n, C, H))) return hc_fail(HC_ENOMEM, "out of memory");
    hc_live_ref *ref = r->reference;
    memcpy(ref->samples, noise, (size_t)o->n * C * H * H * sizeof *noise);
    memcpy(ref->labels, labels, (size_t)o->n * sizeof *labels);
    *ref = (hc_live_ref){ref->n, C, H, ref->samples, ref->labels, o->seed, o->steps, o->shift, o->cfg, 0, 0};
    hc_traj_writer *rec = NULL;
    if (o->record_path) {
        HC_TRY(open_recording(o, info, labels, prov, &rec));
        hc_status s = hc_sampler_record(smp, rec, o->record_glob);
        if (s != HC_OK) {
            hc_traj_writer_free(rec);
            return s;
        }
    }
    hc_method full;
    hc_method_parse("full", &full);
    if (!o->quiet) fprintf(stderr, "sample: full compute, %d images x %d steps\n", o->n, o->steps);
    hc_sample_stats fs;
    hc_status s = run_all(smp, &full, o, labels, ref->samples, (size_t)C * H * H, &fs);
    hc_sampler_record(smp, NULL, NULL);
    ref->macs = fs.macs;
    ref->seconds = fs.seconds;
    if (rec && s == HC_OK) return hc_traj_writer_finish(rec);
    hc_traj_writer_free(rec);
    return s;
}

/* The images' working set, planned before it is allocated: noise, the
 * method's samples, the reference, and the copies the outputs make (the
 * model's own workspace is sized by the batch, not by n). */
static hc_status check_memory(const hc_live_opts *o, const hc_model_info *info, size_t N)
{
    size_t cap = hc_memory_cap(o->max_memory);
    double need = 4.0 * (double)N * sizeof(float) + (double)o->n * (sizeof(hc_live_image) + 2 * sizeof(int));
    if (need <= (double)cap) return HC_OK;
    char a[32], b[32];
    hc_format_bytes(need < 9e18 ? (size_t)need : SIZE_MAX, a, sizeof a);
    hc_format_bytes(cap, b, sizeof b);
    return hc_fail(HC_ENOMEM, "%d images of %dx%dx%d need about %s, over the memory limit of %s (%s)", o->n,
                   info->image_channels, info->image_size, info->image_size, a, b,
                   o->max_memory ? "--max-memory" : "half of physical memory; --max-memory raises it");
}

hc_status hc_live_compute(const hc_live_opts *o, const hc_method *method, hc_live_result **out)
{
    *out = NULL;
    if (o->n < 1 || o->batch < 1 || o->steps < 1)
        return hc_fail(HC_EINVAL, "n, batch and steps must be >= 1 (got %d, %d, %d)", o->n, o->batch, o->steps);
    hc_model *m = NULL;
    hc_sampler *smp = NULL;
    scorer sc = {0};
    float *noise = NULL;
    char *prov_s = NULL;
    hc_live_result *r = calloc(1, sizeof *r);
    int batch = o->batch < o->n ? o->batch : o->n;
    hc_status s = r ? hc_model_open(o->model_path, 2 * batch, &m) : hc_fail(HC_ENOMEM, "out of memory");
    if (s != HC_OK) goto done;
    hc_model_info info;
    hc_model_get_info(m, &info);
    size_t img = (size_t)info.image_channels * info.image_size * info.image_size, N = (size_t)o->n * img;
    if ((s = check_memory(o, &info, N)) != HC_OK) goto done;
    if (o->classifier_path && o->classifier_path[0] && (info.image_channels != 1 || info.image_size != 28)) {
        s = hc_fail(HC_EINVAL, "%s samples %dx%dx%d images; the classifier reads 1x28x28 Fashion-MNIST "
                    "(--classifier '' skips class_acc and FD)", o->model_path, info.image_channels, info.image_size,
                    info.image_size);
        goto done;
    }
    if (o->classifier_path && o->classifier_path[0] && (s = scorer_open(o, &sc)) != HC_OK) goto done;
    if ((s = hc_sampler_alloc(m, batch, &smp)) != HC_OK) goto done;
    r->method = *method;
    r->n = o->n;
    r->channels = info.image_channels;
    r->size = info.image_size;
    noise = malloc(N * sizeof *noise);
    r->samples = malloc(N * sizeof *r->samples);
    r->images = calloc((size_t)o->n, sizeof *r->images);
    int *labels = malloc((size_t)o->n * sizeof *labels);
    if (!noise || !r->samples || !r->images || !labels) {
        free(labels);
        s = hc_fail(HC_ENOMEM, "out of memory for %d samples", o->n);
        goto done;
    }
    s = make_noise(o, &info, noise, labels);
    for (int i = 0; i < o->n; i++) r->images[i] = (hc_live_image){.label = labels[i], .predicted = -1};
    hc_live_opts oo = *o;
    oo.batch = batch;
    if (s == HC_OK) {
        r->provenance = run_provenance(o, method, batch, labels, m);
        prov_s = cJSON_PrintUnformatted(r->provenance);
        s = reference_run(&oo, smp, &info, noise, labels, prov_s, r);
    }
    free(labels);
    if (s != HC_OK) goto done;
    if (o->reference_path && !o->record_path && !o->reference)
        cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(r->provenance, "config"), "reference", o->reference_path);
    hc_method_label(method, r->label, sizeof r->label);
    hc_sample_stats ms = {0};
    if ((hc_method_caps(method) & HC_PRED_NO_CACHE) && r->reference->steps == o->steps) {
        memcpy(r->samples, r->reference->samples, N * sizeof *r->samples);
        ms = (hc_sample_stats){o->steps, o->steps, r->reference->macs, r->reference->seconds, 0, 0};
    } else {
        char desc[512];
        hc_method_describe(method, desc, sizeof desc);
        if (!o->quiet) fprintf(stderr, "sample: %s\n", desc);
        memcpy(r->samples, noise, N * sizeof *noise);
        if ((s = run_all(smp, method, &oo, r->reference->labels, r->samples, img, &ms)) != HC_OK) goto done;
    }
    r->full_steps = ms.full_steps;
    r->steps = ms.steps;
    r->macs = ms.macs;
    r->seconds = ms.seconds;
    r->cache_bytes = ms.cache_bytes;
    r->threads = openblas_get_num_threads();
    score(r);
    if (sc.cls) s = classify(&sc, r);
done:
    scorer_free(&sc);
    hc_sampler_free(smp);
    hc_model_close(m);
    free(noise);
    cJSON_free(prov_s);
    if (s != HC_OK) {
        hc_live_result_free(r);
        return s;
    }
    *out = r;
    return HC_OK;
}

static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

cJSON *hc_live_metrics_json(const hc_live_result *r)
{
    const hc_live_ref *f = r->reference;
    cJSON *mt = cJSON_CreateObject();
    add_num(mt, "rel_l2", r->rel_l2);
    add_num(mt, "psnr", r->psnr);
    add_num(mt, "ssim", r->ssim);
    cJSON_AddNumberToObject(mt, "full_steps", r->full_steps);
    cJSON_AddNumberToObject(mt, "steps", r->steps);
    cJSON_AddNumberToObject(mt, "cache_mib", (double)r->cache_bytes / 1048576.0);
    cJSON_AddNumberToObject(mt, "flops", 2 * r->macs);
    cJSON_AddNumberToObject(mt, "flops_full", 2 * f->macs);
    cJSON_AddNumberToObject(mt, "flops_speedup", f->macs / r->macs);
    cJSON_AddNumberToObject(mt, "seconds", r->seconds);
    cJSON_AddNumberToObject(mt, "seconds_full", f->seconds);
    cJSON_AddNumberToObject(mt, "wall_speedup", f->seconds / r->seconds);
    cJSON_AddNumberToObject(mt, "threads", r->threads);
    if (r->classified) {
        cJSON_AddNumberToObject(mt, "class_acc", r->class_acc);
        add_num(mt, "fd", r->fd);
        cJSON_AddNumberToObject(mt, "fd_real_images", r->fd_real_images);
        cJSON_AddNumberToObject(mt, "class_acc_full", r->class_acc_full);
        add_num(mt, "fd_lo", r->fd_lo);
        add_num(mt, "fd_hi", r->fd_hi);
        cJSON_AddNumberToObject(mt, "fd_n", r->n);
        add_num(mt, "kid", r->kid);
        add_num(mt, "kid_se", r->kid_se);
    }
    return mt;
}

cJSON *hc_live_document(const hc_live_result *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "provenance", cJSON_Duplicate(r->provenance, 1));
    cJSON_AddStringToObject(doc, "method", r->method.spec);
    cJSON_AddStringToObject(doc, "label", r->label);
    cJSON_AddItemToObject(doc, "metrics", hc_live_metrics_json(r));
    cJSON *defs = cJSON_AddObjectToObject(doc, "definitions");
    cJSON_AddStringToObject(defs, "rel_l2", "mean over samples of ||x - x_full||_2 / ||x_full||_2 (same noise and labels)");
    cJSON_AddStringToObject(defs, "psnr", "mean over samples, images clamped to [-1,1], data range 2, dB; null if identical");
    cJSON_AddStringToObject(defs, "ssim", "mean over samples; Wang et al. 11x11 Gaussian window sigma 1.5, valid region, K1 0.01, K2 0.03, data range 2");
    cJSON_AddStringToObject(defs, "fd", "Frechet distance between Gaussians of the bundled classifier's 128-d fc1 features: samples vs fd_real_images held-out Fashion-MNIST test images (FD, not FID)");
    cJSON_AddStringToObject(defs, "fd_lo", "fd_lo, fd_hi: 95% percentile-bootstrap interval of the FD over the fd_n samples (2000 resamples, real-image statistics fixed)");
    cJSON_AddStringToObject(defs, "kid", "unbiased KID (MMD^2, kernel (a.b/128 + 1)^3) of the same features against the same real images; kid_se: first-order U-statistic standard error");
    cJSON_AddStringToObject(defs, "class_acc", "fraction of samples the bundled classifier labels as their conditioning class");
    cJSON_AddStringToObject(defs, "flops", "2 x multiply-accumulates of the analytic per-module model, all batch rows incl. CFG; flops_speedup = full / method");
    cJSON_AddStringToObject(defs, "wall_speedup", "wall-clock of the full-compute run / this run, same process and thread count");
    return doc;
}

/* grid.png, samples.h5 and metrics.json as one output set: a failure
 * leaves none of them under its final name. */
hc_status hc_live_write(const hc_live_opts *o, const hc_live_result *r)
{
    HC_TRY(hc_mkdir_p(o->out_dir));
    char path[1024];
    const int H = r->size;
    hc_outset *set;
    HC_TRY(hc_outset_new(&set));
    hc_status s = hc_path_join(path, sizeof path, o->out_dir, "grid.png");
    int cols = r->n >= 10 ? 10 : r->n;
    if (s == HC_OK) s = hc_png_grid(set, path, r->samples, r->n * r->channels, H, H, cols, H < 64 ? 3 : 1);
    if (s == HC_OK) s = hc_path_join(path, sizeof path, o->out_dir, "samples.h5");
    char *prov_s = s == HC_OK ? cJSON_PrintUnformatted(r->provenance) : NULL;
    run_id rid = {o->seed, r->steps, o->shift, o->cfg, r->seconds, r->macs};
    int *labels = s == HC_OK ? malloc((size_t)r->n * sizeof *labels) : NULL;
    if (s == HC_OK && (!labels || !prov_s)) s = hc_fail(HC_ENOMEM, "out of memory");
    for (int i = 0; s == HC_OK && i < r->n; i++) labels[i] = r->images[i].label;
    if (s == HC_OK) s = write_samples(set, path, r->samples, labels, r->n, r->channels, H, prov_s, &rid);
    free(labels);
    cJSON_free(prov_s);
    if (s == HC_OK) s = hc_path_join(path, sizeof path, o->out_dir, "metrics.json");
    if (s == HC_OK) {
        cJSON *doc = hc_live_document(r);
        s = hc_write_json_in(set, path, doc);
        cJSON_Delete(doc);
    }
    return hc_outset_finish(set, s);
}

hc_status hc_live_sample(const hc_live_opts *o, const hc_method *method, cJSON **metrics)
{
    if (metrics) *metrics = NULL;
    hc_live_result *r = NULL;
    HC_TRY(hc_live_compute(o, method, &r));
    hc_status s = hc_live_write(o, r);
    if (s == HC_OK && metrics) *metrics = hc_live_document(r);
    hc_live_result_free(r);
    return s;
}
