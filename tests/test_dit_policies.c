/* test_dit_policies.c: the DiT's policy signals and the decision policies on
 * the tiny golden DiT (tests/data/golden_dit_tiny.safetensors): the signal
 * tensors against an independent float64 reference computed here from the
 * file's weights (patch embedding, timestep/label embedders, block 0's adaLN;
 * HEAD_RESID from the gated cache points), the order in which the forward
 * hands signals and asks for points (a policy decides from MOD_IN before any
 * point is asked; block 0 is the head), outputs bit-identical with and
 * without signals, each policy closed loop with its MACs by hand, and
 * P@fixed:N=..,sched=dit equal to P:N=..,sched=dit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "model.h"
#include "predictor.h"
#include "safetensors.h"
#include "sampler.h"
#include "signals.h"
#include "testutil.h"

#define GOLDEN HC_TEST_DATA "/golden_dit_tiny.safetensors"

/* The tiny golden DiT: 4 x 8 x 8 input, p = 2, T = 16, D = 64, F = 256, depth 2. */
enum { C = 4, I = 8, P = 2, G = 4, T = 16, D = 64, F = 256, FREQ = 256, DEPTH = 2, COUT = 8 };

/* What one forward handed out, and the order of the calls ("s<kind>", "c<point>"). */
typedef struct probe {
    char log[256];
    float sig[HC_MSIG_COUNT][T * D], pts[2][T * D], last[T * D];
    int all_compute;
} probe;

static void logf_(probe *p, char kind, int i)
{
    size_t n = strlen(p->log);
    snprintf(p->log + n, sizeof p->log - n, "%s%c%d", n ? " " : "", kind, i);
}

static int pr_compute(void *ud, int pt)
{
    probe *p = ud;
    logf_(p, 'c', pt);
    return p->all_compute || pt < 2; /* else: block 0 only, as first-block caching at a cached step */
}

static hc_status pr_observe(void *ud, int pt, const float *v)
{
    probe *p = ud;
    if (pt < 2) memcpy(p->pts[pt], v, sizeof p->pts[pt]);
    return HC_OK;
}

static hc_status pr_forecast(void *ud, int pt, float *out, hc_rows_fn fresh, void *fud)
{
    (void)ud, (void)pt, (void)fresh, (void)fud;
    memset(out, 0, T * D * sizeof *out);
    return HC_OK;
}

static hc_status pr_signal(void *ud, int kind, const float *x, int rows, int channels)
{
    probe *p = ud;
    assert_int_equal(rows, T);
    assert_int_equal(channels, D);
    memcpy(p->sig[kind], x, sizeof p->sig[kind]);
    logf_(p, 's', kind);
    return HC_OK;
}

static hc_status pr_last(void *ud, int j, const float *x)
{
    probe *p = ud;
    assert_int_equal(j, 0);
    memcpy(p->last, x, sizeof p->last);
    return HC_OK;
}

static float *tensor(const hc_st *st, const char *name, int rank, const int64_t *shape)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)shape[i];
    float *b = malloc(n * sizeof *b);
    assert_non_null(b);
    if (hc_st_read_f32(st, name, rank, shape, b) != HC_OK) fail_msg("%s", hc_errmsg());
    return b;
}

/* y[o] = b[o] + sum_i W[o, i] x[i] (float64) */
static void lin(const float *W, const float *b, const double *x, int out, int in, double *y)
{
    for (int o = 0; o < out; o++) {
        double s = b[o];
        for (int i = 0; i < in; i++) s += (double)W[(size_t)o * in + i] * x[i];
        y[o] = s;
    }
}

static double silu(double v) { return v / (1 + exp(-v)); }

/* Reference in float64 from the file's weights, one element: the stream
 * entering block 0 xe [T, D] and block 0's six adaLN chunks mod [6 D]. */
