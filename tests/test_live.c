/* test_live.c: closed-loop caching in the live model.  N=1 equals full
 * compute bit for bit; caching changes the result but stays close; ClusCa
 * computes fresh tokens; the same seed gives the same samples; recording
 * writes a valid schema-v1 trajectory of the full-compute run; and the
 * trained model's full-compute samples are recognisable. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include "live.h"
#include "classifier.h"
#include "fmnist.h"
#include "sampler.h"
#include "replay.h"
#include "traj.h"
#include "testutil.h"

#define TINY HC_TEST_DATA "/golden_flux_tiny.safetensors"
#define MINI HC_TEST_DATA "/../../data/models/flux_mini.safetensors"
#define CLASSIFIER HC_TEST_DATA "/../../data/models/fmnist_classifier.safetensors"
#define FMNIST "/usr/share/datasets/fashion-mnist"

enum { NI = 3, STEPS = 12 };

static float *sample(hc_model *m, const char *spec, hc_sample_stats *st)
{
    hc_model_info c;
    hc_model_get_info(m, &c);
    size_t img = (size_t)c.image_size * c.image_size;
    float *x = malloc(NI * img * sizeof *x);
    for (size_t i = 0; i < NI * img; i++) x[i] = (float)sin(0.37 * (double)i); /* fixed "noise" */
    int labels[NI] = {1, 4, 7};
    hc_method meth;
    assert_int_equal(hc_method_parse(spec, &meth), HC_OK);
    hc_sampler *s;
    assert_int_equal(hc_sampler_alloc(m, NI, &s), HC_OK);
    hc_sample_opts o = {STEPS, 2.5, 1};
    if (hc_sampler_run(s, &meth, &o, labels, NI, x, st) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
    hc_sampler_free(s);
    return x;
}

static double rel(const float *a, const float *b, size_t n)
{
    double d = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        r += (double)b[i] * b[i];
    }
    return sqrt(d / r);
}

static void caching_closed_loop(void **state)
{
    (void)state;
    hc_model *m;
    assert_int_equal(hc_model_open(TINY, 2 * NI, &m), HC_OK);
    size_t n = NI * 64;
    hc_sample_stats sf, s1, s3, sc, sr;
    float *full = sample(m, "full", &sf);
    /* N = 1: every step full, the very same computation */
    float *n1 = sample(m, "hicache:N=1,O=2", &s1);
    assert_memory_equal(full, n1, n * sizeof *full);
    float *c1 = sample(m, "clusca:base=hicache,N=1,K=4", &s1);
    assert_memory_equal(full, c1, n * sizeof *full);
    /* N = 3: cached steps change the result a little; FLOPs drop */
    float *t3 = sample(m, "taylor:N=3,O=1", &s3);
    double e3 = rel(t3, full, n);
    assert_true(e3 > 1e-6 && e3 < 0.5);
    /* 12 steps, W = 3, N = 3: full 0,1,2,5,8,11 */
    assert_int_equal(s3.full_steps, 6);
    assert_true(sf.macs / s3.macs > 1.5 && sf.macs / s3.macs < 12.0 / 6);
    /* ClusCa computes fresh MLP tokens on the current input: differs from its base */
    float *cc = sample(m, "clusca:base=taylor,N=3,O=1,K=4,gamma=0.05", &sc);
    assert_true(rel(cc, t3, n) > 1e-7);
    assert_true(rel(cc, full, n) < 0.5);
    /* reuse (order 0) is a different forecast again */
    float *r3 = sample(m, "reuse:N=3", &sr);
    assert_true(rel(r3, t3, n) > 1e-6);
    free(full); free(n1); free(c1); free(t3); free(cc); free(r3);
    hc_model_close(m);
}

