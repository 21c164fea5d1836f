/* test_driver.c: the cache driver serves replay and live alike.
 *
 * A full-compute trajectory is recorded from the tiny golden model.  The
 * replay engine forecasts it point-major (hc_replay_compute).  The live
 * sampler (hc_sampler_run, step-major, the model's hooks) runs over a mock
 * model whose forward hands the driver the same recorded rows: computed
 * points observe them, forecast points are filled by the driver and scored
 * here, fresh rows come from the recorded row, and clustering input 0 is the
 * recorded /hidden state.  Like replay, the mock can serve fresh rows of any
 * point (a real model only of its MLP points).  Same rows in, so every forecast metric must be
 * bit-identical between the two engines.  ClusCa is compared on the points
 * both engines cluster from /hidden (the img stream); the txt points have no
 * recorded hidden state, so replay clusters their own features there. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "driver.h"
#include "metrics.h"
#include "model.h"
#include "predictor.h"
#include "replay.h"
#include "sampler.h"
#include "testutil.h"
#include "traj.h"

#define TINY HC_TEST_DATA "/golden_flux_tiny.safetensors"
enum { S = 14, MAXP = 64 };

static const char *const specs[] = {
    "taylor:N=3,W=2,O=2", "hicache:N=4,W=3,O=2,sigma=0.5", "reuse:N=5,sched=mod", "lagrange:N=3,O=2",
    "taylor:N=3,sched=dit,O=1", "clusca:base=hicache,N=3,O=2,K=3,gamma=0.05", "clusca:base=taylor,N=4,O=1,K=5,fresh=all",
};
enum { M = sizeof specs / sizeof specs[0] };

/* Record a full-compute trajectory of one unguided image. */
static void record(const char *path)
{
    hc_model *m;
    if (hc_model_open(TINY, 2, &m) != HC_OK) fail_msg("%s", hc_errmsg());
    hc_model_info info;
    hc_model_get_info(m, &info);
    hc_sampler *smp;
    assert_int_equal(hc_sampler_alloc(m, 1, &smp), HC_OK);
    hc_traj_meta meta = {.num_steps = S};
    snprintf(meta.model, sizeof meta.model, "tiny");
    hc_traj_write_opts wo = {HC_F32, 0};
    hc_traj_writer *w;
    assert_int_equal(hc_traj_writer_open(path, &meta, &wo, NULL, &w), HC_OK);
    assert_int_equal(hc_sampler_record(smp, w, NULL), HC_OK);
    size_t img = (size_t)info.image_channels * info.image_size * info.image_size;
    float *x = malloc(img * sizeof *x);
    for (size_t i = 0; i < img; i++) x[i] = (float)sin(0.71 * (double)i + 0.3);
    hc_method full;
    assert_int_equal(hc_method_parse("full", &full), HC_OK);
    hc_sample_opts so = {S, 1.0, 1};
    int label = 3;
    if (hc_sampler_run(smp, &full, &so, &label, 1, x, NULL) != HC_OK) fail_msg("%s", hc_errmsg());
    assert_int_equal(hc_traj_writer_finish(w), HC_OK);
    free(x);
    hc_sampler_free(smp);
    hc_model_close(m);
}

/* ---- the mock model: recorded rows through the model interface ---------------- */

typedef struct mock {
    hc_traj *t;
    int P, step, hidden;
    float *rows[MAXP];     /* this step's recorded rows per point */
    float *hid;
    float *out;            /* forecast scratch */
    double (*got)[S][HC_N_METRICS]; /* [P][S] metrics of the forecasts, NaN if none */
} mock;

static hc_status mock_fresh(void *ud, const int *tok, int n, float *rows)
{
    const float *truth = ((void **)ud)[0];
    size_t D = *(const size_t *)((void **)ud)[1];
    for (int i = 0; i < n; i++) memcpy(rows + (size_t)i * D, truth + (size_t)tok[i] * D, D * sizeof *rows);
    return HC_OK;
}

static hc_status mock_forward(void *impl, const float *x, const float *t, const int *labels, int B,
                              const hc_model_hooks *h, float *v)
{
    (void)x, (void)t, (void)labels;
    mock *mk = impl;
    assert_int_equal(B, 1);
    int s = mk->step++;
    for (int p = 0; p < mk->P; p++) HC_TRY(hc_traj_read_row(mk->t, (size_t)p, s, mk->rows[p]));
    HC_TRY(hc_traj_read_row(mk->t, (size_t)mk->hidden, s, mk->hid));
    for (int p = 0; p < mk->P; p++) {
        const hc_traj_entry *e = hc_traj_entry_at(mk->t, (size_t)p);
        size_t D = (size_t)e->dims[2], n = (size_t)e->dims[1] * D;
        if (p == 0) HC_TRY(h->cluster_input(h->ud, 0, mk->hid));
        if (h->compute(h->ud, p)) {
            HC_TRY(h->observe(h->ud, p, mk->rows[p]));
            continue;
        }
        void *fud[2] = {mk->rows[p], &D};
        HC_TRY(h->forecast(h->ud, p, mk->out, mock_fresh, fud));
        hc_metrics_compute(mk->out, mk->rows[p], n, mk->got[p][s]);
    }
    memset(v, 0, 4 * sizeof *v); /* the sampler's latents are irrelevant here */
    return HC_OK;
}

