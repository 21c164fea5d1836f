/* test_experiment.c: `hicache run` configs end to end (replay on synthetic
 * trajectories, live with the tiny golden model), resume after an
 * interrupted run, and strict validation with JSON paths in messages. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "exp_gauss.h"
#include "experiment.h"
#include "outfile.h"
#include "plot.h"
#include "synth.h"

#define MODEL HC_TEST_DATA "/golden_flux_tiny.safetensors"
#define WORK "exp_work"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = b ? fread(b, 1, (size_t)n, f) : 0;
    fclose(f);
    if (b) b[got] = 0;
    return b;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* Replace @MODEL@ and @TRAJ@ in a config template. */
static char *fill(const char *tmpl)
{
    static const char *const keys[2] = {"@MODEL@", "@TRAJ@"};
    const char *vals[2] = {MODEL, WORK "/traj_*.h5"};
    size_t cap = strlen(tmpl) * 2 + 4096;
    char *out = malloc(cap), *o = out;
    assert_non_null(out);
    for (const char *s = tmpl; *s;) {
        int hit = 0;
        for (int k = 0; k < 2 && !hit; k++)
            if (strncmp(s, keys[k], strlen(keys[k])) == 0) {
                o += sprintf(o, "%s", vals[k]);
                s += strlen(keys[k]);
                hit = 1;
            }
        if (!hit) *o++ = *s++;
    }
    *o = 0;
    return out;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    hc_init();
    nftw(WORK, rm_one, 16, FTW_DEPTH | FTW_PHYS); /* a fresh scratch directory every run */
    assert_int_equal(hc_mkdir_p(WORK), HC_OK);
    for (int i = 0; i < 2; i++) {
        hc_synth_opts o;
        hc_synth_defaults(&o);
        o.steps = 30;
        o.tokens = 8;
        o.channels = 8;
        o.seed = 11 + (unsigned long)i;
        char path[128];
        snprintf(path, sizeof path, WORK "/traj_%d.h5", i);
        assert_int_equal(hc_synth_write(path, &o), HC_OK);
    }
    return 0;
}

static const char *const tiny_config =
    "{\n"
    "  \"name\": \"tiny\",\n"
    "  \"description\": \"test grid\",\n"
    "  \"replay\": {\"files\": [\"@TRAJ@\"], \"columns\": [\"flops_speedup\", \"rel_l2\", \"cosine\"]},\n"
    "  \"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"n\": 3, \"steps\": 12, \"batch\": 2, \"seeds\": [0, 4],\n"
    "           \"columns\": [\"flops\", \"flops_speedup\", \"rel_l2\", \"psnr\", \"full_steps\"]},\n"
    "  \"methods\": [\n"
    "    \"reuse:N=3\",\n"
    "    {\"spec\": \"hicache:sigma=0.5\", \"grid\": {\"N\": [2, 4], \"O\": [1, 2]}},\n"
    "    {\"spec\": \"full\", \"steps_matching\": \"taylor:O=2\", \"grid\": {\"N\": [3]}, \"name\": \"Fewer steps\"}\n"
    "  ],\n"
    "  \"figures\": [\n"
    "    {\"name\": \"front\", \"type\": \"pareto\", \"x\": \"flops_speedup\", \"y\": \"rel_l2\"},\n"
    "    {\"name\": \"byN\", \"type\": \"line\", \"x\": \"N\", \"y\": \"psnr\"},\n"
    "    {\"name\": \"err\", \"type\": \"curve\", \"x\": \"horizon\", \"y\": \"rel_l2\", \"logy\": true, \"by_kind\": true}\n"
    "  ]\n"
    "}\n";

static hc_experiment *load_tiny(void)
{
    char *text = fill(tiny_config);
    hc_experiment *e = NULL;
    hc_status s = hc_experiment_parse(text, "tiny.json", &e);
    if (s != HC_OK) fprintf(stderr, "%s\n", hc_errmsg());
    assert_int_equal(s, HC_OK);
    free(text);
    return e;
}

/* Grid expansion: full (implicit) + reuse + 2x2 hicache per engine; live
 * also the fewer-steps row; live cells per seed. */
static void test_expansion(void **state)
{
    (void)state;
    hc_experiment *e = load_tiny();
    /* replay: 1 + 1 + 4 = 6 cells; live: (1 + 1 + 4 + 1) x 2 seeds = 14 */
    assert_int_equal(hc_experiment_num_cells(e), 20);
    assert_string_equal(hc_experiment_name(e), "tiny");
    int fewer = 0, hic = 0;
    for (int i = 0; i < hc_experiment_num_cells(e); i++) {
        const char *l = hc_experiment_cell_label(e, i);
        fewer += strstr(l, "Fewer steps (S=") != NULL;
        hic += strstr(l, "HiCache (N=4, O=1, σ=0.5)") != NULL;
        for (int j = 0; j < i; j++) assert_string_not_equal(hc_experiment_cell_id(e, i), hc_experiment_cell_id(e, j));
    }
    assert_int_equal(fewer, 2);
    assert_int_equal(hic, 3); /* replay + 2 seeds */
    /* the first cell of each engine is full compute */
    assert_non_null(strstr(hc_experiment_cell_label(e, 0), "replay Full compute"));
    assert_non_null(strstr(hc_experiment_cell_label(e, 6), "live Full compute seed 0"));
    /* taylor N=3 at 12 steps, W=3: full steps 0,1,2,5,8,11 -> 6 */
    int ok = 0;
    for (int i = 0; i < hc_experiment_num_cells(e); i++) ok |= strstr(hc_experiment_cell_label(e, i), "Fewer steps (S=6)") != NULL;
    assert_true(ok);
    /* ids are stable across loads */
    hc_experiment *e2 = load_tiny();
    for (int i = 0; i < hc_experiment_num_cells(e); i++) assert_string_equal(hc_experiment_cell_id(e, i), hc_experiment_cell_id(e2, i));
    hc_experiment_free(e2);
    hc_experiment_free(e);
    hc_experiment_free(NULL);
}

