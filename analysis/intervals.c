/* intervals.c: the uncertainty of the tables (report_internal.h: rep_ci)
 * from the cells' per-sample values (results.h: hc_res_samples), and the
 * long-form per_sample.csv.
 *
 * Units: live, one per image and seed (a method's image i at seed s is
 * paired with the baseline's image i at seed s: same noise and label);
 * replay, one per (file, module), its value the ratio sum / count over the
 * module's scored forecasts, so the interval is that of the table's mean
 * over records.  Bootstrap: HC_BOOT_B resamples of the units from
 * HC_BOOT_SEED (stats.h), percentile intervals.  FD has no per-sample
 * values: its interval is the engine's bootstrap over the generated images
 * (cell metrics fd_lo, fd_hi), shown for single-seed rows; KID's is its
 * value ± 1.96 kid_se (normal). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "report_internal.h"
#include "stats.h"

static const char *const live_keys[] = {"rel_l2", "psnr", "ssim", "class_acc"};
static const char *const replay_keys[] = {"rel_l1", "rel_l2", "cosine", "max_abs"};

int rep_has_interval(hc_eng eng, const char *key)
{
    const char *const *k = eng == HC_ENG_LIVE ? live_keys : replay_keys;
    for (int i = 0; i < 4; i++)
        if (strcmp(k[i], key) == 0) return 1;
    return 0;
}

/* The paired units of one metric: a / aw against b / bw (b NaN: unpaired). */
typedef struct units {
    int n, cap;
    double *a, *aw, *b, *bw;
} units;

static int units_grow(units *u, int more)
{
    if (u->n + more <= u->cap) return 1;
    int cap = u->cap ? u->cap : 64;
    while (cap < u->n + more) cap *= 2;
    double **f[4] = {&u->a, &u->aw, &u->b, &u->bw};
    for (int k = 0; k < 4; k++) {
        double *p = realloc(*f[k], (size_t)cap * sizeof **f[k]);
        if (!p) return 0;
        *f[k] = p;
    }
    u->cap = cap;
    return 1;
}

static void units_free(units *u)
{
    free(u->a), free(u->aw), free(u->b), free(u->bw);
    memset(u, 0, sizeof *u);
}

/* The baseline row's cell with seed `seed` (live) or its only cell, or NULL. */
static const hc_res_cell *base_cell(const hc_results *r, int base, const hc_res_cell *c)
{
    if (base < 0) return NULL;
    const hc_res_row *w = &r->rows[base];
    for (int k = 0; k < w->n_cells; k++) {
        const hc_res_cell *b = &r->cells[w->cells[k]];
        if (c->eng == HC_ENG_REPLAY || b->seed == c->seed) return b;
    }
    return NULL;
}

/* Live: one unit per image; 0 if a value is missing. */
static int live_units(const hc_res_cell *c, const hc_res_cell *bc, const char *key, units *u)
{
    const double *v = hc_res_cell_samples(c, key);
    const double *bv = bc && bc->samples.n == c->samples.n ? hc_res_cell_samples(bc, key) : NULL;
    if (!v || !units_grow(u, c->samples.n)) return 0;
    for (int i = 0; i < c->samples.n; i++) {
        if (!isfinite(v[i])) return 0;
        u->a[u->n] = v[i];
        u->b[u->n] = bv && isfinite(bv[i]) ? bv[i] : NAN;
        u->aw[u->n] = u->bw[u->n] = 1;
        u->n++;
    }
    return 1;
}

/* Replay: one unit per (file, module) with records: sums and counts. */
static int replay_units(const hc_res_cell *c, const hc_res_cell *bc, const char *key, units *u)
{
    const hc_res_samples *s = &c->samples;
    const double *v = hc_res_cell_samples(c, key), *bv = bc ? hc_res_cell_samples(bc, key) : NULL;
    int paired = bv && bc->samples.n_names == s->n_names;
    for (int k = 0; paired && k < s->n_names; k++) paired = strcmp(bc->samples.names[k], s->names[k]) == 0;
    if (!v || !units_grow(u, s->n_names)) return 0;
    double *acc = calloc(4 * ((size_t)s->n_names + 1), sizeof *acc); /* sum, count, base sum, base count */
    if (!acc) return 0;
    int ok = 1;
    for (int i = 0; i < s->n; i++) {
        if (!isfinite(v[i])) ok = 0;
        acc[4 * s->module[i]] += v[i];
        acc[4 * s->module[i] + 1] += 1;
    }
    for (int i = 0; paired && i < bc->samples.n; i++) {
        acc[4 * bc->samples.module[i] + 2] += bv[i];
        acc[4 * bc->samples.module[i] + 3] += 1;
    }
    for (int k = 0; ok && k < s->n_names; k++) {
        if (!acc[4 * k + 1]) continue;
        u->a[u->n] = acc[4 * k];
        u->aw[u->n] = acc[4 * k + 1];
        u->b[u->n] = acc[4 * k + 3] > 0 && isfinite(acc[4 * k + 2]) ? acc[4 * k + 2] : NAN;
        u->bw[u->n] = acc[4 * k + 3];
        u->n++;
    }
    free(acc);
    return ok;
}

