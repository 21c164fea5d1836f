/* exp_report.c: the outputs of `hicache run` after the cells: results.csv,
 * summary.json, table.md, table.tex and the gnuplot figures.  Every number
 * in the tables comes from the tables' "text" in summary.json, formatted
 * once by hc_experiment_format. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_internal.h"
#include "outfile.h"
#include "plot.h"
#include "provenance.h"
#include "replay.h"

/* ---- small helpers -------------------------------------------------------------------- */

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A label safe inside a gnuplot string. */
static void plain(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++) out[k++] = (*s == '"' || *s == '\\') ? '\'' : *s;
    out[k] = 0;
}

/* A label as an unquoted CSV field (gnuplot reads the figure CSVs): commas become ';'. */
static void csv_plain(FILE *f, const char *s)
{
    for (; *s; s++) fputc(*s == ',' ? ';' : *s, f);
}

static const char *series_name(const hc_experiment *e, const exp_row *r)
{
    return r->entry >= 0 ? e->entries[r->entry].name : "Full compute";
}

/* ---- rows: mean over seeds ------------------------------------------------------------------ */

static cJSON *row_table_entry(const hc_experiment *e, const exp_row *r, int with_std)
{
    cJSON *o = cJSON_CreateObject();
    char desc[512];
    hc_method_describe(&r->method, desc, sizeof desc);
    cJSON_AddStringToObject(o, "label", r->label);
    cJSON_AddStringToObject(o, "spec", r->spec);
    cJSON_AddStringToObject(o, "resolved", desc);
    cJSON_AddStringToObject(o, "series", series_name(e, r));
    if (r->eng == HC_ENG_LIVE) cJSON_AddNumberToObject(o, "steps", r->steps);
    cJSON_AddBoolToObject(o, "reference", r->is_ref);
    cJSON_AddItemToObject(o, "grid", cJSON_Duplicate(r->grid, 1));
    cJSON *ids = cJSON_AddArrayToObject(o, "cells");
    for (int k = 0; k < r->n_cells; k++) cJSON_AddItemToArray(ids, cJSON_CreateString(e->cells[r->cells[k]].id));
    cJSON *vals = cJSON_AddObjectToObject(o, "values");
    cJSON *sds = with_std ? cJSON_AddObjectToObject(o, "std") : NULL;
    cJSON *text = cJSON_AddObjectToObject(o, "text");
    int nm;
    const exp_metric *ms = exp_metrics(r->eng, &nm);
    for (int i = 0; i < nm; i++) {
        double sum = 0, sq = 0;
        int n = 0;
        for (int k = 0; k < r->n_cells; k++) {
            const cJSON *mt = cJSON_GetObjectItemCaseSensitive(e->cells[r->cells[k]].doc, "metrics");
            double v = jnum(mt, ms[i].key);
            if (isfinite(v)) {
                sum += v;
                sq += v * v;
                n++;
            }
        }
        cJSON *v = n ? cJSON_CreateNumber(sum / n) : cJSON_CreateNull();
        cJSON_AddItemToObject(vals, ms[i].key, v);
        if (sds) {
            double mu = n ? sum / n : 0, var = n > 1 ? (sq - n * mu * mu) / (n - 1) : NAN;
            if (n > 1) cJSON_AddNumberToObject(sds, ms[i].key, sqrt(fmax(var, 0)));
            else cJSON_AddNullToObject(sds, ms[i].key);
        }
        char buf[64];
        hc_experiment_format(hc_eng_names[r->eng], ms[i].key, v, buf, sizeof buf);
        cJSON_AddStringToObject(text, ms[i].key, buf);
    }
    return o;
}

