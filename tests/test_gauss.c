/* test_gauss.c: `hicache gauss` analysis (src/eval/gauss.h) and figures
 * (analysis/plot.h).
 *
 *   - Gaussian-process trajectories (hc_synth_write, independent tokens,
 *     n <= T so pooled rows are independent) reject at the nominal rate:
 *     raw per-channel rejections over seeds and modules within binomial
 *     bounds, BH rejections near zero, and real statistics comparable to
 *     their null calibration; the per-step scope likewise.
 *   - Trajectories whose increments are Laplace, uniform or a two-Gaussian
 *     mixture (written with hc_traj_writer) are rejected by the univariate
 *     and multivariate tests while their null calibration is not.
 *   - Derivative steps follow the dcache recursion (checked against
 *     hc_dcache itself) and derivative values match a known slope.
 *   - Outputs exist, nothing .partial is left, summary.json parses and
 *     agrees with the result struct, the Markdown tables' numbers equal
 *     summary.json's, gauss.csv agrees too; figures render when gnuplot is
 *     on PATH.
 *   - Errors: missing file, no module match, bad options, non-finite data
 *     (and then no summary left behind); plot name and gnuplot failures. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "testutil.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "gauss.h"
#include "gauss_report.h"
#include "plot.h"
#include "predictor.h"
#include "synth.h"
#include "traj.h"

/* ---- helpers ------------------------------------------------------------------ */