static void mock_info(const void *cfg, hc_model_info *o)
{
    (void)cfg;
    *o = (hc_model_info){.arch = "mock", .sampler = "rf-euler", .image_channels = 1, .out_channels = 1, .image_size = 2,
                         .num_classes = 10, .null_class = 10, .seq_len = 1, .base_seq_len = 1, .base_shift = 0.5,
                         .max_seq_len = 2, .max_shift = 1, .shift_sigma = 1};
}

static const hc_model_type mock_type = {.arch = "mock", .info = mock_info, .forward = mock_forward};

/* The live sampler over the mock model for one method. */
static void live_forecasts(const char *spec, mock *mk)
{
    hc_model *tiny;
    if (hc_model_open(TINY, 2, &tiny) != HC_OK) fail_msg("%s", hc_errmsg());
    hc_cache_point pts[MAXP];
    hc_cluster_input in = {.name = "hidden", .tokens = 0};
    for (int p = 0; p < mk->P; p++) {
        const hc_traj_entry *e = hc_traj_entry_at(mk->t, (size_t)p);
        hc_cache_point *q = &pts[p];
        memset(q, 0, sizeof *q);
        snprintf(q->name, sizeof q->name, "%.47s", e->name);
        snprintf(q->module, sizeof q->module, "%.15s", e->module);
        q->tokens = (int)e->dims[1];
        q->channels = (int)e->dims[2];
        q->fresh = 1; /* recorded rows can be served for any point, as in replay */
        q->cluster_input = strcmp(e->stream, "img") == 0 ? 0 : -1;
    }
    const hc_traj_entry *he = hc_traj_entry_at(mk->t, (size_t)mk->hidden);
    in.tokens = (int)he->dims[1];
    in.channels = (int)he->dims[2];
    hc_model_config mc = {.type = &mock_type, .n_points = mk->P, .n_inputs = 1, .points = pts, .inputs = &in};
    hc_model m = {.config = &mc, .impl = mk, .meta = tiny->meta, .max_batch = 2};
    snprintf(m.path, sizeof m.path, "mock");
    hc_sampler *smp;
    if (hc_sampler_alloc(&m, 1, &smp) != HC_OK) fail_msg("%s", hc_errmsg());
    hc_method meth;
    assert_int_equal(hc_method_parse(spec, &meth), HC_OK);
    float x[4] = {0};
    int label = 3;
    hc_sample_opts so = {S, 1.0, 1};
    mk->step = 0;
    for (int p = 0; p < mk->P; p++)
        for (int s = 0; s < S; s++)
            for (int k = 0; k < HC_N_METRICS; k++) mk->got[p][s][k] = NAN;
    if (hc_sampler_run(smp, &meth, &so, &label, 1, x, NULL) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
    hc_sampler_free(smp);
    hc_model_close(tiny);
}

static void replay_equals_live(void **state)
{
    (void)state;
    const char *path = "driver_traj.h5";
    record(path);
    hc_method ms[M];
    for (int i = 0; i < M; i++) assert_int_equal(hc_method_parse(specs[i], &ms[i]), HC_OK);
    const char *files[] = {path};
    hc_replay_opts o = {.files = files, .n_files = 1, .methods = ms, .n_methods = M, .out_dir = "driver_out", .quiet = 1};
    hc_replay_result *r;
    if (hc_replay_compute(&o, &r) != HC_OK) fail_msg("%s", hc_errmsg());

    mock mk = {0};
    assert_int_equal(hc_traj_open(path, &mk.t), HC_OK);
    mk.P = (int)hc_traj_num_features(mk.t);
    assert_true(mk.P > 4 && mk.P <= MAXP);
    mk.hidden = -1;
    for (size_t i = 0; i < hc_traj_num_entries(mk.t); i++)
        if (hc_traj_entry_at(mk.t, i)->kind == HC_ENTRY_HIDDEN) mk.hidden = (int)i;
    assert_true(mk.hidden >= 0);
    size_t maxn = 0;
    for (size_t i = 0; i < hc_traj_num_entries(mk.t); i++)
        if (hc_traj_entry_at(mk.t, i)->kind != HC_ENTRY_LATENT && hc_traj_entry_at(mk.t, i)->row_elems > maxn)
            maxn = hc_traj_entry_at(mk.t, i)->row_elems;
    for (int p = 0; p < mk.P; p++) mk.rows[p] = malloc(maxn * sizeof(float));
    mk.hid = malloc(maxn * sizeof(float));
    mk.out = malloc(maxn * sizeof(float));
    mk.got = malloc((size_t)mk.P * sizeof *mk.got);

    for (int i = 0; i < M; i++) {
        live_forecasts(specs[i], &mk);
        const hc_replay_method *rm = &r->methods[i];
        const int clusca = (hc_method_caps(&ms[i]) & HC_PRED_LABELS) != 0;
        size_t compared = 0, forecasts = 0;
        for (int p = 0; p < mk.P; p++)
            for (int s = 0; s < S; s++) forecasts += !isnan(mk.got[p][s][0]);
        assert_int_equal(forecasts, rm->n_records); /* the same decisions */
        for (size_t k = 0; k < rm->n_records; k++) {
            const hc_replay_record *rec = &rm->records[k];
            const hc_traj_entry *e = hc_traj_entry_at(mk.t, (size_t)rec->module);
            assert_string_equal(r->files[0].modules[rec->module], e->name);
            if (clusca && strcmp(e->stream, "img") != 0) continue;
            for (int j = 0; j < HC_N_METRICS; j++)
                if (memcmp(&rec->v[j], &mk.got[rec->module][rec->step][j], sizeof(double)) != 0)
                    fail_msg("%s %s step %d %s: replay %.17g, live %.17g", specs[i], e->name, rec->step,
                             hc_metric_names[j], rec->v[j], mk.got[rec->module][rec->step][j]);
            compared++;
        }
        assert_true(compared > 10);
        /* a forecast is not the truth: the comparison is not vacuous */
        assert_true(rm->stat[HC_REL_L2].mean > 1e-6);
    }
    for (int p = 0; p < mk.P; p++) free(mk.rows[p]);
    free(mk.hid);
    free(mk.out);
    free(mk.got);
    hc_traj_close(mk.t);
    hc_replay_result_free(r);
}

/* Every method at N=1 computes every step: no forecast, no cache, exact. */
static void every_step_full(void **state)
{
    (void)state;
    for (const hc_pred_type *const *t = hc_pred_types; *t; t++) {
        char spec[64];
        snprintf(spec, sizeof spec, "%s:N=1", (*t)->name);
        hc_method m;
        if (hc_method_parse(spec, &m) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
        hc_driver *d;
        assert_int_equal(hc_driver_alloc(&m, 9, 2, &d), HC_OK);
        assert_int_equal(hc_driver_begin(d), HC_OK);
        hc_driver_point pt = {.name = "x", .module = "mlp", .tokens = 3, .channels = 2, .fresh = 1,
                              .cluster = HC_CLUSTER_OWN};
        int p;
        assert_int_equal(hc_driver_add_point(d, &pt, &p), HC_OK);
        float v[12];
        for (int s = 0; s < 9; s++) {
            assert_true(hc_driver_compute(d, p, s));
            assert_int_equal(hc_driver_horizon(d, s), 0);
            for (int i = 0; i < 12; i++) v[i] = (float)(s * i);
            assert_int_equal(hc_driver_observe(d, p, s, v), HC_OK);
        }
        assert_int_equal(hc_driver_full_steps(d), 9);
        assert_int_equal(hc_driver_cache_bytes(d), 0);
        assert_int_equal(hc_driver_forecast(d, p, 3, NULL, NULL, v), HC_EINVAL); /* nothing to forecast */
        hc_driver_free(d);
    }
}

/* The fresh-token rule: feeder capability and the method's module choice. */
static void fresh_rule(void **state)
{
    (void)state;
    hc_method mlp, all;
    assert_int_equal(hc_method_parse("clusca:base=taylor", &mlp), HC_OK);
    assert_int_equal(hc_method_parse("clusca:base=taylor,fresh=all", &all), HC_OK);
    static const struct { const char *module; int fresh, want_mlp, want_all; } cases[] = {
        {"img_mlp", 1, 1, 1}, {"mlp", 1, 1, 1}, {"img_attn", 1, 0, 1}, {"total", 1, 0, 1},
        {"img_mlp", 0, 0, 0}, {"attn", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hc_driver_point pt = {.module = cases[i].module, .fresh = cases[i].fresh};
        assert_int_equal(hc_driver_takes_fresh(&mlp, &pt), cases[i].want_mlp);
        assert_int_equal(hc_driver_takes_fresh(&all, &pt), cases[i].want_all);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replay_equals_live),
        cmocka_unit_test(every_step_full),
        cmocka_unit_test(fresh_rule),
    };
    return HC_RUN_TESTS(tests, hc_test_setup, NULL);
}
