/* cell_record.c: a computed cell's document -- its identity, its time and
 * provenance -- written to DIR/cells/ID.json and counted, by the serial
 * runner (runner.c) and by the distributors (dist_run.c) alike. */
#include <stdio.h>
#include <time.h>

#include "dist.h"
#include "exp_internal.h"
#include "outfile.h"
#include "provenance.h"

cJSON *exp_cell_header(const hc_experiment *e, const exp_cell *c)
{
    const exp_row *r = &e->rows[c->row];
    cJSON *o = cJSON_CreateObject();
    char desc[512];
    hc_method_describe(&r->method, desc, sizeof desc);
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddStringToObject(o, "key", c->key);
    cJSON_AddStringToObject(o, "experiment", e->name);
    cJSON_AddStringToObject(o, "engine", hc_eng_names[c->eng]);
    cJSON_AddStringToObject(o, "spec", r->spec);
    cJSON_AddStringToObject(o, "resolved", desc);
    cJSON_AddStringToObject(o, "label", r->label);
    if (c->eng == HC_ENG_LIVE) {
        cJSON_AddNumberToObject(o, "seed", (double)c->seed);
        cJSON_AddNumberToObject(o, "steps", c->steps);
    }
    return o;
}

void exp_fmt_dur(double s, char *buf, size_t n)
{
    if (s < 60) snprintf(buf, n, "%.1fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

double exp_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A computed cell: its time and provenance, written to cells/ID.json; the
 * cell document passes to the experiment (on error it is freed). */
void exp_cell_stamp(cJSON *cell, double seconds)
{
    cJSON_AddNumberToObject(cell, "cell_seconds", seconds);
    cJSON_AddItemToObject(cell, "provenance", hc_provenance_json());
}

hc_status exp_record_cell(exp_run_state *rs, exp_cell *c, cJSON *cell, const char *where)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/%s.json", rs->cells_dir, c->id);
    hc_status s = hc_write_json(path, cell);
    if (s != HC_OK) {
        cJSON_Delete(cell);
        return s;
    }
    c->doc = cell;
    rs->rep->computed++;
    rs->done++;
    if (rs->pm == HC_PROGRESS_LINES) {
        char d[32];
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(cell, "cell_seconds");
        exp_fmt_dur(cJSON_IsNumber(sec) ? sec->valuedouble : 0, d, sizeof d);
        fprintf(stderr, "run: [%d/%d] %s: %s%s\n", rs->done, rs->pending, c->label, d, where ? where : "");
    }
    return HC_OK;
}
