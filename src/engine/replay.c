/* replay.c: the open-loop replay engine (see replay.h). */
#include "replay.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "kmeans.h"
#include "flux.h"
#include "outfile.h"
#include "provenance.h"
#include "traj.h"

/* ---- growing arrays of doubles ------------------------------------------------ */

typedef struct dvec { double *v; size_t n, cap; } dvec;

static hc_status dvec_push(dvec *d, double x)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? 2 * d->cap : 256;
        double *nv = realloc(d->v, nc * sizeof *nv);
        if (!nv) return hc_fail(HC_ENOMEM, "out of memory collecting metrics");
        d->v = nv;
        d->cap = nc;
    }
    d->v[d->n++] = x;
    return HC_OK;
}

/* ---- per-method accumulators ---------------------------------------------------- */

typedef struct macc {
    dvec all[HC_N_METRICS];          /* every (file, module, step) value */
    dvec file_mean[HC_N_METRICS];    /* one mean per file */
    double fsum[HC_N_METRICS];       /* current file's sums */
    size_t fn;
    double (*hsum)[HC_N_METRICS];    /* by horizon 0..nh-1 (horizons are < N) */
    size_t *hn;
    int nh;
    int full_steps, steps;           /* of the last file */
    size_t cache_bytes;              /* of the last file: all modules */
    int analytic;                    /* every file so far carried a model config */
    int steps_seen_file;
    double macs_full, macs_run;      /* analytic MACs per sampling run (last file) */
    int used_hidden, used_own;       /* ClusCa clustering inputs seen */
} macc;

/* ---- ClusCa clustering per (method, token count) -------------------------------- */

typedef struct clus {
    int method;
    size_t T;
    int *labels;       /* [S][T]: labels valid at step s; NULL: cluster on own feature */
    int K;
} clus;

typedef struct fresh_ud { const float *truth; size_t D; } fresh_ud;

static hc_status fresh_from_truth(void *ud, const int *tok, int n, float *rows)
{
    const fresh_ud *f = ud;
    for (int i = 0; i < n; i++)
        memcpy(rows + (size_t)i * f->D, f->truth + (size_t)tok[i] * f->D, f->D * sizeof *rows);
    return HC_OK;
}

static int is_clusca(const hc_method *m) { return m->base != NULL; }

/* Labels at every step for method m on tokens of count T from the last
 * hidden dataset of that token count; labels = NULL when there is none. */
static hc_status cluster_hidden(hc_traj *t, const hc_method *m, const unsigned char *full, size_t T,
                                clus *c)
{
    int S = hc_traj_get_meta(t)->num_steps;
    long src = -1;
    for (size_t i = 0; i < hc_traj_num_entries(t); i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        if (e->kind == HC_ENTRY_HIDDEN && (size_t)e->dims[1] == T) src = (long)i;
    }
    c->labels = NULL;
    if (src < 0) return HC_OK;
    const hc_traj_entry *e = hc_traj_entry_at(t, (size_t)src);
    size_t D = (size_t)e->dims[2];
    float *row = malloc(T * D * sizeof *row);
    c->labels = malloc((size_t)S * T * sizeof *c->labels);
    hc_kmeans *km = NULL;
    hc_status st = HC_OK;
    if (!row || !c->labels) { st = hc_fail(HC_ENOMEM, "out of memory clustering %zu tokens", T); goto done; }
    if ((st = hc_kmeans_alloc(m->K, T, D, m->seed, m->kmeans_iters, &km)) != HC_OK) goto done;
    c->K = hc_kmeans_k(km);
    for (int s = 0; s < S; s++) {
        if (full[s]) {
            if ((st = hc_traj_read_row(t, (size_t)src, s, row)) != HC_OK) goto done;
            hc_kmeans_run(km, row);
        }
        memcpy(c->labels + (size_t)s * T, hc_kmeans_labels(km), T * sizeof *c->labels);
    }
done:
    hc_kmeans_free(km);
    free(row);
    return st;
}

/* ---- one file -------------------------------------------------------------------------- */

typedef struct run {
    const hc_replay_opts *o;
    macc *acc;
    FILE *csv;
} run;

