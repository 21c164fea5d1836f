/* cmd_calibrate.c: `hicache calibrate`: policy coefficients and HiCache's σ
 * from recorded trajectories; --sweep: a policy's threshold as a (FLOPs
 * speedup, error) curve. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "calibrate.h"
#include "cli.h"
#include "outfile.h"
#include "plot.h"
#include "provenance.h"

/* "0.1,0.2,0.5" into v[0..*n-1] (at most cap), each in [lo, hi]. */
static hc_status num_list(const char *opt, const char *s, double lo, double hi, double *v, int cap, int *n)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    *n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == cap) return hc_fail(HC_EINVAL, "%s: more than %d values", opt, cap);
        HC_TRY(cli_double(opt, t, lo, hi, &v[(*n)++]));
    }
    return *n ? HC_OK : hc_fail(HC_EINVAL, "%s: no values", opt);
}

/* The sweep's CSV, gnuplot script and figure, next to the calibration file. */
static hc_status write_sweep(hc_outset *set, const char *dir, const char *spec, const hc_sweep_row *rows, int n)
{
    hc_outfile *f = NULL;
    HC_TRY(hc_plot_csv_open_in(set, dir, "sweep", &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "method,delta,full_steps,steps,flops_speedup,rel_l2\n");
    for (int i = 0; i < n; i++) {
        hc_csv_field(fp, spec);
        fprintf(fp, ",%.17g,%d,%d,%.17g,%.17g\n", rows[i].delta, rows[i].full_steps, rows[i].steps,
                rows[i].flops_speedup, rows[i].rel_l2);
    }
    HC_TRY(hc_outfile_commit(f));
    char body[1024];
    snprintf(body, sizeof body,
             "set title \"%s: threshold sweep (replay)\" noenhanced\nset xlabel \"FLOPs speedup\"\n"
             "set ylabel \"mean rel-L2 of forecasts\"\nset logscale y\nset key off\nset grid\n"
             "plot \"sweep.csv\" using 5:6 every ::1 with linespoints pt 7, \"\" using 5:6:(sprintf(\"%%g\", $2)) every ::1 "
             "with labels offset 1,1 font \",9\"\n", spec);
    HC_TRY(hc_plot_write_script_in(set, dir, "sweep", HC_PLOT_DEFAULT_SIZE, body));
    return hc_plot_gnuplot_available() ? hc_plot_render_in(set, dir, "sweep") : HC_OK;
}

typedef struct args {
    const char **files;
    int n_files;
    const char *out, *sweep;
    hc_calib_opts o;
    double sigmas[64], deltas[64];
    int n_deltas;
} args;

static hc_status parse(int argc, char **argv, args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        long v;
        if ((strcmp(s, "-o") == 0 || strcmp(s, "--out") == 0) && i + 1 < argc) a->out = argv[++i];
        else if (strcmp(s, "--degree") == 0 && i + 1 < argc) {
            HC_TRY(cli_int("--degree", argv[++i], 0, 7, &v));
            a->o.degree = (int)v;
        } else if (strcmp(s, "--sigma-base") == 0 && i + 1 < argc) a->o.sigma_base = argv[++i];
        else if (strcmp(s, "--sigmas") == 0 && i + 1 < argc)
            HC_TRY(num_list("--sigmas", argv[++i], 1e-6, 4, a->sigmas, 64, &a->o.n_sigmas));
        else if (strcmp(s, "--sweep") == 0 && i + 1 < argc) a->sweep = argv[++i];
        else if (strcmp(s, "--deltas") == 0 && i + 1 < argc)
            HC_TRY(num_list("--deltas", argv[++i], 0, 1e6, a->deltas, 64, &a->n_deltas));
        else if (s[0] != '-') a->files[a->n_files++] = s;
        else return hc_fail(HC_EINVAL, "unknown or incomplete option '%s' (see hicache calibrate --help)", s);
    }
    if (!a->n_files) return hc_fail(HC_EINVAL, "no TRAJ given");
    if (!a->out) return hc_fail(HC_EINVAL, "no -o calib.json given");
    return HC_OK;
}

