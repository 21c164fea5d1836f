/* report.c: the outputs of an experiment after its cells (see report.h):
 * results.csv, the figures, summary.json, table.md and table.tex, in that
 * order. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "provenance.h"
#include "report_internal.h"

/* ---- summary.json --------------------------------------------------------------------------------- */

/* A cell as recorded: id, engine, spec, resolved, label, [seed, steps,]
 * metrics, cell_seconds, file. */
static cJSON *cell_json(const hc_res_cell *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddStringToObject(o, "engine", hc_eng_names[c->eng]);
    cJSON_AddStringToObject(o, "spec", c->spec);
    cJSON_AddStringToObject(o, "resolved", c->resolved);
    cJSON_AddStringToObject(o, "label", c->label);
    if (c->eng == HC_ENG_LIVE) {
        cJSON_AddNumberToObject(o, "seed", (double)c->seed);
        cJSON_AddNumberToObject(o, "steps", c->steps);
    }
    cJSON *mt = cJSON_AddObjectToObject(o, "metrics");
    for (int k = 0; k < c->n_metrics; k++) {
        if (isnan(c->metrics[k].value)) cJSON_AddNullToObject(mt, c->metrics[k].key);
        else cJSON_AddNumberToObject(mt, c->metrics[k].key, c->metrics[k].value);
    }
    if (c->reference[0]) cJSON_AddStringToObject(mt, "reference", c->reference);
    if (!isnan(c->seconds)) cJSON_AddNumberToObject(o, "cell_seconds", c->seconds);
    char f[160];
    snprintf(f, sizeof f, "cells/%s.json", c->id);
    cJSON_AddStringToObject(o, "file", f);
    return o;
}

static cJSON *figures_json(const rep_figs *fg)
{
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; i < fg->n; i++) {
        const rep_fig_out *g = &fg->list[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", g->name);
        cJSON_AddStringToObject(o, "type", hc_fig_type_names[g->type]);
        cJSON_AddNumberToObject(o, "points", g->points);
        cJSON_AddBoolToObject(o, "rendered", g->rendered);
        cJSON *fl = cJSON_AddArrayToObject(o, "files");
        static const char *const ext[] = {"csv", "gp", "png", "pdf"};
        for (int k = 0; k < (g->rendered ? 4 : 2); k++) {
            char nm[256];
            snprintf(nm, sizeof nm, "figures/%s.%s", g->name, ext[k]);
            cJSON_AddItemToArray(fl, cJSON_CreateString(nm));
        }
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

static cJSON *summary_json(const hc_results *r, cJSON *tables, cJSON *figures)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *prov = hc_provenance_json();
    cJSON *cfg = cJSON_AddObjectToObject(prov, "config");
    cJSON_AddStringToObject(cfg, "command", "run");
    cJSON_AddStringToObject(cfg, "config_path", r->config_path);
    cJSON_AddItemToObject(cfg, "config", r->config ? cJSON_Duplicate(r->config, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(cfg, "resolved", r->resolved ? cJSON_Duplicate(r->resolved, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(doc, "provenance", prov);
    cJSON_AddStringToObject(doc, "name", r->name);
    cJSON_AddStringToObject(doc, "description", r->description);
    if (r->eng_mask & (1u << HC_ENG_LIVE)) {
        cJSON *sd = cJSON_AddArrayToObject(doc, "seeds");
        for (int i = 0; i < r->live.n_seeds; i++) cJSON_AddItemToArray(sd, cJSON_CreateNumber((double)r->live.seeds[i]));
    }
    cJSON *cells = cJSON_AddArrayToObject(doc, "cells");
    for (int i = 0; i < r->n_cells; i++) cJSON_AddItemToArray(cells, cell_json(&r->cells[i]));
    cJSON_AddItemToObject(doc, "tables", tables);
    cJSON_AddItemToObject(doc, "figures", figures);
    return doc;
}

/* ---- all outputs ------------------------------------------------------------------------------------ */

static hc_status write_sbuf(hc_outset *set, const char *dir, const char *name, sbuf *b)
{
    char path[1200];
    hc_status s = hc_path_join(path, sizeof path, dir, name);
    if (s == HC_OK) return sb_write(b, set, path);
    free(b->p);
    memset(b, 0, sizeof *b);
    return s;
}

/* Every file is a member of one output set, renamed into place together
 * at the end: a failure part-way leaves none of this run's report files
 * (and a previous run's complete report as it was). */
hc_status hc_report_write(const hc_results *r, const hc_report_opts *o, hc_report_counts *counts)
{
    memset(counts, 0, sizeof *counts);
    char path[1200], fig_dir[1100];
    rep_table *tables;
    int nt;
    HC_TRY(rep_tables_build(r, &tables, &nt));
    hc_outset *set = NULL;
    hc_status s = hc_outset_new(&set);
    if (s == HC_OK) s = hc_path_join(path, sizeof path, o->dir, "results.csv");
    if (s == HC_OK) s = rep_write_results_csv(r, set, path);
    if (s == HC_OK) s = hc_path_join(path, sizeof path, o->dir, "per_sample.csv");
    if (s == HC_OK) s = rep_write_per_sample_csv(r, set, path);
    rep_figs figs = {0};
    if (s == HC_OK) s = hc_path_join(fig_dir, sizeof fig_dir, o->dir, "figures");
    if (s == HC_OK && r->n_figs) s = hc_mkdir_p(fig_dir);
    if (s == HC_OK) s = rep_write_figures(r, set, fig_dir, o->render, o->quiet, &figs);
    if (s == HC_OK) *counts = figs.counts;
    cJSON *doc = summary_json(r, rep_tables_json(r, tables, nt), figures_json(&figs));
    free(figs.list);
    if (s == HC_OK) s = hc_path_join(path, sizeof path, o->dir, "summary.json");
    if (s == HC_OK) s = hc_write_json_in(set, path, doc);
    cJSON_Delete(doc);
    sbuf b = {0};
    rep_write_md(&b, r, tables, nt);
    if (s == HC_OK) s = write_sbuf(set, o->dir, "table.md", &b);
    free(b.p);
    memset(&b, 0, sizeof b);
    rep_write_tex(&b, r, tables, nt);
    if (s == HC_OK) s = write_sbuf(set, o->dir, "table.tex", &b);
    free(b.p);
    rep_tables_free(tables, nt);
    return hc_outset_finish(set, s);
}
