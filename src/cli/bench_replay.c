/* bench_replay.c: `hicache bench replay` and `hicache bench replay-scale`:
 * replay speed against the raw read of the same rows, and how replay time
 * and peak memory grow with the size of a recording. */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

#include "cli.h"
#include "outfile.h"
#include "plot.h"
#include "pool.h"
#include "predictor.h"
#include "replay.h"
#include "synth.h"
#include "traj.h"

double hc_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Every row of every feature dataset of trajectory t (file `path`) read
 * as stored: HDF5's read, decompression and checksums into buf (at least
 * the largest row's bytes), in the file's own type, so no conversion. */
static hc_status raw_read(const char *path, const hc_traj *t, void *buf)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return hc_fail(HC_EIO, "%s: cannot open as HDF5", path);
    hc_status st = HC_OK;
    for (size_t i = 0; i < hc_traj_num_entries(t) && st == HC_OK; i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        if (e->kind != HC_ENTRY_FEATURE) continue;
        hid_t d = H5Dopen2(f, e->path, H5P_DEFAULT);
        hid_t ty = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID, fs = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
        hsize_t start[HC_TRAJ_MAX_RANK] = {0}, count[HC_TRAJ_MAX_RANK] = {1};
        for (int k = 1; k < e->rank; k++) count[k] = (hsize_t)e->dims[k];
        hid_t ms = H5Screate_simple(e->rank, count, NULL);
        if (d < 0 || ty < 0 || fs < 0 || ms < 0) st = hc_fail(HC_EIO, "%s: cannot open dataset %s", path, e->path);
        for (int64_t r = 0; r < e->dims[0] && st == HC_OK; r++) {
            start[0] = (hsize_t)r;
            if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
                H5Dread(d, ty, ms, fs, H5P_DEFAULT, buf) < 0)
                st = hc_fail(HC_EIO, "%s: cannot read step %lld of %s", path, (long long)r, e->path);
        }
        if (ms >= 0) H5Sclose(ms);
        if (fs >= 0) H5Sclose(fs);
        if (ty >= 0) H5Tclose(ty);
        if (d >= 0) H5Dclose(d);
    }
    H5Fclose(f);
    return st;
}

/* What bench replay reports of a file: features, type, stored bytes. */
typedef struct finfo {
    size_t row_max, n_feat, elems;
    uint64_t stored;
    hc_dtype dt;
} finfo;

static void file_info(const hc_traj *t, finfo *fi)
{
    memset(fi, 0, sizeof *fi);
    fi->dt = HC_F32;
    for (size_t i = 0; i < hc_traj_num_entries(t); i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        if (e->kind != HC_ENTRY_FEATURE) continue;
        if (e->row_elems > fi->row_max) fi->row_max = e->row_elems;
        if (e->dtype == HC_F16) fi->dt = HC_F16;
        fi->stored += e->stored_bytes;
        fi->elems += e->row_elems * (size_t)e->dims[0];
        fi->n_feat++;
    }
}

/* The default methods: one, then five of different kinds (all at N=5). */
static const char *const default_methods[] = {"taylor:N=5,O=2", "hicache:N=5,O=2,sigma=0.5", "reuse:N=5",
                                              "lagrange:N=5,O=2", "taylor:N=5,O=1"};

/* ---- the memory floor ----------------------------------------------------------------
 * Replay in step order streams every method's predictor state through
 * memory: a forecast reads the cache, an update reads and rewrites it.
 * When the caches of one module do not fit in the last-level cache, that
 * traffic at the machine's read bandwidth is a floor under replay time
 * that no kernel can beat; bench replay prints it next to the targets. */

typedef struct bw_job {
    const double *a;
    size_t n;
    int w;
    double sum[HC_POOL_MAX];
} bw_job;