static int file_exists(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

static char *slurp(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Number of entries of dir whose name ends in suffix. */
static int count_suffix(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    size_t ls = strlen(suffix);
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        n += l >= ls && strcmp(e->d_name + l - ls, suffix) == 0;
    }
    closedir(d);
    return n;
}

static hc_gauss_opts quiet_opts(void)
{
    hc_gauss_opts o;
    hc_gauss_defaults(&o);
    o.plots = 0;
    return o;
}

/* Write a trajectory of S steps whose features are random walks with iid
 * increments of the given laws, one module per law: "dit/0/<law>".  Laws:
 * "gauss", "laplace", "uniform", "mixture".  Channel c is scaled by 0.8^c,
 * so the leading principal axes are (nearly) single channels: with equal
 * scales they would be averages of all channels, Gaussian by the central
 * limit theorem whatever the law.  nan_step >= 0 puts a NaN there. */
static void write_law_traj(const char *path, const char *const *laws, int n_laws, int T, int D, int S,
                           unsigned long seed, int nan_step)
{
    hc_traj_meta meta = {0};
    snprintf(meta.model, sizeof meta.model, "test-laws");
    snprintf(meta.sampler, sizeof meta.sampler, "none");
    meta.num_steps = S;
    hc_traj_write_opts wo = {HC_F32, 0};
    hc_traj_writer *w;
    assert_int_equal(hc_traj_writer_open(path, &meta, &wo, NULL, &w), HC_OK);
    for (int s = 0; s < S; s++) assert_int_equal(hc_traj_writer_put_time(w, s, 1.0 - (double)s / S), HC_OK);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    size_t TD = (size_t)T * D;
    float *row = malloc(TD * sizeof *row);
    double *acc = malloc(TD * sizeof *acc);
    assert_non_null(row);
    assert_non_null(acc);
    for (int m = 0; m < n_laws; m++) {
        int h;
        assert_int_equal(hc_traj_writer_add_feature(w, "dit", 0, laws[m], "joint", T, D, &h), HC_OK);
        for (size_t e = 0; e < TD; e++) acc[e] = gsl_ran_gaussian(r, 1.0);
        for (int s = 0; s < S; s++) {
            for (size_t e = 0; e < TD; e++) {
                double inc;
                if (strcmp(laws[m], "laplace") == 0) inc = gsl_ran_laplace(r, 1.0);
                else if (strcmp(laws[m], "uniform") == 0) inc = gsl_ran_flat(r, -1.0, 1.0);
                else if (strcmp(laws[m], "mixture") == 0)
                    inc = gsl_ran_gaussian(r, 1.0) + (gsl_rng_uniform(r) < 0.5 ? -1.5 : 1.5);
                else inc = gsl_ran_gaussian(r, 1.0);
                acc[e] += s ? inc : 0.0;
                row[e] = (float)(acc[e] * pow(0.8, (double)(e % (size_t)D)));
            }
            if (s == nan_step) row[TD / 2] = NAN;
            assert_int_equal(hc_traj_writer_put(w, h, s, row), HC_OK);
        }
    }
    assert_int_equal(hc_traj_writer_finish(w), HC_OK);
    gsl_rng_free(r);
    free(row);
    free(acc);
}

static const hc_gauss_item *find_item(const hc_gauss_result *r, const char *module, int order)
{
    for (size_t i = 0; i < r->n_items; i++)
        if (strcmp(r->items[i].module, module) == 0 && r->items[i].order == order) return &r->items[i];
    fail_msg("no item %s order %d", module, order);
    return NULL;
}

/* ---- Gaussian processes look Gaussian ----------------------------------------------- */

static void test_gp_nominal_rate(void **state)
{
    (void)state;
    const double alpha = 0.05;
    /* raw rejections per test kind, order 1, all modules and seeds: iid
     * N(0, s^2) samples (independent tokens and channels, n <= T) */
    unsigned raw[2][4] = {{0}}, total = 0;
    unsigned step_k2 = 0, step_total = 0, mv_small = 0, mv_total = 0;
    const int seeds = 3;
    for (int seed = 0; seed < seeds; seed++) {
        hc_synth_opts so;
        hc_synth_defaults(&so);
        so.kind = HC_SYNTH_GP;
        so.clusters = 0;
        so.tokens = 1024;
        so.channels = 32;
        so.steps = 6;
        so.modules = 4;
        so.hidden = 0;
        so.seed = 100 + (unsigned long)seed;
        assert_int_equal(hc_synth_write("gauss_gp.h5", &so), HC_OK);
        hc_gauss_opts o = quiet_opts();
        o.order = 2;
        o.sample = 1000;
        o.proj = 8;
        o.seed = (unsigned long)seed;
        const char *paths[] = {"gauss_gp.h5"};
        hc_gauss_result *res;
        assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_out_gp", &res), HC_OK);
        assert_int_equal(res->n_items, 8);
        for (size_t i = 0; i < res->n_items; i++) {
            const hc_gauss_item *it = &res->items[i];
            assert_true(it->uni_ok);
            assert_true(it->pca[0].ok && it->pca[1].ok);
            const double *re = it->chan[HC_GAUSS_REAL].v, *nu = it->chan[HC_GAUSS_NULL].v;
            assert_int_equal((int)re[HC_GU_N], 1000);
            assert_int_equal((int)re[HC_GU_M], 32);
            /* BH: with every hypothesis true, rejections are rare */
            for (int t = 0; t < 4; t++) {
                assert_true(re[HC_GU_JB_BH + t] <= 0.1);
                assert_true(nu[HC_GU_JB_BH + t] <= 0.1);
            }
            /* comparable to the null calibration */
            assert_true(fabs(re[HC_GU_W_MEDIAN] - nu[HC_GU_W_MEDIAN]) < 0.001);
            assert_true(fabs(re[HC_GU_G2_MEDIAN] - nu[HC_GU_G2_MEDIAN]) < 0.2);
            assert_true(fabs(re[HC_GU_G1_MEDIAN]) < 0.05);
            assert_true(re[HC_GU_ASTAR_MEDIAN] < 0.6 && nu[HC_GU_ASTAR_MEDIAN] < 0.6);
            if (it->order == 1) {
                for (int t = 0; t < 4; t++) {
                    raw[0][t] += (unsigned)lround(re[HC_GU_JB_RAW + t] * 32);
                    raw[1][t] += (unsigned)lround(nu[HC_GU_JB_RAW + t] * 32);
                }
                total += 32;
                const double *mv = it->pca[HC_GAUSS_REAL].v;
                mv_small += (mv[HC_GM_MARDIA_SKEW_P] < alpha) + (mv[HC_GM_MARDIA_KURT_P] < alpha) +
                            (mv[HC_GM_HZ_P] < alpha);
                mv_total += 3;
            }
            /* step scope: K^2 over the 1024 tokens of each step */
            assert_true(it->step_ok);
            for (int j = 0; j < it->n_steps; j++) {
                step_k2 += (unsigned)lround(it->step_rows[j].v[HC_GS_K2_RAW] * 32);
                step_total += 32;
            }
        }
        hc_gauss_result_free(res);
    }
    unsigned lo, hi;
    binom_interval(total, alpha, 1e-4, &lo, &hi);
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 4; t++) {
            if (raw[s][t] < lo || raw[s][t] > hi)
                fail_msg("%s test %d: %u of %u raw rejections, outside [%u, %u]", s ? "null" : "real", t,
                         raw[s][t], total, lo, hi);
        }
    binom_interval(step_total, alpha, 1e-4, &lo, &hi);
    if (step_k2 < lo || step_k2 > hi) fail_msg("step K2: %u of %u outside [%u, %u]", step_k2, step_total, lo, hi);
    /* 3 multivariate p-values per item (dependent), 12 items */
    binom_interval(mv_total, alpha, 1e-4, &lo, &hi);
    if (mv_small > hi) fail_msg("multivariate: %u of %u p-values below alpha (max %u)", mv_small, mv_total, hi);
    remove("gauss_gp.h5");
}

/* ---- non-Gaussian increments are rejected ---------------------------------------------------- */

