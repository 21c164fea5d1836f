/* runner.c: running an experiment -- finished cells loaded from
 * DIR/cells/ID.json, the pending ones computed with progress, then the
 * cells converted into the report's typed results (analysis/results.h)
 * and the report written (analysis/report.h). */
#include "experiment.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dist.h"
#include "exp_internal.h"
#include "live.h"
#include "outfile.h"
#include "provenance.h"
#include "report.h"

/* ---- the report's typed results ------------------------------------------------------------- */

void hc_experiment_format(const char *engine, const char *key, const cJSON *value, char *buf, size_t n)
{
    hc_eng eng = engine && strcmp(engine, "replay") == 0 ? HC_ENG_REPLAY : HC_ENG_LIVE;
    hc_report_format(eng, key, cJSON_IsNumber(value) ? value->valuedouble : NAN, buf, n);
}

static void jstr(const cJSON *o, const char *k, char *buf, size_t n)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    snprintf(buf, n, "%s", s ? s : "");
}

/* A cell document's "metrics": numbers and nulls (NaN) in recorded order;
 * the string "reference" names the cell they were scored against. */
static hc_status cell_metrics(const cJSON *doc, hc_res_cell *c)
{
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(doc, "metrics"), *m;
    c->metrics = calloc((size_t)cJSON_GetArraySize(mt) + 1, sizeof *c->metrics);
    if (!c->metrics) return hc_fail(HC_ENOMEM, "out of memory");
    cJSON_ArrayForEach(m, mt)
    {
        if (cJSON_IsString(m) && strcmp(m->string, "reference") == 0) {
            snprintf(c->reference, sizeof c->reference, "%s", m->valuestring);
            continue;
        }
        if (!cJSON_IsNumber(m) && !cJSON_IsNull(m)) continue;
        hc_res_metric *r = &c->metrics[c->n_metrics++];
        snprintf(r->key, sizeof r->key, "%s", m->string);
        r->value = cJSON_IsNumber(m) ? m->valuedouble : NAN;
    }
    return HC_OK;
}

/* A replay cell document's "curves": {axis: {kind: {"x": [...], metric: [...]}}}.
 * Values are taken as stored (a null reads as 0, as the figures always did). */
static hc_status cell_curves(const cJSON *doc, hc_res_cell *c)
{
    const cJSON *curves = cJSON_GetObjectItemCaseSensitive(doc, "curves"), *ax, *kd, *ys;
    int n = 0;
    cJSON_ArrayForEach(ax, curves) cJSON_ArrayForEach(kd, ax) n += cJSON_GetArraySize(kd);
    if (!n) return HC_OK;
    c->curves = calloc((size_t)n, sizeof *c->curves);
    if (!c->curves) return hc_fail(HC_ENOMEM, "out of memory");
    cJSON_ArrayForEach(ax, curves) cJSON_ArrayForEach(kd, ax)
    {
        const cJSON *xs = cJSON_GetObjectItemCaseSensitive(kd, "x");
        int np = cJSON_GetArraySize(xs);
        cJSON_ArrayForEach(ys, kd)
        {
            if (strcmp(ys->string, "x") == 0 || cJSON_GetArraySize(ys) != np) continue;
            hc_res_curve *v = &c->curves[c->n_curves++];
            snprintf(v->axis, sizeof v->axis, "%s", ax->string);
            snprintf(v->kind, sizeof v->kind, "%s", kd->string);
            snprintf(v->metric, sizeof v->metric, "%s", ys->string);
            v->n = np;
            v->x = calloc((size_t)np + 1, sizeof *v->x);
            v->y = calloc((size_t)np + 1, sizeof *v->y);
            if (!v->x || !v->y) return hc_fail(HC_ENOMEM, "out of memory");
            for (int i = 0; i < np; i++) {
                v->x[i] = cJSON_GetArrayItem(xs, i)->valuedouble;
                v->y[i] = cJSON_GetArrayItem(ys, i)->valuedouble;
            }
        }
    }
    return HC_OK;
}