static cJSON *build_table(const hc_experiment *e, hc_eng eng)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "engine", hc_eng_names[eng]);
    char cap[2048];
    if (eng == HC_ENG_LIVE) {
        char seeds[256] = "";
        for (int i = 0; i < e->n_seeds; i++) {
            size_t l = strlen(seeds);
            snprintf(seeds + l, sizeof seeds - l, "%s%lu", i ? ", " : "", e->seeds[i]);
        }
        snprintf(cap, sizeof cap,
                 "Live sampling with %s: %d images, %d steps, guidance %g, seed%s %s%s. rel-L2, PSNR and SSIM "
                 "against full compute at %d steps with the same noise and labels; speedups relative to it; "
                 "latency = wall-clock seconds for all %d images.",
                 e->model, e->n, e->steps, e->guidance, e->n_seeds > 1 ? "s" : "", seeds,
                 e->n_seeds > 1 ? " (mean over seeds)" : "", e->steps, e->n);
    } else {
        snprintf(cap, sizeof cap,
                 "Open-loop replay on %d trajector%s (modules %s): forecast error per module and cached step "
                 "against the recorded truth; FLOPs speedup from the analytic MAC model of the recording's model "
                 "where the files name it, else steps / full steps (summary.json: flops_model).",
                 e->n_files, e->n_files == 1 ? "y" : "ies", e->modules[0] ? e->modules : "*");
    }
    cJSON_AddStringToObject(t, "caption", cap);
    cJSON *cols = cJSON_AddArrayToObject(t, "columns");
    int nm;
    const exp_metric *ms = exp_metrics(eng, &nm);
    for (int c = 0; c < e->n_cols[eng]; c++) {
        const exp_metric *m = &ms[e->cols[eng][c]];
        cJSON *col = cJSON_CreateObject();
        cJSON_AddStringToObject(col, "key", m->key);
        cJSON_AddStringToObject(col, "header", m->header);
        cJSON_AddStringToObject(col, "direction", m->dir > 0 ? "higher" : m->dir < 0 ? "lower" : "none");
        cJSON_AddItemToArray(cols, col);
    }
    cJSON *rows = cJSON_AddArrayToObject(t, "rows");
    for (int r = 0; r < e->n_rows; r++)
        if (e->rows[r].eng == eng) cJSON_AddItemToArray(rows, row_table_entry(e, &e->rows[r], eng == HC_ENG_LIVE && e->n_seeds > 1));
    /* best per column among the non-reference rows, by value; ties by shown text */
    for (int c = 0; c < e->n_cols[eng]; c++) {
        const exp_metric *m = &ms[e->cols[eng][c]];
        if (!m->dir) continue;
        cJSON *row;
        const cJSON *best = NULL;
        int cand = 0;
        cJSON_ArrayForEach(row, rows)
        {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "reference"))) continue;
            double v = jnum(cJSON_GetObjectItemCaseSensitive(row, "values"), m->key);
            if (!isfinite(v)) continue;
            cand++;
            double b = best ? jnum(cJSON_GetObjectItemCaseSensitive(best, "values"), m->key) : 0;
            if (!best || (m->dir > 0 ? v > b : v < b)) best = row;
        }
        if (cand < 2) continue;
        const char *bt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(best, "text"), m->key));
        cJSON_ArrayForEach(row, rows)
        {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "reference"))) continue;
            const char *tx = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(row, "text"), m->key));
            if (!tx || !bt || strcmp(tx, bt) != 0) continue;
            cJSON *bl = cJSON_GetObjectItemCaseSensitive(row, "best");
            if (!bl) bl = cJSON_AddArrayToObject(row, "best");
            cJSON_AddItemToArray(bl, cJSON_CreateString(m->key));
        }
    }
    return t;
}

static int is_best(const cJSON *row, const char *key)
{
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(row, "best"))
        if (strcmp(b->valuestring, key) == 0) return 1;
    return 0;
}

static const char *arrow_md(const char *dir)
{
    return strcmp(dir, "higher") == 0 ? " ↑" : strcmp(dir, "lower") == 0 ? " ↓" : "";
}

static const char *arrow_tex(const char *dir)
{
    return strcmp(dir, "higher") == 0 ? " $\\uparrow$" : strcmp(dir, "lower") == 0 ? " $\\downarrow$" : "";
}

