/* cmd_bench.c: `hicache bench ...`: speed targets as printed ratios measured
 * in one run (the machines are shared and noisy: compare within a run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <hdf5.h>

#include "bench.h"
#include "cli.h"
#include "model.h"
#include "predictor.h"
#include "replay.h"
#include "sampler.h"
#include "traj.h"

static double now(void) { return hc_bench_now(); }

static int bench_predict(int argc, char **argv)
{
    long mb = 64, reps = 7, maxo = 4;
    hc_status st = HC_OK;
    for (int i = 1; i < argc && st == HC_OK; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc) st = cli_int("--mb", argv[++i], 1, 16384, &mb);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) st = cli_int("--reps", argv[++i], 1, 1000, &reps);
        else if (strcmp(argv[i], "--max-order") == 0 && i + 1 < argc) st = cli_int("--max-order", argv[++i], 1, HC_MAX_ORDER, &maxo);
        else st = hc_fail(HC_EINVAL, "unknown or incomplete option '%s'", argv[i]);
    }
    if (st != HC_OK) return cli_error("bench predict", st);
    size_t n = (size_t)mb * 1024 * 1024 / sizeof(float);
    /* arrays staggered by 64 bytes x k, as hc_dcache lays out its orders, so
     * the streams do not alias modulo 4 KiB */
    float *base[HC_MAX_ORDER + 2] = {0}, *buf[HC_MAX_ORDER + 2] = {0};
    for (int k = 0; k <= maxo + 1; k++) {
        base[k] = malloc((n + 16 * (size_t)(k + 1)) * sizeof(float));
        buf[k] = base[k] ? base[k] + 16 * k : NULL;
        if (!buf[k]) {
            for (int j = 0; j < k; j++) free(base[j]);
            return cli_error("bench predict", hc_fail(HC_ENOMEM, "cannot allocate %d x %ld MiB", (int)maxo + 2, mb));
        }
        for (size_t i = 0; i < n; i++) buf[k][i] = (float)((i + k) % 97) * 0.01f; /* touch every page */
    }
    float *out = buf[maxo + 1];
    double coef[HC_MAX_ORDER + 1];
    for (int k = 0; k <= HC_MAX_ORDER; k++) coef[k] = 1.0 / (k + 1);
    /* interleave: every round times the triad and each order back to back,
     * so all see the same machine load; keep the best of each */
    double best_triad = 1e30, best[HC_MAX_ORDER + 1];
    for (int p = 0; p <= HC_MAX_ORDER; p++) best[p] = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) out[i] = buf[0][i] + 3.0f * buf[1][i];
        double dt = now() - t0;
        if (dt < best_triad) best_triad = dt;
        for (int p = 1; p <= maxo; p++) {
            t0 = now();
            hc_forecast_apply(out, (const float *const *)buf, coef, p, n);
            dt = now() - t0;
            if (dt < best[p]) best[p] = dt;
        }
    }
    double triad = 3.0 * sizeof(float) * (double)n / best_triad / 1e9;
    printf("forecast kernel out = sum_k c_k D_k over %ld MiB per tensor, best of %ld interleaved rounds, 1 thread\n",
           mb, reps);
    printf("%-8s %10s %12s %8s\n", "kernel", "GB/s", "ms", "/triad");
    printf("%-8s %10.2f %12.2f %8.2f\n", "triad", triad, best_triad * 1e3, 1.0);
    for (int p = 1; p <= maxo; p++) {
        double gbs = (double)(p + 2) * sizeof(float) * (double)n / best[p] / 1e9;
        printf("O=%-6d %10.2f %12.2f %8.2f\n", p, gbs, best[p] * 1e3, gbs / triad);
    }
    printf("(bytes as STREAM counts them: each input read once + the output written, no write-allocate;\n"
           " the forecast at order O moves O+2 arrays, the triad 3)\n");
    for (int k = 0; k <= maxo + 1; k++) free(base[k]);
    return 0;
}

/* every GEMM shape of g[0..ng) its number of calls, C = A B^T */
static void sgemm_shapes(const hc_gemm_shape *g, int ng, const float *A, const float *Bm, float *Cm)
{
    for (int i = 0; i < ng; i++)
        for (int k = 0; k < g[i].calls; k++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g[i].M, g[i].N, g[i].K, 1.0f, A, g[i].K, Bm, g[i].K,
                        0.0f, Cm, g[i].N);
}