/* FD and the like: the engine's interval of a single cell (cell metrics
 * KEY_lo, KEY_hi). */
static void engine_ci(const hc_results *r, const int *cells, int n, const char *key, rep_ci *out)
{
    if (n != 1) return;
    char k[64];
    const hc_res_cell *c = &r->cells[cells[0]];
    snprintf(k, sizeof k, "%s_lo", key);
    double lo = hc_res_cell_metric(c, k);
    snprintf(k, sizeof k, "%s_hi", key);
    double hi = hc_res_cell_metric(c, k);
    snprintf(k, sizeof k, "%s_se", key);
    double se = hc_res_cell_metric(c, k), v = hc_res_cell_metric(c, key);
    if (!isfinite(lo) && isfinite(se) && isfinite(v)) lo = v - 1.959963984540054 * se, hi = v + 1.959963984540054 * se;
    snprintf(k, sizeof k, "%s_n", key);
    if (isfinite(lo) && isfinite(hi)) out->lo = lo, out->hi = hi, out->n = (int)hc_res_cell_metric(c, k);
}

static void tests(const units *u, rep_ci *out)
{
    double *d = malloc(((size_t)u->n + 1) * sizeof *d);
    if (!d) return;
    for (int i = 0; i < u->n; i++) d[i] = u->a[i] / u->aw[i] - u->b[i] / u->bw[i];
    hc_wilcoxon_result w;
    if (hc_wilcoxon(d, u->n, 0, &w) == HC_OK) out->p_w = w.p;
    else hc_errclear();
    double t;
    hc_ttest_paired(d, u->n, &t, &out->p_t);
    free(d);
}

void rep_cells_ci(const hc_results *r, const int *cells, int n, int base, const char *key, rep_ci *out)
{
    memset(out, 0, sizeof *out);
    out->lo = out->hi = out->delta = out->dlo = out->dhi = NAN;
    out->p_w = out->p_t = out->p_w_holm = out->p_t_holm = NAN;
    if (n < 1) return;
    hc_eng eng = r->cells[cells[0]].eng;
    if (!rep_has_interval(eng, key)) {
        engine_ci(r, cells, n, key, out);
        return;
    }
    units u = {0};
    int ok = 1;
    for (int k = 0; k < n && ok; k++) {
        const hc_res_cell *c = &r->cells[cells[k]];
        const hc_res_cell *bc = base_cell(r, base, c);
        ok = eng == HC_ENG_LIVE ? live_units(c, bc, key, &u) : replay_units(c, bc, key, &u);
    }
    int paired = base >= 0 && u.n > 0;
    for (int i = 0; i < u.n && paired; i++) paired = !isnan(u.b[i]);
    int *idx = ok && u.n ? malloc((size_t)u.n * HC_BOOT_B * sizeof *idx) : NULL;
    double *work = idx ? malloc((size_t)HC_BOOT_B * sizeof *work) : NULL;
    if (work) {
        out->n = u.n;
        hc_boot_indices(u.n, HC_BOOT_B, HC_BOOT_SEED, idx);
        hc_boot_ratio_ci(u.a, u.aw, NULL, NULL, u.n, idx, HC_BOOT_B, HC_BOOT_LEVEL, work, &out->lo, &out->hi);
        if (paired && !(r->rows[r->cells[cells[0]].row].is_ref && r->rows[base].is_ref)) {
            double sa = 0, sw = 0, sb = 0, sbw = 0;
            for (int i = 0; i < u.n; i++) sa += u.a[i], sw += u.aw[i], sb += u.b[i], sbw += u.bw[i];
            out->delta = sa / sw - sb / sbw;
            hc_boot_ratio_ci(u.a, u.aw, u.b, u.bw, u.n, idx, HC_BOOT_B, HC_BOOT_LEVEL, work, &out->dlo, &out->dhi);
            tests(&u, out);
        }
    }
    free(idx);
    free(work);
    units_free(&u);
}

