/* figures.c: the declared figures of a report (figure_decl.h): scatter,
 * pareto and line figures over the rows' means, curve figures over the
 * replay cells' error curves; each written as BASE.csv + BASE.gp and
 * rendered to BASE.png + BASE.pdf when gnuplot is there (plot.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "plot.h"
#include "provenance.h"
#include "report_internal.h"
#include "stats.h"

typedef struct pt {
    double x, y;
    int series;
    char label[160];
    double ylo, yhi;  /* the 95% interval of y (intervals.c); y itself when none */
} pt;

typedef struct figctx {
    const hc_results *r;
    hc_outset *set; /* every file of every figure */
    const char *dir;
    int render, gnuplot, quiet, warned;
    rep_figs *out;
} figctx;

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

static int cmp_pt(const void *a, const void *b)
{
    const pt *p = a, *q = b;
    if (p->series != q->series) return p->series < q->series ? -1 : 1;
    return (p->x > q->x) - (p->x < q->x);
}

static const char *axis_label(hc_eng eng, const char *key, char *buf, size_t n)
{
    const hc_report_metric *m = hc_report_metric_find(eng, key);
    if (!m) {
        snprintf(buf, n, "%s", strcmp(key, "sigma") == 0 ? "σ" : key);
        return buf;
    }
    snprintf(buf, n, "%s%s", m->header, m->dir > 0 ? " (higher is better)" : m->dir < 0 ? " (lower is better)" : "");
    return buf;
}

static hc_status record(figctx *fx, const hc_fig_decl *f, const char *base, int np, int rendered)
{
    rep_figs *o = fx->out;
    if (o->n == o->cap) {
        int cap = o->cap ? 2 * o->cap : 8;
        rep_fig_out *nl = realloc(o->list, (size_t)cap * sizeof *nl);
        if (!nl) return hc_fail(HC_ENOMEM, "out of memory");
        o->list = nl;
        o->cap = cap;
    }
    rep_fig_out *g = &o->list[o->n++];
    snprintf(g->name, sizeof g->name, "%s", base);
    g->type = f->type;
    g->points = np;
    g->rendered = rendered;
    return HC_OK;
}

/* The non-dominated points of p (larger x and better y, the direction of
 * y's metric) as one block "Pareto front", sorted by x; *nq gets their number. */
static hc_status pareto_front(const hc_fig_decl *f, const pt *p, int np, pt **out, int *nq)
{
    const hc_report_metric *ym = hc_report_metric_find(f->eng, f->y);
    int dir = ym && ym->dir ? ym->dir : 1;
    pt *q = malloc((size_t)np * sizeof *q);
    if (!q) return hc_fail(HC_ENOMEM, "out of memory");
    int n = 0;
    for (int i = 0; i < np; i++) {
        int dom = 0;
        for (int j = 0; j < np && !dom; j++) {
            if (j == i) continue;
            double dy = dir * (p[j].y - p[i].y);
            dom = p[j].x >= p[i].x && dy >= 0 && (p[j].x > p[i].x || dy > 0);
        }
        if (!dom) q[n++] = p[i];
    }
    for (int i = 0; i < n; i++) q[i].series = 0;
    qsort(q, (size_t)n, sizeof *q, cmp_pt);
    *out = q;
    *nq = n;
    return HC_OK;
}

/* Write the points p (sorted by series, then x) to fp as CSV blocks, one
 * per series with points (separated by two blank lines; gnuplot `index i`;
 * columns series,label,x,y,ylo,yhi: ylo and yhi the interval bar),
 * then the Pareto front if any.  The last `consts` series are baselines:
 * their first point becomes a horizontal line over the others' x range.
 * count[sr] gets the rows of series sr, block_of[sr] its block (-1: none);
 * returns the front's block, or -1. */