static void test_non_gaussian_rejected(void **state)
{
    (void)state;
    static const char *const laws[] = {"laplace", "uniform", "mixture", "gauss"};
    write_law_traj("gauss_laws.h5", laws, 4, 1024, 64, 5, 7, -1);
    hc_gauss_opts o = quiet_opts();
    o.order = 2;
    o.sample = 1000;
    o.proj = 8;
    const char *paths[] = {"gauss_laws.h5"};
    hc_gauss_result *res;
    assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_out_laws", &res), HC_OK);
    assert_int_equal(res->n_items, 8);
    for (int l = 0; l < 3; l++) {
        char name[64];
        snprintf(name, sizeof name, "dit/0/%s", laws[l]);
        const hc_gauss_item *it = find_item(res, name, 1);
        const double *re = it->chan[HC_GAUSS_REAL].v, *nu = it->chan[HC_GAUSS_NULL].v;
        /* first differences are the iid increments: every channel rejected */
        assert_true(re[HC_GU_SW_BH] >= 0.9);
        assert_true(re[HC_GU_AD_BH] >= 0.9);
        assert_true(re[HC_GU_K2_BH] >= 0.9);
        assert_true(nu[HC_GU_SW_BH] <= 0.1 && nu[HC_GU_AD_BH] <= 0.1);
        assert_true(re[HC_GU_W_MEDIAN] < nu[HC_GU_W_MEDIAN] - 0.005);
        /* multivariate: kurtosis far from Gaussian, Henze-Zirkler rejects */
        assert_true(it->pca[HC_GAUSS_REAL].ok);
        assert_true(it->pca[HC_GAUSS_REAL].v[HC_GM_MARDIA_KURT_P] < 1e-6);
        assert_true(it->pca[HC_GAUSS_REAL].v[HC_GM_HZ_P] < 1e-6);
        assert_true(it->pca[HC_GAUSS_NULL].v[HC_GM_HZ_P] > 1e-3);
        /* and so does every step's K^2 over the 1024 tokens */
        for (int j = 0; j < it->n_steps; j++) assert_true(it->step_rows[j].v[HC_GS_K2_BH] >= 0.9);
        assert_true(it->step_null.v[HC_GS_K2_BH] <= 0.1);
    }
    /* signs of the excess kurtosis: Laplace heavy, uniform and mixture light */
    assert_true(find_item(res, "dit/0/laplace", 1)->chan[0].v[HC_GU_G2_MEDIAN] > 2.0);
    assert_true(find_item(res, "dit/0/uniform", 1)->chan[0].v[HC_GU_G2_MEDIAN] < -1.0);
    assert_true(find_item(res, "dit/0/mixture", 1)->chan[0].v[HC_GU_G2_MEDIAN] < -0.6);
    /* order 2 of Laplace increments (differences of two Laplace) is still heavy-tailed */
    const hc_gauss_item *l2 = find_item(res, "dit/0/laplace", 2);
    assert_true(l2->chan[0].v[HC_GU_K2_BH] >= 0.9);
    assert_true(l2->chan[0].v[HC_GU_G2_MEDIAN] > 1.0);
    /* the Gaussian random walk next to them is not rejected */
    const hc_gauss_item *g = find_item(res, "dit/0/gauss", 1);
    assert_true(g->chan[0].v[HC_GU_SW_BH] <= 0.1 && g->chan[0].v[HC_GU_AD_BH] <= 0.1);
    /* the least Gaussian channel of the Laplace module has the smallest W */
    const hc_gauss_item *l1 = find_item(res, "dit/0/laplace", 1);
    assert_true(l1->worst_channel >= 0 && l1->worst_w <= l1->best_w);
    hc_gauss_result_free(res);

    /* per-token scope sees it too */
    o.per_token = 1;
    o.order = 1;
    o.modules = "dit/0/laplace";
    assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_out_laws", &res), HC_OK);
    assert_int_equal(res->n_items, 1);
    assert_true(res->items[0].tok_ok);
    assert_true(res->items[0].tok[0].v[HC_GU_K2_BH] >= 0.9);
    assert_true(res->items[0].tok[1].v[HC_GU_K2_BH] <= 0.1);
    hc_gauss_result_free(res);
    remove("gauss_laws.h5");
}

/* ---- derivative steps and values ------------------------------------------------------------------- */

/* The steps where order k is fresh: the dcache's valid-order count after
 * each observed full step (hc_dcache itself is the oracle). */