/* The forward at batch B on inputs x (B x image, float32), t, lab against
 * cblas_sgemm alone on the architecture's own GEMM shapes and counts,
 * interleaved over reps rounds; prints GFLOP/s of both and their ratio. */
static void forward_vs_sgemm(hc_model *m, const hc_model_info *info, const float *x, const float *t, const int *lab,
                             int B, float *v, long images, long reps, double torch_ms)
{
    /* the architecture's own description: MACs of a full forward and its GEMM shapes */
    const hc_model_config *mc = m->config;
    hc_point_plan *plan = calloc((size_t)mc->n_points, sizeof *plan);
    for (int p = 0; plan && p < mc->n_points; p++) plan[p].compute = 1;
    double fm = plan ? hc_model_macs(mc, 1, plan) : 0;
    free(plan);
    hc_gemm_shape g[64];
    int ng = mc->type->gemms(mc->cfg, B, g, 64);
    if (ng > 64) ng = 64;
    double gemm_flops = 0;
    size_t maxa = 0, maxb = 0, maxc = 0;
    for (int i = 0; i < ng; i++) {
        gemm_flops += 2.0 * g[i].M * g[i].N * g[i].K * g[i].calls;
        if ((size_t)g[i].M * g[i].K > maxa) maxa = (size_t)g[i].M * g[i].K;
        if ((size_t)g[i].N * g[i].K > maxb) maxb = (size_t)g[i].N * g[i].K;
        if ((size_t)g[i].M * g[i].N > maxc) maxc = (size_t)g[i].M * g[i].N;
    }
    float *A = calloc(maxa, sizeof *A), *Bm = calloc(maxb, sizeof *Bm), *Cm = calloc(maxc, sizeof *Cm);
    hc_model_forward(m, x, t, lab, B, NULL, v); /* warm up */
    /* interleaved: the forward, sgemm alone at the same thread count and,
     * with several threads, sgemm on one thread (the per-core limit) */
    const int threads = openblas_get_num_threads();
    double best_f = 1e30, best_g = 1e30, best_1 = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        hc_model_forward(m, x, t, lab, B, NULL, v);
        double dt = now() - t0;
        if (dt < best_f) best_f = dt;
        for (int one = 0; one < (threads > 1 ? 2 : 1); one++) {
            if (one) openblas_set_num_threads(1);
            t0 = now();
            sgemm_shapes(g, ng, A, Bm, Cm);
            dt = now() - t0;
            if (one) openblas_set_num_threads(threads);
            double *best = one ? &best_1 : &best_g;
            if (dt < *best) *best = dt;
        }
    }
    double fwd = 2.0 * fm * B / best_f / 1e9, gem = gemm_flops / best_g / 1e9, gem1 = gemm_flops / best_1 / 1e9;
    printf("%s forward, batch %d (%ld images x CFG), %d thread%s, best of %ld\n", info->arch, B, images, threads,
           threads == 1 ? "" : "s", reps);
    printf("%-34s %10.2f GFLOP/s  (%.1f ms, %.2f GFLOP)\n", "forward (analytic FLOPs / time)", fwd, best_f * 1e3,
           2.0 * fm * B / 1e9);
    printf("%-34s %10.2f GFLOP/s  (%.1f ms, same GEMM shapes and counts)\n", "sgemm alone", gem, best_g * 1e3);
    printf("%-34s %10.2f  (target >= 0.8)\n", "forward / sgemm", fwd / gem);
    if (threads > 1) {
        printf("%-34s %10.2f GFLOP/s  (%.1f ms)\n", "sgemm alone, 1 thread", gem1, best_1 * 1e3);
        printf("%-27s %d x 1 %10.2f  (target >= 0.8)\n", "forward / sgemm,", threads, fwd / (threads * gem1));
    }
    if (torch_ms > 0)
        printf("%-34s %10.2f  (PyTorch %.1f ms from tools/bench_torch.py, same batch and threads)\n",
               "PyTorch time / ours", torch_ms / (best_f * 1e3), torch_ms);
    free(A);
    free(Bm);
    free(Cm);
}

/* Cached sampling at N: `images` images (each img floats, starting from
 * the first images rows of x) x `steps` steps, full compute and
 * `spec` (meth), best of two rounds; prints the wall-clock speedup over
 * the FLOPs speedup. */
