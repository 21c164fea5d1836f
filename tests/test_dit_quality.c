/* test_dit_quality.c: the bundled Fashion-MNIST DiT (data/models/
 * dit_fmnist.safetensors, epsilon prediction, trained by tools/train_dit.py)
 * passes its quality floor: of 100 full-compute DDIM-50 samples (eta 0, DiT
 * respacing, CFG at the model's default guidance 2.0, labels 0..9 in turn),
 * at least 70% are labelled as their class by the bundled classifier; FD and
 * KID against real test images are printed, not bounded (too noisy at n=100
 * for a floor).  The model file and the classifier are committed, so a
 * missing one is a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "live.h"
#include "testutil.h"

#define DIT HC_TEST_DATA "/../../data/models/dit_fmnist.safetensors"
#define CLASSIFIER HC_TEST_DATA "/../../data/models/fmnist_classifier.safetensors"
#define FMNIST "/usr/share/datasets/fashion-mnist"

static double metric(const cJSON *doc, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metrics"), key);
    assert_non_null(v);
    return v->valuedouble;
}

static void quality_floor(void **state)
{
    (void)state;
    if (access(DIT, R_OK) != 0) HC_MISSING_DEP("data/models/dit_fmnist.safetensors");
    if (access(CLASSIFIER, R_OK) != 0) HC_MISSING_DEP("data/models/fmnist_classifier.safetensors");
    if (access(FMNIST "/t10k-images-idx3-ubyte.gz", R_OK) != 0)
        HC_MISSING_DEP("Debian package dataset-fashion-mnist (" FMNIST "/t10k-*)");
    hc_live_opts o;
    hc_live_defaults(&o);
    o.model_path = DIT;
    o.classifier_path = CLASSIFIER;
    o.n = 100;
    o.batch = 25;
    o.steps = 50;
    o.n_real = 1000;
    o.quiet = 1;
    o.out_dir = "dit_quality";
    hc_method full;
    assert_int_equal(hc_method_parse("full", &full), HC_OK);
    cJSON *doc;
    if (hc_live_sample(&o, &full, &doc) != HC_OK) fail_msg("%s", hc_errmsg());
    double acc = metric(doc, "class_acc");
    printf("DiT, 100 full-compute DDIM-50 samples: %.2f labelled as their class; FD %.1f [%.1f, %.1f], "
           "KID %.2f +- %.2f (kid_se)\n",
           acc, metric(doc, "fd"), metric(doc, "fd_lo"), metric(doc, "fd_hi"), metric(doc, "kid"),
           metric(doc, "kid_se"));
    assert_true(acc >= 0.7);
    cJSON_Delete(doc);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quality_floor),
    };
    return HC_RUN_TESTS(tests, NULL, NULL);
}
