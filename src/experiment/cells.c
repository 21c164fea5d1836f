/* cells.c: rows and cells of an experiment -- grid expansion, cell ids and
 * keys (with file fingerprints), the resolved config -- and the accessors
 * of experiment.h. */
#include "experiment.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_internal.h"

/* ---- specs ------------------------------------------------------------------------------ */

/* spec with key=value set (replaced if present, appended otherwise). */
hc_status exp_spec_set(const char *spec, const char *key, const char *val, char *out, size_t n)
{
    const char *at = strchr(spec, '@');
    if (at) { /* PREDICTOR@POLICY: the key goes to the part that takes it */
        char pred[HC_SPEC_MAX], pol[HC_SPEC_MAX], tmp[2 * HC_SPEC_MAX];
        snprintf(pred, sizeof pred, "%.*s", (int)(at - spec), spec);
        snprintf(pol, sizeof pol, "%s", at + 1);
        int to_pol = hc_policy_takes_key(pol, key);
        HC_TRY(exp_spec_set(to_pol ? pol : pred, key, val, tmp, sizeof tmp));
        int len = snprintf(out, n, "%s@%s", to_pol ? pred : tmp, to_pol ? tmp : pol);
        return len < 0 || (size_t)len >= n ? hc_fail(HC_EINVAL, "method spec longer than %zu characters", n - 1) : HC_OK;
    }
    char name[HC_SPEC_MAX], rest[HC_SPEC_MAX] = "";
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    if (nl >= sizeof name) return hc_fail(HC_EINVAL, "spec too long");
    memcpy(name, spec, nl);
    name[nl] = 0;
    if (colon) snprintf(rest, sizeof rest, "%s", colon + 1);
    char built[2 * HC_SPEC_MAX] = "";
    int replaced = 0;
    for (char *save = NULL, *tok = strtok_r(rest, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        size_t kl = eq ? (size_t)(eq - tok) : strlen(tok);
        size_t l = strlen(built);
        if (kl == strlen(key) && strncmp(tok, key, kl) == 0) {
            snprintf(built + l, sizeof built - l, "%s%s=%s", l ? "," : "", key, val);
            replaced = 1;
        } else {
            snprintf(built + l, sizeof built - l, "%s%s", l ? "," : "", tok);
        }
    }
    if (!replaced) {
        size_t l = strlen(built);
        snprintf(built + l, sizeof built - l, "%s%s=%s", l ? "," : "", key, val);
    }
    int len = snprintf(out, n, "%s:%s", name, built);
    if (len < 0 || (size_t)len >= n) return hc_fail(HC_EINVAL, "method spec longer than %zu characters", n - 1);
    return HC_OK;
}

/* A grid value as spec text: numbers in shortest round-trip form. */
void exp_grid_text(const cJSON *x, char *buf, size_t n)
{
    if (cJSON_IsNumber(x)) snprintf(buf, n, "%.15g", x->valuedouble);
    else snprintf(buf, n, "%s", x->valuestring);
}

/* ---- method keys of a row (line figures) ------------------------------------------ */

void exp_row_keys(const exp_row *r, double out[HC_RES_N_ROW_KEYS])
{
    const hc_method *m = &r->method;
    const double v[HC_RES_N_ROW_KEYS] = {m->sched.N, m->sched.W, m->order, m->sigma, m->K, m->gamma, r->steps};
    for (int i = 0; i < HC_RES_N_ROW_KEYS; i++) {
        /* a grid value wins: a fewer-steps row (`full` with steps_matching)
         * has its grid over the matched spec's keys, not over its own */
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(r->grid, hc_res_row_keys[i]);
        out[i] = cJSON_IsNumber(g) && i < HC_RES_N_ROW_KEYS - 1 ? g->valuedouble : v[i];
    }
}

/* ---- cells ------------------------------------------------------------------------------ */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* "size:hash" of a file's size and its first and last MiB: finished cells
 * are not reused when the model or a trajectory file changes underneath. */
static void file_fingerprint(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(out, n, "missing");
        return;
    }
    uint64_t h = 1469598103934665603ULL;
    unsigned char buf[65536];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    for (int part = 0; part < 2; part++) {
        long start = part == 0 ? 0 : (size > (2L << 20) ? size - (1L << 20) : size);
        fseek(f, start, SEEK_SET);
        for (long done = 0; done < (1L << 20);) {
            size_t got = fread(buf, 1, sizeof buf, f);
            if (!got) break;
            for (size_t i = 0; i < got; i++) {
                h ^= buf[i];
                h *= 1099511628211ULL;
            }
            done += (long)got;
        }
    }
    fclose(f);
    snprintf(out, n, "%ld:%016llx", size, (unsigned long long)h);
}