static hc_status replay_file(run *r, const char *path)
{
    const hc_replay_opts *o = r->o;
    int M = o->n_methods;
    hc_traj *t = NULL;
    HC_TRY(hc_traj_open(path, &t));
    int S = hc_traj_get_meta(t)->num_steps;
    hc_status st = HC_OK;
    unsigned char *full = calloc((size_t)M * S, 1);
    hc_predictor **pred = calloc((size_t)M, sizeof *pred);
    hc_kmeans **own = calloc((size_t)M, sizeof *own);
    const int **labels_of = calloc((size_t)M, sizeof *labels_of);
    int *K_of = calloc((size_t)M, sizeof *K_of);
    int *anchor = malloc((size_t)M * S * sizeof *anchor); /* last full step at or before s */
    clus *cl = NULL;
    size_t n_cl = 0;
    float *truth = NULL, *fc = NULL;
    size_t n_used = 0;
    if (!full || !pred || !own || !labels_of || !K_of || !anchor) { st = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
    for (int m = 0; m < M; m++) {
        r->acc[m].full_steps = hc_schedule_mask(&o->methods[m].sched, S, full + (size_t)m * S);
        for (int s = 0, a = 0; s < S; s++) anchor[(size_t)m * S + s] = a = full[(size_t)m * S + s] ? s : a;
        r->acc[m].steps = S;
        r->acc[m].cache_bytes = 0;
        memset(r->acc[m].fsum, 0, sizeof r->acc[m].fsum);
        r->acc[m].fn = 0;
    }
    /* analytic FLOPs where the file says which model produced it */
    hc_flux_config mcfg;
    int have_model = 0;
    const char *prov = hc_traj_get_meta(t)->provenance;
    cJSON *pj = prov ? cJSON_Parse(prov) : NULL;
    const cJSON *cfgj = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pj, "model_metadata"), "config");
    if (cfgj && hc_flux_config_parse(path, cfgj, &mcfg) == HC_OK) have_model = 1;
    hc_errclear();
    cJSON_Delete(pj);
    for (int m = 0; m < M; m++) {
        macc *a = &r->acc[m];
        a->analytic = (a->analytic || !a->steps_seen_file) && have_model;
        a->steps_seen_file = 1;
        if (have_model) {
            double fm, cm;
            hc_flux_config_macs(&mcfg, &o->methods[m], 1, &fm, &cm);
            a->macs_full = fm * S;
            a->macs_run = fm * a->full_steps + cm * (S - a->full_steps);
        }
    }
    size_t maxTD = 0;
    for (size_t i = 0; i < hc_traj_num_features(t); i++) {
        size_t n = hc_traj_entry_at(t, i)->row_elems;
        if (n > maxTD) maxTD = n;
    }
    truth = malloc(maxTD * sizeof *truth);
    fc = malloc(maxTD * sizeof *fc);
    if (!truth || !fc) { st = hc_fail(HC_ENOMEM, "out of memory for one step of %zu floats", maxTD); goto done; }

    for (size_t i = 0; i < hc_traj_num_features(t) && st == HC_OK; i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        if (o->modules_glob && fnmatch(o->modules_glob, e->name, 0) != 0) continue;
        n_used++;
        size_t T = (size_t)e->dims[1], D = (size_t)e->dims[2], n = T * D;
        int fresh_ok_mlp = strstr(e->module, "mlp") != NULL;
        for (int m = 0; m < M && st == HC_OK; m++) {
            labels_of[m] = NULL;
            st = hc_predictor_alloc(&o->methods[m], T, D, (unsigned long)i, &pred[m]);
            if (st != HC_OK || !is_clusca(&o->methods[m])) continue;
            clus *c = NULL;
            for (size_t k = 0; k < n_cl; k++)
                if (cl[k].method == m && cl[k].T == T) c = &cl[k];
            if (!c) {
                clus *nc = realloc(cl, (n_cl + 1) * sizeof *cl);
                if (!nc) { st = hc_fail(HC_ENOMEM, "out of memory"); break; }
                cl = nc;
                c = &cl[n_cl++];
                memset(c, 0, sizeof *c);
                c->method = m;
                c->T = T;
                st = cluster_hidden(t, &o->methods[m], full + (size_t)m * S, T, c);
                if (st != HC_OK) break;
            }
            if (c->labels) {
                labels_of[m] = c->labels;
                K_of[m] = c->K;
                r->acc[m].used_hidden = 1;
            } else {
                st = hc_kmeans_alloc(o->methods[m].K, T, D, o->methods[m].seed, o->methods[m].kmeans_iters, &own[m]);
                r->acc[m].used_own = 1;
            }
        }
        fresh_ud fud = {truth, D};
        for (int s = 0; s < S && st == HC_OK; s++) {
            if ((st = hc_traj_read_row(t, i, s, truth)) != HC_OK) break;
            for (int m = 0; m < M && st == HC_OK; m++) {
                const hc_method *me = &o->methods[m];
                hc_step_ctx ctx = {.step = s, .fresh = fresh_from_truth, .fresh_ud = &fud,
                                   .fresh_ok = me->fresh_all || fresh_ok_mlp};
                if (labels_of[m]) {
                    ctx.labels = labels_of[m] + (size_t)s * T;
                    ctx.n_clusters = K_of[m];
                } else if (own[m]) {
                    ctx.labels = hc_kmeans_labels(own[m]);
                    ctx.n_clusters = hc_kmeans_k(own[m]);
                }
                if (full[(size_t)m * S + s]) {
                    if (own[m]) hc_kmeans_run(own[m], truth);
                    pred[m]->type->observe(pred[m]->state, &ctx, truth);
                    continue;
                }
                if ((st = pred[m]->type->predict(pred[m]->state, &ctx, fc)) != HC_OK) break;
                double v[HC_N_METRICS];
                hc_metrics_compute(fc, truth, n, v);
                int h = s - anchor[(size_t)m * S + s];
                macc *a = &r->acc[m];
                for (int k = 0; k < HC_N_METRICS; k++) {
                    /* specs hold commas: quoted fields (RFC 4180) */
                    hc_csv_field(r->csv, me->spec);
                    fputc(',', r->csv);
                    hc_csv_field(r->csv, path);
                    fputc(',', r->csv);
                    hc_csv_field(r->csv, e->name);
                    fprintf(r->csv, ",%d,%d,%s,%.9g\n", s, h, hc_metric_names[k], v[k]);
                    if ((st = dvec_push(&a->all[k], v[k])) != HC_OK) break;
                    a->fsum[k] += v[k];
                    if (h < a->nh) a->hsum[h][k] += v[k];
                }
                a->fn++;
                if (h < a->nh) a->hn[h]++;
            }
        }
        for (int m = 0; m < M; m++) {
            if (pred[m]) r->acc[m].cache_bytes += pred[m]->type->cache_bytes(pred[m]->state);
            hc_predictor_free(pred[m]);
            pred[m] = NULL;
            hc_kmeans_free(own[m]);
            own[m] = NULL;
        }
    }
    if (st == HC_OK && n_used == 0)
        st = hc_fail(HC_EINVAL, "%s: no feature module matches '%s'", path, o->modules_glob ? o->modules_glob : "*");
    for (int m = 0; m < M && st == HC_OK; m++) {
        macc *a = &r->acc[m];
        for (int k = 0; k < HC_N_METRICS && st == HC_OK; k++) {
            /* no cached step (N=1): every output is the true feature */
            double mean = a->fn ? a->fsum[k] / (double)a->fn : (k == HC_COSINE ? 1.0 : 0.0);
            st = dvec_push(&a->file_mean[k], mean);
        }
    }
