/* replay_out.c: replay results at the output edge: results.csv, summary.json
 * and the compact table (replay.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "provenance.h"
#include "replay.h"

static cJSON *stat_block(const hc_replay_stat *st, int n_files)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)st->n);
    if (st->n) {
        cJSON_AddNumberToObject(o, "mean", st->mean);
        cJSON_AddNumberToObject(o, "median", st->median);
        cJSON_AddNumberToObject(o, "p95", st->p95);
    }
    cJSON_AddItemToObject(o, "file_means", cJSON_CreateDoubleArray(st->file_means, n_files));
    if (st->has_ci) {
        cJSON_AddNumberToObject(o, "files_mean", st->files_mean);
        cJSON *ci = cJSON_AddArrayToObject(o, "ci95");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(st->ci95[0]));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(st->ci95[1]));
    }
    return o;
}

/* Under the zero and skip policies: what was done to rows with NaN/Inf. */
static cJSON *nonfinite_block(const hc_replay_opts *op, const hc_replay_method *a, int n_files)
{
    cJSON *nf = cJSON_CreateObject();
    cJSON_AddStringToObject(nf, "policy", hc_traj_nonfinite_name(op->nonfinite));
    cJSON *z = cJSON_AddArrayToObject(nf, "zeroed_rows"), *k = cJSON_AddArrayToObject(nf, "skipped_rows");
    for (int f = 0; f < n_files; f++) {
        cJSON_AddItemToArray(z, cJSON_CreateNumber((double)(a->zeroed_rows ? a->zeroed_rows[f] : 0)));
        cJSON_AddItemToArray(k, cJSON_CreateNumber((double)(a->skipped_rows ? a->skipped_rows[f] : 0)));
    }
    cJSON_AddStringToObject(nf, "meaning", "per file: rows with NaN/Inf set to 0 that this method observed, clustered"
                                           " or scored; cached-step rows with NaN/Inf left out of its scores (skip)");
    return nf;
}

static cJSON *method_summary(const hc_replay_opts *op, const hc_replay_method *a, int n_files)
{
    const hc_method *m = &a->method;
    cJSON *o = cJSON_CreateObject();
    char buf[512];
    cJSON_AddStringToObject(o, "spec", m->spec);
    hc_method_describe(m, buf, sizeof buf);
    cJSON_AddStringToObject(o, "resolved", buf);
    hc_method_label(m, buf, sizeof buf);
    cJSON_AddStringToObject(o, "label", buf);
    cJSON_AddNumberToObject(o, "steps", a->steps);
    cJSON_AddNumberToObject(o, "full_steps", a->full_steps);
    if (a->analytic) {
        cJSON_AddNumberToObject(o, "flops_speedup", a->flops_speedup);
        cJSON_AddNumberToObject(o, "flops", a->flops);
        cJSON_AddStringToObject(o, "flops_model", "analytic per-module MAC model of the recording's model "
                                                  "(embedders, modulation, final layer and forecast axpys at cached steps)");
    } else {
        cJSON_AddNumberToObject(o, "flops_speedup", a->flops_speedup);
        cJSON_AddStringToObject(o, "flops_model", "steps / full steps (the files do not name a known model)");
    }
    cJSON_AddNumberToObject(o, "cache_bytes", (double)a->cache_bytes);
    int cs = a->cluster_sources;
    if (cs)
        cJSON_AddStringToObject(o, "cluster_source",
                                cs == 1 ? "/hidden (last hidden state with the module's token count)"
                                : cs == 2 ? "own full-step feature (file has no matching /hidden)"
                                          : "/hidden where the token count matches, else the module's own feature");
    cJSON *mets = cJSON_AddObjectToObject(o, "metrics");
    for (int k = 0; k < HC_N_METRICS; k++) cJSON_AddItemToObject(mets, hc_metric_names[k], stat_block(&a->stat[k], n_files));
    if (op->nonfinite != HC_NONFINITE_REFUSE) cJSON_AddItemToObject(o, "nonfinite", nonfinite_block(op, a, n_files));
    cJSON *byh = cJSON_AddArrayToObject(o, "by_horizon");
    for (int i = 0; i < a->n_horizons; i++) {
        const hc_replay_horizon *h = &a->by_horizon[i];
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "horizon", h->horizon);
        cJSON_AddNumberToObject(row, "n", (double)h->n);
        for (int k = 0; k < HC_N_METRICS; k++) cJSON_AddNumberToObject(row, hc_metric_names[k], h->mean[k]);
        cJSON_AddItemToArray(byh, row);
    }
    return o;
}

