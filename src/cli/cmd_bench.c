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
