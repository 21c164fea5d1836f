/* test_policies.c: method syntax PREDICTOR@POLICY, each policy's decisions
 * on hand-computed signal sequences, the driver deciding open loop (replay:
 * every signal first) and step by step (live) alike, and @fixed = the
 * schedule it names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "calibrate.h"
#include "cost.h"
#include "driver.h"
#include "model.h"
#include "sampler.h"
#include "traj.h"
#include "testutil.h"

typedef struct seq {
    const double *v;  /* [S] */
    const double *mx; /* [S * S] (head_resid_change) */
    int S;
} seq;

static double seq_sig(void *ud, hc_signal g, int step, int ref)
{
    const seq *q = ud;
    if (g == HC_SIG_HEAD_RESID) return q->mx ? q->mx[step * q->S + ref] : NAN;
    return q->v ? q->v[step] : NAN;
}

/* Decisions of method `spec` over S steps of signals q; into mask. */
static void decide(const char *spec, const seq *q, unsigned char *mask)
{
    hc_method m;
    assert_int_equal(hc_method_parse(spec, &m), HC_OK);
    hc_policy_state st;
    assert_int_equal(hc_policy_state_init(&m.policy, &st), HC_OK);
    for (int s = 0; s < q->S; s++) mask[s] = (unsigned char)hc_policy_step(&m.policy, &st, s, q->S, seq_sig, (void *)q);
}

static void check_mask(const char *spec, const seq *q, const char *want)
{
    unsigned char mask[64];
    decide(spec, q, mask);
    char got[65];
    for (int s = 0; s < q->S; s++) got[s] = mask[s] ? 'F' : '.';
    got[q->S] = '\0';
    if (strcmp(got, want) != 0) {
        print_error("%s: decisions %s, want %s\n", spec, got, want);
        fail();
    }
}

/* acc: .05 .09 | .12 -> F | .2 -> F | .02 | .11 -> F | .01 */
static void teacache_by_hand(void **state)
{
    (void)state;
    static const double r[8] = {0, 0.05, 0.04, 0.03, 0.2, 0.02, 0.09, 0.01};
    const seq q = {r, NULL, 8};
    check_mask("reuse@teacache:delta=0.1", &q, "F..FF.F.");
    check_mask("reuse@teacache:delta=0.1,last=1", &q, "F..FF.FF");
    check_mask("reuse@teacache:delta=0.1,max_skip=1", &q, "F.F.F.F.");
    check_mask("reuse@teacache:delta=0.1,W=3", &q, "FFF.F.F.");
}

static void magcache_by_hand(void **state)
{
    (void)state;
    /* calibrated ratios 0.98: err .02, .0596, .1184 -> F */
    hc_method m;
    assert_int_equal(hc_method_parse("taylor@magcache:W=1,delta=0.06,max_skip=3", &m), HC_OK);
    hc_policy_state st;
    assert_int_equal(hc_policy_state_init(&m.policy, &st), HC_OK);
    double ratios[8];
    for (int s = 0; s < 8; s++) ratios[s] = s ? 0.98 : 1;
    st.ratios = ratios;
    st.n_ratios = 8;
    const char *want = "F..F..F.";
    for (int s = 0; s < 8; s++)
        assert_int_equal(hc_policy_step(&m.policy, &st, s, 8, seq_sig, &(seq){NULL, NULL, 8}), want[s] == 'F');
    /* uncalibrated: gamma from the norms of the last two full steps:
     * 0.98 until s4 (err .02, .0596, .1184 -> F), then (n4/n1)^(1/3) = 0.9
     * (err .1 -> F at s5), then n5/n4 = 1 */
    const double n1 = 9.8, n4 = 9.8 * 0.729;
    static double norms[8];
    const double nv[8] = {10, n1, 1, 1, n4, n4, 1, 1};
    memcpy(norms, nv, sizeof norms);
    const seq q = {norms, NULL, 8};
    check_mask("taylor@magcache:W=2,delta=0.06,max_skip=3", &q, "FF..FF..");
    check_mask("taylor@magcache:W=2,delta=0.06,max_skip=1", &q, "FF.FFF.F");
}

static void fbcache_by_hand(void **state)
{
    (void)state;
    double mx[36] = {0};
    mx[1 * 6 + 0] = 0.2;  /* s1 vs 0: compute */
    mx[2 * 6 + 1] = 0.03; /* s2 vs 1: reuse */
    mx[3 * 6 + 1] = 0.07; /* s3 vs 1: reuse */
    mx[4 * 6 + 1] = 0.09; /* s4 vs 1: compute */
    mx[5 * 6 + 4] = 0.01; /* s5 vs 4: reuse */
    const seq q = {NULL, mx, 6};
    check_mask("hicache@fbcache", &q, "FF..F.");
    check_mask("hicache@fbcache:delta=0.1", &q, "FF....");
}