static hc_status result_row(const exp_row *w, hc_res_row *r)
{
    r->eng = w->eng;
    r->entry = w->entry;
    snprintf(r->spec, sizeof r->spec, "%s", w->spec);
    hc_method_describe(&w->method, r->resolved, sizeof r->resolved);
    snprintf(r->label, sizeof r->label, "%s", w->label);
    r->steps = w->steps;
    r->is_ref = w->is_ref;
    const cJSON *g;
    cJSON_ArrayForEach(g, w->grid)
    {
        HC_ASSERT(r->n_grid < HC_RES_MAX_GRID);
        hc_res_gridval *v = &r->grid[r->n_grid++];
        snprintf(v->key, sizeof v->key, "%s", g->string);
        v->is_text = cJSON_IsString(g);
        if (v->is_text) snprintf(v->text, sizeof v->text, "%s", g->valuestring);
        else v->num = g->valuedouble;
    }
    exp_row_keys(w, r->keys);
    r->cells = malloc(((size_t)w->n_cells + 1) * sizeof *r->cells);
    if (!r->cells) return hc_fail(HC_ENOMEM, "out of memory");
    memcpy(r->cells, w->cells, (size_t)w->n_cells * sizeof *r->cells);
    r->n_cells = w->n_cells;
    return HC_OK;
}

static hc_status result_cell(const exp_cell *x, hc_res_cell *c)
{
    snprintf(c->id, sizeof c->id, "%s", x->id);
    c->row = x->row;
    c->eng = x->eng;
    c->seed = x->seed;
    c->steps = x->steps;
    jstr(x->doc, "spec", c->spec, sizeof c->spec);
    jstr(x->doc, "resolved", c->resolved, sizeof c->resolved);
    jstr(x->doc, "label", c->label, sizeof c->label);
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(x->doc, "cell_seconds");
    c->seconds = cJSON_IsNumber(sec) ? sec->valuedouble : NAN;
    HC_TRY(cell_metrics(x->doc, c));
    HC_TRY(exp_cell_samples(x->doc, c));
    return cell_curves(x->doc, c);
}

/* The finished experiment as the report's typed results. */
static hc_status build_results(const hc_experiment *e, hc_results *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", e->name);
    snprintf(r->description, sizeof r->description, "%s", e->description);
    r->eng_mask = e->eng_mask;
    memcpy(r->cols, e->cols, sizeof r->cols);
    memcpy(r->n_cols, e->n_cols, sizeof r->n_cols);
    snprintf(r->live.model, sizeof r->live.model, "%s", e->model);
    r->live.n = e->n;
    r->live.steps = e->steps;
    r->live.guidance = e->guidance;
    r->replay.n_files = e->n_files;
    snprintf(r->replay.modules, sizeof r->replay.modules, "%s", e->modules);
    snprintf(r->config_path, sizeof r->config_path, "%s", e->origin);
    r->config = cJSON_Duplicate(e->config, 1);
    r->resolved = exp_resolved_json(e);
    r->live.seeds = calloc((size_t)e->n_seeds + 1, sizeof *r->live.seeds);
    r->entries = calloc((size_t)e->n_entries + 1, sizeof *r->entries);
    r->rows = calloc((size_t)e->n_rows + 1, sizeof *r->rows);
    r->cells = calloc((size_t)e->n_cells + 1, sizeof *r->cells);
    r->figs = calloc((size_t)e->n_figs + 1, sizeof *r->figs);
    if (!r->config || !r->resolved || !r->live.seeds || !r->entries || !r->rows || !r->cells || !r->figs)
        return hc_fail(HC_ENOMEM, "out of memory");
    if (e->n_seeds) memcpy(r->live.seeds, e->seeds, (size_t)e->n_seeds * sizeof *r->live.seeds);
    r->live.n_seeds = e->n_seeds;
    for (int i = 0; i < e->n_entries; i++) snprintf(r->entries[i], sizeof r->entries[i], "%s", e->entries[i].name);
    r->n_entries = e->n_entries;
    if (e->n_figs) memcpy(r->figs, e->figs, (size_t)e->n_figs * sizeof *r->figs);
    r->n_figs = e->n_figs;
    for (int g = 0; g < HC_N_ENG; g++) r->baseline_row[g] = e->baseline_row[g] + 1;
    snprintf(r->baseline, sizeof r->baseline, "%s", e->baseline);
    /* counted before they are filled: hc_results_free frees a partial one */
    for (int i = 0; i < e->n_rows; i++) {
        r->n_rows = i + 1;
        HC_TRY(result_row(&e->rows[i], &r->rows[i]));
    }
    for (int i = 0; i < e->n_cells; i++) {
        r->n_cells = i + 1;
        HC_TRY(result_cell(&e->cells[i], &r->cells[i]));
    }
    return HC_OK;
}