static hc_status cached_sampling(hc_model *m, const float *x, const int *lab, size_t img, long images, long steps,
                                 const char *spec, const hc_method *meth)
{
    hc_method full;
    hc_method_parse("full", &full);
    hc_sampler *smp;
    HC_TRY(hc_sampler_alloc(m, (int)images, &smp));
    hc_sample_opts so = {(int)steps, 2.5, 1};
    hc_sample_stats sf, sc;
    float *xs = malloc((size_t)images * img * sizeof *xs);
    double wall_f = 1e30, wall_c = 1e30, cached_s = 0;
    for (int r = 0; r < 2; r++) {
        memcpy(xs, x, (size_t)images * img * sizeof *xs);
        hc_sampler_run(smp, &full, &so, lab, (int)images, xs, &sf);
        memcpy(xs, x, (size_t)images * img * sizeof *xs);
        hc_sampler_run(smp, meth, &so, lab, (int)images, xs, &sc);
        if (sf.seconds < wall_f) wall_f = sf.seconds;
        if (sc.seconds < wall_c) {
            wall_c = sc.seconds;
            cached_s = sc.seconds_cached;
        }
    }
    double fs = sf.macs / sc.macs, ws = wall_f / wall_c;
    printf("\nsampling %ld images x %ld steps, %s: %d full steps\n", images, steps, spec, sc.full_steps);
    printf("%-34s %10.2f s\n%-34s %10.2f s\n", "full compute", wall_f, "cached", wall_c);
    printf("%-34s %10.2f\n%-34s %10.2f\n%-34s %10.2f  (target >= 0.95)\n", "FLOPs speedup", fs, "wall-clock speedup", ws,
           "wall / FLOPs speedup", ws / fs);
    /* where the time goes: a cached step's time (best round's cached run)
     * against a full step's, beside their FLOPs */
    int nf = sc.full_steps, nc = (int)steps - nf;
    if (nc <= 0) goto done;
    double tf = wall_f / (double)steps, tc = cached_s / nc;
    double ff = sf.macs / (double)steps, fc = (sc.macs - nf * ff) / nc;
    printf("%-34s %10.2f ms\n%-34s %10.2f ms\n", "full step", tf * 1e3, "cached step", tc * 1e3);
    printf("%-34s %10.4f  (FLOPs: %.4f)\n", "cached / full step time", tc / tf, fc / ff);
    /* what FLOPs do not count: a cached step reads every cache (all orders
     * of every point) and cannot beat the read bandwidth of the same
     * threads, measured now (the caches are far larger than the last-level
     * cache).  With every cached step at that floor (or at its FLOPs' share
     * of a full step, if more) and the full steps as measured, wall / FLOPs
     * speedup would be at most this much. */
    const double bw = sc.cache_bytes > 0 ? hc_bench_read_bandwidth(openblas_get_num_threads()) : 0;
    if (bw > 0) {
        double floor_c = (double)sc.cache_bytes / bw, by_flops = tf * fc / ff;
        double best = (wall_c - cached_s) + nc * (floor_c > by_flops ? floor_c : by_flops);
        printf("%-34s %10.2f ms  (%.1f MB of caches read at %.2f GB/s)\n", "memory floor, cached step", floor_c * 1e3,
               (double)sc.cache_bytes / 1e6, bw / 1e9);
        printf("%-34s %10.2f  (cached steps at that floor, full steps as measured)\n", "wall / FLOPs at most",
               wall_f / best / fs);
    }
done:
    hc_sampler_free(smp);
    free(xs);
    return HC_OK;
}

/* A model of the config object in a JSON file, with synthetic weights. */
static hc_status open_synthetic(const char *path, int max_batch, hc_model **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return hc_fail(HC_EIO, "%s: cannot open", path);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *cj = cJSON_Parse(buf);
    if (!cj || n == sizeof buf - 1) {
        cJSON_Delete(cj);
        return hc_fail(HC_EFORMAT, "%s: not a JSON model config of under 8 KiB", path);
    }
    hc_status st = hc_model_open_synthetic(path, cj, max_batch, 1, out);
    cJSON_Delete(cj);
    return st;
}