/* ---- text buffers ------------------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)k;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

static hc_status sb_write(sbuf *b, const char *path)
{
    hc_status s = b->oom ? hc_fail(HC_ENOMEM, "out of memory") : hc_write_text(path, b->p ? b->p : "");
    free(b->p);
    memset(b, 0, sizeof *b);
    return s;
}

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

static const char *row_text(const cJSON *row, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(row, "text"), key));
    return s ? s : "—";
}

static void write_md(sbuf *b, const cJSON *tables, const hc_experiment *e)
{
    sb_printf(b, "# %s\n\n", e->name);
    if (e->description[0]) sb_printf(b, "%s\n\n", e->description);
    const cJSON *t;
    cJSON_ArrayForEach(t, tables)
    {
        const cJSON *cols = cJSON_GetObjectItemCaseSensitive(t, "columns"), *c, *row;
        sb_printf(b, "## %s\n\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "engine")));
        sb_printf(b, "| Method |");
        cJSON_ArrayForEach(c, cols)
        sb_printf(b, " %s%s |", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "header")),
                  arrow_md(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "direction"))));
        sb_printf(b, "\n|:---|");
        cJSON_ArrayForEach(c, cols) sb_printf(b, "---:|");
        sb_printf(b, "\n");
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(t, "rows"))
        {
            sb_printf(b, "| ");
            md_escape(b, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "label")));
            sb_printf(b, " |");
            cJSON_ArrayForEach(c, cols)
            {
                const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "key"));
                int bold = is_best(row, k);
                sb_printf(b, " %s%s%s |", bold ? "**" : "", row_text(row, k), bold ? "**" : "");
            }
            sb_printf(b, "\n");
        }
        sb_printf(b, "\n%s\n\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "caption")));
    }
    sb_printf(b, "Best value per column in bold (full compute excluded); ↑ higher is better, ↓ lower is better.\n");
    sb_printf(b, "<!-- hicache %s, commit %s; summary.json holds the provenance and every cell -->\n", hc_version(),
              hc_git_commit());
}

static void write_tex(sbuf *b, const cJSON *tables, const hc_experiment *e)
{
    sb_printf(b, "%% %s: generated by hicache %s (commit %s); needs \\usepackage{booktabs}\n", e->name, hc_version(),
              hc_git_commit());
    const cJSON *t;
    cJSON_ArrayForEach(t, tables)
    {
        const cJSON *cols = cJSON_GetObjectItemCaseSensitive(t, "columns"), *c, *row;
        int nm;
        hc_eng eng = strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "engine")), "live") == 0 ? HC_ENG_LIVE : HC_ENG_REPLAY;
        const exp_metric *ms = exp_metrics(eng, &nm);
        sb_printf(b, "\\begin{table}[t]\n\\centering\n\\caption{");
        tex_escape(b, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "caption")));
        sb_printf(b, "}\n\\label{tab:%s-%s}\n\\begin{tabular}{l", e->name, hc_eng_names[eng]);
        cJSON_ArrayForEach(c, cols) sb_printf(b, "r");
        sb_printf(b, "}\n\\toprule\nMethod");
        cJSON_ArrayForEach(c, cols)
        {
            const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "key"));
            const char *tex = k;
            for (int i = 0; i < nm; i++)
                if (strcmp(ms[i].key, k) == 0) tex = ms[i].tex;
            sb_printf(b, " & %s%s", tex, arrow_tex(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "direction"))));
        }
        sb_printf(b, " \\\\\n\\midrule\n");
        int prev_ref = 0;
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(t, "rows"))
        {
            int ref = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "reference"));
            if (prev_ref && !ref) sb_printf(b, "\\midrule\n");
            prev_ref = ref;
            tex_escape(b, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "label")));
            cJSON_ArrayForEach(c, cols)
            {
                const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "key"));
                int bold = is_best(row, k);
                sb_printf(b, " & %s", bold ? "\\textbf{" : "");
                tex_escape(b, row_text(row, k));
                sb_printf(b, "%s", bold ? "}" : "");
            }
            sb_printf(b, " \\\\\n");
        }
        sb_printf(b, "\\bottomrule\n\\end{tabular}\n\\end{table}\n\n");
    }
}

/* ---- results.csv ---------------------------------------------------------------------------------- */

