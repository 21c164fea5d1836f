/* tables.c: the per-engine tables of a report -- mean and std over seeds,
 * the formatted text, best per column -- as summary.json "tables",
 * table.md and table.tex, and the long-form results.csv. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "provenance.h"
#include "report_internal.h"

/* ---- statistics ---------------------------------------------------------------------------- */

void rep_row_stats(const hc_results *r, const hc_res_row *w, rep_stats *st)
{
    int nm;
    const hc_report_metric *ms = hc_report_metrics(w->eng, &nm);
    for (int i = 0; i < nm; i++) {
        double sum = 0, sq = 0;
        int n = 0;
        for (int k = 0; k < w->n_cells; k++) {
            double v = hc_res_cell_metric(&r->cells[w->cells[k]], ms[i].key);
            if (isfinite(v)) {
                sum += v;
                sq += v * v;
                n++;
            }
        }
        double mu = n ? sum / n : 0, var = n > 1 ? (sq - n * mu * mu) / (n - 1) : NAN;
        st->mean[i] = n ? sum / n : NAN;
        st->sd[i] = n > 1 ? sqrt(fmax(var, 0)) : NAN;
        hc_report_format(w->eng, ms[i].key, st->mean[i], st->text[i], sizeof st->text[i]);
    }
}

static void caption(const hc_results *r, hc_eng eng, char *cap, size_t n)
{
    if (eng == HC_ENG_LIVE) {
        char seeds[256] = "";
        for (int i = 0; i < r->live.n_seeds; i++) {
            size_t l = strlen(seeds);
            snprintf(seeds + l, sizeof seeds - l, "%s%lu", i ? ", " : "", r->live.seeds[i]);
        }
        int many = r->live.n_seeds > 1;
        snprintf(cap, n,
                 "Live sampling with %s: %d images, %d steps, guidance %g, seed%s %s%s. rel-L2, PSNR and SSIM "
                 "against full compute at %d steps with the same noise and labels; speedups relative to it; "
                 "latency = wall-clock seconds for all %d images.",
                 r->live.model, r->live.n, r->live.steps, r->live.guidance, many ? "s" : "", seeds,
                 many ? " (mean over seeds)" : "", r->live.steps, r->live.n);
    } else {
        snprintf(cap, n,
                 "Open-loop replay on %d trajector%s (modules %s): forecast error per module and cached step "
                 "against the recorded truth; FLOPs speedup from the analytic MAC model of the recording's model "
                 "where the files name it, else steps / full steps (summary.json: flops_model).",
                 r->replay.n_files, r->replay.n_files == 1 ? "y" : "ies",
                 r->replay.modules[0] ? r->replay.modules : "*");
    }
}

/* Best per column among the non-reference rows, by value; ties by the shown
 * text.  Columns with no direction or fewer than two values have none. */
static void mark_best(const hc_results *r, rep_table *t)
{
    int nm;
    const hc_report_metric *ms = hc_report_metrics(t->eng, &nm);
    for (int c = 0; c < r->n_cols[t->eng]; c++) {
        int mi = r->cols[t->eng][c];
        if (!ms[mi].dir) continue;
        int best = -1, cand = 0;
        for (int i = 0; i < t->n_rows; i++) {
            if (r->rows[t->rows[i]].is_ref) continue;
            double v = t->stats[i].mean[mi];
            if (!isfinite(v)) continue;
            cand++;
            double b = best >= 0 ? t->stats[best].mean[mi] : 0;
            if (best < 0 || (ms[mi].dir > 0 ? v > b : v < b)) best = i;
        }
        if (cand < 2) continue;
        for (int i = 0; i < t->n_rows; i++)
            if (!r->rows[t->rows[i]].is_ref && strcmp(t->stats[i].text[mi], t->stats[best].text[mi]) == 0)
                t->best[i][c] = 1;
    }
}

void rep_tables_free(rep_table *t, int n)
{
    for (int i = 0; t && i < n; i++) {
        free(t[i].rows);
        free(t[i].stats);
        free(t[i].best);
    }
    free(t);
}

