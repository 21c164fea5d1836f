/* test_dit.c: the DiT model type and the ddim sampler, mostly on synthetic
 * weights: the count-down schedule's full-step table against a direct
 * simulation of TaylorSeer-DiT's cal_type, config errors, DiT's respaced grid
 * against numpy, the DiT-XL/2 MACs against the DiT paper, N = 1 equal to
 * full compute bit for bit (synthetic and golden tiny weights), cached
 * sampling on the model's own cost, ClusCa's fresh MLP rows against the
 * full forward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <gsl/gsl_randist.h>

#include "model.h"
#include "predictor.h"
#include "sampler.h"
#include "testutil.h"

/* A config object: tiny (4-channel 8x8 latent, p 2, hidden 64, depth 2,
 * 4 heads, learn_sigma, 10 classes) or DiT-XL/2 at 256^2. */
static cJSON *config(int xl)
{
    char s[1024];
    snprintf(s, sizeof s,
             "{\"arch\": \"dit\", \"input_size\": %d, \"in_channels\": 4, \"patch_size\": 2, \"hidden_size\": %d,"
             " \"depth\": %d, \"num_heads\": %d, \"mlp_ratio\": 4.0, \"num_classes\": %d, \"learn_sigma\": true,"
             " \"class_dropout_prob\": 0.1, \"freq_dim\": 256, \"ln_eps\": 1e-06, \"prediction\": \"epsilon\","
             " \"diffusion\": {\"num_train_timesteps\": 1000, \"beta_schedule\": \"linear\", \"beta_start\": 0.0001,"
             " \"beta_end\": 0.02}, \"cfg_channels\": 3, \"default_guidance\": 1.5}",
             xl ? 32 : 8, xl ? 1152 : 64, xl ? 28 : 2, xl ? 16 : 4, xl ? 1000 : 10);
    cJSON *c = cJSON_Parse(s);
    assert_non_null(c);
    return c;
}

/* TaylorSeer-DiT's cal_type, simulated as written: the loop runs
 * current step = S-1 .. 0; full when step > S - first_enhance - 1 or the
 * counter has reached interval - 1; the counter resets at a full step and
 * advances at a cached one.  full[s] in sampling order. */
static int official_dit(int S, int interval, int first_enhance, unsigned char *full)
{
    int counter = 0, n = 0;
    for (int step = S - 1; step >= 0; step--) {
        int f = step > S - first_enhance - 1 || counter == interval - 1;
        counter = f ? 0 : counter + 1;
        full[S - 1 - step] = (unsigned char)f;
        n += f;
    }
    return n;
}

static void schedule_table(void **state)
{
    (void)state;
    /* baselines.md 1.1: DiT W = 2, S = 50 */
    static const int want[11] = {0, 50, 26, 18, 14, 11, 10, 8, 8, 7, 6};
    unsigned char full[50], ref[50];
    printf("sched=dit, S = 50, W = 2: full steps in sampling order (count-down index t = 49 - s)\n");
    for (int N = 1; N <= 10; N++) {
        hc_schedule sc = {HC_SCHED_DIT, N, 2};
        int n = hc_schedule_mask(&sc, 50, full);
        assert_int_equal(n, official_dit(50, N, 2, ref));
        assert_memory_equal(full, ref, 50);
        assert_int_equal(n, want[N]);
        printf("N=%-2d %2d full (%.2fx):", N, n, 50.0 / n);
        for (int s = 0; s < 50; s++)
            if (full[s]) printf(" %d", s);
        printf("\n");
    }
    /* N = 4: steps 0, 1, then every 4th: 5, 9, ..., 49 */
    hc_schedule sc = {HC_SCHED_DIT, 4, 2};
    hc_schedule_mask(&sc, 50, full);
    for (int s = 0; s < 50; s++) assert_int_equal(full[s], s < 2 || (s - 1) % 4 == 0);
    /* the derivative recursion starts at the second full step (step > W - 2) */
    assert_false(hc_schedule_updates_derivatives(&sc, 0));
    assert_true(hc_schedule_updates_derivatives(&sc, 1));
}

