/* cmd_replay.c: `hicache replay`: open-loop forecast error on trajectories. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pool.h"
#include "replay.h"

/* Collect the values after a list option ("--traj a.h5 b.h5 ..."). */
static int take_list(int argc, char **argv, int *i, const char **dst, int *n, int cap)
{
    int start = *n;
    while (*i + 1 < argc && argv[*i + 1][0] != '-' && *n < cap) dst[(*n)++] = argv[++*i];
    return *n > start;
}

/* "2G", "512M", "1.5GiB", "64K", "1000000" (bytes; K, M, G, T are powers
 * of 1024). */
static int run(int argc, char **argv)
{
    const char **files = calloc((size_t)argc, sizeof *files);
    const char **specs = calloc((size_t)argc, sizeof *specs);
    hc_method *methods = calloc((size_t)argc, sizeof *methods);
    int nf = 0, nm = 0, rc = 0;
    hc_replay_opts o = {.out_dir = "out/replay"};
    hc_status st = HC_OK;
    if (!files || !specs || !methods) { st = hc_fail(HC_ENOMEM, "out of memory"); goto done; }
    for (int i = 1; i < argc && st == HC_OK; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--traj") == 0) {
            if (!take_list(argc, argv, &i, files, &nf, argc)) st = hc_fail(HC_EINVAL, "--traj needs at least one FILE");
        } else if (strcmp(a, "--method") == 0) {
            if (!take_list(argc, argv, &i, specs, &nm, argc)) st = hc_fail(HC_EINVAL, "--method needs at least one SPEC");
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) && i + 1 < argc) {
            o.out_dir = argv[++i];
        } else if (strcmp(a, "--modules") == 0 && i + 1 < argc) {
            o.modules_glob = argv[++i];
        } else if (strcmp(a, "--nonfinite") == 0 && i + 1 < argc) {
            st = hc_traj_nonfinite_parse(argv[++i], &o.nonfinite);
            if (st != HC_OK) st = hc_fail(HC_EINVAL, "--nonfinite: '%s' (valid: refuse, zero, skip)", argv[i]);
        } else if (strcmp(a, "--max-memory") == 0 && i + 1 < argc) {
            st = cli_size("--max-memory", argv[++i], &o.max_memory);
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            long w = 0;
            st = cli_int("--threads", argv[++i], 1, HC_POOL_MAX, &w);
            o.threads = (int)w;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o.quiet = 1;
        } else {
            st = hc_fail(HC_EINVAL, "unknown or incomplete option '%s' (see hicache replay --help)", a);
        }
    }
    if (st == HC_OK && nf == 0) st = hc_fail(HC_EINVAL, "no --traj FILE given");
    if (st == HC_OK && nm == 0) st = hc_fail(HC_EINVAL, "no --method SPEC given (e.g. --method taylor:N=5,O=2)");
    for (int m = 0; m < nm && st == HC_OK; m++) st = hc_method_parse(specs[m], &methods[m]);
    if (st == HC_OK) {
        o.files = files;
        o.n_files = nf;
        o.methods = methods;
        o.n_methods = nm;
        cJSON *sum = NULL;
        st = hc_replay_run(&o, &sum);
        if (st == HC_OK) {
            hc_replay_print_table(sum, stdout);
            printf("\nwrote %s/results.csv and %s/summary.json\n", o.out_dir, o.out_dir);
            cJSON_Delete(sum);
        }
    }
done:
    if (st != HC_OK) rc = cli_error("replay", st);
    free(files);
    free(specs);
    free(methods);
    return rc;
}