static void bw_part(void *ud, int t)
{
    bw_job *j = ud;
    size_t e0 = j->n * (size_t)t / (size_t)j->w, e1 = j->n * (size_t)(t + 1) / (size_t)j->w;
    /* eight independent sums: two loads a cycle keep the adds' latency
     * from limiting the stream below memory speed */
    const double *a = j->a;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (size_t i = e0; i + 8 <= e1; i += 8) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
        s4 += a[i + 4];
        s5 += a[i + 5];
        s6 += a[i + 6];
        s7 += a[i + 7];
    }
    j->sum[t] = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

double hc_bench_read_bandwidth(int threads)
{
    const size_t n = ((size_t)256 << 20) / sizeof(double);
    double *a = malloc(n * sizeof *a), best = 1e30;
    if (!a) return 0;
    for (size_t i = 0; i < n; i++) a[i] = (double)(i & 1023);
    bw_job j = {a, n, threads < 1 ? 1 : threads, {0}};
    for (int r = 0; r < 3; r++) {
        double t0 = hc_bench_now();
        hc_pool_run(j.w, bw_part, &j);
        double dt = hc_bench_now() - t0;
        if (dt < best) best = dt;
    }
    volatile double sink = j.sum[0]; /* keep the loads */
    (void)sink;
    free(a);
    return (double)(n * sizeof *a) / best;
}

/* Predictor-state bytes a replay streams: per method, its caches (all
 * modules) read at each cached step and read and written at each full
 * step.  An estimate (early steps hold fewer orders). */
static double state_traffic(const hc_replay_result *r)
{
    double b = 0;
    for (int m = 0; m < r->n_methods; m++) {
        const hc_replay_method *x = &r->methods[m];
        b += (double)x->cache_bytes * ((x->steps - x->full_steps) + 2.0 * x->full_steps);
    }
    return b;
}

/* One file: raw read, replay with methods[0] alone and with all nm,
 * interleaved over reps rounds, best of each; prints the ratios, and the
 * memory floor of each replay (state_traffic at the read bandwidth). */
static hc_status bench_file(const char *path, const hc_method *methods, const char *const *specs, int nm, long reps,
                            int serial, int threads, double bw)
{
    hc_traj *t = NULL;
    HC_TRY(hc_traj_open(path, &t));
    finfo fi;
    file_info(t, &fi);
    hc_status st = HC_OK;
    void *buf = malloc(fi.row_max * sizeof(float) + 1);
    if (!buf) st = hc_fail(HC_ENOMEM, "out of memory for a row of %zu floats", fi.row_max);
    if (st == HC_OK) st = raw_read(path, t, buf); /* warm the page cache */
    hc_replay_opts o = {.files = &path, .n_files = 1, .methods = methods, .quiet = 1, .serial = serial,
                        .threads = threads};
    const int runs = nm > 1 ? 2 : 1, counts[2] = {1, nm};
    double best_raw = 1e30, best[2] = {1e30, 1e30}, traffic[2] = {0, 0};
    for (long r = 0; r < reps && st == HC_OK; r++) { /* interleaved: the same machine load for all */
        double t0 = hc_bench_now();
        st = raw_read(path, t, buf);
        double dt = hc_bench_now() - t0;
        if (dt < best_raw) best_raw = dt;
        for (int k = 0; k < runs && st == HC_OK; k++) {
            hc_replay_result *res = NULL;
            o.n_methods = counts[k];
            t0 = hc_bench_now();
            st = hc_replay_compute(&o, &res);
            dt = hc_bench_now() - t0;
            if (res) traffic[k] = state_traffic(res);
            hc_replay_result_free(res);
            if (dt < best[k]) best[k] = dt;
        }
    }
    if (st == HC_OK) {
        printf("replay of %s: %zu feature datasets, %s, %.1f MiB stored; best of %ld interleaved rounds, %d "
               "thread(s)%s\n",
               path, fi.n_feat, hc_dtype_name(fi.dt), (double)fi.stored / (1024.0 * 1024.0), reps, threads,
               serial ? ", serial reads" : "");
        printf("%-40s %8.3f s\n", "raw read (HDF5 read + decompression)", best_raw);
        for (int k = 0; k < runs; k++) {
            double target = 1.5 + 0.25 * (counts[k] - 1); /* 1.5 with one method, 2.5 with five */
            for (int m = 0; m < counts[k]; m++) printf("%-40s %s\n", m ? "" : "methods", specs[m]);
            printf("%-40s %8.3f s\n", "replay (open, read, forecast, score)", best[k]);
            printf("%-40s %8.2f  (target <= %.2f)\n", "replay / raw read", best[k] / best_raw, target);
            if (bw > 0)
                printf("%-40s %8.3f s  (%.2f GB of caches at %.1f GB/s; / raw read %.2f)\n",
                       "memory floor: predictor state traffic", traffic[k] / bw, traffic[k] / 1e9, bw / 1e9,
                       traffic[k] / bw / best_raw);
        }
    }
    free(buf);
    hc_traj_close(t);
    return st;
}