static int full_steps_of(const hc_method *m, int S)
{
    unsigned char *mask = malloc((size_t)S);
    if (!mask) return S;
    int k = hc_schedule_mask(&m->sched, S, mask);
    free(mask);
    return k;
}

/* ---- expansion in linear time ------------------------------------------------------------
 * Rows and cells grow by doubling; identical rows and cells are found
 * through hash indexes (open addressing, linear probing) instead of a scan
 * over everything added before. */

typedef struct exp_index {
    int *slot;    /* index + 1; 0 = empty */
    size_t mask;  /* capacity - 1 (a power of two) */
} exp_index;

typedef struct exp_build {
    hc_experiment *e;
    int cap_rows, cap_cells;
    exp_index rows, cells;   /* rows by (engine, steps, resolved spec), cells by id */
    char model_fp[64];       /* file fingerprints, taken once */
    char (*file_fp)[64];     /* [e->n_files] */
} exp_build;

static hc_status index_init(exp_index *x, double n)
{
    size_t cap = 16;
    while ((double)cap < 2 * n) cap *= 2;
    x->slot = calloc(cap, sizeof *x->slot);
    x->mask = cap - 1;
    return x->slot ? HC_OK : hc_fail(HC_ENOMEM, "out of memory");
}

static uint64_t row_hash(hc_eng eng, int steps, const char *desc)
{
    return fnv1a(desc) ^ ((uint64_t)eng * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)(unsigned)steps * 0xC2B2AE3D27D4EB4FULL);
}

/* The row identical to row `row` (same engine, steps and resolved spec
 * `desc`), or -1 after indexing `row` as new. */
static int index_row(exp_build *b, int row, const char *desc)
{
    const hc_experiment *e = b->e;
    const exp_row *w = &e->rows[row];
    for (size_t i = row_hash(w->eng, w->steps, desc) & b->rows.mask;; i = (i + 1) & b->rows.mask) {
        int k = b->rows.slot[i] - 1;
        if (k < 0) {
            b->rows.slot[i] = row + 1;
            return -1;
        }
        char d2[512];
        hc_method_describe(&e->rows[k].method, d2, sizeof d2);
        if (e->rows[k].eng == w->eng && e->rows[k].steps == w->steps && strcmp(desc, d2) == 0) return k;
    }
}

/* The cell with this id, or -1 after reserving its slot for cell `next`. */
static int index_cell(exp_build *b, const char *id, int next)
{
    for (size_t i = fnv1a(id) & b->cells.mask;; i = (i + 1) & b->cells.mask) {
        int k = b->cells.slot[i] - 1;
        if (k < 0) {
            b->cells.slot[i] = next + 1;
            return -1;
        }
        if (strcmp(b->e->cells[k].id, id) == 0) return k;
    }
}

/* Grow *arr (of elem-size items, *cap of them) to hold n + 1. */
static hc_status grow(void **arr, int *cap, int n, size_t elem)
{
    if (n < *cap) return HC_OK;
    int nc = *cap ? 2 * *cap : 16;
    void *na = realloc(*arr, (size_t)nc * elem);
    if (!na) return hc_fail(HC_ENOMEM, "out of memory");
    *arr = na;
    *cap = nc;
    return HC_OK;
}