hc_status rep_tables_build(const hc_results *r, rep_table **out, int *n)
{
    *out = NULL;
    *n = 0;
    rep_table *t = calloc(HC_N_ENG, sizeof *t);
    if (!t) return hc_fail(HC_ENOMEM, "out of memory");
    int nt = 0;
    for (int g = 0; g < HC_N_ENG; g++) {
        if (!(r->eng_mask & (1u << g))) continue;
        rep_table *tb = &t[nt++];
        tb->eng = (hc_eng)g;
        caption(r, tb->eng, tb->caption, sizeof tb->caption);
        tb->rows = calloc((size_t)r->n_rows + 1, sizeof *tb->rows);
        tb->stats = calloc((size_t)r->n_rows + 1, sizeof *tb->stats);
        tb->best = calloc((size_t)r->n_rows + 1, sizeof *tb->best);
        if (!tb->rows || !tb->stats || !tb->best) {
            rep_tables_free(t, nt);
            return hc_fail(HC_ENOMEM, "out of memory");
        }
        for (int w = 0; w < r->n_rows; w++)
            if (r->rows[w].eng == tb->eng) {
                rep_row_stats(r, &r->rows[w], &tb->stats[tb->n_rows]);
                tb->rows[tb->n_rows++] = w;
            }
        mark_best(r, tb);
        rep_table_intervals(r, tb);
    }
    *out = t;
    *n = nt;
    return HC_OK;
}

/* ---- summary.json "tables" ---------------------------------------------------------------- */

static const char *direction(int dir) { return dir > 0 ? "higher" : dir < 0 ? "lower" : "none"; }

static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

/* A row's "half_width" (as shown after ±) and "intervals" per metric with one. */
static void ci_json(cJSON *o, hc_eng eng, const rep_stats *st)
{
    int nm;
    const hc_report_metric *ms = hc_report_metrics(eng, &nm);
    cJSON *hw = NULL, *iv = NULL;
    for (int m = 0; m < nm; m++) {
        const rep_ci *c = &st->ci[m];
        if (!isfinite(c->lo) && !isfinite(c->delta)) continue;
        if (!hw) hw = cJSON_AddObjectToObject(o, "half_width"), iv = cJSON_AddObjectToObject(o, "intervals");
        if (st->hw[m][0]) cJSON_AddStringToObject(hw, ms[m].key, st->hw[m]);
        cJSON *x = cJSON_AddObjectToObject(iv, ms[m].key);
        cJSON_AddNumberToObject(x, "n", c->n);
        add_num(x, "lo", c->lo);
        add_num(x, "hi", c->hi);
        add_num(x, "delta", c->delta);
        add_num(x, "delta_lo", c->dlo);
        add_num(x, "delta_hi", c->dhi);
        add_num(x, "p_wilcoxon", c->p_w);
        add_num(x, "p_t", c->p_t);
        add_num(x, "p_wilcoxon_holm", c->p_w_holm);
        add_num(x, "p_t_holm", c->p_t_holm);
        /* units at which the difference's half-width would shrink below the
         * difference itself (half-width ~ 1/sqrt(n)): how many samples a
         * conclusion about this difference needs */
        double dhw = (c->dhi - c->dlo) / 2;
        if (isfinite(dhw) && c->delta != 0 && isfinite(c->delta) && c->n > 0)
            cJSON_AddNumberToObject(x, "n_resolve", ceil(c->n * (dhw / c->delta) * (dhw / c->delta)));
        cJSON_AddNumberToObject(x, "mark", c->mark);
    }
}