static int bench_forward(int argc, char **argv)
{
    const char *model = "data/models/flux_mini.safetensors", *synthetic = NULL, *cache = "f32";
    long images = 16, reps = 5, steps = 50, N = 7, sampling = 1;
    double torch_ms = 0;
    hc_status st = HC_OK;
    for (int i = 1; i < argc && st == HC_OK; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model = argv[++i];
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) synthetic = argv[++i];
        else if (strcmp(argv[i], "--no-sampling") == 0) sampling = 0;
        else if (strcmp(argv[i], "--cache") == 0 && i + 1 < argc) cache = argv[++i];
        else if (strcmp(argv[i], "--images") == 0 && i + 1 < argc) st = cli_int("--images", argv[++i], 1, 1024, &images);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) st = cli_int("--reps", argv[++i], 1, 1000, &reps);
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) st = cli_int("--steps", argv[++i], 2, 1000, &steps);
        else if (strcmp(argv[i], "--N") == 0 && i + 1 < argc) st = cli_int("--N", argv[++i], 2, 100, &N);
        else if (strcmp(argv[i], "--torch-ms") == 0 && i + 1 < argc) st = cli_double("--torch-ms", argv[++i], 0, 1e9, &torch_ms);
        else st = hc_fail(HC_EINVAL, "unknown or incomplete option '%s'", argv[i]);
    }
    /* the sampled method, parsed before anything runs: a bad --cache gets the method's one-line error */
    char spec[96];
    snprintf(spec, sizeof spec, "hicache:N=%ld,O=2%s%s", N, strcmp(cache, "f32") ? ",cache=" : "",
             strcmp(cache, "f32") ? cache : "");
    hc_method meth;
    if (st == HC_OK) st = hc_method_parse(spec, &meth);
    hc_model *m = NULL;
    if (st == HC_OK && synthetic) st = open_synthetic(synthetic, 2 * (int)images, &m);
    else if (st == HC_OK) st = hc_model_open(model, 2 * (int)images, &m);
    if (st != HC_OK) return cli_error("bench forward", st);
    hc_model_info info;
    hc_model_get_info(m, &info);
    /* inputs: B = 2 x images (CFG), fixed pseudo-noise, t = 0.5, class labels then the null class */
    int B = 2 * (int)images;
    size_t img = (size_t)info.image_channels * info.image_size * info.image_size;
    size_t out = img / (size_t)info.image_channels * (size_t)info.out_channels;
    float *x = malloc((size_t)B * img * sizeof *x), *v = malloc((size_t)B * out * sizeof *v), *t = malloc((size_t)B * sizeof *t);
    int *lab = malloc((size_t)B * sizeof *lab);
    for (size_t i = 0; i < (size_t)B * img; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    for (int b = 0; b < B; b++) {
        t[b] = 0.5f;
        lab[b] = b < B / 2 ? b % info.num_classes : info.null_class;
    }
    forward_vs_sgemm(m, &info, x, t, lab, B, v, images, reps, torch_ms);
    if (sampling) st = cached_sampling(m, x, lab, img, images, steps, spec, &meth);
    int rc = st == HC_OK ? 0 : cli_error("bench forward", st);
    hc_model_close(m);
    free(x); free(v); free(t); free(lab);
    return rc;
}

static const struct { const char *name; int (*fn)(int, char **); const char *summary; } benches[] = {
    {"predict", bench_predict, "forecast kernel bandwidth vs STREAM triad, O = 1..4"},
    {"forward", bench_forward, "model forward GFLOP/s vs sgemm on its shapes; cached sampling wall/FLOPs speedup"},
    {"replay", hc_bench_replay, "replay time / raw HDF5 read of the same rows, one and several methods"},
    {"replay-scale", hc_bench_replay_scale, "replay time and peak memory over a grid of recording sizes"},
};

static int run(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "hicache bench: name a benchmark (predict, forward, replay, replay-scale)\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        if (strcmp(argv[1], benches[i].name) == 0) return benches[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "hicache bench: unknown benchmark '%s' (valid: predict, forward, replay, replay-scale)\n", argv[1]);
    return 2;
}