static hc_status add_row(exp_build *b, hc_eng eng, int entry, const char *spec, int steps, cJSON *grid, int *out)
{
    hc_experiment *e = b->e;
    if (grow((void **)&e->rows, &b->cap_rows, e->n_rows, sizeof *e->rows) != HC_OK) {
        cJSON_Delete(grid);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    exp_row *r = &e->rows[e->n_rows];
    memset(r, 0, sizeof *r);
    r->eng = eng;
    r->entry = entry;
    r->grid = grid;
    snprintf(r->spec, sizeof r->spec, "%s", spec);
    HC_TRY(hc_method_parse(spec, &r->method));
    r->steps = eng == HC_ENG_LIVE ? (steps ? steps : e->steps) : 0;
    int full = (hc_method_caps(&r->method) & HC_PRED_NO_CACHE) != 0;
    r->is_ref = full && (eng == HC_ENG_REPLAY || r->steps == e->steps);
    hc_method_label(&r->method, r->label, sizeof r->label);
    if (eng == HC_ENG_LIVE && r->steps != e->steps) {
        char l[320];
        if (full) snprintf(l, sizeof l, "Fewer steps (S=%d)", r->steps);
        else snprintf(l, sizeof l, "%.300s, S=%d", r->label, r->steps);
        snprintf(r->label, sizeof r->label, "%s", l);
    }
    *out = e->n_rows++;
    return HC_OK;
}

/* The cell of `row` for the seed e->seeds[si] (replay: si 0, seed 0). */
static hc_status add_cell(exp_build *b, int row, int si)
{
    hc_experiment *e = b->e;
    exp_row *r = &e->rows[row];
    unsigned long seed = r->eng == HC_ENG_LIVE ? e->seeds[si] : 0;
    char desc[512], key[4096];
    hc_method_describe(&r->method, desc, sizeof desc);
    int len;
    if (r->eng == HC_ENG_LIVE) {
        const char *fp = b->model_fp;
        len = snprintf(key, sizeof key,
                       "live|%s|steps=%d|seed=%lu|model=%s|model_fp=%s|n=%d|batch=%d|guidance=%.17g|shift=%d|"
                       "classifier=%s|data=%s|n_real=%d|reference_steps=%d",
                       desc, r->steps, seed, e->model, fp, e->n, e->batch, e->guidance, e->shift, e->classifier,
                       e->classifier[0] ? e->data_dir : "", e->classifier[0] ? e->n_real : 0, e->steps);
    } else {
        len = snprintf(key, sizeof key, "replay|%s|modules=%s|files=", desc, e->modules[0] ? e->modules : "*");
        for (int f = 0; f < e->n_files && len > 0 && (size_t)len < sizeof key; f++)
            len += snprintf(key + len, sizeof key - (size_t)len, "%s%s@%s", f ? ";" : "", e->files[f], b->file_fp[f]);
    }
    if (len < 0 || (size_t)len >= sizeof key) return hc_fail(HC_EINVAL, "%s: cell key too long (too many files?)", e->origin);
    char id[96];
    snprintf(id, sizeof id, "%s-%s-%016llx", hc_eng_names[r->eng], r->method.type->name, (unsigned long long)fnv1a(key));
    HC_TRY(grow((void **)&e->cells, &b->cap_cells, e->n_cells, sizeof *e->cells));
    int idx = index_cell(b, id, e->n_cells);
    if (idx < 0) {
        exp_cell *c = &e->cells[e->n_cells];
        memset(c, 0, sizeof *c);
        snprintf(c->id, sizeof c->id, "%s", id);
        c->eng = r->eng;
        c->row = row;
        c->seed = seed;
        c->seed_idx = si;
        c->steps = r->steps;
        c->ref = -1;
        if (!(c->key = strdup(key))) return hc_fail(HC_ENOMEM, "out of memory");
        if (r->eng == HC_ENG_LIVE) snprintf(c->label, sizeof c->label, "live %.290s seed %lu", r->label, seed);
        else snprintf(c->label, sizeof c->label, "replay %.300s", r->label);
        idx = e->n_cells++;
    }
    r->cells[r->n_cells++] = idx; /* allocated by add_row_cells */
    return HC_OK;
}

/* A new row's cells: one per seed (live), one (replay). */
static hc_status add_row_cells(exp_build *b, int row)
{
    exp_row *r = &b->e->rows[row];
    int n = r->eng == HC_ENG_LIVE ? b->e->n_seeds : 1;
    HC_ASSERT(!r->cells);
    if (!(r->cells = malloc((size_t)n * sizeof *r->cells))) return hc_fail(HC_ENOMEM, "out of memory");
    for (int s = 0; s < n; s++) HC_TRY(add_cell(b, row, s));
    return HC_OK;
}

static hc_status expand_points(exp_build *b, int ei, hc_eng eng, const char *path, const cJSON **const *items,
                               const int *size, int *idx);

/* Expand entry `ei` for engine `eng` into rows and cells (grid in
 * row-major order: the last key varies fastest). */
static hc_status expand_entry(exp_build *b, int ei, hc_eng eng)
{
    hc_experiment *e = b->e;
    const exp_entry *en = &e->entries[ei];
    int nk = en->n_keys, idx[EXP_MAX_KEYS] = {0}, size[EXP_MAX_KEYS];
    char path[64];
    snprintf(path, sizeof path, "$.methods[%d]", ei);
    /* each key's values as an array (cJSON arrays are lists: indexing them is linear) */
    const cJSON **items[EXP_MAX_KEYS] = {NULL};
    hc_status st = HC_OK;
    for (int k = 0; k < nk && st == HC_OK; k++) {
        size[k] = cJSON_GetArraySize(en->values[k]);
        items[k] = malloc(((size_t)size[k] + 1) * sizeof *items[k]);
        if (!items[k]) st = hc_fail(HC_ENOMEM, "out of memory");
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, en->values[k]) if (items[k]) items[k][i++] = v;
    }
    if (st == HC_OK) st = expand_points(b, ei, eng, path, items, size, idx);
    for (int k = 0; k < nk; k++) free((void *)items[k]);
    return st;
}