static cJSON *row_json(const hc_results *r, const rep_table *t, int i, int with_std)
{
    const hc_res_row *w = &r->rows[t->rows[i]];
    const rep_stats *st = &t->stats[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", w->label);
    cJSON_AddStringToObject(o, "spec", w->spec);
    cJSON_AddStringToObject(o, "resolved", w->resolved);
    cJSON_AddStringToObject(o, "series", w->entry >= 0 ? r->entries[w->entry] : "Full compute");
    if (w->eng == HC_ENG_LIVE) cJSON_AddNumberToObject(o, "steps", w->steps);
    cJSON_AddBoolToObject(o, "reference", w->is_ref);
    cJSON *grid = cJSON_AddObjectToObject(o, "grid");
    for (int k = 0; k < w->n_grid; k++) {
        const hc_res_gridval *gv = &w->grid[k];
        if (gv->is_text) cJSON_AddStringToObject(grid, gv->key, gv->text);
        else cJSON_AddNumberToObject(grid, gv->key, gv->num);
    }
    cJSON *ids = cJSON_AddArrayToObject(o, "cells");
    for (int k = 0; k < w->n_cells; k++) cJSON_AddItemToArray(ids, cJSON_CreateString(r->cells[w->cells[k]].id));
    int nm;
    const hc_report_metric *ms = hc_report_metrics(w->eng, &nm);
    cJSON *vals = cJSON_AddObjectToObject(o, "values");
    for (int m = 0; m < nm; m++) add_num(vals, ms[m].key, st->mean[m]);
    if (with_std) {
        cJSON *sds = cJSON_AddObjectToObject(o, "std");
        for (int m = 0; m < nm; m++) add_num(sds, ms[m].key, st->sd[m]);
    }
    cJSON *text = cJSON_AddObjectToObject(o, "text");
    for (int m = 0; m < nm; m++) cJSON_AddStringToObject(text, ms[m].key, st->text[m]);
    ci_json(o, w->eng, st);
    cJSON *best = NULL;
    for (int c = 0; c < r->n_cols[t->eng]; c++) {
        if (!t->best[i][c]) continue;
        if (!best) best = cJSON_AddArrayToObject(o, "best");
        cJSON_AddItemToArray(best, cJSON_CreateString(ms[r->cols[t->eng][c]].key));
    }
    return o;
}

cJSON *rep_tables_json(const hc_results *r, const rep_table *t, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int ti = 0; ti < n; ti++) {
        const rep_table *tb = &t[ti];
        int nm;
        const hc_report_metric *ms = hc_report_metrics(tb->eng, &nm);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "engine", hc_eng_names[tb->eng]);
        cJSON_AddStringToObject(o, "caption", tb->caption);
        cJSON *cols = cJSON_AddArrayToObject(o, "columns");
        for (int c = 0; c < r->n_cols[tb->eng]; c++) {
            const hc_report_metric *m = &ms[r->cols[tb->eng][c]];
            cJSON *col = cJSON_CreateObject();
            cJSON_AddStringToObject(col, "key", m->key);
            cJSON_AddStringToObject(col, "header", m->header);
            cJSON_AddStringToObject(col, "direction", direction(m->dir));
            cJSON_AddItemToArray(cols, col);
        }
        cJSON *rows = cJSON_AddArrayToObject(o, "rows");
        int with_std = tb->eng == HC_ENG_LIVE && r->live.n_seeds > 1;
        for (int i = 0; i < tb->n_rows; i++) cJSON_AddItemToArray(rows, row_json(r, tb, i, with_std));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* ---- table.md and table.tex ----------------------------------------------------------------- */

static const char *arrow_md(int dir) { return dir > 0 ? " ↑" : dir < 0 ? " ↓" : ""; }
static const char *arrow_tex(int dir) { return dir > 0 ? " $\\uparrow$" : dir < 0 ? " $\\downarrow$" : ""; }

static void md_escape(sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') sb_printf(b, "\\|");
        else sb_printf(b, "%c", *s);
    }
}

static void tex_escape(sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (strncmp(s, "σ", strlen("σ")) == 0) {
            sb_printf(b, "$\\sigma$");
            s += strlen("σ") - 1;
        } else if (strncmp(s, "×", strlen("×")) == 0) {
            sb_printf(b, "$\\times$");
            s += strlen("×") - 1;
        } else if (strncmp(s, "±", strlen("±")) == 0) {
            sb_printf(b, "$\\pm$");
            s += strlen("±") - 1;
        } else if (strncmp(s, "▲", strlen("▲")) == 0 || strncmp(s, "▼", strlen("▼")) == 0) {
            sb_printf(b, "$\\blacktriangle%s$", strncmp(s, "▼", strlen("▼")) == 0 ? "down" : "");
            s += strlen("▲") - 1;
        } else if (strncmp(s, "—", strlen("—")) == 0) {
            sb_printf(b, "--");
            s += strlen("—") - 1;
        } else if (strchr("&%$#_{}", *s)) {
            sb_printf(b, "\\%c", *s);
        } else if (*s == '~' || *s == '^' || *s == '\\') {
            sb_printf(b, "\\textascii%s{}", *s == '~' ? "tilde" : *s == '^' ? "circum" : "");
        } else {
            sb_printf(b, "%c", *s);
        }
    }
}