static void read_samples(const char *path, float *x, size_t n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hsize_t dims[4];
    assert_true(H5LTget_dataset_info(f, "/samples", dims, NULL, NULL) >= 0);
    assert_int_equal(dims[0] * dims[1] * dims[2] * dims[3], n);
    assert_true(H5LTread_dataset_float(f, "/samples", x) >= 0);
    H5Fclose(f);
}

static void same_seed_same_samples_and_recording(void **state)
{
    (void)state;
    hc_live_opts o;
    hc_live_defaults(&o);
    o.model_path = TINY;
    o.classifier_path = "";
    o.n = 5;
    o.batch = 5;
    o.steps = 8;
    o.seed = 11;
    o.quiet = 1;
    o.out_dir = "live_a";
    o.record_path = "live_rec.h5";
    hc_method meth;
    assert_int_equal(hc_method_parse("hicache:N=3,O=2", &meth), HC_OK);
    cJSON *doc;
    if (hc_live_sample(&o, &meth, &doc) != HC_OK) fail_msg("%s", hc_errmsg());
    const cJSON *mt = cJSON_GetObjectItem(doc, "metrics");
    assert_true(cJSON_GetObjectItem(mt, "rel_l2")->valuedouble > 0);
    double rl2_a = cJSON_GetObjectItem(mt, "rel_l2")->valuedouble;
    assert_true(cJSON_GetObjectItem(mt, "flops_speedup")->valuedouble > 1);
    assert_int_equal((int)cJSON_GetObjectItem(mt, "full_steps")->valuedouble, 4); /* 0,1,2,5 */
    cJSON_Delete(doc);
    o.out_dir = "live_b";
    o.record_path = NULL;
    assert_int_equal(hc_live_sample(&o, &meth, NULL), HC_OK);
    /* a different batch split: sample i's noise does not depend on it */
    o.out_dir = "live_c";
    o.batch = 2;
    assert_int_equal(hc_live_sample(&o, &meth, NULL), HC_OK);
    float a[5 * 64], b[5 * 64], c[5 * 64];
    read_samples("live_a/samples.h5", a, 5 * 64);
    read_samples("live_b/samples.h5", b, 5 * 64);
    read_samples("live_c/samples.h5", c, 5 * 64);
    assert_memory_equal(a, b, sizeof a);
    assert_true(rel(c, a, 5 * 64) < 1e-5);
    for (const char *f = "live_a/grid.png"; f; f = NULL) assert_int_equal(access(f, R_OK), 0);
    /* a full-compute run's samples serve as the reference of later runs */
    hc_method full;
    hc_method_parse("full", &full);
    o.batch = 5;
    o.out_dir = "live_full";
    assert_int_equal(hc_live_sample(&o, &full, NULL), HC_OK);
    o.out_dir = "live_d";
    o.reference_path = "live_full/samples.h5";
    cJSON *doc2;
    assert_int_equal(hc_live_sample(&o, &meth, &doc2), HC_OK);
    assert_float_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc2, "metrics"), "rel_l2")->valuedouble, rl2_a, 0);
    cJSON_Delete(doc2);
    o.seed = 12; /* another noise: the reference no longer fits */
    assert_int_equal(hc_live_sample(&o, &meth, NULL), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "reference run differs"));
    o.seed = 11;
    o.reference_path = NULL;
    assert_int_equal(access("live_a/metrics.json", R_OK), 0);

    /* the recording: schema v1, every cache point, /hidden, /latents */
    hc_traj *t;
    if (hc_traj_open("live_rec.h5", &t) != HC_OK) fail_msg("%s", hc_errmsg());
    assert_int_equal(hc_traj_get_meta(t)->num_steps, 8);
    assert_int_equal(hc_traj_get_meta(t)->complete, 1);
    assert_int_equal(hc_traj_num_features(t), 5);
    assert_true(hc_traj_find(t, HC_ENTRY_FEATURE, "double/0/img_mlp") >= 0);
    assert_true(hc_traj_find(t, HC_ENTRY_FEATURE, "single/1/total") >= 0);
    assert_true(hc_traj_find(t, HC_ENTRY_HIDDEN, "double/0") >= 0);
    long lx = hc_traj_find(t, HC_ENTRY_LATENT, "x");
    assert_true(lx >= 0 && hc_traj_entry_at(t, (size_t)lx)->dims[0] == 9);
    assert_true(hc_traj_times(t)[0] == 1.0 && hc_traj_times(t)[7] > 0);
    hc_traj_close(t);
    /* replay on the recording: N=1 is exact, caching is not */
    const char *files[] = {"live_rec.h5"};
    hc_method ms[2];
    hc_method_parse("taylor:N=1", &ms[0]);
    hc_method_parse("taylor:N=3,O=1", &ms[1]);
    hc_replay_opts ro = {.files = files, .n_files = 1, .methods = ms, .n_methods = 2, .out_dir = "live_replay", .quiet = 1};
    cJSON *sum;
    assert_int_equal(hc_replay_run(&ro, &sum), HC_OK);
    const cJSON *m1 = cJSON_GetArrayItem(cJSON_GetObjectItem(sum, "methods"), 1);
    const cJSON *l2 = cJSON_GetObjectItem(cJSON_GetObjectItem(m1, "metrics"), "rel_l2");
    assert_true(cJSON_GetObjectItem(l2, "mean")->valuedouble > 0);
    cJSON_Delete(sum);
    remove("live_rec.h5");
}