static void reference(const float *x, double t, int label, double *xe, double *mod)
{
    hc_st *st = NULL;
    assert_int_equal(hc_st_open(GOLDEN, &st), HC_OK);
    const int64_t sw[4] = {D, C, P, P}, sd[1] = {D}, sp[3] = {1, T, D}, s1[2] = {D, FREQ}, s2[2] = {D, D},
                  sy[2] = {11, D}, sm[2] = {6 * D, D}, sm1[1] = {6 * D};
    float *W = tensor(st, "x_embedder.proj.weight", 4, sw), *b = tensor(st, "x_embedder.proj.bias", 1, sd);
    float *pos = tensor(st, "pos_embed", 3, sp);
    float *W1 = tensor(st, "t_embedder.mlp.0.weight", 2, s1), *b1 = tensor(st, "t_embedder.mlp.0.bias", 1, sd);
    float *W2 = tensor(st, "t_embedder.mlp.2.weight", 2, s2), *b2 = tensor(st, "t_embedder.mlp.2.bias", 1, sd);
    float *Y = tensor(st, "y_embedder.embedding_table.weight", 2, sy);
    float *Wm = tensor(st, "blocks.0.adaLN_modulation.1.weight", 2, sm);
    float *bm = tensor(st, "blocks.0.adaLN_modulation.1.bias", 1, sm1);
    for (int n = 0; n < T; n++) /* conv with kernel = stride = p */
        for (int d = 0; d < D; d++) {
            double s = b[d] + pos[n * D + d];
            for (int c = 0; c < C; c++)
                for (int i = 0; i < P; i++)
                    for (int j = 0; j < P; j++)
                        s += (double)W[((d * C + c) * P + i) * P + j] * x[(c * I + (n / G) * P + i) * I + (n % G) * P + j];
            xe[n * D + d] = s;
        }
    double tf[FREQ], e[D], cond[D];
    for (int k = 0; k < FREQ / 2; k++) {
        double a = t * exp(-log(10000.0) * k / (FREQ / 2));
        tf[k] = cos(a);
        tf[FREQ / 2 + k] = sin(a);
    }
    lin(W1, b1, tf, D, FREQ, e);
    for (int d = 0; d < D; d++) e[d] = silu(e[d]);
    lin(W2, b2, e, D, D, cond);
    for (int d = 0; d < D; d++) cond[d] = silu(cond[d] + Y[label * D + d]);
    lin(Wm, bm, cond, 6 * D, D, mod);
    free(W), free(b), free(pos), free(W1), free(b1), free(W2), free(b2), free(Y), free(Wm), free(bm);
    hc_st_close(st);
}

static double rel_l2(const float *got, const double *ref, size_t n)
{
    double d2 = 0, r2 = 0;
    for (size_t i = 0; i < n; i++) {
        d2 += (got[i] - ref[i]) * (got[i] - ref[i]);
        r2 += ref[i] * ref[i];
    }
    return sqrt(d2 / r2);
}

/* The signal tensors of one forward against the float64 reference:
 * MOD_IN = LN(xe)(1 + scale_msa) + shift_msa; HEAD_RESID = gate_msa attn0 +
 * gate_mlp mlp0 (block 0's points as the model computed them; test_dit_golden
 * checks those against PyTorch); RESID = the stream after the last block - xe. */