static hc_status write_results(const hc_experiment *e, const char *path)
{
    hc_outfile *f;
    HC_TRY(hc_outfile_open(path, &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "cell,engine,method,label,seed,metric,value\n");
    for (int i = 0; i < e->n_cells; i++) {
        const exp_cell *c = &e->cells[i];
        const exp_row *r = &e->rows[c->row];
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(c->doc, "metrics"), *m;
        cJSON_ArrayForEach(m, mt)
        {
            if (!cJSON_IsNumber(m) && !cJSON_IsNull(m)) continue;
            fprintf(fp, "%s,%s,", c->id, hc_eng_names[c->eng]);
            hc_csv_field(fp, r->spec);
            fputc(',', fp);
            hc_csv_field(fp, r->label);
            if (c->eng == HC_ENG_LIVE) fprintf(fp, ",%lu,", c->seed);
            else fprintf(fp, ",,");
            hc_csv_field(fp, m->string);
            if (cJSON_IsNumber(m)) fprintf(fp, ",%.9g\n", m->valuedouble);
            else fprintf(fp, ",\n");
        }
    }
    return hc_outfile_commit(f);
}

/* ---- figures -------------------------------------------------------------------------------------------- */

typedef struct pt {
    double x, y;
    int series;
    char label[160];
} pt;

static int cmp_pt(const void *a, const void *b)
{
    const pt *p = a, *q = b;
    if (p->series != q->series) return p->series < q->series ? -1 : 1;
    return (p->x > q->x) - (p->x < q->x);
}

static const char *axis_label(hc_eng eng, const char *key, char *buf, size_t n)
{
    const exp_metric *m = exp_metric_find(eng, key);
    if (!m) {
        snprintf(buf, n, "%s", strcmp(key, "sigma") == 0 ? "σ" : key);
        return buf;
    }
    snprintf(buf, n, "%s%s", m->header, m->dir > 0 ? " (higher is better)" : m->dir < 0 ? " (lower is better)" : "");
    return buf;
}

typedef struct figctx {
    const hc_experiment *e;
    const char *dir;
    int render, gnuplot, quiet, warned;
    cJSON *list;
    hc_experiment_report *rep;
} figctx;

/* Write BASE.csv (blocks of points per series, separated by two blank
 * lines; gnuplot `index i`) and BASE.gp, render, record. */
static hc_status emit_figure(figctx *fx, const exp_figure *f, const char *base, pt *p, int np, char names[][128],
                             int ns, int consts, const char *title, const char *xl, const char *yl, int pareto)
{
    qsort(p, (size_t)np, sizeof *p, cmp_pt);
    hc_outfile *of;
    HC_TRY(hc_plot_csv_open(fx->dir, base, &of));
    FILE *fp = hc_outfile_fp(of);
    fprintf(fp, "series,label,x,y\n");
    int *count = calloc((size_t)ns + 1, sizeof *count);
    if (!count) {
        hc_outfile_abort(of);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    int blocks = 0;
    double xmin = INFINITY, xmax = -INFINITY;
    for (int i = 0; i < np; i++)
        if (p[i].series < ns - consts) {
            xmin = fmin(xmin, p[i].x);
            xmax = fmax(xmax, p[i].x);
        }
    int *block_of = calloc((size_t)ns + 1, sizeof *block_of);
    if (!block_of) {
        free(count);
        hc_outfile_abort(of);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    for (int s = 0; s < ns; s++) {
        int is_const = s >= ns - consts;
        block_of[s] = -1;
        for (int i = 0; i < np; i++) {
            if (p[i].series != s) continue;
            if (!count[s] && blocks) fprintf(fp, "\n\n");
            if (!count[s]) block_of[s] = blocks++;
            int reps = is_const && isfinite(xmin) ? 2 : 1; /* a baseline without the key: a horizontal line */
            for (int k = 0; k < reps; k++) {
                csv_plain(fp, names[s]);
                fputc(',', fp);
                csv_plain(fp, p[i].label);
                fprintf(fp, ",%.9g,%.9g\n", reps == 2 ? (k ? xmax : xmin) : p[i].x, p[i].y);
            }
            count[s] += reps;
            if (reps == 2) break;
        }
    }
    int front_block = -1;
    if (pareto && np) {
        /* non-dominated points: larger x and better y (direction of y) */
        const exp_metric *ym = exp_metric_find(f->eng, f->y);
        int dir = ym && ym->dir ? ym->dir : 1;
        pt *q = malloc((size_t)np * sizeof *q);
        if (!q) {
            free(count);
            free(block_of);
            hc_outfile_abort(of);
            return hc_fail(HC_ENOMEM, "out of memory");
        }
        int nq = 0;
        for (int i = 0; i < np; i++) {
            int dom = 0;
            for (int j = 0; j < np && !dom; j++) {
                if (j == i) continue;
                double dy = dir * (p[j].y - p[i].y);
                dom = p[j].x >= p[i].x && dy >= 0 && (p[j].x > p[i].x || dy > 0);
            }
            if (!dom) q[nq++] = p[i];
        }
        for (int i = 0; i < nq; i++) q[i].series = 0;
        qsort(q, (size_t)nq, sizeof *q, cmp_pt);
        if (blocks) fprintf(fp, "\n\n");
        front_block = blocks++;
        for (int i = 0; i < nq; i++) {
            fprintf(fp, "Pareto front,");
            csv_plain(fp, q[i].label);
            fprintf(fp, ",%.9g,%.9g\n", q[i].x, q[i].y);
        }
        free(q);
    }
    hc_status s = hc_outfile_commit(of);
    /* script */
    sbuf b = {0};
    sb_printf(&b, "# experiment %s, figure %s: hicache %s, commit %s\n", fx->e->name, base, hc_version(), hc_git_commit());
    sb_printf(&b, "set title \"%s\" noenhanced\nset xlabel \"%s\" noenhanced\nset ylabel \"%s\" noenhanced\n", title, xl, yl);
    sb_printf(&b, "set key outside right top noenhanced\nset grid\n%s%s", f->logx ? "set logscale x\n" : "",
              f->logy ? "set logscale y\n" : "");
    sb_printf(&b, "plot");
    int first = 1;
    for (int sr = 0; sr < ns; sr++) {
        if (block_of[sr] < 0) continue;
        int is_const = sr >= ns - consts;
        const char *style = is_const ? "lines dt 2 lw 2" : count[sr] > 1 ? "linespoints pt 7 ps 1 lw 2" : "points pt 7 ps 1.5";
        sb_printf(&b, "%s \"%s.csv\" index %d using 3:4 with %s title \"%s\"", first ? "" : ", \\\n    ", base,
                  block_of[sr], style, names[sr]);
        first = 0;
    }
    if (front_block >= 0)
        sb_printf(&b, "%s \"%s.csv\" index %d using 3:4 with lines lw 3 lc \"black\" dt 3 title \"Pareto front\"",
                  first ? "" : ", \\\n    ", base, front_block), first = 0;
    if (first) sb_printf(&b, " NaN title \"no data\"");
    sb_printf(&b, "\n");
    free(count);
    free(block_of);
    if (s == HC_OK) s = b.oom ? hc_fail(HC_ENOMEM, "out of memory") : hc_plot_write_script(fx->dir, base, HC_PLOT_DEFAULT_SIZE, b.p);
    free(b.p);
    if (s != HC_OK) return s;
    fx->rep->figures++;
    int rendered = 0;
    if (fx->render && fx->gnuplot && np) {
        HC_TRY(hc_plot_render(fx->dir, base));
        rendered = 1;
        fx->rep->rendered++;
    } else if (fx->render && !fx->gnuplot && !fx->warned && !fx->quiet) {
        fprintf(stderr, "run: warning: gnuplot not on PATH: figures are .csv + .gp only (render with `gnuplot NAME.gp`)\n");
        fx->warned = 1;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", base);
    cJSON_AddStringToObject(o, "type", exp_fig_type_names[f->type]);
    cJSON_AddNumberToObject(o, "points", np);
    cJSON_AddBoolToObject(o, "rendered", rendered);
    cJSON *fl = cJSON_AddArrayToObject(o, "files");
    static const char *const ext[] = {"csv", "gp", "png", "pdf"};
    for (int k = 0; k < (rendered ? 4 : 2); k++) {
        char nm[256];
        snprintf(nm, sizeof nm, "figures/%s.%s", base, ext[k]);
        cJSON_AddItemToArray(fl, cJSON_CreateString(nm));
    }
    cJSON_AddItemToArray(fx->list, o);
    return HC_OK;
}

/* Series index of a row (entry order; the implicit reference first). */
static int series_of(const exp_row *r, const exp_figure *f)
{
    if (!f->by_entry) return 0;
    return r->entry < 0 ? 0 : r->entry + 1;
}

static void series_names(const hc_experiment *e, const exp_figure *f, char names[][128], int *ns)
{
    if (!f->by_entry) {
        snprintf(names[0], 128, "%s", exp_fig_type_names[f->type]);
        *ns = 1;
        return;
    }
    snprintf(names[0], 128, "Full compute");
    for (int i = 0; i < e->n_entries; i++) plain(e->entries[i].name, names[i + 1], 128);
    *ns = e->n_entries + 1;
}

static hc_status figure_points(figctx *fx, const exp_figure *f)
{
    const hc_experiment *e = fx->e;
    int cap = e->n_rows + 1, ns;
    pt *p = calloc((size_t)cap, sizeof *p);
    char (*names)[128] = calloc((size_t)e->n_entries + 2, sizeof *names);
    int *remap = calloc((size_t)e->n_entries + 2, sizeof *remap);
    if (!p || !names || !remap) {
        free(p);
        free(names);
        free(remap);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    series_names(e, f, names, &ns);
    /* line figures: entries without a grid over x are horizontal baselines */
    int *is_const = calloc((size_t)ns, sizeof *is_const);
    int np = 0;
    for (int r = 0; r < e->n_rows && is_const; r++) {
        const exp_row *w = &e->rows[r];
        if (w->eng != f->eng) continue;
        double x, y = NAN;
        const cJSON *row = NULL;
        cJSON *tmp = row_table_entry(e, w, 0);
        row = cJSON_GetObjectItemCaseSensitive(tmp, "values");
        y = jnum(row, f->y);
        int sr = series_of(w, f);
        if (f->type == FIG_LINE) {
            int varies = cJSON_GetObjectItemCaseSensitive(w->grid, f->x) != NULL ||
                         (strcmp(f->x, "steps") == 0 && w->steps != e->steps);
            exp_row_key(w, f->x, &x);
            if (!varies && f->by_entry) is_const[sr] = 1;
        } else {
            x = jnum(row, f->x);
        }
        cJSON_Delete(tmp);
        if (!isfinite(x) || !isfinite(y) || (f->logy && y <= 0) || (f->logx && x <= 0)) continue;
        p[np].x = x;
        p[np].y = y;
        p[np].series = sr;
        plain(w->label, p[np].label, sizeof p[np].label);
        np++;
    }
    if (!is_const) {
        free(p);
        free(names);
        free(remap);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    /* order series: varying ones first, constants last (emit_figure takes the last `consts` as baselines) */
    int k = 0, consts = 0;
    char (*ord)[128] = calloc((size_t)ns + 1, sizeof *ord);
    if (!ord) {
        free(p), free(names), free(remap), free(is_const);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    for (int pass = 0; pass < 2; pass++)
        for (int sr = 0; sr < ns; sr++)
            if (is_const[sr] == pass) {
                remap[sr] = k;
                snprintf(ord[k++], 128, "%s", names[sr]);
                consts += pass;
            }
    for (int i = 0; i < np; i++) p[i].series = remap[p[i].series];
    char title[512], xl[128], yl[128];
    if (f->title[0]) snprintf(title, sizeof title, "%s", f->title);
    else snprintf(title, sizeof title, "%s: %s vs %s (%s)", e->name, f->y, f->x, hc_eng_names[f->eng]);
    axis_label(f->eng, f->x, xl, sizeof xl);
    axis_label(f->eng, f->y, yl, sizeof yl);
    hc_status s = emit_figure(fx, f, f->name, p, np, ord, ns, consts, title, xl, yl, f->type == FIG_PARETO);
    free(p);
    free(names);
    free(remap);
    free(is_const);
    free(ord);
    return s;
}

/* Replay curves: error against step or horizon, one series per row (method),
 * over all modules and, with by_kind, per module kind. */
static hc_status figure_curves(figctx *fx, const exp_figure *f)
{
    const hc_experiment *e = fx->e;
    /* the kinds present in any cell */
    char kinds[64][96];
    int nk = 0;
    snprintf(kinds[nk++], 96, "all");
    for (int c = 0; c < e->n_cells && f->by_kind; c++) {
        const cJSON *ax = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e->cells[c].doc, "curves"), f->x), *kd;
        cJSON_ArrayForEach(kd, ax)
        {
            int seen = 0;
            for (int i = 0; i < nk; i++) seen |= strcmp(kinds[i], kd->string) == 0;
            if (!seen && nk < 64) snprintf(kinds[nk++], 96, "%s", kd->string);
        }
    }
    for (int ki = 0; ki < nk; ki++) {
        pt *p = NULL;
        int np = 0, npcap = 0, ns = 0;
        char (*names)[128] = calloc((size_t)e->n_rows + 1, sizeof *names);
        if (!names) return hc_fail(HC_ENOMEM, "out of memory");
        for (int r = 0; r < e->n_rows; r++) {
            const exp_row *w = &e->rows[r];
            if (w->eng != HC_ENG_REPLAY || w->is_ref) continue;
            const cJSON *cell = e->cells[w->cells[0]].doc;
            const cJSON *cv = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cell, "curves"), f->x), kinds[ki]);
            const cJSON *xs = cJSON_GetObjectItemCaseSensitive(cv, "x"), *ys = cJSON_GetObjectItemCaseSensitive(cv, f->y);
            int n = cJSON_GetArraySize(xs);
            if (!n || cJSON_GetArraySize(ys) != n) continue;
            plain(w->label, names[ns], 128);
            for (int i = 0; i < n; i++) {
                double x = cJSON_GetArrayItem(xs, i)->valuedouble, y = cJSON_GetArrayItem(ys, i)->valuedouble;
                if (!isfinite(y) || (f->logy && y <= 0)) continue;
                if (np == npcap) {
                    npcap = npcap ? 2 * npcap : 256;
                    pt *nq = realloc(p, (size_t)npcap * sizeof *p);
                    if (!nq) {
                        free(p);
                        free(names);
                        return hc_fail(HC_ENOMEM, "out of memory");
                    }
                    p = nq;
                }
                p[np] = (pt){x, y, ns, ""};
                plain(w->label, p[np].label, sizeof p[np].label);
                np++;
            }
            ns++;
        }
        char base[200], title[512], xl[64], yl[64];
        if (ki == 0) snprintf(base, sizeof base, "%s", f->name);
        else {
            snprintf(base, sizeof base, "%s-%.95s", f->name, kinds[ki]);
            for (char *c = base; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) *c = '_';
        }
        if (f->title[0]) snprintf(title, sizeof title, "%s (%.95s modules)", f->title, kinds[ki]);
        else snprintf(title, sizeof title, "%s: open-loop %s vs %s (%.95s modules)", e->name, f->y, f->x, kinds[ki]);
        snprintf(xl, sizeof xl, "%s", strcmp(f->x, "step") == 0 ? "sampling step" : "horizon (steps since the last full step)");
        snprintf(yl, sizeof yl, "mean %s", f->y);
        hc_status s = emit_figure(fx, f, base, p, np, names, ns, 0, title, xl, yl, 0);
        free(p);
        free(names);
        HC_TRY(s);
    }
    return HC_OK;
}

/* ---- all outputs -------------------------------------------------------------------------------------- */

hc_status exp_write_outputs(const hc_experiment *e, const char *dir, int render, int quiet, hc_experiment_report *rep)
{
    char path[1200];
    HC_TRY(hc_path_join(path, sizeof path, dir, "results.csv"));
    HC_TRY(write_results(e, path));

    cJSON *tables = cJSON_CreateArray();
    for (int g = 0; g < HC_N_ENG; g++)
        if (e->eng_mask & (1u << g)) cJSON_AddItemToArray(tables, build_table(e, (hc_eng)g));

    char fig_dir[1100];
    hc_status s = hc_path_join(fig_dir, sizeof fig_dir, dir, "figures");
    figctx fx = {e, fig_dir, render, 0, quiet, 0, cJSON_CreateArray(), rep};
    if (s == HC_OK && e->n_figs) {
        s = hc_mkdir_p(fig_dir);
        fx.gnuplot = render && hc_plot_gnuplot_available();
    }
    for (int i = 0; i < e->n_figs && s == HC_OK; i++)
        s = e->figs[i].type == FIG_CURVE ? figure_curves(&fx, &e->figs[i]) : figure_points(&fx, &e->figs[i]);

    cJSON *doc = cJSON_CreateObject();
    cJSON *prov = hc_provenance_json();
    cJSON *cfg = cJSON_AddObjectToObject(prov, "config");
    cJSON_AddStringToObject(cfg, "command", "run");
    cJSON_AddStringToObject(cfg, "config_path", e->origin);
    cJSON_AddItemToObject(cfg, "config", cJSON_Duplicate(e->config, 1));
    cJSON_AddItemToObject(cfg, "resolved", exp_resolved_json(e));
    cJSON_AddItemToObject(doc, "provenance", prov);
    cJSON_AddStringToObject(doc, "name", e->name);
    cJSON_AddStringToObject(doc, "description", e->description);
    if (e->eng_mask & (1u << HC_ENG_LIVE)) {
        cJSON *sd = cJSON_AddArrayToObject(doc, "seeds");
        for (int i = 0; i < e->n_seeds; i++) cJSON_AddItemToArray(sd, cJSON_CreateNumber((double)e->seeds[i]));
    }
    cJSON *cells = cJSON_AddArrayToObject(doc, "cells");
    for (int i = 0; i < e->n_cells; i++) {
        const cJSON *c = e->cells[i].doc;
        cJSON *o = cJSON_CreateObject();
        static const char *const keep[] = {"id", "engine", "spec", "resolved", "label", "seed", "steps", "metrics", "cell_seconds"};
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, keep[k]);
            if (v) cJSON_AddItemToObject(o, keep[k], cJSON_Duplicate(v, 1));
        }
        char f[160];
        snprintf(f, sizeof f, "cells/%s.json", e->cells[i].id);
        cJSON_AddStringToObject(o, "file", f);
        cJSON_AddItemToArray(cells, o);
    }
    cJSON_AddItemToObject(doc, "tables", tables);
    cJSON_AddItemToObject(doc, "figures", fx.list);
    if (s == HC_OK) s = hc_path_join(path, sizeof path, dir, "summary.json");
    if (s == HC_OK) s = hc_write_json(path, doc);
    sbuf b = {0};
    write_md(&b, tables, e);
    if (s == HC_OK) s = hc_path_join(path, sizeof path, dir, "table.md");
    if (s == HC_OK) s = sb_write(&b, path);
    free(b.p);
    memset(&b, 0, sizeof b);
    write_tex(&b, tables, e);
    if (s == HC_OK) s = hc_path_join(path, sizeof path, dir, "table.tex");
    if (s == HC_OK) s = sb_write(&b, path);
    free(b.p);
    cJSON_Delete(doc);
    return s;
}
