/* cmd_bench.c: `hicache bench ...`: speed targets as printed ratios measured
 * in one run (the machines are shared and noisy: compare within a run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "predictor.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* STREAM triad a = b + s c; best of reps; bytes counted as STREAM does (3 arrays). */
static double triad_gbs(float *a, const float *b, const float *c, size_t n, int reps)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) a[i] = b[i] + 3.0f * c[i];
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    return 3.0 * sizeof(float) * (double)n / best / 1e9;
}

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
    float *buf[HC_MAX_ORDER + 2] = {0};
    for (int k = 0; k <= maxo + 1; k++) {
        buf[k] = malloc(n * sizeof(float));
        if (!buf[k]) {
            for (int j = 0; j < k; j++) free(buf[j]);
            return cli_error("bench predict", hc_fail(HC_ENOMEM, "cannot allocate %d x %ld MiB", (int)maxo + 2, mb));
        }
        for (size_t i = 0; i < n; i++) buf[k][i] = (float)((i + k) % 97) * 0.01f; /* touch every page */
    }
    float *out = buf[maxo + 1];
    printf("forecast kernel out = sum_k c_k D_k over %ld MiB per tensor, best of %ld runs, 1 thread\n", mb, reps);
    double triad = triad_gbs(out, buf[0], buf[1], n, (int)reps);
    printf("%-26s %10.2f GB/s\n", "STREAM triad (a=b+s*c)", triad);
    printf("%-6s %10s %12s %8s\n", "order", "GB/s", "ms/forecast", "/triad");
    double coef[HC_MAX_ORDER + 1];
    for (int k = 0; k <= HC_MAX_ORDER; k++) coef[k] = 1.0 / (k + 1);
    for (int p = 1; p <= maxo; p++) {
        double best = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            hc_forecast_apply(out, (const float *const *)buf, coef, p, n);
            double dt = now() - t0;
            if (dt < best) best = dt;
        }
        double gbs = (double)(p + 2) * sizeof(float) * (double)n / best / 1e9;
        printf("O=%-4d %10.2f %12.2f %8.2f\n", p, gbs, best * 1e3, gbs / triad);
    }
    /* re-measure the triad so drift in machine load shows */
    printf("%-26s %10.2f GB/s (after)\n", "STREAM triad (a=b+s*c)", triad_gbs(out, buf[0], buf[1], n, (int)reps));
    printf("(bytes counted as STREAM does: inputs read + output written, no write-allocate)\n");
    for (int k = 0; k <= maxo + 1; k++) free(buf[k]);
    return 0;
}

static const struct { const char *name; int (*fn)(int, char **); const char *summary; } benches[] = {
    {"predict", bench_predict, "forecast kernel bandwidth vs STREAM triad, O = 1..4"},
};

static int run(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "hicache bench: name a benchmark (predict)\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        if (strcmp(argv[1], benches[i].name) == 0) return benches[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "hicache bench: unknown benchmark '%s' (valid: predict)\n", argv[1]);
    return 2;
}

const hc_command hc_cmd_bench = {
    "bench", "benchmarks that print measured ratios (predict)", run,
    "usage: hicache bench predict [--mb M] [--reps R] [--max-order K]\n"
    "\n"
    "predict   bandwidth of the fused forecast kernel out = sum_k c_k D_k for\n"
    "          orders 1..K (default 4) on tensors of M MiB (default 64), beside a\n"
    "          STREAM triad measured in the same run, and their ratio (target:\n"
    "          >= 0.85).  Best of R runs (default 7), one thread.\n",
};