static void respaced_grid(void **state)
{
    (void)state;
    cJSON *cj = config(0);
    hc_model_config *mc;
    assert_int_equal(hc_model_config_parse("tiny", cj, &mc), HC_OK);
    hc_model_info info;
    mc->type->info(mc->cfg, &info);
    assert_string_equal(info.sampler, "ddim");
    assert_int_equal(info.out_channels, 8);
    /* numpy: space_timesteps(1000, "50") (live_model.md 2a) */
    static const int g50[50] = {0,   20,  41,  61,  82,  102, 122, 143, 163, 183, 204, 224, 245, 265, 285, 306, 326,
                                347, 367, 387, 408, 428, 449, 469, 489, 510, 530, 550, 571, 591, 612, 632, 652, 673,
                                693, 714, 734, 754, 775, 795, 816, 836, 856, 877, 897, 917, 938, 958, 979, 999};
    double tau[50], ab[50], abp[50];
    assert_int_equal(hc_ddim_grid(&info, 50, tau, ab, abp), HC_OK);
    for (int s = 0; s < 50; s++) assert_true(tau[s] == g50[49 - s]);
    /* numpy: cumprod(1 - linspace(1e-4, 0.02, 1000))[[999, 0]] */
    check_close(ab[0], 4.035829765375676e-05, 0, 1e-12, "abar", "t=999");
    check_close(ab[49], 0.9999, 0, 1e-12, "abar", "t=0");
    assert_true(abp[49] == 1.0 && abp[0] == ab[1]);
    /* S = 5: 249.75 -> 250, 499.5 -> 500 (Python's round: ties to even), 749.25 -> 749 */
    static const int g5[5] = {999, 749, 500, 250, 0};
    assert_int_equal(hc_ddim_grid(&info, 5, tau, ab, abp), HC_OK);
    for (int s = 0; s < 5; s++) assert_true(tau[s] == g5[s]);
    double big[1001];
    assert_int_equal(hc_ddim_grid(&info, 1001, big, big, big), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "cannot divide 1000 timesteps into 1001 steps"));
    hc_model_config_free(mc);
    cJSON_Delete(cj);
}

/* DiT-XL/2 at 256^2: the DiT paper's 118.6 G(FL)OPs are MACs of one forward
 * (live_model.md 1a: L (T (4+2r) D^2 + 2 T^2 D + 6 D^2) plus embedders). */
static void xl2_macs(void **state)
{
    (void)state;
    cJSON *cj = config(1);
    hc_model_config *mc;
    assert_int_equal(hc_model_config_parse("xl2", cj, &mc), HC_OK);
    hc_point_plan *plan = calloc((size_t)mc->n_points, sizeof *plan);
    for (int p = 0; p < mc->n_points; p++) plan[p].compute = 1;
    double m = hc_model_macs(mc, 1, plan);
    const double L = 28, T = 256, D = 1152;
    double blocks = L * (T * 12 * D * D + 2 * T * T * D + 6 * D * D);
    printf("DiT-XL/2 256^2: %.2f GMACs per forward (blocks %.2f)\n", m / 1e9, blocks / 1e9);
    check_close(m / 1e9, 118.6, 0.6, 0, "DiT-XL/2", "GMACs");
    assert_true(m > blocks && m < blocks * 1.01);
    assert_int_equal(mc->n_points, 56);
    assert_string_equal(mc->points[55].name, "dit/27/mlp");
    free(plan);
    hc_model_config_free(mc);
    cJSON_Delete(cj);
}

