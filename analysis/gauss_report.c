/* gauss_report.c: the outputs of `hicache gauss` (gauss_report.h): the
 * figure writer handed to hc_gauss_analyse, gauss.csv, summary.json and
 * summary.md, and hc_gauss_run, which writes them all atomically under one
 * directory. */
#include "gauss_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "outfile.h"
#include "plot.h"
#include "predictor.h"
#include "provenance.h"

/* ---- figures ---------------------------------------------------------------------------------- */

/* Histogram of standardised values: HIST_BINS bins over [-HIST_LIM, HIST_LIM]. */
#define HIST_BINS 60
#define HIST_LIM 6.0

/* "dir/name.h5" -> "name" */
static void file_stem(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
}

/* Characters safe in a figure name. */
static void sanitize(char *dst, size_t n, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++) {
        char c = src[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '-';
        dst[i] = ok ? c : '_';
    }
    dst[i] = '\0';
}

typedef char series_name[48];

/* The names of qq's series, in their order (gauss.h). */
static void series_names(const hc_gauss_qq *qq, series_name *names)
{
    const hc_gauss_item *it = qq->item;
    const int R = qq->n_proj;
    for (int r = 0; r < R; r++) snprintf(names[r], sizeof names[r], "projection %d", r + 1);
    const int chans[2] = {it->best_channel, it->worst_channel};
    for (int k = 0; k < 2; k++)
        snprintf(names[R + k], sizeof names[R + k], "%s channel %d (W=%.4f)", k ? "worst" : "best",
                 chans[k], k ? it->worst_w : it->best_w);
    snprintf(names[R + 2], sizeof names[R + 2], "null Gaussian sample");
}