static int write_points(FILE *fp, const pt *p, int np, char names[][128], int ns, int consts, const pt *front,
                        int nfront, int *count, int *block_of)
{
    fprintf(fp, "series,label,x,y,ylo,yhi\n");
    int blocks = 0;
    double xmin = INFINITY, xmax = -INFINITY;
    for (int i = 0; i < np; i++)
        if (p[i].series < ns - consts) {
            xmin = fmin(xmin, p[i].x);
            xmax = fmax(xmax, p[i].x);
        }
    for (int sr = 0; sr < ns; sr++) {
        int is_const = sr >= ns - consts;
        block_of[sr] = -1;
        for (int i = 0; i < np; i++) {
            if (p[i].series != sr) continue;
            if (!count[sr] && blocks) fprintf(fp, "\n\n");
            if (!count[sr]) block_of[sr] = blocks++;
            int reps = is_const && isfinite(xmin) ? 2 : 1; /* a baseline without the key: a horizontal line */
            for (int k = 0; k < reps; k++) {
                csv_plain(fp, names[sr]);
                fputc(',', fp);
                csv_plain(fp, p[i].label);
                fprintf(fp, ",%.9g,%.9g,%.9g,%.9g\n", reps == 2 ? (k ? xmax : xmin) : p[i].x, p[i].y, p[i].ylo, p[i].yhi);
            }
            count[sr] += reps;
            if (reps == 2) break;
        }
    }
    int front_block = -1;
    if (front) {
        if (blocks) fprintf(fp, "\n\n");
        front_block = blocks++;
        for (int i = 0; i < nfront; i++) {
            fprintf(fp, "Pareto front,");
            csv_plain(fp, front[i].label);
            fprintf(fp, ",%.9g,%.9g,%.9g,%.9g\n", front[i].x, front[i].y, front[i].ylo, front[i].yhi);
        }
    }
    return front_block;
}

/* The gnuplot commands of figure f into b: titles, axes, then one plot
 * clause per block written by write_points (count, block_of, front_block). */
static void plot_script(sbuf *b, const figctx *fx, const hc_fig_decl *f, const char *base, char names[][128], int ns,
                        int consts, const int *count, const int *block_of, int front_block, const char *title,
                        const char *xl, const char *yl)
{
    sb_printf(b, "# experiment %s, figure %s: hicache %s, commit %s\n", fx->r->name, base, hc_version(), hc_git_commit());
    sb_printf(b, "set title \"%s\" noenhanced\nset xlabel \"%s\" noenhanced\nset ylabel \"%s\" noenhanced\n", title, xl, yl);
    size_t longest = 0; /* long legend entries go below the plot, not beside it */
    for (int sr = 0; sr < ns; sr++)
        if (block_of[sr] >= 0 && strlen(names[sr]) > longest) longest = strlen(names[sr]);
    sb_printf(b, "set key %s noenhanced\nset grid\nset offsets graph 0.03, graph 0.03, %s\n%s%s",
              longest > 24 ? "below left Left reverse maxrows 4" : "outside right top", f->logy ? "0, 0" : "graph 0.03, graph 0.03", f->logx ? "set logscale x\n" : "",
              f->logy ? "set logscale y\n" : "");
    sb_printf(b, "plot");
    /* colours: the drawn series in order through a 12-colour palette (no two
     * series share a colour and point type up to 60 series) */
    static const char *const palette[] = {"#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9",
                                          "#000000", "#f0e442", "#7f3c8d", "#8c564b", "#2ca02c", "#7f7f7f"};
    static const int ptypes[] = {7, 5, 9, 11, 13};
    enum { NPAL = sizeof palette / sizeof *palette, NPT = sizeof ptypes / sizeof *ptypes };
    int first = 1, drawn = 0;
    for (int sr = 0; sr < ns; sr++) {
        if (block_of[sr] < 0) continue;
        int is_const = sr >= ns - consts, pt = ptypes[(drawn / NPAL) % NPT];
        const char *lc = palette[drawn++ % NPAL];
        char style[64];
        if (is_const) snprintf(style, sizeof style, "lines dt 2 lw 2");
        else snprintf(style, sizeof style, count[sr] > 1 ? "linespoints pt %d ps 1 lw 2" : "points pt %d ps 1.5", pt);
        if (!is_const) /* the 95% interval of each point, under it */
            sb_printf(b, "%s \"%s.csv\" index %d using 3:4:5:6 with yerrorbars pt 0 lc rgb \"%s\" notitle, \\\n    ",
                      first ? "" : ", \\\n    ", base, block_of[sr], lc);
        sb_printf(b, "%s\"%s.csv\" index %d using 3:4 with %s lc rgb \"%s\" title \"%s\"",
                  is_const && !first ? ", \\\n     " : is_const ? " " : "", base, block_of[sr], style, lc, names[sr]);
        first = 0;
    }
    if (front_block >= 0) {
        sb_printf(b, "%s \"%s.csv\" index %d using 3:4 with lines lw 3 lc \"black\" dt 3 title \"Pareto front\"",
                  first ? "" : ", \\\n    ", base, front_block);
        first = 0;
    }
    if (first) sb_printf(b, " NaN title \"no data\"");
    sb_printf(b, "\n");
}

/* Render BASE.png + BASE.pdf when asked and gnuplot is there (warning
 * once otherwise), count the figure and record it in fx->out. */