/* ---- running ------------------------------------------------------------------------------ */

/* Load DIR/cells/ID.json if it is a finished result of this very cell
 * (exp_cell_check); a file that is there but is not is reported on stderr
 * and the cell computed again. */
static int try_load(const hc_experiment *e, const char *path, const exp_cell *c, cJSON **out)
{
    *out = NULL;
    if (access(path, F_OK) != 0) return 0; /* not finished */
    char *buf = NULL, why[512];
    cJSON *doc = NULL;
    if (hc_read_text(path, &buf, NULL) != HC_OK) {
        fprintf(stderr, "run: %s; computing the cell again\n", hc_errmsg());
        hc_errclear();
        return 0;
    }
    if (!(doc = cJSON_Parse(buf))) snprintf(why, sizeof why, "invalid JSON");
    free(buf);
    if (doc && exp_cell_check(e, c, doc, why, sizeof why)) {
        *out = doc;
        return 1;
    }
    cJSON_Delete(doc);
    fprintf(stderr, "run: %s: %s; computing the cell again\n", path, why);
    return 0;
}

static void draw_bar(int done, int total, const char *label, double elapsed, double eta)
{
    const int W = 24;
    int fill = total ? done * W / total : W;
    char bar[64], el[32], et[32], lab[48];
    for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
    bar[W] = 0;
    exp_fmt_dur(elapsed, el, sizeof el);
    if (eta >= 0) exp_fmt_dur(eta, et, sizeof et);
    else snprintf(et, sizeof et, "?");
    /* truncate the label on a UTF-8 boundary */
    size_t l = strlen(label), cut = l < 40 ? l : 40;
    while (cut < l && cut > 0 && ((unsigned char)label[cut] & 0xC0) == 0x80) cut--;
    snprintf(lab, sizeof lab, "%.*s", (int)cut, label);
    fprintf(stderr, "\r\033[Krun [%s] %d/%d  %s  elapsed %s, eta %s", bar, done, total, lab, el, et);
    fflush(stderr);
}

static hc_status finish_cell(exp_run_state *rs, exp_cell *c, cJSON *cell, double seconds)
{
    exp_cell_stamp(cell, seconds);
    return exp_record_cell(rs, c, cell, NULL);
}

/* Remove DIR/raw/ID/ and the files in it: the outputs of a cell whose
 * result could not be recorded (a later run computes the cell again). */
static void remove_raw(const char *dir, const exp_cell *c)
{
    char raw[1200], path[1500];
    snprintf(raw, sizeof raw, "%s/raw/%s", dir, c->id);
    DIR *d = opendir(raw);
    if (!d) return;
    for (struct dirent *de; (de = readdir(d));) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", raw, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(raw);
}

/* Compute a batch of pending cells (one live cell, or the replay cells
 * together) and record each.  Every cell file is tried for writing first
 * (an unwritable cells/ folder fails before any work), and a cell whose
 * result is not recorded keeps no raw/ outputs. */