/* Q-Q: rank, Blom normal quantile, one column per series. */
static hc_status write_qq(const hc_gauss_figures *fg, const hc_gauss_qq *qq, const series_name *names,
                          const char *title)
{
    const hc_gauss_item *it = qq->item;
    const size_t n = qq->n;
    const int ns = qq->n_proj + 3;
    const double *series = qq->series;
    hc_outfile *f;
    HC_TRY(hc_plot_csv_open_in(fg->set, fg->fig_dir, it->fig_qq, &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "rank,normal_quantile");
    for (int k = 0; k < ns; k++) fprintf(fp, ",%s", names[k]);
    fputc('\n', fp);
    for (size_t i = 0; i < n; i++) {
        fprintf(fp, "%zu,%.6g", i + 1, gsl_cdf_ugaussian_Pinv(((double)i + 0.625) / ((double)n + 0.25)));
        for (int k = 0; k < ns; k++) fprintf(fp, ",%.6g", series[(size_t)k * n + i]);
        fputc('\n', fp);
    }
    HC_TRY(hc_outfile_commit(f));
    char body[4096];
    snprintf(body, sizeof body,
             "set title \"%s: Q-Q against N(0,1)\" noenhanced\n"
             "set key top left noenhanced autotitle columnheader\n"
             "set xlabel \"N(0,1) quantile\"\n"
             "set ylabel \"standardised sample quantile\"\n"
             "set grid\n"
             "plot for [i=3:%d] \"%s.csv\" using 2:i with points pt 7 ps 0.4, "
             "x with lines lc \"black\" dt 2 title \"y = x\"\n",
             title, ns + 2, it->fig_qq);
    return hc_plot_write_script_in(fg->set, fg->fig_dir, it->fig_qq, HC_PLOT_DEFAULT_SIZE, body);
}

/* Histogram densities per series against the N(0,1) density. */
static hc_status write_hist(const hc_gauss_figures *fg, const hc_gauss_qq *qq, const series_name *names,
                            const char *title)
{
    const hc_gauss_item *it = qq->item;
    const size_t n = qq->n;
    const int ns = qq->n_proj + 3;
    const double *series = qq->series;
    hc_outfile *f;
    HC_TRY(hc_plot_csv_open_in(fg->set, fg->fig_dir, it->fig_hist, &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "bin_center");
    for (int k = 0; k < ns; k++) fprintf(fp, ",%s", names[k]);
    fprintf(fp, ",normal density\n");
    const double width = 2.0 * HIST_LIM / HIST_BINS;
    size_t lo[HC_GAUSS_MAX_QQ_PROJ + 3] = {0};
    for (int b = 0; b < HIST_BINS; b++) {
        double left = -HIST_LIM + b * width, right = left + width, center = left + 0.5 * width;
        fprintf(fp, "%.4g", center);
        for (int k = 0; k < ns; k++) { /* series are sorted: walk a cursor */
            const double *y = series + (size_t)k * n;
            while (lo[k] < n && y[lo[k]] < left) lo[k]++;
            size_t hi = lo[k];
            while (hi < n && (y[hi] < right || (b == HIST_BINS - 1 && y[hi] <= right))) hi++;
            fprintf(fp, ",%.6g", (double)(hi - lo[k]) / ((double)n * width));
            lo[k] = hi;
        }
        fprintf(fp, ",%.6g\n", gsl_ran_ugaussian_pdf(center));
    }
    HC_TRY(hc_outfile_commit(f));
    char body[4096];
    int cols = ns <= 3 ? ns : 3, rows = (ns + cols - 1) / cols;
    size_t len = (size_t)snprintf(body, sizeof body,
                                  "set multiplot layout %d,%d title \"%s: histograms of standardised "
                                  "values (range +-%g)\" noenhanced\n"
                                  "set style fill solid 0.5 border -1\n"
                                  "set xrange [%g:%g]\nset yrange [0:*]\nset key top right noenhanced\n",
                                  rows, cols, title, HIST_LIM, -HIST_LIM, HIST_LIM);
    for (int k = 0; k < ns && len < sizeof body; k++)
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "set title \"%s\" noenhanced\n"
                                "plot \"%s.csv\" using 1:%d with boxes lc rgb \"#4477aa\" notitle, "
                                "\"\" using 1:%d with lines lw 2 lc \"black\" title \"N(0,1)\"\n",
                                names[k], it->fig_hist, k + 2, ns + 2);
    HC_ASSERT(len < sizeof body);
    return hc_plot_write_script_in(fg->set, fg->fig_dir, it->fig_hist, (hc_plot_size){1200, 400 * rows}, body);
}

hc_status hc_gauss_write_figures(void *ctx, const hc_gauss_qq *qq)
{
    hc_gauss_figures *fg = ctx;
    hc_gauss_item *it = qq->item;
    series_name names[HC_GAUSS_MAX_QQ_PROJ + 3];
    series_names(qq, names);
    char fstem[256], stem[64], mod[96], base[200];
    file_stem(it->file, fstem, sizeof fstem);
    sanitize(stem, sizeof stem, fstem);
    sanitize(mod, sizeof mod, it->module);
    snprintf(base, sizeof base, "f%zu-%s-%s-o%d", it->file_index, stem, mod, it->order);
    snprintf(it->fig_qq, sizeof it->fig_qq, "%s_qq", base);
    snprintf(it->fig_hist, sizeof it->fig_hist, "%s_hist", base);
    char title[512];
    snprintf(title, sizeof title, "%s: %s, order %d (n = %zu)", fstem, it->module, it->order, qq->n);
    for (char *q = title; *q; q++)
        if (*q == '"' || *q == '\\') *q = '\'';
    HC_TRY(write_qq(fg, qq, (const series_name *)names, title));
    HC_TRY(write_hist(fg, qq, (const series_name *)names, title));
    fg->n_figures += 2;
    if (fg->render) {
        HC_TRY(hc_plot_render_in(fg->set, fg->fig_dir, it->fig_qq));
        HC_TRY(hc_plot_render_in(fg->set, fg->fig_dir, it->fig_hist));
        fg->n_rendered += 2;
    }
    return HC_OK;
}

/* ---- outputs --------------------------------------------------------------------------------------- */

static const char *const set_names[2] = {"real", "null"};

static void csv_row(FILE *fp, const hc_gauss_item *it, const char *scope, int step, const char *set,
                    const char *stat, double value)
{
    hc_csv_field(fp, it->file);
    fprintf(fp, ",%s,%d,%s,%d,%s,%s,%.10g\n", it->module, it->order, scope, step, set, stat, value);
}

static void csv_item(FILE *fp, const hc_gauss_item *it)
{
    for (int s = 0; s < 2; s++) {
        for (int i = 0; it->uni_ok && i < HC_GU_COUNT; i++)
            csv_row(fp, it, "channel", -1, set_names[s], hc_gauss_uni_names[i], it->chan[s].v[i]);
        for (int i = 0; it->tok_ok && i < HC_GU_COUNT; i++)
            csv_row(fp, it, "token", -1, set_names[s], hc_gauss_uni_names[i], it->tok[s].v[i]);
        for (int i = 0; it->pca[s].ok && i < HC_GM_COUNT; i++)
            csv_row(fp, it, "pca", -1, set_names[s], hc_gauss_mv_names[i], it->pca[s].v[i]);
    }
    if (!it->step_ok || it->n_steps == 0) return;
    for (int j = 0; j < it->n_steps; j++)
        for (int i = 0; i < HC_GS_COUNT; i++)
            csv_row(fp, it, "step", it->step_rows[j].step, "real", hc_gauss_step_names[i], it->step_rows[j].v[i]);
    for (int i = 0; i < HC_GS_COUNT; i++)
        csv_row(fp, it, "step", -1, "real_median", hc_gauss_step_names[i], it->step_median.v[i]);
    for (int i = 0; i < HC_GS_COUNT; i++)
        csv_row(fp, it, "step", -1, "null", hc_gauss_step_names[i], it->step_null.v[i]);
}

void hc_gauss_write_csv(FILE *fp, const hc_gauss_result *res)
{
    fprintf(fp, "file,module,order,scope,step,set,stat,value\n");
    for (size_t i = 0; i < res->n_items; i++) csv_item(fp, &res->items[i]);
}

static cJSON *json_values(const double *v, const char *const *names, int n)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < n; i++)
        if (!cJSON_AddNumberToObject(o, names[i], v[i])) {
            cJSON_Delete(o);
            return NULL;
        }
    return o;
}