/* the bundled model: full-compute samples are recognisable (>= 70% labelled
 * as their class by the bundled classifier), and the classifier itself is
 * accurate on real held-out images */
static void trained_model_quality(void **state)
{
    (void)state;
    if (access(MINI, R_OK) != 0) HC_MISSING_DEP("data/models/flux_mini.safetensors");
    if (access(CLASSIFIER, R_OK) != 0) HC_MISSING_DEP("data/models/fmnist_classifier.safetensors");
    if (access(FMNIST "/t10k-images-idx3-ubyte.gz", R_OK) != 0 ||
        access(FMNIST "/t10k-labels-idx1-ubyte.gz", R_OK) != 0)
        HC_MISSING_DEP("Debian package dataset-fashion-mnist (" FMNIST "/t10k-*)");
    float *img;
    int *lab, n;
    if (hc_fmnist_read(FMNIST, "t10k", 1000, &img, &lab, &n) != HC_OK) fail_msg("%s", hc_errmsg());
    hc_classifier *cls;
    assert_int_equal(hc_classifier_load(CLASSIFIER, &cls), HC_OK);
    int *pred = malloc((size_t)n * sizeof *pred), ok = 0;
    hc_classifier_run(cls, img, n, NULL, pred);
    for (int i = 0; i < n; i++) ok += pred[i] == lab[i];
    printf("classifier accuracy on %d real test images: %.3f\n", n, (double)ok / n);
    assert_true((double)ok / n >= 0.88);
    hc_classifier_free(cls);
    free(img); free(lab); free(pred);

    hc_live_opts o;
    hc_live_defaults(&o);
    o.model_path = MINI;
    o.classifier_path = CLASSIFIER;
    o.n = 20;
    o.batch = 20;
    o.n_real = 500;
    o.quiet = 1;
    o.out_dir = "live_mini";
    hc_method full;
    hc_method_parse("full", &full);
    cJSON *doc;
    if (hc_live_sample(&o, &full, &doc) != HC_OK) fail_msg("%s", hc_errmsg());
    double acc = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metrics"), "class_acc")->valuedouble;
    printf("full-compute samples labelled as their class: %.2f\n", acc);
    assert_true(acc >= 0.7);
    cJSON_Delete(doc);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(caching_closed_loop),
        cmocka_unit_test(same_seed_same_samples_and_recording),
        cmocka_unit_test(trained_model_quality),
    };
    return HC_RUN_TESTS(tests, NULL, NULL);
}