done:
    for (int m = 0; pred && m < M; m++) hc_predictor_free(pred[m]);
    for (int m = 0; own && m < M; m++) hc_kmeans_free(own[m]);
    for (size_t k = 0; k < n_cl; k++) free(cl[k].labels);
    free(cl);
    free(pred);
    free(own);
    free(labels_of);
    free(K_of);
    free(anchor);
    free(full);
    free(truth);
    free(fc);
    hc_traj_close(t);
    return st;
}

/* ---- summary ------------------------------------------------------------------------------ */

static cJSON *stat_block(dvec *all, dvec *file_mean)
{
    cJSON *o = cJSON_CreateObject();
    size_t n = all->n;
    cJSON_AddNumberToObject(o, "n", (double)n);
    if (n) {
        gsl_sort(all->v, 1, n);
        cJSON_AddNumberToObject(o, "mean", gsl_stats_mean(all->v, 1, n));
        cJSON_AddNumberToObject(o, "median", gsl_stats_quantile_from_sorted_data(all->v, 1, n, 0.5));
        cJSON_AddNumberToObject(o, "p95", gsl_stats_quantile_from_sorted_data(all->v, 1, n, 0.95));
    }
    size_t nf = file_mean->n;
    cJSON_AddItemToObject(o, "file_means", cJSON_CreateDoubleArray(file_mean->v, (int)nf));
    if (nf >= 2) {
        double mu = gsl_stats_mean(file_mean->v, 1, nf), sd = gsl_stats_sd(file_mean->v, 1, nf);
        double half = gsl_cdf_tdist_Pinv(0.975, (double)(nf - 1)) * sd / sqrt((double)nf);
        cJSON_AddNumberToObject(o, "files_mean", mu);
        cJSON *ci = cJSON_AddArrayToObject(o, "ci95");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(mu - half));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(mu + half));
    }
    return o;
}