/* hicache bench replay FILE... [--method SPEC ...] [--reps R] [--serial] [--threads N] */
int hc_bench_replay(int argc, char **argv)
{
    const char *files[64], *specs[64];
    int nf = 0, nm = 0, serial = 0;
    long reps = 3, threads = 0;
    hc_status st = HC_OK;
    for (int i = 1; i < argc && st == HC_OK; i++) {
        if (strcmp(argv[i], "--method") == 0 && i + 1 < argc) {
            while (i + 1 < argc && argv[i + 1][0] != '-' && st == HC_OK) {
                if (nm == 64) st = hc_fail(HC_EINVAL, "--method: at most 64 methods");
                else specs[nm++] = argv[++i];
            }
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            st = cli_int("--reps", argv[++i], 1, 1000, &reps);
        } else if (strcmp(argv[i], "--serial") == 0) {
            serial = 1;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            st = cli_int("--threads", argv[++i], 1, HC_POOL_MAX, &threads);
        } else if (argv[i][0] != '-') {
            if (nf == 64) st = hc_fail(HC_EINVAL, "at most 64 files");
            else files[nf++] = argv[i];
        } else {
            st = hc_fail(HC_EINVAL, "unknown or incomplete option '%s'", argv[i]);
        }
    }
    if (st == HC_OK && nf == 0) st = hc_fail(HC_EINVAL, "no trajectory FILE given");
    if (nm == 0)
        for (int k = 0; k < 5; k++) specs[nm++] = default_methods[k];
    hc_method methods[64];
    for (int m = 0; m < nm && st == HC_OK; m++) st = hc_method_parse(specs[m], &methods[m]);
    if (threads == 0) threads = hc_pool_cores();
    const double bw = st == HC_OK ? hc_bench_read_bandwidth((int)threads) : 0;
    for (int f = 0; f < nf && st == HC_OK; f++) {
        if (f) printf("\n");
        st = bench_file(files[f], methods, specs, nm, reps, serial, (int)threads, bw);
    }
    return st == HC_OK ? 0 : cli_error("bench replay", st);
}

/* ---- replay-scale ------------------------------------------------------------------------- */

typedef struct scale_opts {
    long steps, reps, keep, render;
    const char *dir, *out, *specs[16];
    int nm, np;
    long pts[32][3];     /* tokens, channels, modules */
    hc_dtype dtype;
} scale_opts;

/* the default grid: tokens x channels x modules from 0.3 M to 8.4 M elements
 * per step, T x D and the module count varied apart (S = 50, float16: 13 MB
 * to 840 MB per file; one file on disk at a time) */
static const long default_grid[][3] = {{256, 256, 2}, {512, 256, 4}, {1024, 512, 2}, {1024, 512, 4},
                                       {1024, 512, 8}, {1024, 1024, 4}, {2048, 1024, 4}};

typedef struct scale_row {
    double raw_s, rep_s, peak, base, model; /* seconds; bytes */
} scale_row;