/* One Markdown table row split into trimmed cells (without the bars). */
static int md_cells(char *line, char **cells, int cap)
{
    int n = 0;
    char *p = line;
    if (*p != '|') return 0;
    p++;
    while (*p && n < cap) {
        char *bar = strstr(p, " |");
        if (!bar) break;
        *bar = 0;
        while (*p == ' ') p++;
        cells[n++] = p;
        p = bar + 2;
    }
    return n;
}

static void check_md_against_summary(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *js = slurp(path);
    assert_non_null(js);
    cJSON *sum = cJSON_Parse(js);
    assert_non_null(sum);
    snprintf(path, sizeof path, "%s/table.md", dir);
    char *md = slurp(path);
    assert_non_null(md);
    const cJSON *t;
    int tables = 0, rows_checked = 0, bold = 0, intervals = 0, marks = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(sum, "tables"))
    {
        tables++;
        const char *eng = cJSON_GetObjectItem(t, "engine")->valuestring;
        char head[64];
        snprintf(head, sizeof head, "## %s\n", eng);
        char *sec = strstr(md, head);
        assert_non_null(sec);
        const cJSON *cols = cJSON_GetObjectItem(t, "columns"), *row;
        int first = 1;
        cJSON_ArrayForEach(row, cJSON_GetObjectItem(t, "rows"))
        {
            const char *label = cJSON_GetObjectItem(row, "label")->valuestring;
            if (first) assert_true(cJSON_IsTrue(cJSON_GetObjectItem(row, "reference")));
            first = 0;
            char want[400];
            snprintf(want, sizeof want, "\n| %s |", label);
            char *at = strstr(sec, want);
            assert_non_null(at);
            char *end = strchr(at + 1, '\n');
            char line[2048];
            snprintf(line, sizeof line, "%.*s", (int)(end - at - 1), at + 1);
            char *cells[64];
            int n = md_cells(line, cells, 64);
            assert_int_equal(n, 1 + cJSON_GetArraySize(cols));
            int c = 1;
            const cJSON *col;
            cJSON_ArrayForEach(col, cols)
            {
                const char *key = cJSON_GetObjectItem(col, "key")->valuestring;
                char *cell = cells[c++];
                /* TEXT [± HALF_WIDTH] [▲|▼]: the half-width is the row's
                 * "half_width", the mark its "intervals" mark */
                const cJSON *hw = cJSON_GetObjectItem(cJSON_GetObjectItem(row, "half_width"), key);
                const cJSON *iv = cJSON_GetObjectItem(cJSON_GetObjectItem(row, "intervals"), key);
                int mark = iv ? cJSON_GetObjectItem(iv, "mark")->valueint : 0;
                if (mark) {
                    char *sp = strrchr(cell, ' ');
                    assert_non_null(sp);
                    assert_string_equal(sp + 1, mark > 0 ? "▲" : "▼");
                    *sp = 0;
                    marks++;
                }
                char *pm = strstr(cell, " ± ");
                if (hw) {
                    assert_non_null(pm);
                    assert_string_equal(pm + strlen(" ± "), hw->valuestring);
                    *pm = 0;
                    intervals++;
                } else {
                    assert_null(pm);
                }
                size_t l = strlen(cell);
                if (l > 4 && strncmp(cell, "**", 2) == 0) {
                    cell[l - 2] = 0;
                    cell += 2;
                    bold++;
                }
                /* equal to summary.json's text, and the text is summary.json's value */
                const char *text = cJSON_GetObjectItem(cJSON_GetObjectItem(row, "text"), key)->valuestring;
                assert_string_equal(cell, text);
                const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(row, "values"), key);
                char again[64];
                hc_experiment_format(eng, key, v, again, sizeof again);
                assert_string_equal(cell, again);
                if (cJSON_IsNumber(v)) {
                    double shown = strtod(cell, NULL);
                    double scale = strcmp(key, "flops") == 0 ? 1e-9 : 1;
                    double tol = 0.6 * pow(10, -4) * fmax(1, fabs(shown)) + 0.0051;
                    assert_true(fabs(shown - v->valuedouble * scale) <= tol);
                } else {
                    assert_string_equal(cell, "—");
                }
            }
            rows_checked++;
        }
    }
    assert_int_equal(tables, 2);
    assert_int_equal(rows_checked, 6 + 7);
    assert_true(bold > 0);
    assert_true(intervals > 0);
    (void)marks;
    assert_non_null(strstr(md, "percentile-bootstrap interval"));
    assert_non_null(strstr(md, " ↓ |"));
    assert_non_null(strstr(md, " ↑ |"));
    /* provenance */
    const cJSON *prov = cJSON_GetObjectItem(sum, "provenance");
    assert_true(cJSON_IsString(cJSON_GetObjectItem(prov, "git_commit")));
    const cJSON *cfg = cJSON_GetObjectItem(prov, "config");
    assert_non_null(cJSON_GetObjectItem(cfg, "resolved"));
    assert_non_null(cJSON_GetObjectItem(cfg, "config"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(sum, "seeds")), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(sum, "cells")), 20);
    cJSON_Delete(sum);
    free(js);
    free(md);
}