static cJSON *method_summary(const hc_method *m, macc *a)
{
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
        cJSON_AddNumberToObject(o, "flops_speedup", a->macs_full / a->macs_run);
        cJSON_AddNumberToObject(o, "flops", 2 * a->macs_run);
        cJSON_AddStringToObject(o, "flops_model", "analytic per-module MAC model of the recording's model "
                                                  "(embedders, modulation, final layer and forecast axpys at cached steps)");
    } else {
        cJSON_AddNumberToObject(o, "flops_speedup", a->full_steps ? (double)a->steps / a->full_steps : 0);
        cJSON_AddStringToObject(o, "flops_model", "steps / full steps (the files do not name a known model)");
    }
    /* every step full: nothing needs caching */
    cJSON_AddNumberToObject(o, "cache_bytes", a->full_steps == a->steps ? 0.0 : (double)a->cache_bytes);
    if (a->used_hidden || a->used_own)
        cJSON_AddStringToObject(o, "cluster_source",
                                !a->used_own ? "/hidden (last hidden state with the module's token count)"
                                : !a->used_hidden ? "own full-step feature (file has no matching /hidden)"
                                                  : "/hidden where the token count matches, else the module's own feature");
    cJSON *mets = cJSON_AddObjectToObject(o, "metrics");
    for (int k = 0; k < HC_N_METRICS; k++)
        cJSON_AddItemToObject(mets, hc_metric_names[k], stat_block(&a->all[k], &a->file_mean[k]));
    cJSON *byh = cJSON_AddArrayToObject(o, "by_horizon");
    for (int h = 1; h < a->nh; h++) {
        if (!a->hn[h]) continue;
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "horizon", h);
        cJSON_AddNumberToObject(row, "n", (double)a->hn[h]);
        for (int k = 0; k < HC_N_METRICS; k++)
            cJSON_AddNumberToObject(row, hc_metric_names[k], a->hsum[h][k] / (double)a->hn[h]);
        cJSON_AddItemToArray(byh, row);
    }
    return o;
}