static void test_steps_follow_dcache(void **state)
{
    (void)state;
    hc_synth_opts so;
    hc_synth_defaults(&so);
    so.kind = HC_SYNTH_POLY;
    so.degree = 1;
    so.steps = 23;
    so.tokens = 12;
    so.channels = 8;
    so.modules = 1;
    so.hidden = 0;
    so.seed = 3;
    assert_int_equal(hc_synth_write("gauss_poly.h5", &so), HC_OK);
    static const int NW[][2] = {{1, 1}, {1, 3}, {3, 2}, {4, 3}, {5, 1}};
    for (size_t c = 0; c < sizeof NW / sizeof NW[0]; c++) {
        hc_gauss_opts o = quiet_opts();
        o.order = 3;
        o.N = NW[c][0];
        o.W = NW[c][1];
        o.sample = 20;
        const char *paths[] = {"gauss_poly.h5"};
        hc_gauss_result *res;
        assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_out_poly", &res), HC_OK);
        assert_int_equal(res->n_items, 3);

        char spec[64];
        snprintf(spec, sizeof spec, "taylor:N=%d,W=%d,O=3,sched=flux", o.N, o.W);
        hc_method m;
        assert_int_equal(hc_method_parse(spec, &m), HC_OK);
        hc_dcache *dc;
        size_t TD = (size_t)so.tokens * so.channels;
        assert_int_equal(hc_dcache_alloc(&m, TD, NULL, &dc), HC_OK);
        float *f = malloc(TD * sizeof *f);
        memset(f, 0, TD * sizeof *f);
        unsigned char full[64];
        hc_schedule_mask(&m.sched, so.steps, full);
        int expect[4][64], n_expect[4] = {0};
        for (int s = 0; s < so.steps; s++) {
            if (!full[s]) continue;
            hc_step_ctx ctx = {.step = s};
            hc_dcache_observe(dc, &ctx, f);
            /* after a full step the cache holds D_0..D_k, all computed from it */
            int ran = hc_dcache_valid(dc) - 1;
            for (int k = 1; k <= ran; k++) expect[k][n_expect[k]++] = s;
        }
        for (int k = 1; k <= 3; k++) {
            const hc_gauss_item *it = &res->items[k - 1];
            assert_int_equal(it->order, k);
            assert_int_equal(it->n_steps, n_expect[k]);
            for (int j = 0; j < n_expect[k]; j++) assert_int_equal(it->steps[j], expect[k][j]);
        }
        /* values: order 1 of a linear-in-step signal is its slope, at every step */
        float *data = malloc((size_t)so.steps * TD * sizeof *data);
        assert_int_equal(hc_synth_module(&so, 0, data), HC_OK);
        double ss = 0.0;
        for (size_t e = 0; e < TD; e++) {
            double slope = (double)data[TD + e] - (double)data[e];
            ss += slope * slope;
        }
        double rms = sqrt(ss / (double)TD);
        const hc_gauss_item *o1 = &res->items[0];
        assert_true(o1->step_ok);
        for (int j = 0; j < o1->n_steps; j++)
            assert_true(fabs(o1->step_rows[j].v[HC_GS_RMS] - rms) < 1e-4 * rms);
        /* order 2 of a linear signal is float rounding only */
        const hc_gauss_item *o2 = &res->items[1];
        for (int j = 0; j < o2->n_steps; j++) assert_true(o2->step_rows[j].v[HC_GS_RMS] < 1e-4 * rms);
        free(data);
        free(f);
        hc_dcache_free(dc);
        hc_gauss_result_free(res);
    }
    /* a schedule with too few full steps for order 3: noted, not an error */
    hc_gauss_opts o = quiet_opts();
    o.order = 3;
    o.N = 20;
    o.W = 1;
    const char *paths[] = {"gauss_poly.h5"};
    hc_gauss_result *res;
    assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_out_poly", &res), HC_OK);
    assert_int_equal(res->items[2].n_steps, 0);
    assert_false(res->items[2].uni_ok);
    assert_non_null(strstr(res->items[2].note, "no derivative steps of order 3"));
    hc_gauss_result_free(res);
    remove("gauss_poly.h5");
}

/* ---- outputs ------------------------------------------------------------------------------------------ */

/* Split a Markdown table row "| a | b |" into trimmed cells. */
static int md_cells(char *line, char **cells, int max)
{
    int n = 0;
    char *p = strchr(line, '|');
    while (p && n < max) {
        char *q = strchr(p + 1, '|');
        if (!q) break;
        *q = '\0';
        char *a = p + 1;
        while (*a == ' ') a++;
        char *z = a + strlen(a);
        while (z > a && z[-1] == ' ') *--z = '\0';
        cells[n++] = a;
        p = q;
    }
    return n;
}

/* The JSON value formatted as the Markdown writer does. */
static void md_format(const cJSON *v, char *buf, size_t n)
{
    if (!cJSON_IsNumber(v)) snprintf(buf, n, "n/a");
    else snprintf(buf, n, "%.4g", v->valuedouble);
}

typedef struct md_map {
    const char *header, *key;
} md_map;

/* Check every numeric cell of the table after `heading` against
 * results[i][scope][real_key|"null"][key]. */