/* Run fn(arg, &value) in a child process: its value and its own peak
 * resident set in bytes (getrusage RUSAGE_SELF ru_maxrss at its end), both
 * through a pipe. */
static hc_status in_child(hc_status (*fn)(const void *, double *), const void *arg, double *value, double *peak)
{
    int fd[2];
    if (pipe(fd) != 0) return hc_fail(HC_EIO, "cannot create a pipe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return hc_fail(HC_EIO, "cannot fork");
    }
    if (pid == 0) {
        close(fd[0]);
        double v[2] = {0, 0};
        hc_status st = fn(arg, &v[0]);
        if (st != HC_OK) fprintf(stderr, "hicache bench replay-scale: %s\n", hc_errmsg());
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        v[1] = (double)ru.ru_maxrss * 1024.0; /* KiB on Linux */
        ssize_t w = write(fd[1], v, sizeof v);
        _exit(st == HC_OK && w == (ssize_t)sizeof v ? 0 : 1);
    }
    close(fd[1]);
    double v[2] = {0, 0};
    ssize_t r = read(fd[0], v, sizeof v);
    close(fd[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || r != (ssize_t)sizeof v)
        return hc_fail(HC_EIO, "a measuring child process failed (message above)");
    *value = v[0];
    *peak = v[1];
    return HC_OK;
}

typedef struct job {
    const char *path;
    const hc_synth_opts *so;
    const scale_opts *o;
    const hc_method *methods;
} job;

static hc_status job_synth(const void *a, double *v)
{
    const job *j = a;
    *v = 0;
    return hc_synth_write(j->path, j->so);
}

static hc_status job_open(const void *a, double *v) /* the baseline: open and close */
{
    const job *j = a;
    hc_traj *t;
    HC_TRY(hc_traj_open(j->path, &t));
    hc_traj_close(t);
    *v = 0;
    return HC_OK;
}

static hc_status job_raw(const void *a, double *v)
{
    const job *j = a;
    hc_traj *t;
    HC_TRY(hc_traj_open(j->path, &t));
    finfo fi;
    file_info(t, &fi);
    void *buf = malloc(fi.row_max * sizeof(float) + 1);
    hc_status st = buf ? raw_read(j->path, t, buf) : hc_fail(HC_ENOMEM, "out of memory"); /* warm */
    double t0 = hc_bench_now();
    if (st == HC_OK) st = raw_read(j->path, t, buf);
    *v = hc_bench_now() - t0;
    free(buf);
    hc_traj_close(t);
    return st;
}

static hc_status job_replay(const void *a, double *v)
{
    const job *j = a;
    hc_replay_opts ro = {.files = &j->path, .n_files = 1, .methods = j->methods, .n_methods = j->o->nm, .quiet = 1};
    hc_replay_result *res = NULL;
    double t0 = hc_bench_now();
    hc_status st = hc_replay_compute(&ro, &res);
    *v = hc_bench_now() - t0;
    hc_replay_result_free(res);
    return st;
}

/* Replay's own estimate of its memory (hc_replay_estimate) plus what the
 * reader holds besides: a stored row of HDF5's filter pipeline and, for
 * float16, the half row before conversion. */
static hc_status memory_model(const char *path, const scale_opts *o, const hc_method *methods, double *model)
{
    hc_traj *t;
    HC_TRY(hc_traj_open(path, &t));
    hc_replay_opts ro = {.files = &path, .n_files = 1, .methods = methods, .n_methods = o->nm};
    hc_replay_need need;
    hc_replay_estimate(&ro, t, 0, &need);
    finfo fi;
    file_info(t, &fi);
    hc_traj_close(t);
    *model = (double)need.total + 2.0 * (double)fi.row_max * (fi.dt == HC_F16 ? 2 : 4);
    return HC_OK;
}

/* least squares y = a + b x; returns b, a in *a */
static double fit_line(const double *x, const double *y, int n, double *a)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    double den = n * sxx - sx * sx, b = den != 0 ? (n * sxy - sx * sy) / den : 0;
    *a = (sy - b * sx) / n;
    return b;
}