/* {"real": {...}, "null": {...}} */
static cJSON *json_pair(const double *real, const double *null, const char *const *names, int n)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddItemToObject(o, "real", json_values(real, names, n));
    cJSON_AddItemToObject(o, "null", json_values(null, names, n));
    return o;
}

static cJSON *json_item(const hc_gauss_item *it)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "file", it->file);
    cJSON_AddStringToObject(o, "module", it->module);
    cJSON_AddNumberToObject(o, "order", it->order);
    cJSON_AddNumberToObject(o, "tokens", it->T);
    cJSON_AddNumberToObject(o, "channels", it->D);
    cJSON_AddItemToObject(o, "steps", cJSON_CreateIntArray(it->steps, it->n_steps));
    cJSON_AddNumberToObject(o, "seed", (double)it->seed);
    cJSON_AddStringToObject(o, "note", it->note);
    if (it->uni_ok)
        cJSON_AddItemToObject(o, "channel", json_pair(it->chan[0].v, it->chan[1].v, hc_gauss_uni_names, HC_GU_COUNT));
    if (it->tok_ok)
        cJSON_AddItemToObject(o, "token", json_pair(it->tok[0].v, it->tok[1].v, hc_gauss_uni_names, HC_GU_COUNT));
    if (it->pca[0].ok && it->pca[1].ok)
        cJSON_AddItemToObject(o, "pca", json_pair(it->pca[0].v, it->pca[1].v, hc_gauss_mv_names, HC_GM_COUNT));
    if (it->step_ok && it->n_steps > 0) {
        cJSON *st = cJSON_AddObjectToObject(o, "step");
        cJSON *arr = st ? cJSON_AddArrayToObject(st, "real") : NULL;
        for (int j = 0; arr && j < it->n_steps; j++) {
            cJSON *r = json_values(it->step_rows[j].v, hc_gauss_step_names, HC_GS_COUNT);
            if (r) cJSON_AddNumberToObject(r, "step", it->step_rows[j].step);
            cJSON_AddItemToArray(arr, r);
        }
        if (st) {
            cJSON_AddItemToObject(st, "real_median", json_values(it->step_median.v, hc_gauss_step_names, HC_GS_COUNT));
            cJSON_AddItemToObject(st, "null", json_values(it->step_null.v, hc_gauss_step_names, HC_GS_COUNT));
        }
    }
    if (it->best_channel >= 0) {
        cJSON *q = cJSON_AddObjectToObject(o, "qq");
        if (q) {
            cJSON_AddNumberToObject(q, "best_channel", it->best_channel);
            cJSON_AddNumberToObject(q, "best_w", it->best_w);
            cJSON_AddNumberToObject(q, "worst_channel", it->worst_channel);
            cJSON_AddNumberToObject(q, "worst_w", it->worst_w);
            if (it->fig_qq[0]) {
                cJSON_AddStringToObject(q, "qq_figure", it->fig_qq);
                cJSON_AddStringToObject(q, "hist_figure", it->fig_hist);
            }
        }
    }
    return o;
}