void rep_write_md(sbuf *b, const hc_results *r, const rep_table *t, int n)
{
    sb_printf(b, "# %s\n\n", r->name);
    if (r->description[0]) sb_printf(b, "%s\n\n", r->description);
    for (int ti = 0; ti < n; ti++) {
        const rep_table *tb = &t[ti];
        int nm, nc = r->n_cols[tb->eng];
        const int *cols = r->cols[tb->eng];
        const hc_report_metric *ms = hc_report_metrics(tb->eng, &nm);
        sb_printf(b, "## %s\n\n", hc_eng_names[tb->eng]);
        sb_printf(b, "| Method |");
        for (int c = 0; c < nc; c++) sb_printf(b, " %s%s |", ms[cols[c]].header, arrow_md(ms[cols[c]].dir));
        sb_printf(b, "\n|:---|");
        for (int c = 0; c < nc; c++) sb_printf(b, "---:|");
        sb_printf(b, "\n");
        for (int i = 0; i < tb->n_rows; i++) {
            sb_printf(b, "| ");
            md_escape(b, r->rows[tb->rows[i]].label);
            sb_printf(b, " |");
            for (int c = 0; c < nc; c++) {
                int bold = tb->best[i][c];
                const rep_stats *st = &tb->stats[i];
                sb_printf(b, " %s%s%s", bold ? "**" : "", st->text[cols[c]], bold ? "**" : "");
                if (st->hw[cols[c]][0]) sb_printf(b, " ± %s", st->hw[cols[c]]);
                if (st->ci[cols[c]].mark) sb_printf(b, " %s", st->ci[cols[c]].mark > 0 ? "▲" : "▼");
                sb_printf(b, " |");
            }
            sb_printf(b, "\n");
        }
        sb_printf(b, "\n%s\n\n", tb->caption);
    }
    sb_printf(b, "Best value per column in bold (full compute excluded); ↑ higher is better, ↓ lower is better.\n");
    for (int ti = 0; ti < n; ti++) {
        char legend[1024];
        rep_interval_legend(r, &t[ti], legend, sizeof legend);
        if (legend[0]) sb_printf(b, "%s.\n", legend);
    }
    sb_printf(b, "<!-- hicache %s, commit %s; summary.json holds the provenance and every cell -->\n", hc_version(),
              hc_git_commit());
}

void rep_write_tex(sbuf *b, const hc_results *r, const rep_table *t, int n)
{
    sb_printf(b, "%% %s: generated by hicache %s (commit %s); needs \\usepackage{booktabs}\n", r->name, hc_version(),
              hc_git_commit());
    int marks = 0;
    for (int ti = 0; ti < n; ti++)
        for (int i = 0; i < t[ti].n_rows; i++)
            for (int m = 0; m < HC_REPORT_MAX_METRICS; m++) marks |= t[ti].stats[i].hw[m][0] || t[ti].stats[i].ci[m].mark;
    if (marks) sb_printf(b, "%% intervals ($\\pm$) and marks ($\\blacktriangle$, $\\blacktriangledown$) need \\usepackage{amssymb}\n");
    for (int ti = 0; ti < n; ti++) {
        const rep_table *tb = &t[ti];
        int nm, nc = r->n_cols[tb->eng];
        const int *cols = r->cols[tb->eng];
        const hc_report_metric *ms = hc_report_metrics(tb->eng, &nm);
        sb_printf(b, "\\begin{table}[t]\n\\centering\n\\caption{");
        tex_escape(b, tb->caption);
        sb_printf(b, "}\n\\label{tab:%s-%s}\n\\begin{tabular}{l", r->name, hc_eng_names[tb->eng]);
        for (int c = 0; c < nc; c++) sb_printf(b, "r");
        sb_printf(b, "}\n\\toprule\nMethod");
        for (int c = 0; c < nc; c++) sb_printf(b, " & %s%s", ms[cols[c]].tex, arrow_tex(ms[cols[c]].dir));
        sb_printf(b, " \\\\\n\\midrule\n");
        int prev_ref = 0;
        for (int i = 0; i < tb->n_rows; i++) {
            const hc_res_row *w = &r->rows[tb->rows[i]];
            if (prev_ref && !w->is_ref) sb_printf(b, "\\midrule\n");
            prev_ref = w->is_ref;
            tex_escape(b, w->label);
            for (int c = 0; c < nc; c++) {
                int bold = tb->best[i][c];
                const rep_stats *st = &tb->stats[i];
                sb_printf(b, " & %s", bold ? "\\textbf{" : "");
                tex_escape(b, st->text[cols[c]]);
                sb_printf(b, "%s", bold ? "}" : "");
                if (st->hw[cols[c]][0]) {
                    sb_printf(b, " $\\pm$ ");
                    tex_escape(b, st->hw[cols[c]]);
                }
                if (st->ci[cols[c]].mark) sb_printf(b, "~$%s$", st->ci[cols[c]].mark > 0 ? "\\blacktriangle" : "\\blacktriangledown");
            }
            sb_printf(b, " \\\\\n");
        }
        sb_printf(b, "\\bottomrule\n\\end{tabular}\n");
        char legend[1024];
        rep_interval_legend(r, tb, legend, sizeof legend);
        if (legend[0]) {
            sb_printf(b, "\\par\\footnotesize ");
            tex_escape(b, legend);
            sb_printf(b, ".\n");
        }
        sb_printf(b, "\\end{table}\n\n");
    }
}