static void check_outputs(const char *dir, int rendered)
{
    static const char *const files[] = {"results.csv", "summary.json", "table.md", "table.tex"};
    char path[256];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_true(exists(path));
    }
    /* figures: front, byN, err (all modules) and err-<kind> per module kind */
    static const char *const figs[] = {"front", "byN", "err", "err-dit_attn", "err-dit_mlp"};
    for (size_t i = 0; i < sizeof figs / sizeof *figs; i++) {
        static const char *const ext[] = {"csv", "gp", "png", "pdf"};
        for (int k = 0; k < (rendered ? 4 : 2); k++) {
            snprintf(path, sizeof path, "%s/figures/%s.%s", dir, figs[i], ext[k]);
            if (!exists(path)) fail_msg("missing %s", path);
        }
        /* the figure CSV parses: a header, then series,label,x,y,ylo,yhi rows
         * with numbers, the interval around y */
        snprintf(path, sizeof path, "%s/figures/%s.csv", dir, figs[i]);
        char *csv = slurp(path);
        assert_non_null(csv);
        static const char head[] = "series,label,x,y,ylo,yhi\n";
        assert_true(strncmp(csv, head, strlen(head)) == 0);
        int rows = 0;
        for (char *line = strtok(csv + strlen(head), "\n"); line; line = strtok(NULL, "\n")) {
            double v[4]; /* yhi, ylo, y, x */
            for (int k = 0; k < 4; k++) {
                char *cm = strrchr(line, ','), *end;
                assert_non_null(cm);
                *cm = 0;
                v[k] = strtod(cm + 1, &end);
                assert_true(*end == 0 && isfinite(v[k]));
            }
            assert_true(v[1] <= v[0]);
            rows++;
        }
        assert_true(rows >= 2);
        free(csv);
    }
    /* the Pareto figure draws a front */
    snprintf(path, sizeof path, "%s/figures/front.csv", dir);
    char *csv = slurp(path);
    assert_non_null(strstr(csv, "\nPareto front,"));
    free(csv);
    /* LaTeX booktabs */
    snprintf(path, sizeof path, "%s/table.tex", dir);
    char *tex = slurp(path);
    assert_non_null(strstr(tex, "\\toprule"));
    assert_non_null(strstr(tex, "\\midrule"));
    assert_non_null(strstr(tex, "\\bottomrule"));
    assert_non_null(strstr(tex, "\\textbf{"));
    assert_non_null(strstr(tex, "$\\downarrow$"));
    assert_non_null(strstr(tex, "HiCache (N=2, O=1, $\\sigma$=0.5)"));
    free(tex);
    /* results.csv: long form with quoted specs */
    snprintf(path, sizeof path, "%s/results.csv", dir);
    char *res = slurp(path);
    assert_true(strncmp(res, "cell,engine,method,label,seed,metric,value\n", 43) == 0);
    assert_non_null(strstr(res, ",live,\"hicache:sigma=0.5,N=2,O=1\",\"HiCache (N=2, O=1, σ=0.5)\",4,psnr,"));
    assert_non_null(strstr(res, ",replay,reuse:N=3,FORA (N=3),,rel_l2,"));
    /* intervals and differences to the baseline (FORA, the first caching entry) */
    assert_non_null(strstr(res, ",replay,reuse:N=3,FORA (N=3),,rel_l2_lo,0."));
    assert_non_null(strstr(res, ",replay,reuse:N=3,FORA (N=3),,delta_rel_l2,\n"));
    assert_non_null(strstr(res, "\"HiCache (N=2, O=1, σ=0.5)\",,delta_rel_l2,-"));
    assert_non_null(strstr(res, "\"HiCache (N=2, O=1, σ=0.5)\",4,delta_psnr_hi,"));
    free(res);
    /* per_sample.csv: every image of every live cell, every forecast of every replay cell */
    snprintf(path, sizeof path, "%s/per_sample.csv", dir);
    char *ps = slurp(path);
    assert_non_null(ps);
    assert_true(strncmp(ps, "cell,method,seed,unit,metric,value\n", 35) == 0);
    assert_non_null(strstr(ps, ",4,2,psnr,"));
    assert_non_null(strstr(ps, ",,1:dit/0/attn:"));
    free(ps);
}