static void signal_values(void **state)
{
    (void)state;
    hc_model *m = NULL;
    assert_int_equal(hc_model_open(GOLDEN, 1, &m), HC_OK);
    assert_true(hc_model_point(m, 0)->head && hc_model_point(m, 1)->head && !hc_model_point(m, 2)->head);
    float x[C * I * I], t = 420, v[COUT * I * I], v0[COUT * I * I];
    for (int i = 0; i < C * I * I; i++) x[i] = (float)sin(0.37 * i + 1);
    int label = 3;
    static probe p, q;
    memset(&p, 0, sizeof p);
    p.all_compute = 1;
    hc_model_hooks h = {.ud = &p, .compute = pr_compute, .observe = pr_observe, .forecast = pr_forecast,
                        .cluster_input = pr_last, .signals = 7, .signal = pr_signal};
    assert_int_equal(hc_model_forward(m, x, &t, &label, 1, &h, v), HC_OK);
    assert_string_equal(p.log, "s0 c0 c1 s1 c2 c3 s2");
    /* signals asked or not: the same output bits */
    assert_int_equal(hc_model_forward(m, x, &t, &label, 1, NULL, v0), HC_OK);
    assert_memory_equal(v, v0, sizeof v);
    static double xe[T * D], mod[6 * D], ref[T * D];
    reference(x, t, label, xe, mod);
    for (int n = 0; n < T; n++) {
        double mu = 0, var = 0;
        for (int d = 0; d < D; d++) mu += xe[n * D + d] / D;
        for (int d = 0; d < D; d++) var += (xe[n * D + d] - mu) * (xe[n * D + d] - mu) / D;
        for (int d = 0; d < D; d++)
            ref[n * D + d] = (xe[n * D + d] - mu) / sqrt(var + 1e-6) * (1 + mod[D + d]) + mod[d];
    }
    double e_mod = rel_l2(p.sig[HC_MSIG_MOD_IN], ref, T * D);
    for (int i = 0; i < T * D; i++) ref[i] = mod[2 * D + i % D] * p.pts[0][i] + mod[5 * D + i % D] * p.pts[1][i];
    double e_head = rel_l2(p.sig[HC_MSIG_HEAD_RESID], ref, T * D);
    for (int i = 0; i < T * D; i++) ref[i] = (double)p.last[i] - xe[i];
    double e_res = rel_l2(p.sig[HC_MSIG_RESID], ref, T * D);
    printf("DiT signals vs float64 reference: rel L2 MOD_IN %.3g, HEAD_RESID %.3g, RESID %.3g\n", e_mod, e_head, e_res);
    assert_true(e_mod < 1e-5 && e_head < 1e-5 && e_res < 1e-5);
    /* the same input again: every change is 0 */
    memset(&q, 0, sizeof q);
    q.all_compute = 1;
    h.ud = &q;
    assert_int_equal(hc_model_forward(m, x, &t, &label, 1, &h, v), HC_OK);
    for (int k = 0; k < HC_MSIG_COUNT; k++) assert_true(hc_rel_l1(q.sig[k], p.sig[k], T * D) == 0);
    /* a first-block-caching step: block 0 computed, HEAD_RESID before block 1 is asked; MOD_IN alone */
    memset(&q, 0, sizeof q);
    h.signals = 1u << HC_MSIG_HEAD_RESID;
    assert_int_equal(hc_model_forward(m, x, &t, &label, 1, &h, v), HC_OK);
    assert_string_equal(q.log, "c0 c1 s1 c2 c3");
    assert_memory_equal(q.sig[HC_MSIG_HEAD_RESID], p.sig[HC_MSIG_HEAD_RESID], sizeof q.sig[0]);
    memset(&q, 0, sizeof q);
    h.signals = 1u << HC_MSIG_MOD_IN;
    assert_int_equal(hc_model_forward(m, x, &t, &label, 1, &h, v), HC_OK);
    assert_string_equal(q.log, "s0 c0 c1 c2 c3");
    hc_model_close(m);
}