static hc_status render_figure(figctx *fx, const hc_fig_decl *f, const char *base, int np)
{
    fx->out->counts.figures++;
    int rendered = 0;
    if (fx->render && fx->gnuplot && np) {
        HC_TRY(hc_plot_render_in(fx->set, fx->dir, base));
        rendered = 1;
        fx->out->counts.rendered++;
    } else if (fx->render && !fx->gnuplot && !fx->warned && !fx->quiet) {
        fprintf(stderr, "run: warning: gnuplot not on PATH: figures are .csv + .gp only (render with `gnuplot NAME.gp`)\n");
        fx->warned = 1;
    }
    return record(fx, f, base, np, rendered);
}

/* Write BASE.csv (write_points) and BASE.gp (plot_script) for the points p
 * of series names[0..ns), the last `consts` of them baselines; render, record. */
static hc_status emit_figure(figctx *fx, const hc_fig_decl *f, const char *base, pt *p, int np, char names[][128],
                             int ns, int consts, const char *title, const char *xl, const char *yl, int pareto)
{
    qsort(p, (size_t)np, sizeof *p, cmp_pt);
    pt *front = NULL;
    int nfront = 0;
    if (pareto && np) HC_TRY(pareto_front(f, p, np, &front, &nfront));
    int *count = calloc((size_t)ns + 1, sizeof *count);
    int *block_of = calloc((size_t)ns + 1, sizeof *block_of);
    hc_outfile *of = NULL;
    hc_status s = count && block_of ? hc_plot_csv_open_in(fx->set, fx->dir, base, &of) : hc_fail(HC_ENOMEM, "out of memory");
    if (s != HC_OK) {
        free(front), free(count), free(block_of);
        return s;
    }
    /* 1. data */
    int front_block = write_points(hc_outfile_fp(of), p, np, names, ns, consts, front, nfront, count, block_of);
    free(front);
    s = hc_outfile_commit(of);
    /* 2. script */
    sbuf b = {0};
    plot_script(&b, fx, f, base, names, ns, consts, count, block_of, front_block, title, xl, yl);
    free(count);
    free(block_of);
    if (s == HC_OK) s = b.oom ? hc_fail(HC_ENOMEM, "out of memory") : hc_plot_write_script_in(fx->set, fx->dir, base, HC_PLOT_DEFAULT_SIZE, b.p);
    free(b.p);
    if (s != HC_OK) return s;
    /* 3. render */
    return render_figure(fx, f, base, np);
}

/* ---- scatter, pareto and line figures: one point per row ------------------------------------------ */

/* Series index of a row (entry order; the implicit reference first).
 * Entries with the same name share one series (its first entry's): e.g.
 * TaylorSeer at (N, O) = (3, 3), (4, 4), (5, 3) as three entries is one
 * curve, not three unrelated points with one legend label each. */
static int series_of(const hc_results *r, const hc_res_row *w, const hc_fig_decl *f)
{
    if (!f->by_entry || w->entry < 0) return 0;
    for (int j = 0; j < w->entry; j++)
        if (strcmp(r->entries[j], r->entries[w->entry]) == 0) return j + 1;
    return w->entry + 1;
}

static void series_names(const hc_results *r, const hc_fig_decl *f, char names[][128], int *ns)
{
    if (!f->by_entry) {
        snprintf(names[0], 128, "%s", hc_fig_type_names[f->type]);
        *ns = 1;
        return;
    }
    snprintf(names[0], 128, "Full compute");
    for (int i = 0; i < r->n_entries; i++) plain(r->entries[i], names[i + 1], 128);
    *ns = r->n_entries + 1;
}

/* The points of the rows of f's engine; line figures mark entries without
 * a grid over x as constant (is_const[series]). */