static void test_end_to_end_and_resume(void **state)
{
    (void)state;
    hc_experiment *e = load_tiny();
    hc_experiment_run_opts o;
    hc_experiment_run_defaults(&o);
    o.out_dir = WORK "/run1";
    o.progress = HC_PROGRESS_NONE;
    /* interrupted: only 5 cells */
    o.max_cells = 5;
    hc_experiment_report rep;
    assert_int_equal(hc_experiment_run(e, &o, &rep), HC_OK);
    assert_int_equal(rep.computed, 5);
    assert_int_equal(rep.loaded, 0);
    assert_int_equal(rep.complete, 0);
    assert_false(exists(WORK "/run1/summary.json"));
    hc_experiment_free(e);

    /* finished cells keep their files (mtime and bytes) across the restart */
    struct stat before[5];
    char path[256], *bytes[5];
    e = load_tiny();
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, WORK "/run1/cells/%s.json", hc_experiment_cell_id(e, i));
        assert_int_equal(stat(path, &before[i]), 0);
        bytes[i] = slurp(path);
    }
    o.max_cells = 0;
    assert_int_equal(hc_experiment_run(e, &o, &rep), HC_OK);
    assert_int_equal(rep.loaded, 5);
    assert_int_equal(rep.computed, 15);
    assert_int_equal(rep.complete, 1);
    for (int i = 0; i < 5; i++) {
        struct stat st;
        snprintf(path, sizeof path, WORK "/run1/cells/%s.json", hc_experiment_cell_id(e, i));
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_mtim.tv_sec == before[i].st_mtim.tv_sec && st.st_mtim.tv_nsec == before[i].st_mtim.tv_nsec);
        char *now = slurp(path);
        assert_string_equal(now, bytes[i]);
        free(now);
        free(bytes[i]);
    }
    int rendered = hc_plot_gnuplot_available();
    assert_int_equal(rep.rendered, rendered ? rep.figures : 0);
    assert_int_equal(rep.figures, 5);
    check_outputs(WORK "/run1", rendered);
    check_md_against_summary(WORK "/run1");

    /* a lost cell file is recomputed, alone; a foreign cell file is not trusted */
    snprintf(path, sizeof path, WORK "/run1/cells/%s.json", hc_experiment_cell_id(e, 9));
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof path, WORK "/run1/cells/%s.json", hc_experiment_cell_id(e, 2));
    assert_int_equal(hc_write_text(path, "{\"key\": \"something else\", \"metrics\": {}}"), HC_OK);
    assert_int_equal(hc_experiment_run(e, &o, &rep), HC_OK);
    assert_int_equal(rep.computed, 2);
    assert_int_equal(rep.loaded, 18);
    assert_int_equal(rep.complete, 1);
    check_md_against_summary(WORK "/run1");

    /* the fewer-steps row is scored against the full-compute reference: not zero error, speedup > 1 */
    char *js = slurp(WORK "/run1/summary.json");
    cJSON *sum = cJSON_Parse(js);
    const cJSON *c;
    int seen = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(sum, "cells"))
    {
        if (!strstr(cJSON_GetObjectItem(c, "label")->valuestring, "Fewer steps")) continue;
        const cJSON *m = cJSON_GetObjectItem(c, "metrics");
        assert_true(cJSON_GetObjectItem(m, "rel_l2")->valuedouble > 0);
        assert_true(cJSON_GetObjectItem(m, "flops_speedup")->valuedouble > 1.5);
        assert_non_null(cJSON_GetObjectItem(m, "reference"));
        seen++;
    }
    assert_int_equal(seen, 2);
    cJSON_Delete(sum);
    free(js);
    hc_experiment_free(e);
}

/* ---- invalid configs -------------------------------------------------------------- */

typedef struct bad_case {
    const char *what;
    const char *config;
    const char *want; /* substring of the message */
} bad_case;

#define LIVE "\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\"}"
#define REPLAY "\"replay\": {\"files\": [\"@TRAJ@\"]}"