/* One grid point: write the file, measure, remove it. */
static hc_status scale_point(const scale_opts *o, const hc_method *methods, int k, const char *path, scale_row *row)
{
    hc_synth_opts so;
    hc_synth_defaults(&so);
    so.kind = HC_SYNTH_POLY; /* cheapest to generate; replay's cost does not depend on the values */
    so.steps = (int)o->steps;
    so.tokens = (int)o->pts[k][0];
    so.channels = (int)o->pts[k][1];
    so.modules = (int)o->pts[k][2];
    so.hidden = 0;
    so.write.dtype = o->dtype;
    HC_TRY(hc_synth_validate(&so));
    job j = {path, &so, o, methods};
    double v, peak;
    hc_status st = in_child(job_synth, &j, &v, &peak);
    if (st == HC_OK) st = in_child(job_open, &j, &v, &row->base);
    if (st == HC_OK) st = memory_model(path, o, methods, &row->model);
    row->raw_s = row->rep_s = 1e30;
    row->peak = 0;
    for (long r = 0; r < o->reps && st == HC_OK; r++) { /* interleaved, best time, highest peak */
        if ((st = in_child(job_raw, &j, &v, &peak)) != HC_OK) break;
        if (v < row->raw_s) row->raw_s = v;
        if ((st = in_child(job_replay, &j, &v, &peak)) != HC_OK) break;
        if (v < row->rep_s) row->rep_s = v;
        if (peak > row->peak) row->peak = peak;
    }
    if (!o->keep) remove(path);
    return st;
}

static hc_status scale_figure(const scale_opts *o, const scale_row *rows, double bt, double at, double bm, double am)
{
    hc_outfile *f = NULL;
    HC_TRY(hc_plot_csv_open(o->out, "replay_scale", &f));
    FILE *fp = hc_outfile_fp(f);
    fprintf(fp, "tokens,channels,modules,steps,elements,replay_s,raw_s,peak_mib,baseline_mib,model_mib\n");
    for (int k = 0; k < o->np; k++) {
        const scale_row *r = &rows[k];
        double el = (double)o->steps * o->pts[k][0] * o->pts[k][1] * o->pts[k][2];
        fprintf(fp, "%ld,%ld,%ld,%ld,%.0f,%.4f,%.4f,%.2f,%.2f,%.2f\n", o->pts[k][0], o->pts[k][1], o->pts[k][2],
                o->steps, el, r->rep_s, r->raw_s, r->peak / 1048576.0, r->base / 1048576.0, r->model / 1048576.0);
    }
    HC_TRY(hc_outfile_commit(f));
    char body[4096];
    snprintf(body, sizeof body,
             "set multiplot layout 1,2\n"
             "set logscale xy\nset grid\nset key top left\n"
             "set xlabel 'elements replayed (steps x tokens x channels x modules)'\n"
             "set ylabel 'seconds'\nset title 'replay time (fit: slope %.3f in log-log)'\n"
             "f(x) = exp(%.6g) * x**%.6g\n"
             "plot 'replay_scale.csv' using 5:6 with points pt 7 title 'replay', "
             "'' using 5:7 with points pt 5 title 'raw HDF5 read', f(x) with lines title 'fit'\n"
             "set xlabel 'tokens x channels (one step of one module)'\nset ylabel 'MiB'\n"
             "set title 'peak RSS above the baseline (fit: %.1f bytes per T x D)'\n"
             "plot 'replay_scale.csv' using ($1*$2):($8-$9) with points pt 7 title 'peak RSS - baseline', "
             "'' using ($1*$2):10 with points pt 4 title 'model: (2 + methods) rows + caches + reader', "
             "(%.6g + %.6g * x) / 1048576 with lines title 'fit'\n"
             "unset multiplot\n",
             bt, at, bt, bm, am, bm);
    HC_TRY(hc_plot_write_script(o->out, "replay_scale", (hc_plot_size){1400, 560}, body));
    if (o->render && hc_plot_gnuplot_available()) HC_TRY(hc_plot_render(o->out, "replay_scale"));
    return HC_OK;
}