/* The grid points of entry ei from idx on (items[k][0..size[k]): the values of key k). */
static hc_status expand_points(exp_build *b, int ei, hc_eng eng, const char *path, const cJSON **const *items,
                               const int *size, int *idx)
{
    hc_experiment *e = b->e;
    const exp_entry *en = &e->entries[ei];
    const int nk = en->n_keys;
    for (;;) {
        char spec[HC_SPEC_MAX], match[HC_SPEC_MAX];
        snprintf(spec, sizeof spec, "%s", en->spec);
        snprintf(match, sizeof match, "%s", en->matching);
        int steps = en->steps;
        cJSON *grid = cJSON_CreateObject();
        char where[512] = "";
        for (int k = 0; k < nk; k++) {
            const cJSON *val = items[k][idx[k]];
            cJSON_AddItemToObject(grid, en->keys[k], cJSON_Duplicate(val, 1));
            char txt[64];
            exp_grid_text(val, txt, sizeof txt);
            size_t l = strlen(where);
            snprintf(where + l, sizeof where - l, "%s%s=%s", l ? ", " : "", en->keys[k], txt);
            if (strcmp(en->keys[k], "steps") == 0) {
                steps = (int)val->valuedouble;
                continue;
            }
            char *tgt = en->matching[0] ? match : spec;
            char tmp[HC_SPEC_MAX];
            hc_status s = exp_spec_set(tgt, en->keys[k], txt, tmp, sizeof tmp);
            if (s == HC_OK) snprintf(tgt, HC_SPEC_MAX, "%s", tmp);
            else {
                cJSON_Delete(grid);
                return hc_fail(HC_EINVAL, "%s: %s: grid point %s: %s", e->origin, path, where, hc_errmsg());
            }
        }
        hc_method m;
        if (hc_method_parse(en->matching[0] ? match : spec, &m) != HC_OK) {
            cJSON_Delete(grid);
            return hc_fail(HC_EINVAL, "%s: %s: grid point %s: %s", e->origin, path, where, hc_errmsg());
        }
        if (en->matching[0]) {
            steps = full_steps_of(&m, e->steps);
            cJSON_AddStringToObject(grid, "steps_matching", match);
        }
        int row;
        HC_TRY(add_row(b, eng, ei, spec, steps, grid, &row));
        /* an identical row (same engine, resolved spec and steps) is kept once */
        char desc[512];
        hc_method_describe(&e->rows[row].method, desc, sizeof desc);
        if (index_row(b, row, desc) >= 0) {
            cJSON_Delete(e->rows[row].grid);
            e->n_rows--;
        } else {
            HC_TRY(add_row_cells(b, row));
        }
        int k = nk - 1;
        while (k >= 0 && ++idx[k] >= size[k]) idx[k--] = 0;
        if (k < 0) break;
    }
    return HC_OK;
}