static void check_md_table(const char *md, const char *heading, const cJSON *results, const char *scope,
                           const char *real_key, const md_map *map, size_t n_map)
{
    const char *start = strstr(md, heading);
    assert_non_null(start);
    char *copy = strdup(start);
    char *save = NULL, *line = strtok_r(copy, "\n", &save);
    char *header[64];
    int n_header = 0, rows = 0, in_table = 0;
    char hdr_buf[4096];
    for (; line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] != '|') {
            if (in_table) break;
            continue;
        }
        if (!in_table) {
            in_table = 1;
            snprintf(hdr_buf, sizeof hdr_buf, "%s", line);
            n_header = md_cells(hdr_buf, header, 64);
            continue;
        }
        if (strncmp(line, "|---", 4) == 0) continue;
        char *cells[64];
        int nc = md_cells(line, cells, 64);
        assert_int_equal(nc, n_header);
        /* find the item */
        const cJSON *item = NULL;
        for (int i = 0; i < cJSON_GetArraySize(results); i++) {
            const cJSON *r = cJSON_GetArrayItem(results, i);
            if (strcmp(cJSON_GetObjectItem(r, "module")->valuestring, cells[1]) == 0 &&
                (int)cJSON_GetObjectItem(r, "order")->valuedouble == atoi(cells[2]))
                item = r;
        }
        assert_non_null(item);
        const cJSON *sc = cJSON_GetObjectItem(item, scope);
        assert_non_null(sc);
        int checked = 0;
        for (int c = 4; c < nc; c++) {
            if (strcmp(header[c], "null") == 0) continue;
            const char *key = NULL;
            for (size_t k = 0; k < n_map; k++)
                if (strcmp(map[k].header, header[c]) == 0) key = map[k].key;
            if (!key) fail_msg("unmapped column '%s'", header[c]);
            char want[64];
            md_format(cJSON_GetObjectItem(cJSON_GetObjectItem(sc, real_key), key), want, sizeof want);
            if (strcmp(cells[c], want) != 0) fail_msg("%s %s real: md '%s' json '%s'", cells[1], key, cells[c], want);
            checked++;
            if (c + 1 < n_header && strcmp(header[c + 1], "null") == 0) {
                md_format(cJSON_GetObjectItem(cJSON_GetObjectItem(sc, "null"), key), want, sizeof want);
                if (strcmp(cells[c + 1], want) != 0)
                    fail_msg("%s %s null: md '%s' json '%s'", cells[1], key, cells[c + 1], want);
                checked++;
            }
        }
        assert_true(checked >= 9);
        rows++;
    }
    assert_int_equal(rows, cJSON_GetArraySize(results));
    free(copy);
}