void rep_table_intervals(const hc_results *r, rep_table *t)
{
    int nm, nc = r->n_cols[t->eng];
    const hc_report_metric *ms = hc_report_metrics(t->eng, &nm);
    int base = r->baseline_row[t->eng] - 1;
    size_t cap = (size_t)t->n_rows * (size_t)nc + 1;
    double *pw = malloc(cap * sizeof *pw), *pt = malloc(cap * sizeof *pt);
    if (!pw || !pt) {
        free(pw), free(pt);
        return;
    }
    int m = 0;
    for (int i = 0; i < t->n_rows; i++) {
        const hc_res_row *w = &r->rows[t->rows[i]];
        rep_stats *st = &t->stats[i];
        for (int mi = 0; mi < nm; mi++) {
            rep_cells_ci(r, w->cells, w->n_cells, t->rows[i] == base ? -1 : base, ms[mi].key, &st->ci[mi]);
            const rep_ci *c = &st->ci[mi];
            /* shown only around a value it contains: FD's bootstrap at small n
             * lies above the FD itself (repeated images inflate it) */
            if (isfinite(c->lo) && isfinite(c->hi) && st->mean[mi] >= c->lo && st->mean[mi] <= c->hi)
                hc_report_format(t->eng, ms[mi].key, (c->hi - c->lo) / 2, st->hw[mi], sizeof st->hw[mi]);
        }
        for (int k = 0; k < nc; k++) { /* the family: the table's columns with a direction */
            const rep_ci *c = &st->ci[r->cols[t->eng][k]];
            int tested = ms[r->cols[t->eng][k]].dir && !w->is_ref;
            pw[m] = tested ? c->p_w : NAN;
            pt[m++] = tested ? c->p_t : NAN;
        }
    }
    hc_holm(pw, m, pw);
    hc_holm(pt, m, pt);
    m = 0;
    for (int i = 0; i < t->n_rows; i++)
        for (int k = 0; k < nc; k++) {
            int mi = r->cols[t->eng][k];
            rep_ci *c = &t->stats[i].ci[mi];
            c->p_w_holm = pw[m];
            c->p_t_holm = pt[m++];
            if (isfinite(c->p_w_holm) && c->p_w_holm < REP_ALPHA && c->delta != 0)
                c->mark = (c->delta > 0) == (ms[mi].dir > 0) ? 1 : -1;
        }
    free(pw);
    free(pt);
}

void rep_interval_legend(const hc_results *r, const rep_table *t, char *buf, size_t n)
{
    int any = 0, units = 0, fd = 0, fd_hidden = 0, kid = 0, nm;
    const hc_report_metric *ms = hc_report_metrics(t->eng, &nm);
    for (int i = 0; i < t->n_rows; i++)
        for (int m = 0; m < nm; m++)
            if (t->stats[i].hw[m][0]) {
                any = 1;
                if (rep_has_interval(t->eng, ms[m].key) && t->stats[i].ci[m].n > units) units = t->stats[i].ci[m].n;
                fd |= strcmp(ms[m].key, "fd") == 0;
                kid |= strcmp(ms[m].key, "kid") == 0;
            }
    for (int i = 0; i < t->n_rows; i++)
        for (int m = 0; m < nm; m++)
            if (strcmp(ms[m].key, "fd") == 0 && isfinite(t->stats[i].ci[m].lo) && !t->stats[i].hw[m][0]) fd_hidden = 1;
    buf[0] = 0;
    if (!any && !fd_hidden) return;
    int base = r->baseline_row[t->eng] - 1;
    size_t l = (size_t)snprintf(buf, n,
                                "%s: value ± half-width of the 95%% paired percentile-bootstrap interval (B = %d, "
                                "seed %lu) over %s (%d units)",
                                hc_eng_names[t->eng], HC_BOOT_B, HC_BOOT_SEED,
                                t->eng == HC_ENG_LIVE ? "images, pooled over seeds" : "file × module units", units);
    if (l < n && (fd || fd_hidden))
        l += (size_t)snprintf(buf + l, n - l, "; FD: bootstrap over the generated images against fixed real-image statistics%s",
                              fd_hidden ? " (not shown where it excludes the FD itself: with few images, resamples with "
                                          "repeated images inflate FD; summary.json and results.csv have it)" : "");
    if (l < n && kid) l += (size_t)snprintf(buf + l, n - l, "; KID: ± 1.96 standard errors");
    if (l < n && base >= 0)
        l += (size_t)snprintf(buf + l, n - l,
                              "; ▲ / ▼: significantly better / worse than the baseline %s (Wilcoxon signed-rank on "
                              "paired units, Holm-adjusted over the table, p < %.2g)",
                              r->rows[base].label, REP_ALPHA);
    if (l < n && t->eng == HC_ENG_LIVE && units < 64)
        snprintf(buf + l, n - l, ". With %d images (all seeds) these intervals are wide: a difference inside them is not resolved", units);
}

/* ---- per_sample.csv ----------------------------------------------------------------------- */

hc_status rep_write_per_sample_csv(const hc_results *r, hc_outset *set, const char *path)
{
    hc_outfile *f;
    HC_TRY(hc_outfile_open_in(set, path, &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "cell,method,seed,unit,metric,value\n");
    for (int i = 0; i < r->n_cells; i++) {
        const hc_res_cell *c = &r->cells[i];
        const hc_res_samples *s = &c->samples;
        for (int k = 0; k < s->n_keys; k++)
            for (int j = 0; j < s->n; j++) {
                fprintf(fp, "%s,", c->id);
                hc_csv_field(fp, r->rows[c->row].spec);
                if (c->eng == HC_ENG_LIVE) fprintf(fp, ",%lu,%d,", c->seed, j);
                else fprintf(fp, ",,%d:%s:%d,", s->file[j], s->names[s->module[j]], s->step[j]);
                hc_csv_field(fp, s->keys[k]);
                double v = s->v[(size_t)k * (size_t)s->n + (size_t)j];
                if (isfinite(v)) fprintf(fp, ",%.9g\n", v);
                else fprintf(fp, ",\n");
            }
    }
    return hc_outfile_commit(f);
}