/* The entry that is engine g's full-compute reference (plain "full": no
 * grid, steps or steps_matching), or -1: an implicit one is added. */
static int ref_entry(const hc_experiment *e, hc_eng g)
{
    for (int i = 0; i < e->n_entries; i++) {
        const exp_entry *en = &e->entries[i];
        hc_method m;
        if ((en->eng_mask & (1u << g)) && !en->steps && !en->matching[0] && en->n_keys == 0 &&
            hc_method_parse(en->spec, &m) == HC_OK && (hc_method_caps(&m) & HC_PRED_NO_CACHE))
            return i;
    }
    return -1;
}

/* The number of cells the entries would give at most (before identical
 * rows are merged), refused above HC_EXPERIMENT_MAX_CELLS before anything
 * is allocated; *rows gets the number of rows at most. */
static hc_status count_cells(const hc_experiment *e, double *rows_out, double *cells_out)
{
    double rows = 0, cells = 0, worst = 0;
    int worst_i = -1;
    for (int g = 0; g < HC_N_ENG; g++) {
        if (!(e->eng_mask & (1u << g))) continue;
        double per_row = g == HC_ENG_LIVE ? e->n_seeds : 1;
        if (ref_entry(e, (hc_eng)g) < 0) { /* an implicit full-compute reference */
            rows += 1;
            cells += per_row;
        }
        for (int i = 0; i < e->n_entries; i++) {
            const exp_entry *en = &e->entries[i];
            if (!(en->eng_mask & (1u << g))) continue;
            double n = 1;
            for (int k = 0; k < en->n_keys; k++) n *= cJSON_GetArraySize(en->values[k]);
            rows += n;
            cells += n * per_row;
            if (n * per_row > worst) worst = n * per_row, worst_i = i;
        }
    }
    if (cells > HC_EXPERIMENT_MAX_CELLS) {
        char path[64] = "$.methods";
        if (worst_i >= 0) snprintf(path, sizeof path, "$.methods[%d]", worst_i);
        return hc_fail(HC_EINVAL, "%s: %s: the grid would produce %.0f cells (%.0f from this entry), more than the limit of %d",
                       e->origin, path, cells, worst, HC_EXPERIMENT_MAX_CELLS);
    }
    *rows_out = rows;
    *cells_out = cells;
    return HC_OK;
}

/* Each live cell at other step counts gets its reference: the cell of the
 * first live full-compute row at the engine's steps with the same seed. */
static void link_references(hc_experiment *e)
{
    const exp_row *ref = NULL;
    for (int r = 0; r < e->n_rows && !ref; r++)
        if (e->rows[r].eng == HC_ENG_LIVE && e->rows[r].is_ref) ref = &e->rows[r];
    for (int c = 0; c < e->n_cells; c++) {
        exp_cell *cl = &e->cells[c];
        if (cl->eng != HC_ENG_LIVE || cl->steps == e->steps) continue;
        HC_ASSERT(ref && cl->seed_idx < ref->n_cells);
        cl->ref = ref->cells[cl->seed_idx];
        HC_ASSERT(cl->ref >= 0 && cl->ref < c && e->cells[cl->ref].seed == cl->seed);
    }
}

hc_status exp_build_cells(hc_experiment *e)
{
    double max_rows = 0, max_cells = 0;
    HC_TRY(count_cells(e, &max_rows, &max_cells));
    exp_build b = {e, 0, 0, {NULL, 0}, {NULL, 0}, "", NULL};
    hc_status s = index_init(&b.rows, max_rows);
    if (s == HC_OK) s = index_init(&b.cells, max_cells);
    if (s == HC_OK && !(b.file_fp = calloc((size_t)e->n_files + 1, sizeof *b.file_fp))) s = hc_fail(HC_ENOMEM, "out of memory");
    if (s == HC_OK && (e->eng_mask & (1u << HC_ENG_LIVE))) file_fingerprint(e->model, b.model_fp, sizeof b.model_fp);
    for (int f = 0; s == HC_OK && f < e->n_files; f++) file_fingerprint(e->files[f], b.file_fp[f], sizeof b.file_fp[f]);
    for (int g = 0; g < HC_N_ENG && s == HC_OK; g++) {
        if (!(e->eng_mask & (1u << g))) continue;
        /* the full-compute reference first: an explicit `full` entry or an implicit one */
        int ref = ref_entry(e, (hc_eng)g);
        if (ref >= 0) s = expand_entry(&b, ref, (hc_eng)g);
        else {
            int row;
            s = add_row(&b, (hc_eng)g, -1, "full", 0, cJSON_CreateObject(), &row);
            char desc[512];
            if (s == HC_OK) hc_method_describe(&e->rows[row].method, desc, sizeof desc);
            if (s == HC_OK && index_row(&b, row, desc) < 0) s = add_row_cells(&b, row);
        }
        for (int i = 0; i < e->n_entries && s == HC_OK; i++)
            if (i != ref && (e->entries[i].eng_mask & (1u << g))) s = expand_entry(&b, i, (hc_eng)g);
    }
    free(b.rows.slot);
    free(b.cells.slot);
    free(b.file_fp);
    HC_TRY(s);
    link_references(e);
    return HC_OK;
}