static void test_outputs(void **state)
{
    (void)state;
    hc_synth_opts so;
    hc_synth_defaults(&so);
    so.kind = HC_SYNTH_GP;
    so.clusters = 0;
    so.tokens = 64;
    so.channels = 12;
    so.steps = 6;
    so.modules = 2;
    so.seed = 11;
    assert_int_equal(hc_synth_write("gauss_small.h5", &so), HC_OK);
    hc_gauss_opts o;
    hc_gauss_defaults(&o);
    o.order = 2;
    o.sample = 200;
    o.proj = 4;
    o.per_token = 1;
    o.qq_proj = 2;
    const char *dir = "gauss_out_files";
    const char *paths[] = {"gauss_small.h5"};
    hc_gauss_result *res;
    assert_int_equal(hc_gauss_run(paths, 1, &o, dir, &res), HC_OK);
    assert_int_equal(res->n_items, 4);
    assert_true(file_exists(dir, "gauss.csv"));
    assert_true(file_exists(dir, "summary.json"));
    assert_true(file_exists(dir, "summary.md"));
    assert_int_equal(count_suffix(dir, ".partial"), 0);

    /* figures: a .csv and .gp beside each, rendered when gnuplot exists */
    char fig[512];
    snprintf(fig, sizeof fig, "%s/fig", dir);
    assert_int_equal(res->n_figures, 8);
    assert_int_equal(count_suffix(fig, ".partial"), 0);
    for (size_t i = 0; i < res->n_items; i++) {
        const hc_gauss_item *it = &res->items[i];
        static const char *const ext[] = {".csv", ".gp", ".png", ".pdf"};
        const char *bases[] = {it->fig_qq, it->fig_hist};
        for (int b = 0; b < 2; b++)
            for (int e = 0; e < (res->gnuplot_missing ? 2 : 4); e++) {
                char name[300];
                snprintf(name, sizeof name, "%s%s", bases[b], ext[e]);
                if (!file_exists(fig, name)) fail_msg("missing %s/%s", fig, name);
            }
    }
    if (!res->gnuplot_missing) {
        assert_int_equal(res->n_rendered, 8);
        char *png = slurp(fig, "f0-gauss_small-dit_0_attn-o1_qq.png");
        assert_non_null(png);
        assert_memory_equal(png, "\x89PNG", 4);
        free(png);
        char *pdf = slurp(fig, "f0-gauss_small-dit_0_attn-o1_qq.pdf");
        assert_non_null(pdf);
        assert_memory_equal(pdf, "%PDF", 4);
        free(pdf);
    }
    /* the Q-Q csv: header, n rows, sorted standardised columns */
    char *qq = slurp(fig, "f0-gauss_small-dit_0_attn-o1_qq.csv");
    assert_non_null(qq);
    assert_int_equal(strncmp(qq, "rank,normal_quantile,projection 1,projection 2,best channel", 59), 0);
    int lines = 0;
    for (char *p = qq; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 1 + 200);
    free(qq);
    char *gp = slurp(fig, "f0-gauss_small-dit_0_attn-o1_qq.gp");
    assert_non_null(strstr(gp, "\"f0-gauss_small-dit_0_attn-o1_qq.csv\""));
    assert_non_null(strstr(gp, "pngcairo"));
    assert_non_null(strstr(gp, "pdfcairo"));
    free(gp);

    /* summary.json */
    char *js = slurp(dir, "summary.json");
    cJSON *doc = cJSON_Parse(js);
    assert_non_null(doc);
    const cJSON *prov = cJSON_GetObjectItem(doc, "provenance");
    assert_true(cJSON_IsObject(prov));
    assert_non_null(cJSON_GetObjectItem(prov, "git_commit"));
    const cJSON *cfg = cJSON_GetObjectItem(doc, "config");
    assert_int_equal((int)cJSON_GetObjectItem(cfg, "sample")->valuedouble, 200);
    assert_int_equal((int)cJSON_GetObjectItem(cfg, "proj")->valuedouble, 4);
    assert_int_equal((int)cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "schedule"), "N")->valuedouble, 1);
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(doc, "seeds")));
    const cJSON *results = cJSON_GetObjectItem(doc, "results");
    assert_int_equal(cJSON_GetArraySize(results), 4);
    for (size_t i = 0; i < res->n_items; i++) {
        const hc_gauss_item *it = &res->items[i];
        const cJSON *r = cJSON_GetArrayItem(results, (int)i);
        assert_string_equal(cJSON_GetObjectItem(r, "module")->valuestring, it->module);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "steps")), it->n_steps);
        const cJSON *ch = cJSON_GetObjectItem(r, "channel");
        for (int s = 0; s < 2; s++)
            for (int k = 0; k < HC_GU_COUNT; k++) {
                const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(ch, s ? "null" : "real"), hc_gauss_uni_names[k]);
                assert_true(cJSON_IsNumber(v));
                assert_true(v->valuedouble == it->chan[s].v[k] || fabs(v->valuedouble - it->chan[s].v[k]) <= 1e-12 * fabs(it->chan[s].v[k]));
            }
        const cJSON *pca = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "pca"), "real");
        assert_true(fabs(cJSON_GetObjectItem(pca, "hz_p")->valuedouble - it->pca[0].v[HC_GM_HZ_P]) <= 1e-12);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "step"), "real")), it->n_steps);
        assert_non_null(cJSON_GetObjectItem(r, "token"));
    }

    /* summary.md: every number of the three tables equals summary.json's */
    char *md = slurp(dir, "summary.md");
    static const md_map uni[] = {
        {"n", "n"}, {"tested", "m"}, {"median g1", "g1_median"}, {"median g2", "g2_median"},
        {"median W", "w_median"}, {"median A*", "astar_median"}, {"SW rejected (BH)", "sw_bh_frac"},
        {"AD rejected (BH)", "ad_bh_frac"}, {"K2 rejected (BH)", "k2_bh_frac"}, {"SW p<alpha (raw)", "sw_raw_frac"},
    };
    static const md_map mv[] = {
        {"n", "n"}, {"P", "p"}, {"explained", "explained"}, {"Mardia skew", "mardia_skew"},
        {"skew p", "mardia_skew_p"}, {"Mardia kurt z", "mardia_kurt_z"}, {"kurt p", "mardia_kurt_p"},
        {"HZ", "hz"}, {"HZ p", "hz_p"},
    };
    static const md_map st[] = {
        {"T", "n"}, {"rms", "rms"}, {"median g1", "g1_median"}, {"median g2", "g2_median"},
        {"K2 p<alpha (raw)", "k2_raw_frac"}, {"K2 rejected (BH)", "k2_bh_frac"}, {"JB rejected (BH)", "jb_bh_frac"},
    };
    check_md_table(md, "## Per channel", results, "channel", "real", uni, sizeof uni / sizeof uni[0]);
    check_md_table(md, "## Per token", results, "token", "real", uni, sizeof uni / sizeof uni[0]);
    check_md_table(md, "## Multivariate", results, "pca", "real", mv, sizeof mv / sizeof mv[0]);
    check_md_table(md, "## Per step", results, "step", "real_median", st, sizeof st / sizeof st[0]);
    /* the step medians are medians of the per-step rows */
    for (size_t i = 0; i < res->n_items; i++) {
        const hc_gauss_item *it = &res->items[i];
        double v[64];
        for (int j = 0; j < it->n_steps; j++) v[j] = it->step_rows[j].v[HC_GS_RMS];
        for (int a = 0; a < it->n_steps; a++) /* insertion sort */
            for (int b2 = a; b2 > 0 && v[b2 - 1] > v[b2]; b2--) {
                double t = v[b2];
                v[b2] = v[b2 - 1];
                v[b2 - 1] = t;
            }
        int m = it->n_steps;
        double med = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
        assert_true(fabs(it->step_median.v[HC_GS_RMS] - med) <= 1e-15 * med);
    }

    /* gauss.csv: the header, and its channel w_median equals the JSON */
    char *csv = slurp(dir, "gauss.csv");
    assert_int_equal(strncmp(csv, "file,module,order,scope,step,set,stat,value\n", 44), 0);
    char want[256];
    snprintf(want, sizeof want, "gauss_small.h5,dit/0/mlp,2,channel,-1,null,w_median,%.10g\n",
             find_item(res, "dit/0/mlp", 2)->chan[1].v[HC_GU_W_MEDIAN]);
    assert_non_null(strstr(csv, want));
    snprintf(want, sizeof want, "gauss_small.h5,dit/0/attn,1,step,%d,real,rms,",
             find_item(res, "dit/0/attn", 1)->steps[0]);
    assert_non_null(strstr(csv, want));
    assert_non_null(strstr(csv, ",pca,-1,real,hz_p,"));
    assert_non_null(strstr(csv, ",token,-1,null,ad_bh_frac,"));
    assert_non_null(strstr(csv, ",step,-1,null,k2_raw_frac,"));
    assert_non_null(strstr(csv, ",step,-1,real_median,k2_raw_frac,"));

    /* same seed, same numbers; another seed, other null draws */
    hc_gauss_result *again;
    assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_out_files2", &again), HC_OK);
    assert_memory_equal(again->items[0].chan, res->items[0].chan, sizeof res->items[0].chan);
    assert_memory_equal(again->items[3].pca[1].v, res->items[3].pca[1].v, sizeof res->items[3].pca[1].v);
    hc_gauss_result_free(again);
    o.seed = 1;
    o.plots = 0;
    assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_out_files2", &again), HC_OK);
    assert_true(again->items[0].chan[1].v[HC_GU_W_MEDIAN] != res->items[0].chan[1].v[HC_GU_W_MEDIAN]);
    hc_gauss_result_free(again);

    free(csv);
    free(md);
    cJSON_Delete(doc);
    free(js);
    hc_gauss_result_free(res);
    remove("gauss_small.h5");
}