const hc_command hc_cmd_replay = {
    "replay", "open-loop forecast error of methods on recorded trajectories", run,
    "usage: hicache replay --traj FILE... --method SPEC... [-o DIR] [--modules GLOB]\n"
    "        [--nonfinite refuse|zero|skip] [--max-memory SIZE] [--threads N] [-q]\n"
    "\n"
    "Walk each trajectory's steps in sampling order.  At a full step (per each\n"
    "method's schedule) the predictor observes the true module output; at a\n"
    "cached step it forecasts and is scored against the truth.  Every module\n"
    "under /features is replayed independently (open loop).\n"
    "\n"
    "  --traj FILE...     schema-v1 trajectories (see docs/trajectory-format.md);\n"
    "                     several files are aggregated with a 95% t-interval over\n"
    "                     the per-file means\n"
    "  --method SPEC...   methods as name:key=value,... (see below)\n"
    "  -o, --out DIR      output directory (default out/replay)\n"
    "  --modules GLOB     only modules whose name matches, e.g. 'double/*/img_*'\n"
    "  --nonfinite P      NaN/Inf in features, hidden states or step times:\n"
    "                     refuse (default: one line naming file, dataset, step,\n"
    "                     count), zero (set to 0) or skip (set to 0 where\n"
    "                     observed, cached steps left out of the scores); zero\n"
    "                     and skip are counted per file and method in\n"
    "                     summary.json and on the table\n"
    "  --max-memory SIZE  memory one file may use (2G, 512M; default: half of RAM)\n"
    "  --threads N        threads per row (default: the cores; same bits at any N)\n"
    "  -q, --quiet        no progress lines\n"
    "\n"
    "Methods (keys N, W, sched, cache=f32|f16|bf16 are common; defaults in brackets):\n"
    "  full                       no caching (every step full)\n"
    "  reuse                      FORA: reuse the last full-step output\n"
    "  taylor:O=2                 TaylorSeer: sum D_k x^k / k!\n"
    "  hermite:O=2                physicists' Hermite, no scaling: sum D_k H_k(x) / k!\n"
    "  hicache:O=2,sigma=0.5      HiCache: sum D_k sigma^k H_k(sigma x) / k!\n"
    "  hermite-arg:O,sigma        ablation: sigma on the argument only\n"
    "  hermite-coef:O,sigma       ablation: sigma^k on the coefficients only\n"
    "  hitaylor:O,sigma           Hi-Taylor: sum D_k sigma^(2k) x^k / k!\n"
    "  lagrange:O=2               polynomial through the last O+1 full-step snapshots\n"
    "  adams:O=2                  Adams-Bashforth of order O on step-unit slopes\n"
    "  foca                       FoCa: Heun step on the BDF2 window (cache-dit's form)\n"
    "  spectrum:M=4,lam=0.1,window=10  ridge fit on Chebyshev polynomials of the step\n"
    "  dmd:r=2,m=4,O=1            DMD of rank r over the last m full steps (taylor:O before)\n"
    "  hicache-analytic:O=2       HiCache, sigma from an EMA of the per-token |D_1|\n"
    "  clusca:base=taylor,K=16,gamma=0.005,seed=0,fresh=mlp,iters=10  (+ the base's keys)\n"
    "                             ClusCa over a base; Hi-ClusCa is clusca:base=hicache\n"
    "  N [7]   full-compute interval      W [3; 2 for sched=dit]  warm-up full steps\n"
    "  sched [flux]  flux: first W steps full, then every N (official counter);\n"
    "                dit: the DiT code's count-down variant; mod: s mod N == 0 (FORA)\n"
    "PREDICTOR@POLICY decides when to recompute by a policy instead of N (the file's\n"
    "/signals; docs/trajectory-format.md): @teacache [delta=0.1,W=1], @magcache\n"
    "[delta=0.06,W=10,max_skip=3], @fbcache [delta=0.08,W=1]; every policy takes W,\n"
    "max_skip (0: no limit) and last (steps computed at the end); teacache and\n"
    "magcache take calib=calib.json (hicache calibrate).  @fixed:N=..,W=..,sched=..\n"
    "is the schedule above (the default).\n"
    "D_k are divided differences in step-index units over the last full steps\n"
    "(the official recursion); x = steps since the last full step.\n"
    "\n"
    "Outputs (atomic):\n"
    "  DIR/results.csv    method,file,module,step,horizon,metric,value  with metric\n"
    "                     rel_l1 = |p-y|_1/|y|_1, rel_l2 = |p-y|_2/|y|_2,\n"
    "                     cosine = <p,y>/(|p||y|), max_abs = max|p-y|, per cached step\n"
    "  DIR/summary.json   per method: mean, median, p95 of each metric, per-file\n"
    "                     means and their 95% CI, mean by horizon, full steps,\n"
    "                     FLOPs speedup (the file's model config priced; else\n"
    "                     steps / full steps), cache bytes, ClusCa's clustering\n"
    "                     source; provenance\n",
};