static int row_points(const hc_results *r, const hc_fig_decl *f, pt *p, int *is_const)
{
    int np = 0, xk = hc_res_row_key_index(f->x), nm;
    const hc_report_metric *ms = hc_report_metrics(f->eng, &nm);
    int xm = -1, ym = -1;
    for (int i = 0; i < nm; i++) {
        if (strcmp(ms[i].key, f->x) == 0) xm = i;
        if (strcmp(ms[i].key, f->y) == 0) ym = i;
    }
    for (int i = 0; i < r->n_rows; i++) {
        const hc_res_row *w = &r->rows[i];
        if (w->eng != f->eng) continue;
        rep_stats st;
        rep_row_stats(r, w, &st);
        double x = NAN, y = ym >= 0 ? st.mean[ym] : NAN;
        int sr = series_of(r, w, f);
        if (f->type == HC_FIG_LINE) {
            int varies = hc_res_row_has_grid(w, f->x) || (strcmp(f->x, "steps") == 0 && w->steps != r->live.steps);
            if (xk >= 0) x = w->keys[xk];
            if (!varies && f->by_entry) is_const[sr] = 1;
        } else if (xm >= 0) {
            x = st.mean[xm];
        }
        if (!isfinite(x) || !isfinite(y) || (f->logy && y <= 0) || (f->logx && x <= 0)) continue;
        p[np].x = x;
        p[np].y = y;
        rep_ci ci;
        rep_cells_ci(r, w->cells, w->n_cells, -1, f->y, &ci);
        int bar = isfinite(ci.lo) && isfinite(ci.hi) && (!f->logy || ci.lo > 0);
        p[np].ylo = bar ? ci.lo : y;
        p[np].yhi = bar ? ci.hi : y;
        p[np].series = sr;
        plain(w->label, p[np].label, sizeof p[np].label);
        np++;
    }
    return np;
}

static hc_status figure_points(figctx *fx, const hc_fig_decl *f)
{
    const hc_results *r = fx->r;
    size_t nsr = (size_t)r->n_entries + 2;
    pt *p = calloc((size_t)r->n_rows + 1, sizeof *p);
    char (*names)[128] = calloc(nsr, sizeof *names);
    char (*ord)[128] = calloc(nsr, sizeof *ord);
    int *remap = calloc(nsr, sizeof *remap), *is_const = calloc(nsr, sizeof *is_const);
    hc_status s = HC_OK;
    if (!p || !names || !ord || !remap || !is_const) s = hc_fail(HC_ENOMEM, "out of memory");
    if (s == HC_OK) {
        int ns, np, k = 0, consts = 0;
        series_names(r, f, names, &ns);
        np = row_points(r, f, p, is_const);
        /* order series: varying ones first, constants last (emit_figure takes the last `consts` as baselines) */
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
        else snprintf(title, sizeof title, "%s: %s vs %s (%s)", r->name, f->y, f->x, hc_eng_names[f->eng]);
        axis_label(f->eng, f->x, xl, sizeof xl);
        axis_label(f->eng, f->y, yl, sizeof yl);
        s = emit_figure(fx, f, f->name, p, np, ord, ns, consts, title, xl, yl, f->type == HC_FIG_PARETO);
    }
    free(p);
    free(names);
    free(ord);
    free(remap);
    free(is_const);
    return s;
}

/* ---- curve figures ---------------------------------------------------------------------------------- */

#define MAX_KINDS 64

/* "double/3/img_attn" -> "double/img_attn" (engines.c's module kind). */
static void kind_of(const char *name, char *out, size_t n)
{
    const char *s1 = strchr(name, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2) snprintf(out, n, "%s", name);
    else snprintf(out, n, "%.*s%s", (int)(s1 - name), name, s2);
}

/* The 95% percentile-bootstrap interval of a curve point: the mean of the
 * cell's per-sample values of f->y at x (step or horizon) over the modules
 * of `kind` (units: the records there, one per file and module). */
static void curve_ci(const hc_res_cell *c, const hc_fig_decl *f, const char *kind, double x, pt *q)
{
    const hc_res_samples *s = &c->samples;
    const double *v = hc_res_cell_samples(c, f->y);
    if (!v || !s->step || !s->horizon) return;
    const int *ax = strcmp(f->x, "step") == 0 ? s->step : s->horizon;
    double *u = malloc(((size_t)s->n + 1) * sizeof *u);
    if (!u) return;
    int n = 0, all = strcmp(kind, "all") == 0;
    for (int i = 0; i < s->n; i++) {
        if (ax[i] != x) continue;
        char k[96];
        if (!all) kind_of(s->names[s->module[i]], k, sizeof k);
        if (all || strcmp(k, kind) == 0) u[n++] = v[i];
    }
    int *idx = n ? malloc((size_t)n * HC_BOOT_B * sizeof *idx) : NULL;
    double *work = idx ? malloc((size_t)HC_BOOT_B * sizeof *work) : NULL, lo, hi;
    if (work) {
        hc_boot_indices(n, HC_BOOT_B, HC_BOOT_SEED, idx);
        hc_boot_ratio_ci(u, NULL, NULL, NULL, n, idx, HC_BOOT_B, HC_BOOT_LEVEL, work, &lo, &hi);
        if (isfinite(lo) && isfinite(hi) && (!f->logy || lo > 0)) q->ylo = lo, q->yhi = hi;
    }
    free(idx);
    free(work);
    free(u);
}