/* ---- errors ---------------------------------------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    static const char *const stale[] = {"gauss_out_err/gauss.csv", "gauss_out_err/summary.json",
                                        "gauss_out_err/summary.md", "gauss_out_nan/gauss.csv",
                                        "gauss_out_nan/summary.json", "gauss_out_nan/summary.md"};
    for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++) remove(stale[i]); /* earlier runs */
    hc_gauss_opts o = quiet_opts();
    const char *missing[] = {"gauss_no_such.h5"};
    hc_gauss_result *res = (hc_gauss_result *)1;
    assert_int_equal(hc_gauss_run(missing, 1, &o, "gauss_out_err", &res), HC_EIO);
    assert_null(res);
    assert_non_null(strstr(hc_errmsg(), "gauss_no_such.h5"));
    assert_false(file_exists("gauss_out_err", "gauss.csv"));
    assert_int_equal(count_suffix("gauss_out_err", ".partial"), 0);

    static const char *const laws[] = {"gauss"};
    write_law_traj("gauss_err.h5", laws, 1, 16, 4, 5, 1, -1);
    const char *paths[] = {"gauss_err.h5"};
    o.modules = "dit/*/attn,single/*";
    assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_out_err", NULL), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "no feature dataset matches"));
    assert_non_null(strstr(hc_errmsg(), "dit/0/gauss"));
    o.modules = "dit/0/g*";
    assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_out_err", NULL), HC_OK);

    /* option ranges */
    static const struct {
        size_t off;
        int bad;
        const char *name;
    } bad[] = {{offsetof(hc_gauss_opts, order), 4, "--order"},
               {offsetof(hc_gauss_opts, proj), 0, "--proj"},
               {offsetof(hc_gauss_opts, N), 0, "--N"},
               {offsetof(hc_gauss_opts, qq_proj), 9, "--qq-proj"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hc_gauss_opts b = quiet_opts();
        *(int *)((char *)&b + bad[i].off) = bad[i].bad;
        assert_int_equal(hc_gauss_run(paths, 1, &b, "gauss_out_err", NULL), HC_EINVAL);
        assert_non_null(strstr(hc_errmsg(), bad[i].name));
    }
    hc_gauss_opts b = quiet_opts();
    b.sample = 5;
    assert_int_equal(hc_gauss_run(paths, 1, &b, "gauss_out_err", NULL), HC_EINVAL);
    assert_int_equal(hc_gauss_run(paths, 0, &o, "gauss_out_err", NULL), HC_EINVAL);

    /* a NaN in the data: HC_EFORMAT naming file, module and step; the run's
     * outputs are gone (the earlier good run's are replaced by nothing new) */
    write_law_traj("gauss_nan.h5", laws, 1, 16, 4, 5, 1, 3);
    const char *nan_paths[] = {"gauss_err.h5", "gauss_nan.h5"};
    o.modules = NULL;
    assert_int_equal(hc_gauss_run(nan_paths, 2, &o, "gauss_out_nan", NULL), HC_EFORMAT);
    assert_non_null(strstr(hc_errmsg(), "gauss_nan.h5: dit/0/gauss step 3"));
    assert_false(file_exists("gauss_out_nan", "gauss.csv"));
    assert_false(file_exists("gauss_out_nan", "summary.json"));
    assert_false(file_exists("gauss_out_nan", "summary.md"));
    assert_int_equal(count_suffix("gauss_out_nan", ".partial"), 0);

    /* output directory cannot be created */
    assert_int_equal(hc_gauss_run(paths, 1, &o, "gauss_err.h5/sub", NULL), HC_EIO);
    remove("gauss_err.h5");
    remove("gauss_nan.h5");
}