const char *hc_experiment_name(const hc_experiment *e) { return e->name; }
int hc_experiment_num_cells(const hc_experiment *e) { return e->n_cells; }

const char *hc_experiment_cell_id(const hc_experiment *e, int i)
{
    HC_ASSERT(i >= 0 && i < e->n_cells);
    return e->cells[i].id;
}

const char *hc_experiment_cell_label(const hc_experiment *e, int i)
{
    HC_ASSERT(i >= 0 && i < e->n_cells);
    return e->cells[i].label;
}

cJSON *exp_resolved_json(const hc_experiment *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", e->name);
    cJSON_AddStringToObject(o, "description", e->description);
    if (e->eng_mask & (1u << HC_ENG_REPLAY)) {
        cJSON *r = cJSON_AddObjectToObject(o, "replay");
        cJSON *f = cJSON_AddArrayToObject(r, "files");
        for (int i = 0; i < e->n_files; i++) cJSON_AddItemToArray(f, cJSON_CreateString(e->files[i]));
        cJSON_AddStringToObject(r, "modules", e->modules[0] ? e->modules : "*");
    }
    if (e->eng_mask & (1u << HC_ENG_LIVE)) {
        cJSON *l = cJSON_AddObjectToObject(o, "live");
        cJSON_AddStringToObject(l, "model", e->model);
        cJSON_AddStringToObject(l, "classifier", e->classifier);
        cJSON_AddStringToObject(l, "data_dir", e->data_dir);
        cJSON_AddNumberToObject(l, "n", e->n);
        cJSON_AddNumberToObject(l, "steps", e->steps);
        cJSON_AddNumberToObject(l, "batch", e->batch);
        cJSON_AddNumberToObject(l, "guidance", e->guidance);
        cJSON_AddBoolToObject(l, "shift", e->shift);
        cJSON_AddNumberToObject(l, "n_real", e->n_real);
        cJSON *s = cJSON_AddArrayToObject(l, "seeds");
        for (int i = 0; i < e->n_seeds; i++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)e->seeds[i]));
    }
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    for (int r = 0; r < e->n_rows; r++) {
        const exp_row *w = &e->rows[r];
        cJSON *j = cJSON_CreateObject();
        char desc[512];
        hc_method_describe(&w->method, desc, sizeof desc);
        cJSON_AddStringToObject(j, "engine", hc_eng_names[w->eng]);
        if (w->entry >= 0) cJSON_AddNumberToObject(j, "entry", w->entry);
        else cJSON_AddStringToObject(j, "entry", "implicit full-compute reference");
        cJSON_AddStringToObject(j, "spec", w->spec);
        cJSON_AddStringToObject(j, "resolved", desc);
        cJSON_AddStringToObject(j, "label", w->label);
        if (w->eng == HC_ENG_LIVE) cJSON_AddNumberToObject(j, "steps", w->steps);
        cJSON_AddItemToObject(j, "grid", cJSON_Duplicate(w->grid, 1));
        cJSON *ids = cJSON_AddArrayToObject(j, "cells");
        for (int k = 0; k < w->n_cells; k++) cJSON_AddItemToArray(ids, cJSON_CreateString(e->cells[w->cells[k]].id));
        cJSON_AddItemToArray(rows, j);
    }
    return o;
}

