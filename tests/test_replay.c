/* test_replay.c: the replay engine end to end on synthetic trajectories:
 * N=1 is exact, exact methods are exact, outputs are complete and
 * consistent, several files aggregate with an interval, errors are clean. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "replay.h"
#include "synth.h"

static void make(const char *path, hc_synth_kind kind, int degree, unsigned long seed, int hidden)
{
    hc_synth_opts o;
    hc_synth_defaults(&o);
    o.kind = kind;
    o.degree = degree;
    o.seed = seed;
    o.steps = 30;
    o.tokens = 24;
    o.channels = 8;
    o.hidden = hidden;
    assert_int_equal(hc_synth_write(path, &o), HC_OK);
}

static const cJSON *method_at(const cJSON *sum, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sum, "methods"), i);
}

static double metric(const cJSON *m, const char *name, const char *stat)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "metrics"), name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, stat);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static cJSON *replay(const char *const *files, int nf, const char *const *specs, int nm, const char *dir)
{
    hc_method ms[16];
    for (int i = 0; i < nm; i++) assert_int_equal(hc_method_parse(specs[i], &ms[i]), HC_OK);
    hc_replay_opts o = {.files = files, .n_files = nf, .methods = ms, .n_methods = nm, .out_dir = dir, .quiet = 1};
    cJSON *sum = NULL;
    if (hc_replay_run(&o, &sum) != HC_OK) fail_msg("replay: %s", hc_errmsg());
    return sum;
}

static void exact_cases(void **state)
{
    (void)state;
    make("quad.h5", HC_SYNTH_POLY, 2, 1, 0);
    make("line.h5", HC_SYNTH_POLY, 1, 2, 0);
    const char *quad[] = {"quad.h5"}, *line[] = {"line.h5"};
    const char *specs[] = {"taylor:N=1", "full", "lagrange:N=5,O=2", "taylor:N=5,O=2", "reuse:N=5"};
    cJSON *s = replay(quad, 1, specs, 5, "out_exact");
    /* N=1: every step full: zero error, no cached step */
    for (int i = 0; i < 2; i++) {
        const cJSON *m = method_at(s, i);
        assert_int_equal((int)cJSON_GetObjectItem(m, "full_steps")->valuedouble, 30);
        assert_float_equal(metric(m, "rel_l2", "n"), 0, 0);
        const cJSON *fm = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(m, "metrics"), "rel_l2"), "file_means");
        assert_float_equal(cJSON_GetArrayItem(fm, 0)->valuedouble, 0, 0);
        assert_float_equal(cJSON_GetObjectItem(m, "flops_speedup")->valuedouble, 1, 0);
    }
    /* Lagrange O=2 through 3 snapshots: exact on a quadratic from the start */
    assert_true(metric(method_at(s, 2), "rel_l2", "p95") < 1e-5);
    assert_true(metric(method_at(s, 2), "cosine", "mean") > 1 - 1e-9);
    /* TaylorSeer O=2 is not (backward differences), reuse is worse still */
    assert_true(metric(method_at(s, 3), "rel_l2", "mean") > 1e-3);
    assert_true(metric(method_at(s, 4), "rel_l2", "mean") > metric(method_at(s, 3), "rel_l2", "mean"));
    /* speedup and memory: S=30, W=3, N=5 -> full 0,1,2,7,...,27: 8 */
    assert_int_equal((int)cJSON_GetObjectItem(method_at(s, 3), "full_steps")->valuedouble, 8);
    /* O+1 = 3 tensors of 24 x 8 floats per module, 4 modules (+ at most one
     * cache line of padding per order) */
    double bytes = cJSON_GetObjectItem(method_at(s, 3), "cache_bytes")->valuedouble;
    assert_true(bytes >= 4.0 * 3 * 24 * 8 * 4 && bytes <= 4.0 * 3 * (24 * 8 + 16) * 4);
    cJSON_Delete(s);
    /* TaylorSeer O>=1 on a line: exact after its first derivative exists (step 2) */
    const char *lspecs[] = {"taylor:N=5,O=1", "hicache:N=5,O=1,sigma=0.7071067811865476"};
    s = replay(line, 1, lspecs, 2, "out_exact");
    assert_true(metric(method_at(s, 0), "rel_l2", "p95") < 1e-5);
    assert_true(metric(method_at(s, 1), "rel_l2", "p95") < 1e-5);
    cJSON_Delete(s);
    remove("quad.h5");
    remove("line.h5");
}

/* results.csv: header, one row per (method, module, cached step, metric),
 * values that agree with summary.json's means. */