static hc_status run_batch(exp_run_state *rs, exp_cell **batch, int n, cJSON **docs)
{
    hc_experiment *e = rs->e;
    int bad = 0; /* the cell named in an error */
    hc_status s = HC_OK;
    for (; bad < n; bad++) {
        char path[1300];
        hc_outfile *f;
        snprintf(path, sizeof path, "%s/%s.json", rs->cells_dir, batch[bad]->id);
        if ((s = hc_outfile_open(path, &f)) != HC_OK) break;
        hc_outfile_abort(f);
    }
    if (s == HC_OK) {
        bad = 0;
        double t1 = exp_now();
        for (int k = 0; k < n; k++) docs[k] = exp_cell_header(e, batch[k]);
        s = batch[0]->eng == HC_ENG_LIVE ? exp_run_live(e, rs->dir, batch[0], docs[0])
                                         : exp_run_replay(e, rs->dir, batch, n, docs);
        double dt = (exp_now() - t1) / n; /* a batch's cells share its time */
        for (int k = 0; k < n; k++) {
            if (s == HC_OK && (s = finish_cell(rs, batch[k], docs[k], dt)) != HC_OK) bad = k;
            else if (s != HC_OK) cJSON_Delete(docs[k]);
        }
        for (int k = 0; k < n && s != HC_OK; k++)
            if (!batch[k]->doc) remove_raw(rs->dir, batch[k]);
    }
    if (s == HC_OK) return HC_OK;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", hc_errmsg());
    return hc_fail(s, "cell %s (%s): %s", batch[bad]->id, batch[bad]->label, msg);
}

/* Load every finished cell; a reference whose samples are gone is computed
 * again for its dependants. */
static void load_finished(hc_experiment *e, const char *dir, const char *cells_dir, hc_experiment_report *rep)
{
    char path[1300];
    /* finished cells first */
    for (int i = 0; i < e->n_cells; i++) {
        exp_cell *c = &e->cells[i];
        cJSON_Delete(c->doc);
        c->doc = NULL;
        hc_live_ref_free(c->samples);
        c->samples = NULL;
        snprintf(path, sizeof path, "%s/%s.json", cells_dir, c->id);
        if (try_load(e, path, c, &c->doc)) rep->loaded++;
    }
    /* a reference whose samples are gone must be recomputed for its dependants */
    for (int i = 0; i < e->n_cells; i++) {
        exp_cell *c = &e->cells[i];
        if (c->ref < 0 || c->doc || !e->cells[c->ref].doc) continue;
        snprintf(path, sizeof path, "%s/raw/%s/samples.h5", dir, e->cells[c->ref].id);
        if (access(path, R_OK) != 0) {
            cJSON_Delete(e->cells[c->ref].doc);
            e->cells[c->ref].doc = NULL;
            rep->loaded--;
        }
    }
}

void hc_experiment_run_defaults(hc_experiment_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->progress = HC_PROGRESS_AUTO;
    o->render = 1;
}

/* The pending cells this process computes, in cell order: every one, or
 * those of its shard (want[i]); replay cells together in one batch. */
static hc_status run_serial(exp_run_state *rs, const hc_experiment_run_opts *o, const unsigned char *want)
{
    hc_experiment *e = rs->e;
    hc_experiment_report *rep = rs->rep;
    hc_status s = HC_OK;
    exp_cell **batch = malloc(((size_t)e->n_cells + 1) * sizeof *batch);
    cJSON **docs = malloc(((size_t)e->n_cells + 1) * sizeof *docs);
    if (!batch || !docs) s = hc_fail(HC_ENOMEM, "out of memory");
    for (int i = 0; i < e->n_cells && s == HC_OK; i++) {
        exp_cell *c = &e->cells[i];
        if (c->doc || (want && !want[i])) continue;
        if (o->max_cells > 0 && rep->computed >= o->max_cells) break;
        /* replay: every pending replay cell in one pass over the trajectories */
        int n = 0;
        for (int j = i; j < e->n_cells && c->eng == HC_ENG_REPLAY; j++)
            if (!e->cells[j].doc && e->cells[j].eng == HC_ENG_REPLAY && (!want || want[j]) &&
                (o->max_cells <= 0 || rep->computed + n < o->max_cells))
                batch[n++] = &e->cells[j];
        if (c->eng == HC_ENG_LIVE) batch[n++] = c;
        double el = exp_now() - rs->t0;
        if (rs->pm == HC_PROGRESS_BAR)
            draw_bar(rs->done, rs->pending, c->label, el, rs->done ? el / rs->done * (rs->pending - rs->done) : -1);
        s = run_batch(rs, batch, n, docs);
        if (s != HC_OK && rs->pm == HC_PROGRESS_BAR) fputc('\n', stderr);
    }
    free(batch);
    free(docs);
    return s;
}