/* ---- plot.h ------------------------------------------------------------------------------------------------- */

static void test_plot(void **state)
{
    (void)state;
    assert_int_equal(hc_plot_write_script(".", "bad/name", HC_PLOT_DEFAULT_SIZE, "plot x\n"), HC_EINVAL);
    assert_int_equal(hc_plot_write_script(".", "bad\"name", HC_PLOT_DEFAULT_SIZE, "plot x\n"), HC_EINVAL);
    hc_outfile *f;
    assert_int_equal(hc_plot_csv_open(".", "gauss_plot", &f), HC_OK);
    fputs("x,y\n0,1\n1,3\n2,2\n", hc_outfile_fp(f));
    assert_int_equal(hc_outfile_commit(f), HC_OK);
    assert_int_equal(hc_plot_write_script(".", "gauss_plot", (hc_plot_size){400, 300},
                                          "plot \"gauss_plot.csv\" using 1:2 with lines title \"y\"\n"),
                     HC_OK);
    char *gp = slurp(".", "gauss_plot.gp");
    assert_non_null(strstr(gp, "set output \"gauss_plot.png\".hc_suffix"));
    assert_non_null(strstr(gp, "set output \"gauss_plot.pdf\".hc_suffix"));
    free(gp);
    if (!hc_plot_gnuplot_available()) {
        print_message("gnuplot not on PATH: rendering not tested\n");
        return;
    }
    assert_int_equal(hc_plot_render(".", "gauss_plot"), HC_OK);
    assert_true(file_exists(".", "gauss_plot.png"));
    assert_true(file_exists(".", "gauss_plot.pdf"));
    assert_false(file_exists(".", "gauss_plot.png.partial"));
    /* a failing script: HC_EIO with gnuplot's message, no partial output */
    assert_int_equal(hc_plot_write_script(".", "gauss_plot_bad", HC_PLOT_DEFAULT_SIZE,
                                          "plot \"no_such_file.csv\" using 1:2\n"),
                     HC_OK);
    assert_int_equal(hc_plot_render(".", "gauss_plot_bad"), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), "gnuplot failed"));
    assert_false(file_exists(".", "gauss_plot_bad.png"));
    assert_false(file_exists(".", "gauss_plot_bad.png.partial"));
    assert_false(file_exists(".", "gauss_plot_bad.pdf.partial"));
    static const char *const junk[] = {"gauss_plot.csv", "gauss_plot.gp", "gauss_plot.png", "gauss_plot.pdf",
                                       "gauss_plot_bad.gp"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) remove(junk[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gp_nominal_rate),
        cmocka_unit_test(test_non_gaussian_rejected),
        cmocka_unit_test(test_steps_follow_dcache),
        cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_plot),
    };
    return cmocka_run_group_tests(tests, hc_test_setup, NULL);
}