/* Sample one image, guided (B = 2), under spec on the golden DiT. */
static void sample(hc_model *m, const char *spec, int S, float *x, hc_sample_stats *st)
{
    hc_sampler *s;
    assert_int_equal(hc_sampler_alloc(m, 1, &s), HC_OK);
    hc_method meth;
    if (hc_method_parse(spec, &meth) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
    for (int i = 0; i < C * I * I; i++) x[i] = (float)cos(0.91 * i);
    int label = 2;
    hc_sample_opts o = {S, 1.5, 0};
    if (hc_sampler_run(s, &meth, &o, &label, 1, x, st) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
    hc_sampler_free(s);
}

/* MACs per element by hand (docs/dit.md): always the patch embedding, the
 * embedders, every block's adaLN and the final layer; attention T 4 D^2 +
 * 2 T^2 D, MLP 2 T D F; reuse forecasts cost 1 per element; a signal 2 T D. */
static const double common = T * C * P * P * D + FREQ * D + D * D + DEPTH * 6 * D * D + 2 * D * D + T * D * P * P * COUT;
static const double attn = T * 4.0 * D * D + 2.0 * T * T * D, mlp = 2.0 * T * D * F, sig = 2.0 * T * D;

/* Each policy closed loop: finite samples, some steps cached, the run's MACs
 * = full steps x (full + signal) + cached steps x (cached step + signal). */
static void policies_closed_loop(void **state)
{
    (void)state;
    hc_model *m = NULL;
    assert_int_equal(hc_model_open(GOLDEN, 2, &m), HC_OK);
    const double full = common + DEPTH * (attn + mlp), rest = common + 2 * DEPTH * T * D;
    static const struct { const char *spec; double cached; int sig; } cases[] = {
        {"reuse@fixed:N=3,sched=dit", 0, 0},
        {"reuse@teacache:delta=0.3", 0, 1},
        {"reuse@magcache:W=2,delta=0.05", 0, 1},
        {"reuse@fbcache:delta=0.9", attn + mlp - 2 * T * D, 1}, /* block 0 computed, not forecast */
    };
    float x[C * I * I];
    printf("golden tiny DiT, DDIM-20, CFG 1.5, per element: full step %.0f MACs\n", full);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int S = 20;
        hc_sample_stats st;
        sample(m, cases[k].spec, S, x, &st);
        for (int i = 0; i < C * I * I; i++) assert_true(isfinite(x[i]));
        const double s = cases[k].sig * sig, cached = rest + cases[k].cached;
        const double want = 2 * (st.full_steps * (full + s) + (S - st.full_steps) * (cached + s));
        printf("  %-32s %2d/%d full, cached step %.0f MACs (%.3f of full), run %.4g MACs\n", cases[k].spec,
               st.full_steps, S, cached + s, (cached + s) / full, st.macs);
        assert_true(st.full_steps > 1 && st.full_steps < S);
        check_close(st.macs, want, 0, 1e-12, cases[k].spec, "MACs");
    }
    hc_model_close(m);
}

/* P@fixed:N=..,sched=dit is P:N=..,sched=dit: same samples, same MACs. */
static void fixed_is_schedule(void **state)
{
    (void)state;
    hc_model *m = NULL;
    assert_int_equal(hc_model_open(GOLDEN, 2, &m), HC_OK);
    static const char *const pairs[][2] = {
        {"taylor:N=4,sched=dit,W=2,O=2", "taylor:O=2@fixed:N=4,sched=dit,W=2"},
        {"hicache:N=3,sched=dit,O=2,sigma=0.5", "hicache:O=2,sigma=0.5@fixed:N=3,sched=dit"},
        {"clusca:base=hicache,N=4,sched=dit,K=4", "clusca:base=hicache,K=4@fixed:N=4,sched=dit"},
        {"reuse:N=5,sched=dit", "reuse@fixed:N=5,sched=dit"},
    };
    float a[C * I * I], b[C * I * I];
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        hc_sample_stats sa, sb;
        sample(m, pairs[k][0], 16, a, &sa);
        sample(m, pairs[k][1], 16, b, &sb);
        assert_memory_equal(a, b, sizeof a);
        assert_true(sa.macs == sb.macs && sa.full_steps == sb.full_steps && sa.full_steps < 16);
    }
    hc_model_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signal_values),
        cmocka_unit_test(policies_closed_loop),
        cmocka_unit_test(fixed_is_schedule),
    };
    return HC_RUN_TESTS(tests, hc_test_setup, NULL);
}