/* Compute what this process computes (serially, a shard, or as the
 * coordinator of MPI ranks), then write the report unless cells are
 * missing (a merge writes it with them as missing values). */
static hc_status run_main(hc_experiment *e, const hc_experiment_run_opts *o, hc_experiment_report *rep)
{
    const char *dir = rep->out_dir;
    char cells_dir[1100];
    HC_TRY(hc_path_join(cells_dir, sizeof cells_dir, dir, "cells"));
    HC_TRY(hc_mkdir_p(cells_dir));
    hc_progress pm = o->progress;
    if (pm == HC_PROGRESS_AUTO) pm = isatty(2) ? HC_PROGRESS_BAR : HC_PROGRESS_LINES;
    rep->cells = e->n_cells;
    load_finished(e, dir, cells_dir, rep);
    unsigned char *want = NULL;
    if (o->n_shards > 0 && !o->merge) HC_TRY(exp_shard_want(e, o->shard, o->n_shards, &want));
    int pending = 0;
    for (int i = 0; i < e->n_cells; i++) pending += !e->cells[i].doc && (!want || want[i]);
    if (pm != HC_PROGRESS_NONE && rep->loaded && !o->merge)
        fprintf(stderr, "run: %s: %d of %d cells finished earlier (%s), %d to compute\n", e->name, rep->loaded,
                e->n_cells, cells_dir, pending);
    exp_run_state rs = {e, dir, cells_dir, pm, o->merge ? 0 : pending, 0, exp_now(), rep, o};
    hc_status s = HC_OK;
    if (o->merge) s = HC_OK;
    else if (o->comm && o->comm->size > 1) s = exp_dist_coordinate(&rs);
    else s = run_serial(&rs, o, want);
    free(want);
    HC_TRY(s);
    if (pm == HC_PROGRESS_BAR && rs.pending && !(o->comm && o->comm->size > 1)) {
        draw_bar(rs.done, pending, "", exp_now() - rs.t0, 0);
        fputc('\n', stderr);
    }
    rep->missing = e->n_cells - rep->loaded - rep->computed;
    if (o->n_shards > 0 && !o->merge) return HC_OK;    /* a shard: the merge writes the report */
    if (rep->missing && !o->merge) return HC_OK;        /* stopped by max_cells */
    hc_results res;
    s = build_results(e, &res);
    hc_report_opts ro = {dir, o->render, pm == HC_PROGRESS_NONE};
    hc_report_counts rc = {0, 0};
    if (s == HC_OK) s = hc_report_write(&res, &ro, &rc);
    hc_results_free(&res);
    rep->figures = rc.figures;
    rep->rendered = rc.rendered;
    if (s != HC_OK) {
        /* the report's files are one output set: none of them was written */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", hc_errmsg());
        return hc_fail(s, "%s; no report file was written (results.csv, summary.json, tables and figures appear "
                          "together); the %d cells are complete in %s: run again to write the report",
                       msg, e->n_cells, cells_dir);
    }
    rep->complete = !rep->missing;
    rep->reported = 1;
    return HC_OK;
}

hc_status hc_experiment_run(hc_experiment *e, const hc_experiment_run_opts *o, hc_experiment_report *rep)
{
    memset(rep, 0, sizeof *rep);
    if (o->out_dir) snprintf(rep->out_dir, sizeof rep->out_dir, "%s", o->out_dir);
    else snprintf(rep->out_dir, sizeof rep->out_dir, "out/%s", e->name);
    if (o->comm && o->comm->rank > 0) { /* a worker rank: rank 0 writes everything */
        rep->worker = 1;
        return exp_dist_work(e, o->comm, rep->out_dir);
    }
    hc_status s = run_main(e, o, rep);
    if (o->comm && o->comm->size > 1) exp_dist_release(o->comm);
    return s;
}

int hc_experiment_cell_done(const hc_experiment *e, int i)
{
    return i >= 0 && i < e->n_cells && e->cells[i].doc != NULL;
}