cJSON *hc_replay_summary(const hc_replay_opts *o, const hc_replay_result *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *prov = hc_provenance_json();
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "command", "replay");
    cJSON *files = cJSON_AddArrayToObject(cfg, "files");
    for (int f = 0; f < o->n_files; f++) cJSON_AddItemToArray(files, cJSON_CreateString(o->files[f]));
    cJSON *ms = cJSON_AddArrayToObject(cfg, "methods");
    for (int m = 0; m < o->n_methods; m++) cJSON_AddItemToArray(ms, cJSON_CreateString(o->methods[m].spec));
    cJSON_AddStringToObject(cfg, "modules", o->modules_glob ? o->modules_glob : "*");
    if (o->nonfinite != HC_NONFINITE_REFUSE) { /* the default leaves the document as it was */
        cJSON_AddStringToObject(cfg, "nonfinite", hc_traj_nonfinite_name(o->nonfinite));
        cJSON *nt = cJSON_AddArrayToObject(doc, "nonfinite_step_times");
        for (int f = 0; f < r->n_files; f++) cJSON_AddItemToArray(nt, cJSON_CreateNumber(r->files[f].nonfinite_times));
    }
    cJSON_AddItemToObject(prov, "config", cfg);
    cJSON_AddItemToObject(doc, "provenance", prov);
    cJSON_AddNumberToObject(doc, "n_files", r->n_files);
    cJSON *arr = cJSON_AddArrayToObject(doc, "methods");
    for (int m = 0; m < r->n_methods; m++) cJSON_AddItemToArray(arr, method_summary(o, &r->methods[m], r->n_files));
    return doc;
}

/* (file, module, step) order of two records */
static int rec_cmp(const hc_replay_record *a, const hc_replay_record *b)
{
    if (a->file != b->file) return a->file < b->file ? -1 : 1;
    if (a->module != b->module) return a->module < b->module ? -1 : 1;
    return (a->step > b->step) - (a->step < b->step);
}

/* results.csv rows in (file, module, step, method) order: each method's
 * records are already sorted; merge them. */
static hc_status write_csv(FILE *csv, const hc_replay_result *r)
{
    fprintf(csv, "method,file,module,step,horizon,metric,value\n");
    size_t *cur = calloc((size_t)r->n_methods + 1, sizeof *cur);
    if (!cur) return hc_fail(HC_ENOMEM, "out of memory");
    for (;;) {
        const hc_replay_record *next = NULL;
        for (int m = 0; m < r->n_methods; m++) {
            const hc_replay_method *a = &r->methods[m];
            if (cur[m] < a->n_records && (!next || rec_cmp(&a->records[cur[m]], next) < 0)) next = &a->records[cur[m]];
        }
        if (!next) break;
        const hc_replay_record key = *next;
        for (int m = 0; m < r->n_methods; m++) {
            const hc_replay_method *a = &r->methods[m];
            if (cur[m] >= a->n_records || rec_cmp(&a->records[cur[m]], &key) != 0) continue;
            const hc_replay_record *rec = &a->records[cur[m]++];
            const hc_replay_file *f = &r->files[rec->file];
            for (int k = 0; k < HC_N_METRICS; k++) {
                /* specs hold commas: quoted fields (RFC 4180) */
                hc_csv_field(csv, a->method.spec);
                fputc(',', csv);
                hc_csv_field(csv, f->path);
                fputc(',', csv);
                hc_csv_field(csv, f->modules[rec->module]);
                fprintf(csv, ",%d,%d,%s,%.9g\n", rec->step, rec->horizon, hc_metric_names[k], rec->v[k]);
            }
        }
    }
    free(cur);
    return HC_OK;
}

hc_status hc_replay_write(const hc_replay_opts *o, const hc_replay_result *r)
{
    HC_TRY(hc_mkdir_p(o->out_dir));
    char csv_path[1024], json_path[1024];
    HC_TRY(hc_path_join(csv_path, sizeof csv_path, o->out_dir, "results.csv"));
    HC_TRY(hc_path_join(json_path, sizeof json_path, o->out_dir, "summary.json"));
    /* one output set: both files appear together, or neither */
    hc_outset *set = NULL;
    HC_TRY(hc_outset_new(&set));
    hc_outfile *csv = NULL;
    hc_status st = hc_outfile_open_in(set, csv_path, &csv);
    if (st == HC_OK) st = write_csv(hc_outfile_fp(csv), r);
    if (st == HC_OK) {
        st = hc_outfile_commit(csv);
        csv = NULL;
    }
    hc_outfile_abort(csv);
    if (st == HC_OK) {
        cJSON *doc = hc_replay_summary(o, r);
        st = hc_write_json_in(set, json_path, doc);
        cJSON_Delete(doc);
    }
    return hc_outset_finish(set, st);
}