/* The points of kind `kind`: one series per non-reference replay row (its
 * first cell's curve); *ns gets the number of series. */
static hc_status curve_points(const hc_results *r, const hc_fig_decl *f, const char *kind, pt **out, int *np_out,
                              char names[][128], int *ns_out)
{
    pt *p = NULL;
    int np = 0, cap = 0, ns = 0;
    for (int i = 0; i < r->n_rows; i++) {
        const hc_res_row *w = &r->rows[i];
        if (w->eng != HC_ENG_REPLAY || w->is_ref) continue;
        const hc_res_curve *cv = hc_res_cell_curve(&r->cells[w->cells[0]], f->x, kind, f->y);
        if (!cv || !cv->n) continue;
        plain(w->label, names[ns], 128);
        for (int k = 0; k < cv->n; k++) {
            double x = cv->x[k], y = cv->y[k];
            if (!isfinite(y) || (f->logy && y <= 0)) continue;
            if (np == cap) {
                cap = cap ? 2 * cap : 256;
                pt *nq = realloc(p, (size_t)cap * sizeof *p);
                if (!nq) {
                    free(p);
                    return hc_fail(HC_ENOMEM, "out of memory");
                }
                p = nq;
            }
            p[np] = (pt){x, y, ns, "", y, y};
            curve_ci(&r->cells[w->cells[0]], f, kind, x, &p[np]);
            plain(w->label, p[np].label, sizeof p[np].label);
            np++;
        }
        ns++;
    }
    *out = p;
    *np_out = np;
    *ns_out = ns;
    return HC_OK;
}

/* Replay curves: error against step or horizon, one series per row (method),
 * over all modules and, with by_kind, per module kind. */
static hc_status figure_curves(figctx *fx, const hc_fig_decl *f)
{
    const hc_results *r = fx->r;
    /* the kinds present in any cell, in recorded order */
    char kinds[MAX_KINDS][96];
    int nk = 0;
    snprintf(kinds[nk++], 96, "all");
    for (int c = 0; c < r->n_cells && f->by_kind; c++)
        for (int k = 0; k < r->cells[c].n_curves; k++) {
            const hc_res_curve *cv = &r->cells[c].curves[k];
            if (strcmp(cv->axis, f->x) != 0) continue;
            int seen = 0;
            for (int i = 0; i < nk; i++) seen |= strcmp(kinds[i], cv->kind) == 0;
            if (!seen && nk < MAX_KINDS) snprintf(kinds[nk++], 96, "%s", cv->kind);
        }
    for (int ki = 0; ki < nk; ki++) {
        pt *p = NULL;
        int np = 0, ns = 0;
        char (*names)[128] = calloc((size_t)r->n_rows + 1, sizeof *names);
        if (!names) return hc_fail(HC_ENOMEM, "out of memory");
        hc_status s = curve_points(r, f, kinds[ki], &p, &np, names, &ns);
        char base[200], title[512], xl[64], yl[64];
        if (ki == 0) snprintf(base, sizeof base, "%s", f->name);
        else {
            snprintf(base, sizeof base, "%s-%.95s", f->name, kinds[ki]);
            for (char *c = base; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) *c = '_';
        }
        if (f->title[0]) snprintf(title, sizeof title, "%s (%.95s modules)", f->title, kinds[ki]);
        else snprintf(title, sizeof title, "%s: open-loop %s vs %s (%.95s modules)", r->name, f->y, f->x, kinds[ki]);
        snprintf(xl, sizeof xl, "%s", strcmp(f->x, "step") == 0 ? "sampling step" : "horizon (steps since the last full step)");
        snprintf(yl, sizeof yl, "mean %s", f->y);
        if (s == HC_OK) s = emit_figure(fx, f, base, p, np, names, ns, 0, title, xl, yl, 0);
        free(p);
        free(names);
        HC_TRY(s);
    }
    return HC_OK;
}

hc_status rep_write_figures(const hc_results *r, hc_outset *set, const char *fig_dir, int render, int quiet,
                            rep_figs *out)
{
    figctx fx = {r, set, fig_dir, render, render && r->n_figs && hc_plot_gnuplot_available(), quiet, 0, out};
    for (int i = 0; i < r->n_figs; i++)
        HC_TRY(r->figs[i].type == HC_FIG_CURVE ? figure_curves(&fx, &r->figs[i]) : figure_points(&fx, &r->figs[i]));
    return HC_OK;
}