static void syntax(void **state)
{
    (void)state;
    hc_method a, b;
    char da[HC_SPEC_MAX], db[HC_SPEC_MAX];
    /* @fixed is the schedule it names, described the same */
    static const char *const same[][2] = {
        {"taylor:O=2@fixed:N=7", "taylor:O=2,N=7"}, {"hicache@fixed:N=5,W=2,sched=mod", "hicache:N=5,W=2,sched=mod"},
        {"reuse@fixed", "reuse"}, {"taylor@fixed:sched=dit", "taylor:sched=dit"},
        {"clusca:base=hicache,K=8@fixed:N=4", "clusca:base=hicache,K=8,N=4"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        assert_int_equal(hc_method_parse(same[i][0], &a), HC_OK);
        assert_int_equal(hc_method_parse(same[i][1], &b), HC_OK);
        assert_memory_equal(&a.sched, &b.sched, sizeof a.sched);
        hc_method_describe(&a, da, sizeof da);
        hc_method_describe(&b, db, sizeof db);
        assert_string_equal(da, db);
        assert_null(a.policy.type);
    }
    /* a dynamic policy: its keys, and a description that parses back */
    assert_int_equal(hc_method_parse("hicache:O=2,sigma=0.5@teacache:delta=0.3", &a), HC_OK);
    assert_string_equal(a.policy.type->name, "teacache");
    assert_true(a.policy.delta == 0.3 && a.policy.W == 1 && a.sched.W == 1);
    hc_method_describe(&a, da, sizeof da);
    assert_string_equal(da, "hicache:O=2,sigma=0.5@teacache:W=1,max_skip=0,last=0,delta=0.3");
    assert_int_equal(hc_method_parse(da, &b), HC_OK);
    hc_method_describe(&b, db, sizeof db);
    assert_string_equal(da, db);
    assert_int_equal(hc_method_parse("taylor:O=2@magcache:delta=0.1,max_skip=4", &a), HC_OK);
    assert_true(a.policy.max_skip == 4 && a.policy.delta == 0.1);
    hc_method_label(&a, da, sizeof da);
    assert_string_equal(da, "TaylorSeer (O=2) @ MagCache (δ=0.1)");
    /* descriptions parse back to themselves, the longest too */
    static const char *const trips[] = {
        "reuse@fbcache:W=1000,max_skip=1000,last=1000,delta=123456.789",
        ("clusca:base=hicache,K=65536,gamma=0.005,seed=2147483647,fresh=all,iters=1000,O=8,sigma=0.000001@magcache:"
         "W=1000,max_skip=1000,last=1000,delta=999999.5"),
        "hitaylor:O=3,sigma=0.7@teacache:last=2", "lagrange:O=2@fixed:sched=mod,N=4"};
    for (size_t i = 0; i < sizeof trips / sizeof trips[0]; i++) {
        assert_int_equal(hc_method_parse(trips[i], &a), HC_OK);
        hc_method_describe(&a, da, sizeof da);
        assert_true(strlen(da) < HC_SPEC_MAX - 100); /* room for a 96-character calib path */
        assert_int_equal(hc_method_parse(da, &b), HC_OK);
        hc_method_describe(&b, db, sizeof db);
        assert_string_equal(da, db);
    }
    /* strict errors, one line each */
    static const char *const bad[] = {"taylor@", "@teacache", "taylor@nope", "taylor@teacache:delta=x",
                                      "taylor@teacache:sigma=1", "taylor:N=5@teacache", "full@teacache",
                                      "taylor@teacache:delta=0.1,delta=0.2", "taylor@teacache:", "taylor@fixed:delta=1",
                                      "taylor@teacache:calib=/nonexistent.json", "taylor@fbcache:calib=x.json",
                                      "taylor@teacache@magcache", "taylor@teacache:delta=0.1,", "taylor@teacache:W=0",
                                      "taylor:N=5@fixed:N=6"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (hc_method_parse(bad[i], &a) == HC_OK) {
            print_error("'%s' parsed\n", bad[i]);
            fail();
        }
        assert_null(strchr(hc_errmsg(), '\n'));
    }
}

/* The driver: replay sets every step's signals and decides open loop; live
 * sets step s's signal and the first compute decides s.  Same masks. */
static void open_and_closed_loop(void **state)
{
    (void)state;
    enum { S = 30 };
    double r[S], mx[S * S];
    gsl_rng *rng = make_rng(3);
    for (int s = 0; s < S; s++) r[s] = s ? 0.01 + 0.05 * gsl_rng_uniform(rng) : 0;
    for (int i = 0; i < S * S; i++) mx[i] = 0.15 * gsl_rng_uniform(rng);
    gsl_rng_free(rng);
    static const char *const specs[] = {"taylor@teacache", "taylor@teacache:max_skip=2,last=3", "reuse@fbcache",
                                        "hicache@magcache:W=3", "taylor:N=4"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        hc_method m;
        assert_int_equal(hc_method_parse(specs[k], &m), HC_OK);
        hc_driver *open = NULL, *live = NULL;
        assert_int_equal(hc_driver_alloc(&m, S, 1, &open), HC_OK);
        assert_int_equal(hc_driver_alloc(&m, S, 1, &live), HC_OK);
        hc_driver_point pt = {.name = "x/1/m", .module = "m", .tokens = 2, .channels = 2, .cluster = HC_CLUSTER_NONE};
        hc_driver_point hp = pt;
        hp.head = 1;
        int p0, p1;
        for (hc_driver **d = (hc_driver *[]){open, live}, **e = d + 2; d < e; d++) {
            assert_int_equal(hc_driver_begin(*d), HC_OK);
            assert_int_equal(hc_driver_add_point(*d, &hp, &p0), HC_OK);
            assert_int_equal(hc_driver_add_point(*d, &pt, &p1), HC_OK);
        }
        for (int s = 0; s < S; s++) {
            hc_driver_set_signal(open, HC_SIG_MOD_IN, s, -1, r[s]);
            hc_driver_set_signal(open, HC_SIG_RESID_NORM, s, -1, 10 - r[s] * s);
            for (int a = 0; a < s; a++) hc_driver_set_signal(open, HC_SIG_HEAD_RESID, s, a, mx[s * S + a]);
        }
        hc_driver_decide(open, S - 1);
        for (int s = 0; s < S; s++) {
            hc_driver_set_signal(live, HC_SIG_MOD_IN, s, -1, r[s]);
            hc_driver_set_signal(live, HC_SIG_RESID_NORM, s, -1, 10 - r[s] * s);
            int a = hc_driver_last_full(live, s);
            if (a >= 0) hc_driver_set_signal(live, HC_SIG_HEAD_RESID, s, a, mx[s * S + a]);
            int head = hc_driver_compute(live, p0, s), rest = hc_driver_compute(live, p1, s);
            assert_int_equal(rest, hc_driver_is_full(open, s));
            assert_int_equal(head, m.policy.type && (m.policy.type->flags & HC_POL_HEAD) ? 1 : rest);
        }
        assert_int_equal(hc_driver_full_steps(live), hc_driver_full_steps(open));
        assert_true(hc_driver_full_steps(open) > 1 && hc_driver_full_steps(open) < S);
        hc_driver_free(open);
        hc_driver_free(live);
    }
}

/* Calibration recovers known coefficients: a degree-4 polynomial from exact
 * (x, p(x)) pairs, and per-step magnitude ratios from norms n_s = 10 g^s. */
static void calibration_recovers(void **state)
{
    (void)state;
    enum { S = 40 };
    static const double want[5] = {3.0, -2.0, 0.5, 1.5, 0.01};
    double x[S], y[S], c[5], rms;
    for (int s = 0; s < S; s++) {
        x[s] = 0.01 + 0.002 * s + 0.0005 * (s % 3);
        y[s] = (((want[0] * x[s] + want[1]) * x[s] + want[2]) * x[s] + want[3]) * x[s] + want[4];
    }
    assert_int_equal(hc_calib_polyfit(x, y, S, 4, c, &rms), HC_OK);
    for (int k = 0; k < 5; k++) check_close(c[k], want[k], 1e-6, 1e-4, "polyfit", "coefficient");
    assert_true(rms < 1e-9);
    assert_int_not_equal(hc_calib_polyfit(x, y, 4, 4, c, &rms), HC_OK);
    /* a file with signals, written by the store's writer */
    char path[] = "/tmp/hc_calib_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    hc_traj_meta meta = {.num_steps = S};
    snprintf(meta.model, sizeof meta.model, "synthetic");
    snprintf(meta.sampler, sizeof meta.sampler, "none");
    hc_traj_writer *w = NULL;
    hc_traj_write_opts wo = {HC_F32, 0};
    assert_int_equal(hc_traj_writer_open(path, &meta, &wo, NULL, &w), HC_OK);
    int h;
    assert_int_equal(hc_traj_writer_add_feature(w, "dit", 0, "attn", "joint", 2, 2, &h), HC_OK);
    double mod[S], out[S], norm[S], mx[S * S];
    for (int s = 0; s < S; s++) {
        float row[4] = {(float)s, 1, 2, 3};
        assert_int_equal(hc_traj_writer_put_time(w, s, 1.0 - (double)s / S), HC_OK);
        assert_int_equal(hc_traj_writer_put(w, h, s, row), HC_OK);
        mod[s] = s ? x[s] : 0;
        out[s] = s ? y[s] : 0;
        norm[s] = 10 * pow(0.97, s);
        for (int a = 0; a < S; a++) mx[s * S + a] = 0;
    }
    assert_int_equal(hc_traj_writer_put_signal(w, "mod_in_change", 1, mod), HC_OK);
    assert_int_equal(hc_traj_writer_put_signal(w, "out_change", 1, out), HC_OK);
    assert_int_equal(hc_traj_writer_put_signal(w, "resid_norm", 1, norm), HC_OK);
    assert_int_equal(hc_traj_writer_put_signal(w, "head_resid_change", S, mx), HC_OK);
    assert_int_equal(hc_traj_writer_finish(w), HC_OK);
    const char *files[1] = {path};
    hc_calib_opts o = {.files = files, .n_files = 1, .degree = 4};
    cJSON *doc = NULL;
    assert_int_equal(hc_calibrate(&o, &doc), HC_OK);
    const cJSON *poly = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "teacache"), "poly");
    const cJSON *ratios = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "magcache"), "ratios");
    assert_int_equal(cJSON_GetArraySize(poly), 5);
    assert_int_equal(cJSON_GetArraySize(ratios), S);
    for (int k = 0; k < 5; k++) check_close(cJSON_GetArrayItem(poly, k)->valuedouble, want[k], 1e-6, 1e-4, "calib", "poly");
    check_close(cJSON_GetArrayItem(ratios, 0)->valuedouble, 1, 0, 0, "calib", "ratio 0");
    for (int s = 1; s < S; s++) check_close(cJSON_GetArrayItem(ratios, s)->valuedouble, 0.97, 1e-12, 0, "calib", "ratio");
    /* the file as a policy's calibration, and its signals read back */
    char calib[] = "/tmp/hc_calibj_XXXXXX";
    fd = mkstemp(calib);
    assert_true(fd >= 0);
    char *text = cJSON_Print(doc);
    assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    free(text);
    char spec[128];
    snprintf(spec, sizeof spec, "taylor@magcache:calib=%s", calib);
    hc_method m;
    assert_int_equal(hc_method_parse(spec, &m), HC_OK);
    hc_policy_state st;
    assert_int_equal(hc_policy_state_init(&m.policy, &st), HC_OK);
    assert_int_equal(st.n_ratios, S);
    check_close(st.ratios[7], 0.97, 1e-12, 0, "loaded", "ratio");
    hc_policy_state_free(&st);
    snprintf(spec, sizeof spec, "taylor@teacache:calib=%s", calib);
    assert_int_equal(hc_method_parse(spec, &m), HC_OK);
    assert_int_equal(hc_policy_state_init(&m.policy, &st), HC_OK);
    check_close(hc_policy_poly(&st, 0.03), (((3.0 * 0.03 - 2) * 0.03 + 0.5) * 0.03 + 1.5) * 0.03 + 0.01, 1e-8, 1e-6,
                "loaded", "poly");
    hc_policy_state_free(&st);
    cJSON_Delete(doc);
    hc_traj *t = NULL;
    assert_int_equal(hc_traj_open(path, &t), HC_OK);
    double back[S];
    assert_int_equal(hc_traj_read_signal(t, "resid_norm", 1, back), HC_OK);
    assert_memory_equal(back, norm, sizeof back);
    assert_int_not_equal(hc_traj_read_signal(t, "nope", 1, back), HC_OK);
    assert_non_null(strstr(hc_errmsg(), path));
    hc_traj_close(t);
    unlink(path);
    unlink(calib);
}

