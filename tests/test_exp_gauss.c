/* test_exp_gauss.c: Gaussianity experiments through `hicache run`: the
 * declared analysis runs, a finished one is skipped, and bad configs name
 * the JSON path of the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "exp_gauss.h"
#include "synth.h"

static hc_status run_text(const char *text, int *skipped)
{
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_true(hc_exp_is_gauss(doc));
    char dir[256];
    hc_status s = hc_exp_gauss_run(doc, "cfg.json", "expg", skipped, dir, sizeof dir);
    cJSON_Delete(doc);
    return s;
}

static void runs_and_resumes(void **state)
{
    (void)state;
    assert_int_equal(system("rm -rf expg"), 0); /* a fresh output directory */
    hc_synth_opts o;
    hc_synth_defaults(&o);
    o.kind = HC_SYNTH_GP;
    o.tokens = 64;
    o.channels = 16;
    o.steps = 20;
    o.modules = 2;
    assert_int_equal(hc_synth_write("expg_gp.h5", &o), HC_OK);
    const char *cfg = "{\"name\":\"g\",\"gauss\":{\"files\":[\"expg_gp*.h5\"],\"order\":2,\"sample\":500,\"proj\":4}}";
    int skipped = -1;
    if (run_text(cfg, &skipped) != HC_OK) fail_msg("%s", hc_errmsg());
    assert_int_equal(skipped, 0);
    assert_int_equal(access("expg/summary.json", R_OK), 0);
    assert_int_equal(access("expg/summary.md", R_OK), 0);
    assert_int_equal(run_text(cfg, &skipped), HC_OK);
    assert_int_equal(skipped, 1);
    remove("expg_gp.h5");
    assert_int_equal(system("rm -rf expg"), 0);
}

static void bad_configs(void **state)
{
    (void)state;
    static const struct { const char *cfg, *msg; } bad[] = {
        {"{\"gauss\":{\"files\":[]}}", "$.gauss.files: expected a non-empty array"},
        {"{\"gauss\":{\"files\":[\"nope_*.h5\"]}}", "$.gauss.files[0]: no file matches nope_*.h5"},
        {"{\"gauss\":{\"files\":[\"x.h5\"],\"orders\":2}}", "$.gauss: unknown key: orders"},
        {"{\"gauss\":{\"files\":[\"x.h5\"],\"order\":\"two\"}}", "$.gauss.order: expected a non-negative integer"},
        {"{\"gauss\":{\"files\":[\"x.h5\"],\"order\":9}}", "$.gauss: "},
        /* numbers are checked before any cast (no UB, no silent truncation) */
        {"{\"gauss\":{\"files\":[\"x.h5\"],\"order\":1e300}}", "$.gauss.order: 1e+300 out of range"},
        {"{\"gauss\":{\"files\":[\"x.h5\"],\"seed\":1.5}}", "$.gauss.seed: expected a non-negative integer, got 1.5"},
        {"{\"gauss\":{\"files\":[\"x.h5\"],\"seed\":1e300}}", "$.gauss.seed: 1e+300 out of range"},
        {"{\"gauss\":{\"files\":[\"x.h5\"]},\"methods\":[]}", "$: unknown key for a Gaussianity experiment: methods"},
        {"{\"gauss\":[1]}", "$.gauss: expected an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int skipped;
        hc_status s = run_text(bad[i].cfg, &skipped);
        if (s != HC_EINVAL || !strstr(hc_errmsg(), bad[i].msg) || !strstr(hc_errmsg(), "cfg.json"))
            fail_msg("%s: status %d '%s' (want '%s')", bad[i].cfg, s, hc_errmsg(), bad[i].msg);
    }
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(runs_and_resumes), cmocka_unit_test(bad_configs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