hc_status hc_replay_run(const hc_replay_opts *o, cJSON **summary)
{
    if (summary) *summary = NULL;
    hc_replay_result *r = NULL;
    HC_TRY(hc_replay_compute(o, &r));
    hc_status st = hc_replay_write(o, r);
    if (st == HC_OK && summary) *summary = hc_replay_summary(o, r);
    hc_replay_result_free(r);
    return st;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static double sum_array(const cJSON *a)
{
    double t = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) t += cJSON_IsNumber(x) ? x->valuedouble : 0;
    return t;
}

/* Under the zero and skip policies, a line saying what was done. */
static void print_nonfinite(const cJSON *summary, FILE *f)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(summary, "provenance"), "config");
    const char *pol = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "nonfinite"));
    if (!pol) return;
    double z = 0, k = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(summary, "methods"))
    {
        const cJSON *nf = cJSON_GetObjectItemCaseSensitive(m, "nonfinite");
        z += sum_array(cJSON_GetObjectItemCaseSensitive(nf, "zeroed_rows"));
        k += sum_array(cJSON_GetObjectItemCaseSensitive(nf, "skipped_rows"));
    }
    double t = sum_array(cJSON_GetObjectItemCaseSensitive(summary, "nonfinite_step_times"));
    fprintf(f, "\nnon-finite values (--nonfinite %s): %.0f rows set to 0, %.0f rows left out of the scores, "
               "%.0f step times set to 0 (over all methods and files; per file in summary.json)\n", pol, z, k, t);
}

/* Characters of a UTF-8 string (bytes less continuation bytes). */
static int display_width(const char *s)
{
    int w = 0;
    for (; s && *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

void hc_replay_print_table(const cJSON *summary, FILE *f)
{
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(summary, "methods");
    int nf = (int)num(summary, "n_files"), col = 36; /* the label column: 36 or the longest label */
    const cJSON *m;
    cJSON_ArrayForEach(m, methods)
    {
        int w = display_width(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "label")));
        if (w > col) col = w;
    }
    fprintf(f, "%-*s %9s %7s %10s %10s %10s %9s %10s%s\n", col, "method", "full/S", "speedup", "rel_l2", "median",
            "p95", "cosine", "max_abs", nf >= 2 ? "   rel_l2 95% CI over files" : "");
    cJSON_ArrayForEach(m, methods)
    {
        const cJSON *mets = cJSON_GetObjectItemCaseSensitive(m, "metrics");
        const cJSON *l2 = cJSON_GetObjectItemCaseSensitive(mets, "rel_l2");
        const cJSON *cs = cJSON_GetObjectItemCaseSensitive(mets, "cosine");
        const cJSON *mx = cJSON_GetObjectItemCaseSensitive(mets, "max_abs");
        char fs[32];
        snprintf(fs, sizeof fs, "%d/%d", (int)num(m, "full_steps"), (int)num(m, "steps"));
        const char *label = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "label"));
        int w = col + (int)strlen(label) - display_width(label); /* printf pads bytes, not characters (σ) */
        if (num(l2, "n") == 0) {
            fprintf(f, "%-*s %9s %6.2fx %10s %10s %10s %9s %10s\n", w, label, fs, num(m, "flops_speedup"),
                    "0", "-", "-", "1", "0");
            continue;
        }
        fprintf(f, "%-*s %9s %6.2fx %10.4g %10.4g %10.4g %9.6f %10.4g", w, label, fs, num(m, "flops_speedup"),
                num(l2, "mean"), num(l2, "median"), num(l2, "p95"), num(cs, "mean"), num(mx, "mean"));
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(l2, "ci95");
        if (cJSON_GetArraySize(ci) == 2)
            fprintf(f, "   [%.4g, %.4g]", cJSON_GetArrayItem(ci, 0)->valuedouble, cJSON_GetArrayItem(ci, 1)->valuedouble);
        fputc('\n', f);
    }
    print_nonfinite(summary, f);
}