const hc_command hc_cmd_bench = {
    "bench", "benchmarks that print measured ratios (predict, forward, replay, replay-scale)", run,
    "usage: hicache bench predict [--mb M] [--reps R] [--max-order K]\n"
    "       hicache bench forward [--model M | --config CFG.json] [--images I] [--reps R]\n"
    "                             [--steps S] [--N N] [--cache f32|f16|bf16]\n"
    "                             [--no-sampling] [--torch-ms X]\n"
    "       hicache bench replay FILE... [--method SPEC...] [--reps R] [--serial]\n"
    "                            [--threads N]\n"
    "       hicache bench replay-scale [--point TxDxM]... [--steps S] [--dtype T]\n"
    "                             [--method SPEC...] [--reps R] [--dir D] [--out D]\n"
    "                             [--keep] [--no-render]\n"
    "\n"
    "predict   bandwidth of the fused forecast kernel out = sum_k c_k D_k for\n"
    "          orders 1..K (default 4) on tensors of M MiB (default 64), beside a\n"
    "          STREAM triad measured in the same run, and their ratio (target:\n"
    "          >= 0.85).  Best of R runs (default 7), one thread.\n"
    "forward   a model's forward (default the flux-mini file; --config: a model\n"
    "          config JSON with synthetic weights, e.g. DiT-XL/2 whose weights are\n"
    "          not here) at batch 2I (I images, default 16, x CFG) in\n"
    "          GFLOP/s (analytic FLOPs / time) beside sgemm alone on the same GEMM\n"
    "          shapes and counts, interleaved, and their ratio (target >= 0.8); with\n"
    "          T > 1 threads also against T x the one-thread sgemm rate (target\n"
    "          >= 0.8).  --torch-ms X: PyTorch's time for the same forward\n"
    "          (tools/bench_torch.py --threads T) and its ratio to ours; then\n"
    "          I images x S steps (default 50) sampled with full compute and with\n"
    "          hicache:N=N,O=2 (default N 7; --cache f16|bf16: its cache in 16\n"
    "          bits): wall-clock speedup / FLOPs speedup\n"
    "          (target >= 0.95; --no-sampling skips it), a cached step's time\n"
    "          and FLOPs as fractions of a full step's, and the memory floor FLOPs\n"
    "          miss: a cached step's cache reads at the read bandwidth measured\n"
    "          then, and the wall / FLOPs speedup with cached steps at that floor.\n"
    "          Threads: OPENBLAS_NUM_THREADS.\n"
    "replay    in-memory replay of each trajectory FILE (hicache replay without\n"
    "          writing results) against reading every row of every feature\n"
    "          dataset as stored (HDF5 read, decompression and checksums, no\n"
    "          conversion), interleaved, best of R rounds (default 3) each: with\n"
    "          the first method alone and with all methods given (repeat --method\n"
    "          or list several after it; default five: taylor:N=5,O=2,\n"
    "          hicache:N=5,O=2,sigma=0.5, reuse:N=5, lagrange:N=5,O=2,\n"
    "          taylor:N=5,O=1), and their ratios (target <= 1.5 with one method,\n"
    "          2.5 with five: 0.25 more per method).  Replay reads step s+1 on a\n"
    "          reader thread while step s is scored; --serial reads on one thread.\n"
    "          --threads N forecast and score each row (default: the cores).\n"
    "          Also prints each replay's memory floor: the caches it streams\n"
    "          (read at cached steps, read and written at full ones) at this\n"
    "          machine's read bandwidth (256 MiB, same threads).\n"
    "replay-scale  replay time and peak memory as a recording grows: for each\n"
    "          point TxDxM (--point, repeatable; default 7 points from\n"
    "          256x256x2 to 2048x1024x4) writes a synthetic file of S steps\n"
    "          (--steps, default 50; --dtype float16 (default) or float32) under\n"
    "          --dir (default /tmp; free space checked first, one file at a time,\n"
    "          removed after unless --keep), then in child processes the raw read\n"
    "          and the replay (--method SPEC..., default taylor:N=5,O=2), best\n"
    "          time and highest peak RSS (getrusage ru_maxrss) of --reps rounds\n"
    "          (default 2), beside a child that only opens the file (baseline)\n"
    "          and replay's own memory model (hc_replay_estimate: the read\n"
    "          queue's two rows + a forecast per method + the caches, plus the\n"
    "          reader's stored and half rows).  Prints a table and the fitted\n"
    "          slopes; writes --out DIR (default out/bench_replay_scale)\n"
    "          replay_scale.{csv,gp}, with gnuplot .png/.pdf (not: --no-render).\n",
};