static void scale_report(const scale_opts *o, const scale_row *rows)
{
    double lx[32], lt[32], td[32], mem[32], at, am;
    printf("%6s %6s %4s %12s %9s %9s %7s %8s %9s %9s %9s %6s\n", "tokens", "chans", "mods", "elements", "replay_s",
           "raw_s", "ratio", "ns/elem", "peak_MiB", "base_MiB", "model_MiB", "/model");
    for (int k = 0; k < o->np; k++) {
        const scale_row *r = &rows[k];
        double el = (double)o->steps * o->pts[k][0] * o->pts[k][1] * o->pts[k][2];
        lx[k] = log(el);
        lt[k] = log(r->rep_s);
        td[k] = (double)o->pts[k][0] * o->pts[k][1];
        mem[k] = r->peak - r->base;
        printf("%6ld %6ld %4ld %12.0f %9.3f %9.3f %7.2f %8.2f %9.1f %9.1f %9.1f %6.2f\n", o->pts[k][0], o->pts[k][1],
               o->pts[k][2], el, r->rep_s, r->raw_s, r->rep_s / r->raw_s, r->rep_s / el * 1e9, r->peak / 1048576.0,
               r->base / 1048576.0, r->model / 1048576.0, mem[k] / r->model);
    }
    double bt = fit_line(lx, lt, o->np, &at), bm = fit_line(td, mem, o->np, &am);
    printf("time: log-log slope %.3f against steps x tokens x channels x modules (1 = linear)\n", bt);
    printf("memory: peak RSS - baseline = %.1f MiB + %.1f bytes x tokens x channels (one step of one module;\n"
           "        %d method%s: the model counts %d rows of 4 bytes plus the caches)\n",
           am / 1048576.0, bm, o->nm, o->nm == 1 ? "" : "s", 2 + o->nm);
    if (o->out) {
        hc_status st = scale_figure(o, rows, bt, at, bm, am);
        if (st != HC_OK) fprintf(stderr, "hicache bench replay-scale: figure: %s\n", hc_errmsg());
        else printf("wrote %s/replay_scale.{csv,gp%s}\n", o->out, o->render && hc_plot_gnuplot_available() ? ",png,pdf" : "");
    }
}

static hc_status parse_point(const char *s, long p[3])
{
    char tail;
    if (sscanf(s, "%ldx%ldx%ld%c", &p[0], &p[1], &p[2], &tail) != 3 || p[0] < 1 || p[1] < 1 || p[2] < 1 ||
        p[0] > 1000000 || p[1] > 1000000 || p[2] > 4096)
        return hc_fail(HC_EINVAL, "--point '%s': expected TOKENSxCHANNELSxMODULES, e.g. 1024x512x4", s);
    return HC_OK;
}