static const bad_case bad_cases[] = {
    {"not JSON", "{\n  \"methods\": [,]\n}", "bad.json:2:"},
    {"not an object", "[1, 2]", "$: expected an object, got [1,2]"},
    {"unknown top-level key", "{" LIVE ", \"methods\": [\"full\"], \"bogus\": 1}", "$.bogus: unknown key (valid: name,"},
    {"no engine", "{\"methods\": [\"full\"]}", "$: no engine"},
    {"no methods", "{" LIVE "}", "$: missing key 'methods'"},
    {"methods not an array", "{" LIVE ", \"methods\": \"taylor\"}", "$.methods: expected an array, got \"taylor\""},
    {"empty methods", "{" LIVE ", \"methods\": []}", "$.methods: must not be empty"},
    {"unknown method", "{" LIVE ", \"methods\": [\"full\", \"reuse\", \"tayler:N=7\"]}",
     "$.methods[2]: unknown method 'tayler' (valid: full, reuse, taylor"},
    {"unknown method in object", "{" LIVE ", \"methods\": [{\"spec\": \"tayler\"}]}", "$.methods[0].spec: unknown method 'tayler'"},
    {"bad method key", "{" LIVE ", \"methods\": [{\"spec\": \"taylor:Q=2\"}]}", "$.methods[0].spec: method 'taylor:Q=2': unknown key 'Q'"},
    {"method entry wrong type", "{" LIVE ", \"methods\": [7]}", "$.methods[0]: expected a method spec string or an object"},
    {"unknown entry key", "{" LIVE ", \"methods\": [{\"spec\": \"taylor\", \"gird\": {}}]}", "$.methods[0].gird: unknown key"},
    {"grid value out of range", "{" LIVE ", \"methods\": [{\"spec\": \"taylor\", \"grid\": {\"N\": [3, 0]}}]}",
     "$.methods[0].grid.N[1]: method 'taylor:N=0': N=0 out of range"},
    {"grid value wrong type", "{" LIVE ", \"methods\": [{\"spec\": \"taylor\", \"grid\": {\"O\": [true]}}]}",
     "$.methods[0].grid.O[0]: expected a number or a string, got true"},
    {"grid not an array", "{" LIVE ", \"methods\": [{\"spec\": \"taylor\", \"grid\": {\"O\": 2}}]}", "$.methods[0].grid.O: expected an array, got 2"},
    {"grid key foreign to the method", "{" LIVE ", \"methods\": [{\"spec\": \"taylor\", \"grid\": {\"sigma\": [0.5]}}]}",
     "$.methods[0].grid.sigma[0]: method 'taylor:sigma=0.5': unknown key 'sigma'"},
    {"steps_matching on a caching method", "{" LIVE ", \"methods\": [{\"spec\": \"taylor\", \"steps_matching\": \"taylor:N=7\"}]}",
     "$.methods[0].steps_matching: only valid with \"spec\": \"full\""},
    {"steps_matching bad spec", "{" LIVE ", \"methods\": [{\"spec\": \"full\", \"steps_matching\": \"hicash\"}]}",
     "$.methods[0].steps_matching: unknown method 'hicash'"},
    {"steps without live", "{" REPLAY ", \"methods\": [{\"spec\": \"full\", \"steps\": 9}]}", "$.methods[0].steps: needs the live engine"},
    {"n not a number", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"n\": \"ten\"}, \"methods\": [\"full\"]}",
     "$.live.n: expected a positive integer, got \"ten\""},
    {"n fractional", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"n\": 2.5}, \"methods\": [\"full\"]}",
     "$.live.n: expected a positive integer, got 2.5"},
    {"steps zero", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"steps\": 0}, \"methods\": [\"full\"]}",
     "$.live.steps: 0 out of range [1, 10000]"},
    {"guidance string", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"guidance\": \"high\"}, \"methods\": [\"full\"]}",
     "$.live.guidance: expected a number, got \"high\""},
    {"shift not a boolean", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"shift\": 1}, \"methods\": [\"full\"]}",
     "$.live.shift: expected true or false, got 1"},
    {"negative seed", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"seeds\": [0, -1]}, \"methods\": [\"full\"]}",
     "$.live.seeds[1]: -1 out of range"},
    {"duplicate seed", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"seeds\": [3, 3]}, \"methods\": [\"full\"]}",
     "$.live.seeds[1]: duplicate seed 3"},
    {"unknown live key", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"nn\": 3}, \"methods\": [\"full\"]}",
     "$.live.nn: unknown key (valid: model,"},
    {"missing model", "{\"live\": {\"model\": \"nope.safetensors\", \"classifier\": \"\"}, \"methods\": [\"full\"]}",
     "$.live.model: nope.safetensors: cannot open: No such file"},
    {"missing classifier", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"nope.cls\"}, \"methods\": [\"full\"]}",
     "$.live.classifier: nope.cls: cannot open: No such file"},
    {"missing replay file", "{\"replay\": {\"files\": [\"@TRAJ@\", \"nope.h5\"]}, \"methods\": [\"full\"]}",
     "$.replay.files[1]: nope.h5: cannot open: No such file"},
    {"replay glob without match", "{\"replay\": {\"files\": [\"nowhere/*.h5\"]}, \"methods\": [\"full\"]}",
     "$.replay.files[0]: no file matches 'nowhere/*.h5'"},
    {"replay files wrong type", "{\"replay\": {\"files\": \"a.h5\"}, \"methods\": [\"full\"]}",
     "$.replay.files: expected an array, got \"a.h5\""},
    {"replay without files", "{\"replay\": {}, \"methods\": [\"full\"]}", "$.replay: missing key 'files'"},
    {"unknown column", "{\"live\": {\"model\": \"@MODEL@\", \"classifier\": \"\", \"columns\": [\"psnr\", \"psnrr\"]}, \"methods\": [\"full\"]}",
     "$.live.columns[1]: unknown live metric 'psnrr' (valid: flops,"},
    {"unknown engine in entry", "{" LIVE ", \"methods\": [{\"spec\": \"full\", \"engines\": [\"replay\"]}]}",
     "$.methods[0].engines[0]: engine 'replay' is not configured"},
    {"figure type", "{" LIVE ", \"methods\": [\"full\"], \"figures\": [{\"name\": \"f\", \"type\": \"pie\"}]}",
     "$.figures[0].type: unknown figure type 'pie'"},
    {"figure metric", "{" LIVE ", \"methods\": [\"full\"], \"figures\": [{\"name\": \"f\", \"y\": \"fid\"}]}",
     "$.figures[0].y: unknown live metric 'fid'"},
    {"figure name", "{" LIVE ", \"methods\": [\"full\"], \"figures\": [{\"name\": \"a/b\"}]}", "$.figures[0].name: 'a/b': use letters"},
    {"duplicate figure", "{" LIVE ", \"methods\": [\"full\"], \"figures\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}",
     "$.figures[1].name: duplicate figure name 'a'"},
    {"curve on live", "{" LIVE ", \"methods\": [\"full\"], \"figures\": [{\"name\": \"c\", \"type\": \"curve\"}]}",
     "$.figures[0].engine: engine 'replay' is not configured"},
    {"line over a non-key", "{" LIVE ", \"methods\": [\"full\"], \"figures\": [{\"name\": \"l\", \"type\": \"line\", \"x\": \"psnr\"}]}",
     "$.figures[0].x: line figures plot against a method key"},
    {"name ..", "{" LIVE ", \"name\": \"..\", \"methods\": [\"full\"]}", "$.name: '..' names the output folder: use letters"},
    {"name ../x", "{" LIVE ", \"name\": \"../x\", \"methods\": [\"full\"]}", "$.name: '../x' names the output folder"},
    {"name with a slash", "{" LIVE ", \"name\": \"a/b\", \"methods\": [\"full\"]}", "$.name: 'a/b' names the output folder"},
    {"hidden name", "{" LIVE ", \"name\": \".x\", \"methods\": [\"full\"]}", "$.name: '.x' names the output folder"},
    {"figure name ..", "{" LIVE ", \"methods\": [\"full\"], \"figures\": [{\"name\": \"..\"}]}", "$.figures[0].name: '..': use letters"},
    {"baseline not a string", "{" LIVE ", \"baseline\": 3, \"methods\": [\"full\"]}", "$.baseline: expected a string, got 3"},
    {"baseline unknown method", "{" LIVE ", \"baseline\": \"tayler\", \"methods\": [\"full\"]}",
     "$.baseline: unknown method 'tayler'"},
    {"baseline not among the methods", "{" LIVE ", \"baseline\": \"taylor:N=5\", \"methods\": [\"full\", \"taylor:N=3\"]}",
     "$.baseline: 'taylor:N=5' ("},
    {"logy not boolean", "{" LIVE ", \"methods\": [\"full\"], \"figures\": [{\"name\": \"l\", \"logy\": \"yes\"}]}",
     "$.figures[0].logy: expected true or false, got \"yes\""},
};