hc_status hc_gauss_write_json(hc_outset *set, const char *path, const hc_gauss_opts *o, const hc_gauss_result *res)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return hc_fail(HC_ENOMEM, "gauss: out of memory");
    cJSON_AddItemToObject(doc, "provenance", hc_provenance_json());
    cJSON *cfg = cJSON_AddObjectToObject(doc, "config");
    if (cfg) {
        cJSON *tr = cJSON_AddArrayToObject(cfg, "traj");
        for (size_t i = 0; tr && i < res->n_files; i++) cJSON_AddItemToArray(tr, cJSON_CreateString(res->files[i]));
        cJSON_AddNumberToObject(cfg, "order", o->order);
        cJSON_AddStringToObject(cfg, "modules", o->modules && o->modules[0] ? o->modules : "*");
        cJSON_AddNumberToObject(cfg, "proj", o->proj);
        cJSON_AddNumberToObject(cfg, "sample", (double)o->sample);
        cJSON_AddNumberToObject(cfg, "seed", (double)o->seed);
        cJSON *sc = cJSON_AddObjectToObject(cfg, "schedule");
        if (sc) {
            cJSON_AddStringToObject(sc, "kind", hc_sched_name(HC_SCHED_FLUX));
            cJSON_AddNumberToObject(sc, "N", o->N);
            cJSON_AddNumberToObject(sc, "W", o->W);
        }
        cJSON_AddBoolToObject(cfg, "per_token", o->per_token);
        cJSON_AddNumberToObject(cfg, "alpha", o->alpha);
        cJSON_AddNumberToObject(cfg, "qq_proj", o->qq_proj);
        cJSON_AddBoolToObject(cfg, "plots", o->plots);
        cJSON_AddBoolToObject(cfg, "rendered", o->plots && !res->gnuplot_missing);
    }
    cJSON *seeds = cJSON_AddObjectToObject(doc, "seeds");
    if (seeds) {
        cJSON_AddNumberToObject(seeds, "master", (double)o->seed);
        cJSON_AddStringToObject(seeds, "derivation", hc_gauss_seed_derivation);
        cJSON *pp = cJSON_AddObjectToObject(seeds, "purposes");
        for (int p = 1; pp && p < HC_GP_END; p++) cJSON_AddNumberToObject(pp, hc_gauss_purpose_names[p], p);
    }
    cJSON *arr = cJSON_AddArrayToObject(doc, "results");
    for (size_t i = 0; arr && i < res->n_items; i++) cJSON_AddItemToArray(arr, json_item(&res->items[i]));
    hc_status st = hc_write_json_in(set, path, doc);
    cJSON_Delete(doc);
    return st;
}

/* ---- Markdown ---------------------------------------------------------------------------------------- */

/* A table column: a statistic of a scope shown as real and null side by
 * side (paired) or once. */
typedef enum { SC_CHANNEL, SC_TOKEN, SC_PCA, SC_STEP } md_scope;
typedef struct md_col {
    const char *header;
    int stat;
    int paired;
} md_col;

static const md_col uni_cols[] = {
    {"n", HC_GU_N, 0},
    {"tested", HC_GU_M, 0},
    {"median g1", HC_GU_G1_MEDIAN, 1},
    {"median g2", HC_GU_G2_MEDIAN, 1},
    {"median W", HC_GU_W_MEDIAN, 1},
    {"median A*", HC_GU_ASTAR_MEDIAN, 1},
    {"SW rejected (BH)", HC_GU_SW_BH, 1},
    {"AD rejected (BH)", HC_GU_AD_BH, 1},
    {"K2 rejected (BH)", HC_GU_K2_BH, 1},
    {"SW p<alpha (raw)", HC_GU_SW_RAW, 1},
};