/* Sample n images of the synthetic tiny DiT under spec; returns the MACs. */
static double sample(hc_model *m, const char *spec, double cfg, int steps, float *x, int n)
{
    hc_sampler *s;
    assert_int_equal(hc_sampler_alloc(m, n, &s), HC_OK);
    hc_method meth;
    assert_int_equal(hc_method_parse(spec, &meth), HC_OK);
    gsl_rng *r = make_rng(7);
    for (int i = 0; i < n * 4 * 64; i++) x[i] = (float)gsl_ran_gaussian_ziggurat(r, 1.0);
    gsl_rng_free(r);
    int labels[4] = {1, 2, 3, 4};
    hc_sample_opts o = {steps, cfg, 0};
    hc_sample_stats st;
    if (hc_sampler_run(s, &meth, &o, labels, n, x, &st) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
    hc_sampler_free(s);
    return st.macs;
}

static void n1_equals_full(void **state)
{
    (void)state;
    cJSON *cj = config(0);
    hc_model *m, *golden;
    assert_int_equal(hc_model_open_synthetic("tiny", cj, 8, 3, &m), HC_OK);
    assert_int_equal(hc_model_open(HC_TEST_DATA "/golden_dit_tiny.safetensors", 8, &golden), HC_OK);
    enum { n = 3, img = 4 * 64 };
    float ref[n * img], x[n * img];
    static const char *const specs[] = {"taylor:N=1,sched=dit,W=2,O=4", "hicache:N=1,sched=dit,W=2,O=3,sigma=0.5",
                                        "reuse:N=1,sched=dit", "clusca:base=hicache,N=1,sched=dit,K=4"};
    const double cfgs[2] = {1.5, 1.0};
    for (int g = 0; g < 4; g++) { /* synthetic and golden weights, guided and not */
        hc_model *mm = g < 2 ? m : golden;
        double fm = sample(mm, "full", cfgs[g % 2], 12, ref, n);
        for (int i = 0; i < n * img; i++) assert_true(isfinite(ref[i]));
        for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
            double cm = sample(mm, specs[k], cfgs[g % 2], 12, x, n);
            assert_memory_equal(x, ref, sizeof x);
            assert_true(cm == fm);
        }
    }
    /* a cached run: fewer MACs, finite, close to but not equal to full compute */
    double fm = sample(golden, "full", 1.5, 20, ref, n);
    double cm = sample(golden, "clusca:base=hicache,N=4,sched=dit,W=2,O=2,sigma=0.5,K=4", 1.5, 20, x, n);
    double d = 0, r = 0;
    for (int i = 0; i < n * img; i++) {
        assert_true(isfinite(x[i]));
        d += ((double)x[i] - ref[i]) * ((double)x[i] - ref[i]);
        r += (double)ref[i] * ref[i];
    }
    printf("Hi-ClusCa N=4 on the golden tiny DiT: rel L2 %.3g, MACs %.3g of full %.3g\n", sqrt(d / r), cm, fm);
    assert_true(d > 0 && cm < fm / 2);
    hc_model_close(m);
    hc_model_close(golden);
    cJSON_Delete(cj);
}

/* One line naming the source and the key for each bad config. */
static void config_errors(void **state)
{
    (void)state;
    static const struct { const char *key; const char *json; hc_status st; const char *msg; } cases[] = {
        {"input_size", "9", HC_EFORMAT, "bad: input_size 9 not a multiple of patch_size 2"},
        {"num_heads", "5", HC_EFORMAT, "bad: hidden_size 64 not divisible into 5 heads"},
        {"prediction", "\"v\"", HC_EUNSUP, "bad: config prediction \"v\" not supported (DiT: \"epsilon\")"},
        {"learn_sigma", "1", HC_EFORMAT, "bad: config key 'learn_sigma' missing or not a boolean"},
        {"cfg_channels", "5", HC_EFORMAT, "bad: freq_dim must be even, cfg_channels <= in_channels, mlp width >= 1"},
        {"depth", "2.5", HC_EFORMAT, "bad: config depth = 2.5 is not an integer in [1, 1024]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *cj = config(0);
        cJSON_ReplaceItemInObject(cj, cases[i].key, cJSON_Parse(cases[i].json));
        hc_model_config *mc = NULL;
        assert_int_equal(hc_model_config_parse("bad", cj, &mc), cases[i].st);
        assert_string_equal(hc_errmsg(), cases[i].msg);
        assert_null(mc);
        cJSON_Delete(cj);
    }
    cJSON *cj = config(0);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cj, "diffusion"), "beta_schedule", cJSON_CreateString("cosine"));
    hc_model_config *mc = NULL;
    assert_int_equal(hc_model_config_parse("bad", cj, &mc), HC_EUNSUP);
    assert_string_equal(hc_errmsg(), "bad: config diffusion.beta_schedule \"cosine\" not supported (\"linear\")");
    cJSON_Delete(cj);
}