static void test_invalid_configs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *b = &bad_cases[i];
        char *text = fill(b->config);
        hc_experiment *e = (hc_experiment *)&e; /* must be reset to NULL */
        hc_status s = hc_experiment_parse(text, "bad.json", &e);
        free(text);
        if (s != HC_EINVAL || e != NULL || !strstr(hc_errmsg(), b->want) || strncmp(hc_errmsg(), "bad.json", 8) != 0)
            fail_msg("case '%s': status %d, message '%s' (want '%s')", b->what, (int)s, hc_errmsg(), b->want);
        if (strchr(hc_errmsg(), '\n')) fail_msg("case '%s': message is not one line", b->what);
    }
    hc_experiment *e = NULL;
    assert_int_equal(hc_experiment_load("no/such/config.json", &e), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), "no/such/config.json: cannot open"));
    assert_null(e);
}

/* The one formatting source of the tables. */
static void test_format(void **state)
{
    (void)state;
    char buf[64];
    cJSON *v = cJSON_CreateNumber(0.123456);
    hc_experiment_format("live", "rel_l2", v, buf, sizeof buf);
    assert_string_equal(buf, "0.1235");
    cJSON_SetNumberValue(v, 5.5555);
    hc_experiment_format("live", "flops_speedup", v, buf, sizeof buf);
    assert_string_equal(buf, "5.56×");
    cJSON_SetNumberValue(v, 0.9375);
    hc_experiment_format("live", "class_acc", v, buf, sizeof buf);
    assert_string_equal(buf, "93.8");
    cJSON_SetNumberValue(v, 1.2346e9);
    hc_experiment_format("live", "flops", v, buf, sizeof buf);
    assert_string_equal(buf, "1.235");
    cJSON_SetNumberValue(v, -0.00001);
    hc_experiment_format("replay", "rel_l2", v, buf, sizeof buf);
    assert_string_equal(buf, "0.0000");
    cJSON_Delete(v);
    cJSON *n = cJSON_CreateNull();
    hc_experiment_format("live", "psnr", n, buf, sizeof buf);
    assert_string_equal(buf, "—");
    cJSON_Delete(n);
}

/* Every shipped config is valid (with the tiny model and the synthetic
 * trajectories standing in for data/), and quick.json runs end to end. */
static void test_shipped_configs(void **state)
{
    (void)state;
    static const char *const names[] = {"quick", "table_main", "ablation_sigma", "ablation_order", "pareto", "error_curves"};
    static const int min_cells[] = {6, 7, 10, 16, 54, 7};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[512];
        snprintf(path, sizeof path, HC_TEST_DATA "/../../experiments/%s.json", names[i]);
        char *text = slurp(path);
        if (!text) fail_msg("cannot read %s", path);
        cJSON *doc = cJSON_Parse(text);
        assert_non_null(doc);
        cJSON *live = cJSON_GetObjectItem(doc, "live"), *replay = cJSON_GetObjectItem(doc, "replay");
        if (live) {
            assert_string_equal(cJSON_GetObjectItem(live, "model")->valuestring, "data/models/flux_mini.safetensors");
            cJSON_ReplaceItemInObject(live, "model", cJSON_CreateString(MODEL));
            cJSON_AddStringToObject(live, "classifier", "");
        }
        if (replay) {
            cJSON *files = cJSON_CreateArray();
            cJSON_AddItemToArray(files, cJSON_CreateString(WORK "/traj_*.h5"));
            cJSON_ReplaceItemInObject(replay, "files", files);
        }
        char *fixed = cJSON_Print(doc);
        hc_experiment *e = NULL;
        hc_status s = hc_experiment_parse(fixed, path, &e);
        if (s != HC_OK) fail_msg("%s", hc_errmsg());
        assert_string_equal(hc_experiment_name(e), names[i]);
        if (hc_experiment_num_cells(e) < min_cells[i]) fail_msg("%s: %d cells", names[i], hc_experiment_num_cells(e));
        if (i == 0) {
            hc_experiment_run_opts o;
            hc_experiment_run_defaults(&o);
            o.out_dir = WORK "/quick";
            o.progress = HC_PROGRESS_NONE;
            hc_experiment_report rep;
            assert_int_equal(hc_experiment_run(e, &o, &rep), HC_OK);
            assert_int_equal(rep.complete, 1);
            assert_int_equal(rep.computed, hc_experiment_num_cells(e));
            char *md = slurp(WORK "/quick/table.md");
            assert_non_null(md);
            /* the paper's row set, full compute first */
            const char *order[] = {"| Full compute |", "| Fewer steps (S=9) |", "| FORA (N=7) |", "| TaylorSeer (N=7, O=2) |",
                                   "| Hi-ClusCa (N=7, O=2, σ=0.5, K=16) |", "| HiCache (N=7, O=2, σ=0.5) |"};
            const char *at = md;
            for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
                const char *hit = strstr(at, order[k]);
                if (!hit) fail_msg("quick table.md: '%s' missing or out of order", order[k]);
                at = hit;
            }
            free(md);
        }
        hc_experiment_free(e);
        cJSON_free(fixed);
        cJSON_Delete(doc);
        free(text);
    }
}


/* ---- output names stay inside the output folder ------------------------------------ */