/* The tiny golden model, closed loop under each policy: decisions made, the
 * price of a step = its computed points + the policy's signals; first-block
 * caching computes the head block at every step. */
static void live_policies(void **state)
{
    (void)state;
    hc_model *m = NULL;
    assert_int_equal(hc_model_open(HC_TEST_DATA "/golden_flux_tiny.safetensors", 2, &m), HC_OK);
    hc_sampler *smp = NULL;
    assert_int_equal(hc_sampler_alloc(m, 1, &smp), HC_OK);
    hc_cost *cost = NULL;
    assert_int_equal(hc_cost_from_config("tiny", cJSON_GetObjectItemCaseSensitive(m->meta, "config"), &cost), HC_OK);
    hc_model_info info;
    hc_model_get_info(m, &info);
    const size_t img = (size_t)info.image_channels * info.image_size * info.image_size;
    float *x0 = malloc(img * sizeof *x0), *x = malloc(img * sizeof *x);
    for (size_t i = 0; i < img; i++) x0[i] = (float)sin(0.37 * (double)i);
    const int S = 12, label = 1, P = hc_model_num_points(m);
    static const char *const specs[] = {"taylor:N=3", "taylor@teacache:delta=0.05", "reuse@magcache:W=2,delta=0.02",
                                        "reuse@fbcache:delta=0.05"};
    double macs[4];
    for (int k = 0; k < 4; k++) {
        hc_method meth;
        assert_int_equal(hc_method_parse(specs[k], &meth), HC_OK);
        hc_sample_opts so = {.steps = S, .cfg = 2.0, .shift = 1};
        hc_sample_stats st;
        memcpy(x, x0, img * sizeof *x);
        assert_int_equal(hc_sampler_run(smp, &meth, &so, &label, 1, x, &st), HC_OK);
        assert_true(st.full_steps >= 1 && st.full_steps <= S);
        for (size_t i = 0; i < img; i++) assert_true(isfinite(x[i]));
        macs[k] = st.macs;
    }
    /* the price of a cached step, by hand: teacache = fixed + 2 B T_img D */
    hc_method fixed, tea, fb;
    assert_int_equal(hc_method_parse("taylor:N=2,W=1", &fixed), HC_OK);
    assert_int_equal(hc_method_parse("taylor@teacache:delta=1e5", &tea), HC_OK);
    assert_int_equal(hc_method_parse("taylor@fbcache:delta=1e5", &fb), HC_OK);
    hc_driver *df = NULL, *dt = NULL, *db = NULL;
    assert_int_equal(hc_driver_alloc(&fixed, 4, 2, &df), HC_OK);
    assert_int_equal(hc_driver_alloc(&tea, 4, 2, &dt), HC_OK);
    assert_int_equal(hc_driver_alloc(&fb, 4, 2, &db), HC_OK);
    for (int s = 0; s < 4; s++) {
        hc_driver_set_signal(dt, HC_SIG_MOD_IN, s, -1, 0.01);
        for (int a = 0; a < s; a++) hc_driver_set_signal(db, HC_SIG_HEAD_RESID, s, a, 0.01);
    }
    hc_driver_decide(dt, 3);
    hc_driver_decide(db, 3);
    assert_false(hc_driver_is_full(dt, 1));
    assert_false(hc_driver_is_full(db, 1));
    assert_false(hc_driver_is_full(df, 1));
    const double sig = 2.0 * 2 * info.seq_len * hc_model_point(m, 0)->channels;
    check_close(hc_cost_step(cost, dt, 2, 1), hc_cost_step(cost, df, 2, 1) + sig, 0, 0, "teacache", "cached step MACs");
    hc_point_plan *plan = calloc((size_t)P, sizeof *plan);
    for (int p = 0; p < P; p++) {
        plan[p].compute = hc_model_point(m, p)->head;
        if (!plan[p].compute) plan[p].forecast_terms = 3; /* O=2 */
    }
    check_close(hc_cost_step(cost, db, 2, 1), hc_model_macs(m->config, 2, plan) + sig, 0, 0, "fbcache", "cached step MACs");
    assert_true(hc_cost_step(cost, db, 2, 1) > hc_cost_step(cost, df, 2, 1));
    assert_true(macs[0] > 0 && macs[1] > 0 && macs[2] > 0 && macs[3] > 0);
    free(plan);
    hc_driver_free(df);
    hc_driver_free(dt);
    hc_driver_free(db);
    free(x0);
    free(x);
    hc_cost_free(cost);
    hc_sampler_free(smp);
    hc_model_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(teacache_by_hand), cmocka_unit_test(magcache_by_hand), cmocka_unit_test(fbcache_by_hand),
        cmocka_unit_test(syntax),           cmocka_unit_test(open_and_closed_loop),
        cmocka_unit_test(calibration_recovers), cmocka_unit_test(live_policies),
    };
    return HC_RUN_TESTS(tests, hc_test_setup, NULL);
}