static hc_status scale_parse(int argc, char **argv, scale_opts *o)
{
    memset(o, 0, sizeof *o);
    o->steps = 50;
    o->reps = 2;
    o->render = 1;
    o->dir = "/tmp";
    o->out = "out/bench_replay_scale";
    o->dtype = HC_F16;
    hc_status st = HC_OK;
    for (int i = 1; i < argc && st == HC_OK; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--method") == 0 && v) {
            while (i + 1 < argc && argv[i + 1][0] != '-' && st == HC_OK)
                if (o->nm == 16) st = hc_fail(HC_EINVAL, "--method: at most 16 methods");
                else o->specs[o->nm++] = argv[++i];
        } else if (strcmp(a, "--point") == 0 && v) {
            if (o->np == 32) st = hc_fail(HC_EINVAL, "--point: at most 32 points");
            else st = parse_point(argv[++i], o->pts[o->np++]);
        } else if (strcmp(a, "--steps") == 0 && v) st = cli_int("--steps", argv[++i], 2, 10000, &o->steps);
        else if (strcmp(a, "--reps") == 0 && v) st = cli_int("--reps", argv[++i], 1, 100, &o->reps);
        else if (strcmp(a, "--dir") == 0 && v) o->dir = argv[++i];
        else if (strcmp(a, "--out") == 0 && v) o->out = argv[++i];
        else if (strcmp(a, "--no-render") == 0) o->render = 0;
        else if (strcmp(a, "--keep") == 0) o->keep = 1;
        else if (strcmp(a, "--dtype") == 0 && v) {
            i++;
            if (strcmp(v, "float16") == 0) o->dtype = HC_F16;
            else if (strcmp(v, "float32") == 0) o->dtype = HC_F32;
            else st = hc_fail(HC_EINVAL, "--dtype '%s': expected float16 or float32", v);
        } else st = hc_fail(HC_EINVAL, "unknown or incomplete option '%s'", a);
    }
    if (o->nm == 0) o->specs[o->nm++] = default_methods[0];
    if (o->np == 0)
        for (size_t k = 0; k < sizeof default_grid / sizeof default_grid[0]; k++)
            memcpy(o->pts[o->np++], default_grid[k], sizeof default_grid[k]);
    return st;
}

/* Free space under dir for the largest file of the grid (one at a time). */
static hc_status check_disk(const scale_opts *o, char *path, size_t cap)
{
    double largest = 0, esz = o->dtype == HC_F16 ? 2 : 4;
    for (int k = 0; k < o->np; k++) {
        double b = (double)o->steps * o->pts[k][0] * o->pts[k][1] * o->pts[k][2] * esz;
        if (b > largest) largest = b;
    }
    snprintf(path, cap, "%s/hicache_replay_scale_%ld.h5", o->dir, (long)getpid());
    struct statvfs vs;
    if (statvfs(o->dir, &vs) != 0) return hc_fail(HC_EIO, "--dir %s: not a directory we can check", o->dir);
    double avail = (double)vs.f_bavail * (double)vs.f_frsize, need = largest * 1.05 + 64e6;
    if (avail < need)
        return hc_fail(HC_EIO, "--dir %s: %.0f MB free, the largest file of the grid needs %.0f MB", o->dir, avail / 1e6,
                       need / 1e6);
    return HC_OK;
}

/* hicache bench replay-scale [options]: see the usage text */
int hc_bench_replay_scale(int argc, char **argv)
{
    scale_opts o;
    hc_status st = scale_parse(argc, argv, &o);
    hc_method methods[16];
    for (int m = 0; m < o.nm && st == HC_OK; m++) st = hc_method_parse(o.specs[m], &methods[m]);
    char path[1024];
    if (st == HC_OK) st = check_disk(&o, path, sizeof path);
    if (st == HC_OK && o.out && mkdir(o.out, 0777) != 0 && errno != EEXIST)
        st = hc_fail(HC_EIO, "--out %s: cannot create the directory", o.out);
    if (st != HC_OK) return cli_error("bench replay-scale", st);
    printf("replay time and peak memory, %s, %ld steps, method%s", hc_dtype_name(o.dtype), o.steps, o.nm > 1 ? "s" : "");
    for (int m = 0; m < o.nm; m++) printf(" %s", o.specs[m]);
    printf("; best of %ld (time), highest of %ld (peak RSS), each in a child process\n", o.reps, o.reps);
    scale_row rows[32];
    for (int k = 0; k < o.np && st == HC_OK; k++) {
        fprintf(stderr, "replay-scale: [%d/%d] %ld x %ld x %ld\n", k + 1, o.np, o.pts[k][0], o.pts[k][1], o.pts[k][2]);
        st = scale_point(&o, methods, k, path, &rows[k]);
    }
    if (st != HC_OK) {
        remove(path);
        return cli_error("bench replay-scale", st);
    }
    scale_report(&o, rows);
    return 0;
}