static void test_output_names(void **state)
{
    (void)state;
    hc_experiment *e = NULL;
    /* no "name": the file's stem, which must be a safe name too */
    char *text = fill("{" LIVE ", \"methods\": [\"full\"]}");
    assert_int_equal(hc_experiment_parse(text, "dir/..json", &e), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "dir/..json: $: no \"name\" and the file's stem '.' is not a safe"));
    assert_int_equal(hc_experiment_parse(text, "dir/ok-name_1.json", &e), HC_OK);
    assert_string_equal(hc_experiment_name(e), "ok-name_1");
    hc_experiment_free(e);
    free(text);
    /* a Gaussianity experiment's name */
    cJSON *doc = cJSON_Parse("{\"name\": \"../up\", \"gauss\": {\"files\": [\"nothing.h5\"]}}");
    int skipped = 0;
    char dir[256];
    assert_int_equal(hc_exp_gauss_run(doc, "g.json", NULL, &skipped, dir, sizeof dir), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "g.json: $.name: '../up' names the output folder"));
    cJSON_Delete(doc);
    /* figure files: the name is one safe file name */
    hc_outfile *f = NULL;
    assert_int_equal(hc_plot_csv_open(WORK, "..", &f), HC_EINVAL);
    assert_int_equal(hc_plot_write_script(WORK, "../x", HC_PLOT_DEFAULT_SIZE, "plot x\n"), HC_EINVAL);
    assert_int_equal(hc_safe_name("a.b-c_d+1"), 1);
    assert_int_equal(hc_safe_name(".."), 0);
    assert_int_equal(hc_safe_name(""), 0);
    assert_int_equal(hc_safe_name("a b"), 0);
}

/* ---- grids: linear expansion and a cap counted before allocating ----------------- */

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* {"spec": SPEC, "grid": {KEY: [1..n], ...}} for the keys given. */
static char *grid_config(const char *spec, const char *const *keys, const int *n, int nk)
{
    size_t cap = 64 * 1024;
    char *t = malloc(cap);
    assert_non_null(t);
    int len = snprintf(t, cap, "{\"replay\": {\"files\": [\"%s\"]}, \"methods\": [\"full\", {\"spec\": \"%s\", \"grid\": {",
                       WORK "/traj_*.h5", spec);
    for (int k = 0; k < nk; k++) {
        len += snprintf(t + len, cap - (size_t)len, "%s\"%s\": [", k ? ", " : "", keys[k]);
        for (int i = 1; i <= n[k]; i++) len += snprintf(t + len, cap - (size_t)len, "%s%d", i > 1 ? ", " : "", i);
        len += snprintf(t + len, cap - (size_t)len, "]");
    }
    snprintf(t + len, cap - (size_t)len, "}}]}");
    return t;
}

static void test_grid_limits(void **state)
{
    (void)state;
    /* 100^4 = 10^8 points from a 1.7 KB config: refused at once, naming the count and the cap */
    static const char *const ck[] = {"N", "W", "K", "seed"};
    char *text = grid_config("clusca", ck, (const int[]){100, 100, 100, 100}, 4);
    assert_true(strlen(text) < 2048);
    hc_experiment *e = (hc_experiment *)&e;
    double t0 = seconds_now();
    assert_int_equal(hc_experiment_parse(text, "big.json", &e), HC_EINVAL);
    double dt = seconds_now() - t0;
    assert_null(e);
    if (dt > 1.0) fail_msg("a 10^8-cell grid took %.2f s to refuse (want < 1 s)", dt);
    assert_non_null(strstr(hc_errmsg(), "big.json: $.methods[1]: the grid would produce 100000001 cells"));
    assert_non_null(strstr(hc_errmsg(), "more than the limit of 100000"));
    free(text);
    /* one cell over the cap */
    static const char *const tk[] = {"N", "W"};
    text = grid_config("taylor", tk, (const int[]){1000, 100}, 2);
    assert_int_equal(hc_experiment_parse(text, "cap.json", &e), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "would produce 100001 cells (100000 from this entry)"));
    free(text);
    /* 20,000 cells expand in linear time: well under the minutes a quadratic
     * duplicate scan takes (a generous bound for sanitizer builds) */
    text = grid_config("taylor", tk, (const int[]){200, 100}, 2);
    t0 = seconds_now();
    assert_int_equal(hc_experiment_parse(text, "k20.json", &e), HC_OK);
    dt = seconds_now() - t0;
    assert_int_equal(hc_experiment_num_cells(e), 20001);
    if (dt > 10.0) fail_msg("a 20,000-cell grid took %.2f s to expand (want < 10 s)", dt);
    hc_experiment_free(e);
    free(text);
    /* identical rows merged through the index: O=[1, 1] gives one row */
    text = fill("{" REPLAY ", \"methods\": [\"full\", {\"spec\": \"taylor:N=3\", \"grid\": {\"O\": [1, 1, 2]}}, \"taylor:N=3,O=2\"]}");
    assert_int_equal(hc_experiment_parse(text, "dup.json", &e), HC_OK);
    assert_int_equal(hc_experiment_num_cells(e), 3);
    hc_experiment_free(e);
    free(text);
}

/* ---- output sets --------------------------------------------------------------------- */