static void outputs_consistent(void **state)
{
    (void)state;
    make("gp1.h5", HC_SYNTH_GP, 0, 1, 1);
    make("gp2.h5", HC_SYNTH_GP, 0, 2, 1);
    make("gp3.h5", HC_SYNTH_GP, 0, 3, 0);
    const char *files[] = {"gp1.h5", "gp2.h5", "gp3.h5"};
    const char *specs[] = {"hicache:N=6", "clusca:base=hicache,N=6,K=4,fresh=all"};
    cJSON *s = replay(files, 3, specs, 2, "out_cons");
    FILE *f = fopen("out_cons/results.csv", "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "method,file,module,step,horizon,metric,value\n");
    long rows = 0, quoted = 0;
    double sum_l2 = 0;
    long n_l2 = 0;
    while (fgets(line, sizeof line, f)) {
        rows++;
        /* a spec with commas is one quoted CSV field (RFC 4180) */
        if (strncmp(line, "\"clusca:base=hicache,N=6,K=4,fresh=all\",gp", 42) == 0) quoted++;
        if (strncmp(line, "hicache:N=6,", 12) == 0 && strstr(line, ",rel_l2,")) {
            sum_l2 += atof(strrchr(line, ',') + 1);
            n_l2++;
            int step, h;
            char *p = line;
            for (int c = 0; c < 3; c++) p = strchr(p, ',') + 1;
            assert_int_equal(sscanf(p, "%d,%d", &step, &h), 2);
            assert_true(h >= 1 && h <= 5 && step >= 3);
        }
    }
    fclose(f);
    /* S=30, N=6, W=3: full 0,1,2,8,14,20,26 -> 23 cached; 4 modules, 3 files, 2 methods, 4 metrics */
    assert_int_equal(rows, 23L * 4 * 3 * 2 * 4);
    assert_int_equal(n_l2, 23L * 4 * 3);
    assert_int_equal(quoted, 23L * 4 * 3 * 4);
    assert_float_equal(sum_l2 / (double)n_l2, metric(method_at(s, 0), "rel_l2", "mean"), 1e-7);
    /* three files: per-file means and a 95% interval around their mean */
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(method_at(s, 0), "metrics"), "rel_l2");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(b, "file_means")), 3);
    const cJSON *ci = cJSON_GetObjectItem(b, "ci95");
    double mu = cJSON_GetObjectItem(b, "files_mean")->valuedouble;
    assert_true(cJSON_GetArrayItem(ci, 0)->valuedouble < mu && mu < cJSON_GetArrayItem(ci, 1)->valuedouble);
    /* ClusCa: clustered on /hidden in two files, on the feature in the third */
    const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(method_at(s, 1), "cluster_source"));
    assert_non_null(strstr(src, "/hidden where the token count matches"));
    /* fresh true tokens help on clustered data */
    assert_true(metric(method_at(s, 1), "rel_l2", "mean") < metric(method_at(s, 0), "rel_l2", "mean"));
    /* provenance is recorded */
    cJSON *prov = cJSON_GetObjectItem(s, "provenance");
    assert_non_null(cJSON_GetObjectItem(prov, "git_commit"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(prov, "config"), "methods"));
    cJSON_Delete(s);
    assert_int_equal(access("out_cons/summary.json", F_OK), 0);
    assert_int_not_equal(access("out_cons/results.csv.partial", F_OK), 0);
    remove("gp1.h5"); remove("gp2.h5"); remove("gp3.h5");
}

static void failures_leave_nothing(void **state)
{
    (void)state;
    make("ok.h5", HC_SYNTH_SIN, 0, 1, 0);
    const char *files[] = {"ok.h5", "missing.h5"};
    hc_method m;
    assert_int_equal(hc_method_parse("taylor", &m), HC_OK);
    hc_replay_opts o = {.files = files, .n_files = 2, .methods = &m, .n_methods = 1, .out_dir = "out_fail", .quiet = 1};
    assert_int_equal(hc_replay_run(&o, NULL), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), "missing.h5"));
    assert_int_not_equal(access("out_fail/results.csv", F_OK), 0);
    assert_int_not_equal(access("out_fail/results.csv.partial", F_OK), 0);
    assert_int_not_equal(access("out_fail/summary.json", F_OK), 0);
    o.n_files = 1;
    o.modules_glob = "double/*";
    assert_int_equal(hc_replay_run(&o, NULL), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "no feature module matches 'double/*'"));
    remove("ok.h5");
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_cases),
        cmocka_unit_test(outputs_consistent),
        cmocka_unit_test(failures_leave_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