static const md_col mv_cols[] = {
    {"n", HC_GM_N, 0},
    {"P", HC_GM_P, 0},
    {"explained", HC_GM_EXPLAINED, 0},
    {"Mardia skew", HC_GM_MARDIA_SKEW, 1},
    {"skew p", HC_GM_MARDIA_SKEW_P, 1},
    {"Mardia kurt z", HC_GM_MARDIA_KURT_Z, 1},
    {"kurt p", HC_GM_MARDIA_KURT_P, 1},
    {"HZ", HC_GM_HZ, 1},
    {"HZ p", HC_GM_HZ_P, 1},
};

static const md_col step_cols[] = {
    {"T", HC_GS_N, 0},
    {"rms", HC_GS_RMS, 0},
    {"median g1", HC_GS_G1_MEDIAN, 1},
    {"median g2", HC_GS_G2_MEDIAN, 1},
    {"K2 p<alpha (raw)", HC_GS_K2_RAW, 1},
    {"K2 rejected (BH)", HC_GS_K2_BH, 1},
    {"JB rejected (BH)", HC_GS_JB_BH, 1},
};

static void md_num(FILE *fp, double v)
{
    if (isnan(v)) fputs(" n/a |", fp);
    else fprintf(fp, " %.4g |", v);
}

static void md_table(FILE *fp, const hc_gauss_result *res, md_scope scope, const md_col *cols, size_t ncols)
{
    fputs("| file | module | order | steps |", fp);
    for (size_t c = 0; c < ncols; c++) {
        if (cols[c].paired) fprintf(fp, " %s | null |", cols[c].header);
        else fprintf(fp, " %s |", cols[c].header);
    }
    fputs("\n|---|---|---:|---:|", fp);
    for (size_t c = 0; c < ncols; c++) fputs(cols[c].paired ? "---:|---:|" : "---:|", fp);
    fputc('\n', fp);
    for (size_t i = 0; i < res->n_items; i++) {
        const hc_gauss_item *it = &res->items[i];
        const double *real = NULL, *null = NULL;
        if (scope == SC_CHANNEL && it->uni_ok) real = it->chan[0].v, null = it->chan[1].v;
        if (scope == SC_TOKEN && it->tok_ok) real = it->tok[0].v, null = it->tok[1].v;
        if (scope == SC_PCA && it->pca[0].ok && it->pca[1].ok) real = it->pca[0].v, null = it->pca[1].v;
        if (scope == SC_STEP && it->step_ok && it->n_steps > 0) real = it->step_median.v, null = it->step_null.v;
        fprintf(fp, "| %s | %s | %d | %d |", it->file, it->module, it->order, it->n_steps);
        for (size_t c = 0; c < ncols; c++) {
            md_num(fp, real ? real[cols[c].stat] : NAN);
            if (cols[c].paired) md_num(fp, null ? null[cols[c].stat] : NAN);
        }
        fputc('\n', fp);
    }
}