/* ClusCa's fresh rows of an MLP point are the true MLP output of those rows:
 * a forward that forecasts dit/1/mlp by asking for fresh rows (and filling
 * the rest with the true values) matches the full forward's point. */
typedef struct fresh_probe {
    int point;
    float *truth;   /* [B T, D] dit/1/mlp of the full forward */
    size_t D;
    double worst;
} fresh_probe;

static hc_status keep_truth(void *ud, int p, const float *val)
{
    fresh_probe *f = ud;
    if (p == f->point) memcpy(f->truth, val, 2 * 16 * f->D * sizeof *val);
    return HC_OK;
}

static int all_but_probe(void *ud, int p) { return p != ((fresh_probe *)ud)->point; }

static hc_status probe_forecast(void *ud, int p, float *out, hc_rows_fn fresh, void *fud)
{
    fresh_probe *f = ud;
    assert_int_equal(p, f->point);
    assert_non_null(fresh);
    static const int rows[5] = {0, 5, 15, 17, 31}; /* both batch elements */
    float got[5 * 64];
    HC_TRY(fresh(fud, rows, 5, got));
    double d2 = 0, r2 = 0; /* relative L2 over the rows */
    for (int i = 0; i < 5; i++)
        for (size_t c = 0; c < f->D; c++) {
            double ref = f->truth[(size_t)rows[i] * f->D + c], d = got[(size_t)i * f->D + c] - ref;
            d2 += d * d;
            r2 += ref * ref;
        }
    f->worst = sqrt(d2 / r2);
    memcpy(out, f->truth, 2 * 16 * f->D * sizeof *out);
    return HC_OK;
}

static void fresh_rows(void **state)
{
    (void)state;
    hc_model *m;
    assert_int_equal(hc_model_open(HC_TEST_DATA "/golden_dit_tiny.safetensors", 2, &m), HC_OK);
    assert_string_equal(hc_model_point(m, 3)->name, "dit/1/mlp");
    assert_true(hc_model_point(m, 3)->fresh && !hc_model_point(m, 2)->fresh);
    float x[2 * 256], v[2 * 512], v2[2 * 512], truth[2 * 16 * 64], t[2] = {600, 30};
    int labels[2] = {2, 10};
    for (int i = 0; i < 512; i++) x[i] = (float)sin(0.37 * i);
    fresh_probe f = {3, truth, 64, 0};
    hc_model_hooks full = {.ud = &f, .observe = keep_truth};
    assert_int_equal(hc_model_forward(m, x, t, labels, 2, &full, v), HC_OK);
    hc_model_hooks probe = {.ud = &f, .compute = all_but_probe, .forecast = probe_forecast};
    assert_int_equal(hc_model_forward(m, x, t, labels, 2, &probe, v2), HC_OK);
    printf("fresh rows of dit/1/mlp vs the full forward: relative L2 %.3g\n", f.worst);
    assert_true(f.worst < 1e-6); /* float32 GEMMs of 5 and of 32 rows */
    assert_memory_equal(v, v2, sizeof v);
    hc_model_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule_table),
        cmocka_unit_test(config_errors),
        cmocka_unit_test(respaced_grid),
        cmocka_unit_test(xl2_macs),
        cmocka_unit_test(n1_equals_full),
        cmocka_unit_test(fresh_rows),
    };
    return HC_RUN_TESTS(tests, hc_test_setup, NULL);
}