static void test_output_sets(void **state)
{
    (void)state;
    assert_int_equal(hc_mkdir_p(WORK "/sets"), HC_OK);
    /* aborted: nothing under a final name, no staging folder */
    hc_outset *set;
    assert_int_equal(hc_outset_new(&set), HC_OK);
    assert_int_equal(hc_write_text_in(set, WORK "/sets/a.txt", "a\n"), HC_OK);
    assert_false(exists(WORK "/sets/a.txt"));
    assert_true(exists(WORK "/sets/.partial/a.txt"));
    /* a member that cannot be written (its folder is missing) fails the set */
    assert_int_equal(hc_write_text_in(set, WORK "/sets/none/b.txt", "b\n"), HC_EIO);
    hc_outset_abort(set);
    assert_false(exists(WORK "/sets/a.txt"));
    struct stat sb;
    assert_int_not_equal(stat(WORK "/sets/.partial", &sb), 0);
    /* committed: every member in place, in order; the staging folder gone */
    assert_int_equal(hc_outset_new(&set), HC_OK);
    assert_int_equal(hc_write_text_in(set, WORK "/sets/a.txt", "a\n"), HC_OK);
    hc_outfile *f;
    assert_int_equal(hc_outfile_open_in(set, WORK "/sets/c.txt", &f), HC_OK);
    fputs("c\n", hc_outfile_fp(f));
    assert_int_equal(hc_outfile_commit(f), HC_OK);
    assert_false(exists(WORK "/sets/c.txt"));
    assert_int_equal(hc_outset_finish(set, HC_OK), HC_OK);
    char *a = slurp(WORK "/sets/a.txt"), *c = slurp(WORK "/sets/c.txt");
    assert_string_equal(a, "a\n");
    assert_string_equal(c, "c\n");
    free(a);
    free(c);
    assert_int_not_equal(stat(WORK "/sets/.partial", &sb), 0);
    /* a failure status aborts: the earlier complete files stay as they were */
    assert_int_equal(hc_outset_new(&set), HC_OK);
    assert_int_equal(hc_write_text_in(set, WORK "/sets/a.txt", "new\n"), HC_OK);
    assert_int_equal(hc_outset_finish(set, hc_fail(HC_EIO, "later output failed")), HC_EIO);
    a = slurp(WORK "/sets/a.txt");
    assert_string_equal(a, "a\n");
    free(a);
}

/* ---- resume trusts only well-formed cell files ------------------------------------- */

static const char *const replay_config =
    "{\"name\": \"rp\", \"replay\": {\"files\": [\"@TRAJ@\"]},\n"
    " \"methods\": [\"full\", \"reuse:N=3\", \"taylor:N=3,O=1\", \"hicache:N=3,O=2\", \"lagrange:N=3,O=2\", \"taylor:N=4,O=2\"],\n"
    " \"figures\": [{\"name\": \"err\", \"type\": \"curve\", \"x\": \"step\", \"y\": \"rel_l2\"}]}";

/* Replace cell i's file with its document after edit(doc). */
static void damage(hc_experiment *e, const char *dir, int i, void (*edit)(cJSON *))
{
    char path[512];
    snprintf(path, sizeof path, "%s/cells/%s.json", dir, hc_experiment_cell_id(e, i));
    char *text = slurp(path);
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    edit(doc);
    assert_int_equal(hc_write_json(path, doc), HC_OK);
    cJSON_Delete(doc);
    free(text);
}

static void empty_metrics(cJSON *d) { cJSON_ReplaceItemInObject(d, "metrics", cJSON_CreateObject()); }
static void string_metric(cJSON *d) { cJSON_ReplaceItemInObject(cJSON_GetObjectItem(d, "metrics"), "rel_l2", cJSON_CreateString("x")); }
static void no_curves(cJSON *d) { cJSON_DeleteItemFromObject(d, "curves"); }
static void short_curve(cJSON *d)
{
    cJSON *all = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "curves"), "step"), "all");
    cJSON_DeleteItemFromArray(cJSON_GetObjectItem(all, "rel_l2"), 0);
}
static void other_id(cJSON *d) { cJSON_ReplaceItemInObject(d, "id", cJSON_CreateString("replay-full-0")); }

static void test_damaged_cells(void **state)
{
    (void)state;
    char *text = fill(replay_config);
    hc_experiment *e = NULL;
    assert_int_equal(hc_experiment_parse(text, "rp.json", &e), HC_OK);
    free(text);
    assert_int_equal(hc_experiment_num_cells(e), 6);
    hc_experiment_run_opts o;
    hc_experiment_run_defaults(&o);
    o.out_dir = WORK "/damaged";
    o.progress = HC_PROGRESS_NONE;
    o.render = 0;
    hc_experiment_report rep;
    assert_int_equal(hc_experiment_run(e, &o, &rep), HC_OK);
    char *md0 = slurp(WORK "/damaged/table.md");
    assert_null(strstr(md0, "—"));
    /* valid JSON, wrong content: every one is computed again, the tables as before */
    damage(e, o.out_dir, 1, empty_metrics);
    damage(e, o.out_dir, 2, string_metric);
    damage(e, o.out_dir, 3, no_curves);
    damage(e, o.out_dir, 4, short_curve);
    damage(e, o.out_dir, 5, other_id);
    assert_int_equal(hc_experiment_run(e, &o, &rep), HC_OK);
    assert_int_equal(rep.loaded, 1);
    assert_int_equal(rep.computed, 5);
    char *md1 = slurp(WORK "/damaged/table.md");
    assert_null(strstr(md1, "—"));
    /* the same table apart from its provenance comment */
    const char *t0 = strstr(md0, "\n|"), *t1 = strstr(md1, "\n|");
    assert_non_null(t0);
    assert_non_null(t1);
    assert_string_equal(t0, t1);
    free(md0);
    free(md1);
    hc_experiment_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_expansion),
        cmocka_unit_test(test_invalid_configs),
        cmocka_unit_test(test_end_to_end_and_resume),
        cmocka_unit_test(test_shipped_configs),
        cmocka_unit_test(test_output_names),
        cmocka_unit_test(test_grid_limits),
        cmocka_unit_test(test_output_sets),
        cmocka_unit_test(test_damaged_cells),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
