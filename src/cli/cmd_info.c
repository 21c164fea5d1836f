/* cmd_info.c: `hicache info FILE...`: describe trajectory files. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "policy.h"
#include "traj.h"

static void fmt_bytes(double b, char *out, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) { b /= 1024; u++; }
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static void fmt_dims(const int64_t *d, int rank, char *out, size_t n)
{
    size_t len = 0;
    len += (size_t)snprintf(out, n, "[");
    for (int i = 0; i < rank && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%lld", i ? "," : "", (long long)d[i]);
    if (len < n) snprintf(out + len, n - len, "]");
}

static const char *const kind_label[] = {"feature", "hidden", "latent"};

static void print_text(const hc_traj *t)
{
    const hc_traj_meta *m = hc_traj_get_meta(t);
    const double *tm = hc_traj_times(t);
    int S = m->num_steps;
    printf("file      %s\n", hc_traj_path(t));
    printf("schema    %s v%d%s\n", HC_TRAJ_SCHEMA, HC_TRAJ_SCHEMA_VERSION,
           m->complete == 1 ? " (complete)" : " (no 'complete' flag: not written by hicache)");
    printf("model     %s\n", m->model);
    printf("sampler   %s\n", m->sampler);
    if (m->has_seed) printf("seed      %lld\n", (long long)m->seed);
    if (m->label[0]) printf("label     %s\n", m->label);
    if (m->has_guidance) printf("guidance  %g\n", m->guidance);
    printf("steps     %d, t = ", S);
    for (int s = 0; s < S; s++) {
        if (S > 8 && s == 4) { printf("..., "); s = S - 3; }
        printf("%.4f%s", tm[s], s + 1 < S ? ", " : "\n");
    }
    size_t n = hc_traj_num_entries(t);
    double stored = 0, raw = 0;
    for (size_t i = 0; i < n; i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        stored += (double)e->stored_bytes;
        raw += (double)e->dims[0] * (double)e->row_elems * (e->dtype == HC_F16 ? 2 : 4);
    }
    char sb[32], rb[32];
    fmt_bytes(stored, sb, sizeof sb);
    fmt_bytes(raw, rb, sizeof rb);
    printf("datasets  %zu features, %zu other; stored %s (uncompressed %s)\n",
           hc_traj_num_features(t), n - hc_traj_num_features(t), sb, rb);
    int shown = 0; /* the policies' signals (docs/trajectory-format.md) */
    for (int g = 0; g < HC_SIG_COUNT; g++) {
        int64_t c = hc_traj_signal_cols(t, hc_signal_name((hc_signal)g));
        if (!c) continue;
        printf("%s%s [%d", shown++ ? ", " : "signals   ", hc_signal_name((hc_signal)g), S);
        if (c > 1) printf(", %lld", (long long)c);
        printf("]");
    }
    if (shown) printf("\n");
    printf("\n  %-8s %-24s %-6s %-16s %-8s %10s %6s  %-14s %s\n", "kind", "name", "stream", "shape", "dtype",
           "stored", "ratio", "chunk", "filters");
    for (size_t i = 0; i < n; i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        char shape[64], chunk[64], bytes[32];
        fmt_dims(e->dims, e->rank, shape, sizeof shape);
        if (e->chunk[0]) fmt_dims(e->chunk, e->rank, chunk, sizeof chunk);
        else snprintf(chunk, sizeof chunk, "contiguous");
        fmt_bytes((double)e->stored_bytes, bytes, sizeof bytes);
        double rawb = (double)e->dims[0] * (double)e->row_elems * (e->dtype == HC_F16 ? 2 : 4);
        printf("  %-8s %-24s %-6s %-16s %-8s %10s %6.2f  %-14s %s\n", kind_label[e->kind], e->name,
               e->stream[0] ? e->stream : "-", shape, hc_dtype_name(e->dtype), bytes,
               e->stored_bytes ? rawb / (double)e->stored_bytes : 0.0, chunk, e->filters);
    }
}

static cJSON *to_json(const hc_traj *t)
{
    const hc_traj_meta *m = hc_traj_get_meta(t);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", hc_traj_path(t));
    cJSON_AddStringToObject(o, "schema", HC_TRAJ_SCHEMA);
    cJSON_AddNumberToObject(o, "schema_version", HC_TRAJ_SCHEMA_VERSION);
    cJSON_AddStringToObject(o, "model", m->model);
    cJSON_AddStringToObject(o, "sampler", m->sampler);
    cJSON_AddNumberToObject(o, "num_steps", m->num_steps);
    if (m->has_seed) cJSON_AddNumberToObject(o, "seed", (double)m->seed);
    if (m->label[0]) cJSON_AddStringToObject(o, "label", m->label);
    if (m->has_guidance) cJSON_AddNumberToObject(o, "guidance", m->guidance);
    if (m->complete >= 0) cJSON_AddBoolToObject(o, "complete", m->complete);
    cJSON_AddItemToObject(o, "t", cJSON_CreateDoubleArray(hc_traj_times(t), m->num_steps));
    cJSON *arr = cJSON_AddArrayToObject(o, "datasets");
    for (size_t i = 0; i < hc_traj_num_entries(t); i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "kind", kind_label[e->kind]);
        cJSON_AddStringToObject(d, "name", e->name);
        cJSON_AddStringToObject(d, "path", e->path);
        if (e->stream[0]) cJSON_AddStringToObject(d, "stream", e->stream);
        cJSON *sh = cJSON_AddArrayToObject(d, "shape");
        for (int k = 0; k < e->rank; k++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)e->dims[k]));
        cJSON_AddStringToObject(d, "dtype", hc_dtype_name(e->dtype));
        cJSON_AddNumberToObject(d, "stored_bytes", (double)e->stored_bytes);
        cJSON_AddStringToObject(d, "filters", e->filters);
        cJSON_AddItemToArray(arr, d);
    }
    return o;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'}, {0, 0, 0, 0}};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
        if (c == 'j') json = 1;
        else {
            fprintf(stderr, "hicache info: see `hicache info --help`\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "hicache info: no FILE given (usage: hicache info [--json] FILE...)\n");
        return 2;
    }
    int rc = 0;
    cJSON *all = json ? cJSON_CreateArray() : NULL;
    for (int i = optind; i < argc; i++) {
        hc_traj *t;
        hc_status st = hc_traj_open(argv[i], &t);
        if (st != HC_OK) {
            rc = cli_error("info", st);
            continue;
        }
        if (json) cJSON_AddItemToArray(all, to_json(t));
        else {
            if (i > optind) printf("\n");
            print_text(t);
        }
        hc_traj_close(t);
    }
    if (json) {
        char *s = cJSON_Print(cJSON_GetArraySize(all) == 1 ? cJSON_GetArrayItem(all, 0) : all);
        if (s) puts(s);
        cJSON_free(s);
        cJSON_Delete(all);
    }
    return rc;
}

const hc_command hc_cmd_info = {
    "info", "describe trajectory files (schema, steps, time grid, datasets)", run,
    "usage: hicache info [--json] FILE...\n"
    "\n"
    "Validate each FILE against the trajectory schema v1 (docs/trajectory-format.md)\n"
    "and print its root attributes, the time grid, and every dataset: kind\n"
    "(feature, hidden, latent), name, stream, shape [steps, tokens, channels],\n"
    "on-disk dtype, stored size, compression ratio, chunking and filters.\n"
    "\n"
    "  --json    print one JSON object per file (an array for several files)\n"
    "\n"
    "Exit status: 0 if every file is valid, 1 otherwise (one line per bad file\n"
    "on stderr naming the file, the dataset and what was expected).\n",
};