static int run(int argc, char **argv)
{
    static const double grid[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    static const double dgrid[] = {0.02, 0.05, 0.1, 0.2, 0.4};
    args a = {.files = calloc((size_t)argc, sizeof(char *)),
              .o = {.degree = 4, .sigma_base = "hicache:N=5,O=2", .n_sigmas = 10}};
    memcpy(a.sigmas, grid, sizeof grid);
    memcpy(a.deltas, dgrid, sizeof dgrid);
    a.n_deltas = 5;
    hc_status st = a.files ? parse(argc, argv, &a) : hc_fail(HC_ENOMEM, "out of memory");
    a.o.files = a.files;
    a.o.n_files = a.n_files;
    a.o.sigmas = a.sigmas;
    cJSON *doc = NULL;
    hc_outset *set = NULL;
    hc_sweep_row rows[64];
    if (st == HC_OK) st = hc_calibrate(&a.o, &doc);
    if (st == HC_OK && a.sweep) st = hc_calib_sweep(&a.o, a.sweep, a.deltas, a.n_deltas, rows);
    if (st == HC_OK) {
        cJSON *prov = hc_provenance_json(), *cfg = cJSON_AddObjectToObject(prov, "config");
        cJSON *fl = cJSON_AddArrayToObject(cfg, "trajectories");
        for (int i = 0; i < a.n_files; i++) cJSON_AddItemToArray(fl, cJSON_CreateString(a.files[i]));
        cJSON_AddNumberToObject(cfg, "degree", a.o.degree);
        cJSON_AddStringToObject(cfg, "sigma_base", a.o.sigma_base);
        if (a.sweep) cJSON_AddStringToObject(cfg, "sweep", a.sweep);
        cJSON_AddItemToObject(doc, "provenance", prov);
        st = hc_outset_new(&set);
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", a.out ? a.out : ".");
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    if (st == HC_OK) st = hc_mkdir_p(dir);
    if (st == HC_OK) st = hc_write_json_in(set, a.out, doc);
    if (st == HC_OK && a.sweep) st = write_sweep(set, dir, a.sweep, rows, a.n_deltas);
    if (set) st = hc_outset_finish(set, st);
    if (st == HC_OK) {
        if (a.sweep) printf("wrote %s and %s/sweep.{csv,gp}\n", a.out, dir);
        else printf("wrote %s\n", a.out);
        for (int i = 0; a.sweep && i < a.n_deltas; i++)
            printf("  delta %-8g full %3d/%-3d  speedup %6.2fx  rel_l2 %.5g\n", rows[i].delta, rows[i].full_steps,
                   rows[i].steps, rows[i].flops_speedup, rows[i].rel_l2);
    }
    cJSON_Delete(doc);
    free(a.files);
    return st == HC_OK ? 0 : cli_error("calibrate", st);
}

const hc_command hc_cmd_calibrate = {
    "calibrate", "fit decision policies (TeaCache, MagCache) and HiCache's sigma on trajectories", run,
    "usage: hicache calibrate TRAJ... -o calib.json [--degree 4] [--sigma-base SPEC]\n"
    "                         [--sigmas 0.1,...,1] [--sweep PREDICTOR@POLICY [--deltas d,...]]\n"
    "\n"
    "From trajectories with /signals (hicache sample --record; see\n"
    "docs/trajectory-format.md), write calib.json (atomically, with provenance):\n"
    "  teacache.poly    least squares (degree --degree, 4) of the output change on\n"
    "                   the first block's modulated-input change, highest power first\n"
    "  magcache.ratios  per-step mean ratio of the transformer residual's magnitude\n"
    "  hicache          per module kind, the sigma of --sigmas (0.1..1) with the least\n"
    "                   mean replay rel-L2 for --sigma-base (hicache:N=5,O=2)\n"
    "Policies take it: taylor@teacache:calib=calib.json,delta=0.3.\n"
    "\n"
    "  --sweep SPEC     also replay SPEC (e.g. 'taylor@teacache:calib=calib.json') at\n"
    "                   each threshold of --deltas (0.02,0.05,0.1,0.2,0.4): sweep.csv\n"
    "                   (delta, full steps, FLOPs speedup, mean rel-L2), sweep.gp and,\n"
    "                   with gnuplot, sweep.png/.pdf beside calib.json\n",
};