/* ---- results.csv ----------------------------------------------------------------------------- */

/* After cell i's metrics: for each metric with per-sample values, its
 * interval over the cell's units and its difference to the baseline row's
 * cell of the same seed (METRIC_lo, METRIC_hi, delta_METRIC,
 * delta_METRIC_lo, delta_METRIC_hi; empty: not defined). */
static void cell_intervals_csv(FILE *fp, const hc_results *r, int i)
{
    const hc_res_cell *c = &r->cells[i];
    const hc_res_row *w = &r->rows[c->row];
    int base = r->baseline_row[c->eng] - 1;
    if (c->row == base) base = -1;
    for (int k = 0; k < c->samples.n_keys; k++) {
        const char *key = c->samples.keys[k];
        if (!rep_has_interval(c->eng, key)) continue;
        rep_ci ci;
        rep_cells_ci(r, &i, 1, base, key, &ci);
        const double v[5] = {ci.lo, ci.hi, ci.delta, ci.dlo, ci.dhi};
        static const char *const fmt[5] = {"%s_lo", "%s_hi", "delta_%s", "delta_%s_lo", "delta_%s_hi"};
        for (int j = 0; j < 5; j++) {
            char name[64];
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
            snprintf(name, sizeof name, fmt[j], key);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
            fprintf(fp, "%s,%s,", c->id, hc_eng_names[c->eng]);
            hc_csv_field(fp, w->spec);
            fputc(',', fp);
            hc_csv_field(fp, w->label);
            if (c->eng == HC_ENG_LIVE) fprintf(fp, ",%lu,%s", c->seed, name);
            else fprintf(fp, ",,%s", name);
            if (isfinite(v[j])) fprintf(fp, ",%.9g\n", v[j]);
            else fprintf(fp, ",\n");
        }
    }
}

hc_status rep_write_results_csv(const hc_results *r, hc_outset *set, const char *path)
{
    hc_outfile *f;
    HC_TRY(hc_outfile_open_in(set, path, &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "cell,engine,method,label,seed,metric,value\n");
    for (int i = 0; i < r->n_cells; i++) {
        const hc_res_cell *c = &r->cells[i];
        const hc_res_row *w = &r->rows[c->row];
        for (int k = 0; k < c->n_metrics; k++) {
            const hc_res_metric *m = &c->metrics[k];
            fprintf(fp, "%s,%s,", c->id, hc_eng_names[c->eng]);
            hc_csv_field(fp, w->spec);
            fputc(',', fp);
            hc_csv_field(fp, w->label);
            if (c->eng == HC_ENG_LIVE) fprintf(fp, ",%lu,", c->seed);
            else fprintf(fp, ",,");
            hc_csv_field(fp, m->key);
            if (!isnan(m->value)) fprintf(fp, ",%.9g\n", m->value);
            else fprintf(fp, ",\n");
        }
        cell_intervals_csv(fp, r, i);
    }
    return hc_outfile_commit(f);
}