hc_status hc_gauss_write_md(hc_outset *set, const char *path, const hc_gauss_opts *o, const hc_gauss_result *res)
{
    hc_outfile *f;
    HC_TRY(hc_outfile_open_in(set, path, &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "# Gaussianity of feature derivatives (hicache gauss)\n\n");
    fprintf(fp, "Divided differences of orders 1..%d between consecutive full steps of the flux schedule "
                "N=%d, W=%d; pooled samples of n <= %zu values per test (seed %lu); PCA to P=%d dims; "
                "alpha = %g.  **real**: the derivative sample; **null**: seeded Gaussian samples of the same "
                "size with the same mean and covariance (what \"Gaussian\" looks like at this n and P).\n\n",
            o->order, o->N, o->W, o->sample, o->seed, o->proj, o->alpha);
    fprintf(fp, "## Per channel\n\nOne test per channel on n (derivative step, token) values; medians "
                "over channels; rejected = fraction of channels rejected by Benjamini-Hochberg at alpha "
                "(raw: unadjusted p < alpha, about alpha under the null).\n\n");
    md_table(fp, res, SC_CHANNEL, uni_cols, sizeof uni_cols / sizeof uni_cols[0]);
    if (o->per_token) {
        fprintf(fp, "\n## Per token\n\nOne test per token on n (derivative step, channel) values; medians "
                    "over tokens.\n\n");
        md_table(fp, res, SC_TOKEN, uni_cols, sizeof uni_cols / sizeof uni_cols[0]);
    }
    fprintf(fp, "\n## Multivariate (PCA projection)\n\nMardia's skewness (chi^2) and kurtosis (z) and "
                "Henze-Zirkler on the n x P projection onto the leading principal axes; explained = "
                "fraction of the total variance in those axes.\n\n");
    md_table(fp, res, SC_PCA, mv_cols, sizeof mv_cols / sizeof mv_cols[0]);
    fprintf(fp, "\n## Per step\n\nAt each derivative step, D'Agostino K2 and Jarque-Bera per channel over "
                "the T tokens of that step (no dependence across steps); medians over the steps of the "
                "per-step medians and fractions; null: T x D standard normals.\n\n");
    md_table(fp, res, SC_STEP, step_cols, sizeof step_cols / sizeof step_cols[0]);
    int any_note = 0;
    for (size_t i = 0; i < res->n_items; i++)
        if (res->items[i].note[0]) {
            if (!any_note++) fprintf(fp, "\n## Notes\n\n");
            fprintf(fp, "- %s %s order %d: %s\n", res->items[i].file, res->items[i].module, res->items[i].order,
                    res->items[i].note);
        }
    fprintf(fp, "\nEvery step's statistics are in gauss.csv (scope `step`); figures in fig/.\n");
    return hc_outfile_commit(f);
}

/* ---- driver ---------------------------------------------------------------------------------------------- */

hc_status hc_gauss_run(const char *const *paths, size_t n_paths, const hc_gauss_opts *o,
                       const char *out_dir, hc_gauss_result **out)
{
    if (out) *out = NULL;
    HC_TRY(hc_gauss_validate(o));
    if (n_paths == 0) return hc_fail(HC_EINVAL, "no trajectory given (--traj FILE)");
    hc_gauss_figures fg = {.render = 0};
    hc_gauss_result *res = NULL;
    hc_outfile *csv = NULL;
    char path[1200];
    int gnuplot_missing = 0;
    hc_status st = hc_outset_new(&fg.set);
    if (st == HC_OK) st = hc_mkdir_p(out_dir);
    if (st == HC_OK && o->plots) {
        st = hc_path_join(fg.fig_dir, sizeof fg.fig_dir, out_dir, "fig");
        if (st == HC_OK) st = hc_mkdir_p(fg.fig_dir);
        gnuplot_missing = !hc_plot_gnuplot_available();
        fg.render = !gnuplot_missing;
    }
    /* gauss.csv opened first, so an unwritable folder fails before the analysis */
    if (st == HC_OK) st = hc_path_join(path, sizeof path, out_dir, "gauss.csv");
    if (st == HC_OK) st = hc_outfile_open_in(fg.set, path, &csv);
    if (st == HC_OK) st = hc_gauss_analyse(paths, n_paths, o, hc_gauss_write_figures, &fg, &res);
    if (st == HC_OK) {
        res->gnuplot_missing = gnuplot_missing;
        res->n_figures = fg.n_figures;
        res->n_rendered = fg.n_rendered;
        hc_gauss_write_csv(hc_outfile_fp(csv), res);
        st = hc_outfile_commit(csv);
        csv = NULL;
    }
    /* summary.json last: its presence marks a finished analysis */
    if (st == HC_OK) st = hc_path_join(path, sizeof path, out_dir, "summary.md");
    if (st == HC_OK) st = hc_gauss_write_md(fg.set, path, o, res);
    if (st == HC_OK) st = hc_path_join(path, sizeof path, out_dir, "summary.json");
    if (st == HC_OK) st = hc_gauss_write_json(fg.set, path, o, res);
    hc_outfile_abort(csv);
    st = hc_outset_finish(fg.set, st);
    fg.set = NULL;
    if (st == HC_OK && out) *out = res;
    else hc_gauss_result_free(res);
    return st;
}