hc_status hc_replay_run(const hc_replay_opts *o, cJSON **summary)
{
    if (summary) *summary = NULL;
    if (o->n_files < 1) return hc_fail(HC_EINVAL, "no trajectory file given (--traj FILE...)");
    if (o->n_methods < 1) return hc_fail(HC_EINVAL, "no method given (--method SPEC...)");
    HC_TRY(hc_mkdir_p(o->out_dir));
    char csv_path[1024], json_path[1024];
    HC_TRY(hc_path_join(csv_path, sizeof csv_path, o->out_dir, "results.csv"));
    HC_TRY(hc_path_join(json_path, sizeof json_path, o->out_dir, "summary.json"));
    macc *acc = calloc((size_t)o->n_methods, sizeof *acc);
    if (!acc) return hc_fail(HC_ENOMEM, "out of memory");
    for (int m = 0; m < o->n_methods; m++) { /* a horizon is below the interval N */
        acc[m].nh = o->methods[m].sched.N + 1;
        acc[m].hsum = calloc((size_t)acc[m].nh, sizeof *acc[m].hsum);
        acc[m].hn = calloc((size_t)acc[m].nh, sizeof *acc[m].hn);
        if (!acc[m].hsum || !acc[m].hn) {
            for (int k = 0; k <= m; k++) {
                free(acc[k].hsum);
                free(acc[k].hn);
            }
            free(acc);
            return hc_fail(HC_ENOMEM, "out of memory");
        }
    }
    hc_outfile *csv = NULL;
    cJSON *doc = NULL;
    hc_status st = HC_OK;
    /* validate every file and the module filter before any work */
    for (int f = 0; f < o->n_files && st == HC_OK; f++) {
        hc_traj *t;
        if ((st = hc_traj_open(o->files[f], &t)) != HC_OK) break;
        int hit = 0;
        for (size_t i = 0; i < hc_traj_num_features(t) && !hit; i++)
            hit = !o->modules_glob || fnmatch(o->modules_glob, hc_traj_entry_at(t, i)->name, 0) == 0;
        if (!hit) st = hc_fail(HC_EINVAL, "%s: no feature module matches '%s'", o->files[f], o->modules_glob);
        hc_traj_close(t);
    }
    if (st == HC_OK) st = hc_outfile_open(csv_path, &csv);
    if (st == HC_OK) {
        run r = {o, acc, hc_outfile_fp(csv)};
        fprintf(r.csv, "method,file,module,step,horizon,metric,value\n");
        for (int f = 0; f < o->n_files && st == HC_OK; f++) {
            if (!o->quiet) fprintf(stderr, "replay: [%d/%d] %s\n", f + 1, o->n_files, o->files[f]);
            st = replay_file(&r, o->files[f]);
        }
    }
    if (st == HC_OK) {
        doc = cJSON_CreateObject();
        cJSON *prov = hc_provenance_json();
        cJSON *cfg = cJSON_CreateObject();
        cJSON_AddStringToObject(cfg, "command", "replay");
        cJSON *files = cJSON_AddArrayToObject(cfg, "files");
        for (int f = 0; f < o->n_files; f++) cJSON_AddItemToArray(files, cJSON_CreateString(o->files[f]));
        cJSON *ms = cJSON_AddArrayToObject(cfg, "methods");
        for (int m = 0; m < o->n_methods; m++) cJSON_AddItemToArray(ms, cJSON_CreateString(o->methods[m].spec));
        cJSON_AddStringToObject(cfg, "modules", o->modules_glob ? o->modules_glob : "*");
        cJSON_AddItemToObject(prov, "config", cfg);
        cJSON_AddItemToObject(doc, "provenance", prov);
        cJSON_AddNumberToObject(doc, "n_files", o->n_files);
        cJSON *arr = cJSON_AddArrayToObject(doc, "methods");
        for (int m = 0; m < o->n_methods; m++) cJSON_AddItemToArray(arr, method_summary(&o->methods[m], &acc[m]));
        st = hc_outfile_commit(csv);
        csv = NULL;
        if (st == HC_OK) st = hc_write_json(json_path, doc);
    }
    hc_outfile_abort(csv);
    for (int m = 0; m < o->n_methods; m++) {
        for (int k = 0; k < HC_N_METRICS; k++) {
            free(acc[m].all[k].v);
            free(acc[m].file_mean[k].v);
        }
        free(acc[m].hsum);
        free(acc[m].hn);
    }
    free(acc);
    if (st == HC_OK && summary) *summary = doc;
    else cJSON_Delete(doc);
    return st;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

void hc_replay_print_table(const cJSON *summary, FILE *f)
{
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(summary, "methods");
    int nf = (int)num(summary, "n_files");
    fprintf(f, "%-36s %9s %7s %10s %10s %10s %9s %10s%s\n", "method", "full/S", "speedup", "rel_l2", "median",
            "p95", "cosine", "max_abs", nf >= 2 ? "   rel_l2 95% CI over files" : "");
    const cJSON *m;
    cJSON_ArrayForEach(m, methods)
    {
        const cJSON *mets = cJSON_GetObjectItemCaseSensitive(m, "metrics");
        const cJSON *l2 = cJSON_GetObjectItemCaseSensitive(mets, "rel_l2");
        const cJSON *cs = cJSON_GetObjectItemCaseSensitive(mets, "cosine");
        const cJSON *mx = cJSON_GetObjectItemCaseSensitive(mets, "max_abs");
        char fs[32];
        snprintf(fs, sizeof fs, "%d/%d", (int)num(m, "full_steps"), (int)num(m, "steps"));
        const char *label = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "label"));
        int w = 36; /* printf pads bytes: widen by the UTF-8 continuation bytes (σ) */
        for (const char *c = label; *c; c++) w += ((unsigned char)*c & 0xC0) == 0x80;
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
}
