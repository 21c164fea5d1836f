/* cmd_gauss.c: `hicache gauss`: are feature derivatives Gaussian?  Parses
 * options into hc_gauss_opts and runs hc_gauss_run (src/eval/gauss.h). */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "gauss.h"
#include "gauss_report.h"

static const cli_numopt intopts[] = {
    {"order", CLI_INT, offsetof(hc_gauss_opts, order), 1, HC_GAUSS_MAX_ORDER},
    {"proj", CLI_INT, offsetof(hc_gauss_opts, proj), 1, 64},
    {"sample", CLI_SIZE, offsetof(hc_gauss_opts, sample), 20, 100000},
    {"N", CLI_INT, offsetof(hc_gauss_opts, N), 1, 1000},
    {"W", CLI_INT, offsetof(hc_gauss_opts, W), 1, 1000},
    {"qq-proj", CLI_INT, offsetof(hc_gauss_opts, qq_proj), 0, HC_GAUSS_MAX_QQ_PROJ},
};
#define N_INTOPTS (sizeof intopts / sizeof intopts[0])

enum { OPT_TRAJ = 1000, OPT_MODULES, OPT_SEED, OPT_ALPHA, OPT_PER_TOKEN, OPT_NO_PLOTS, OPT_INT0 };

static int run(int argc, char **argv)
{
    struct option longopts[N_INTOPTS + 9];
    cli_numopt_longopts(intopts, N_INTOPTS, OPT_INT0, longopts);
    size_t nl = N_INTOPTS;
    longopts[nl++] = (struct option){"traj", required_argument, NULL, OPT_TRAJ};
    longopts[nl++] = (struct option){"modules", required_argument, NULL, OPT_MODULES};
    longopts[nl++] = (struct option){"seed", required_argument, NULL, OPT_SEED};
    longopts[nl++] = (struct option){"alpha", required_argument, NULL, OPT_ALPHA};
    longopts[nl++] = (struct option){"per-token", no_argument, NULL, OPT_PER_TOKEN};
    longopts[nl++] = (struct option){"no-plots", no_argument, NULL, OPT_NO_PLOTS};
    longopts[nl++] = (struct option){"output", required_argument, NULL, 'o'};
    longopts[nl++] = (struct option){0, 0, 0, 0};

    hc_gauss_opts o;
    hc_gauss_defaults(&o);
    const char *out_dir = NULL;
    const char **traj = calloc((size_t)argc, sizeof *traj);
    if (!traj) return cli_error("gauss", hc_fail(HC_ENOMEM, "out of memory"));
    size_t n_traj = 0;
    hc_status st = HC_OK;
    int c;
    optind = 1;
    while (st == HC_OK && (c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        long iv;
        double dv;
        int handled;
        st = cli_numopt_parse(intopts, N_INTOPTS, OPT_INT0, c, optarg, &o, &handled);
        if (handled) continue;
        switch (c) {
        case 'o': out_dir = optarg; break;
        case OPT_TRAJ: traj[n_traj++] = optarg; break;
        case OPT_MODULES: o.modules = optarg; break;
        case OPT_SEED:
            if ((st = cli_int("--seed", optarg, 0, 2147483647L, &iv)) == HC_OK) o.seed = (unsigned long)iv;
            break;
        case OPT_ALPHA:
            if ((st = cli_double("--alpha", optarg, 1e-12, 0.5, &dv)) == HC_OK) o.alpha = dv;
            break;
        case OPT_PER_TOKEN: o.per_token = 1; break;
        case OPT_NO_PLOTS: o.plots = 0; break;
        default:
            free(traj);
            fprintf(stderr, "hicache gauss: see `hicache gauss --help`\n");
            return 2;
        }
    }
    if (st != HC_OK) {
        free(traj);
        return cli_error("gauss", st);
    }
    /* `--traj a.h5 b.h5 ...`: the remaining operands are trajectories too */
    for (int i = optind; i < argc; i++) traj[n_traj++] = argv[i];
    if (n_traj == 0 || !out_dir) {
        free(traj);
        fprintf(stderr, "hicache gauss: %s is required (usage: hicache gauss --traj FILE... -o DIR)\n",
                n_traj == 0 ? "--traj FILE" : "-o DIR");
        return 2;
    }
    hc_gauss_result *res = NULL;
    st = hc_gauss_run(traj, n_traj, &o, out_dir, &res);
    free(traj);
    if (st != HC_OK) return cli_error("gauss", st);
    if (res->gnuplot_missing)
        fprintf(stderr, "hicache gauss: warning: gnuplot not found on PATH: figures not rendered "
                        "(their .csv and .gp are in %s/fig)\n", out_dir);
    printf("wrote %s/{gauss.csv,summary.json,summary.md}: %zu (module, order) results from %zu file%s, "
           "%zu figures (%zu rendered)\n",
           out_dir, res->n_items, res->n_files, res->n_files == 1 ? "" : "s", res->n_figures, res->n_rendered);
    hc_gauss_result_free(res);
    return 0;
}

const hc_command hc_cmd_gauss = {
    "gauss", "Gaussianity of feature derivatives on trajectories (stats, null, Q-Q)", run,
    "usage: hicache gauss --traj FILE... -o DIR [options]\n"
    "\n"
    "Are feature-derivative approximations Gaussian?  For each selected feature\n"
    "F [S, T tokens, D channels] of each trajectory, orders k = 1..K of the\n"
    "TaylorSeer divided differences (predictors/dcache.c, in double) between consecutive\n"
    "full steps of the flux schedule (N, W as in replay; N=1: every step).\n"
    "Scopes, per file, module and order (details: docs/gauss.md):\n"
    "  channel  n (step, token) pairs without replacement, tokens spread evenly;\n"
    "           one test per channel; medians over channels of g1, |g1|, g2, W,\n"
    "           Anderson-Darling A*; per test (JB, K2, Shapiro-Wilk, AD) the share of\n"
    "           channels with p < alpha (raw) and rejected by Benjamini-Hochberg\n"
    "  token    (--per-token) n (step, channel) positions; one test per token\n"
    "  pca      channel sample projected on its first P principal axes: Mardia\n"
    "           and Henze-Zirkler (covariance divisor n)\n"
    "  step     per step, K2 and JB per channel over its T tokens (T >= 8)\n"
    "Null calibration: each scope repeated on seeded Gaussian samples of the\n"
    "same size, mean and covariance.  Tests assume independent samples: with\n"
    "n > T a token gives several (correlated) rows, raising rejections.\n"
    "\n"
    "  --traj FILE...   trajectories (repeat, or list after it), each separate\n"
    "  -o DIR           output directory (required)\n"
    "  --order K        orders 1..K, K <= 3 (default 2)\n"
    "  --modules GLOB   comma-separated fnmatch globs on feature names, e.g.\n"
    "                   'dit/*/attn' (default: all features)\n"
    "  --proj P         PCA dims 1..64 (default 16; capped at D, n-2, rank)\n"
    "  --sample n       values per pooled test, 20..100000 (default 2000)\n"
    "  --seed S         master seed (default 0); streams per file, module,\n"
    "                   order and purpose\n"
    "  --N N --W W      flux schedule interval and warm-up (default 1, 1)\n"
    "  --per-token      add the token scope\n"
    "  --alpha A        rejection level (default 0.05)\n"
    "  --qq-proj R      random projections in the figures, 0..8 (default 3)\n"
    "  --no-plots       no figures\n"
    "\n"
    "Outputs (atomic):\n"
    "  DIR/gauss.csv  file,module,order,scope,step,set,stat,value\n"
    "      scope channel|token|pca|step; step = sampling step for scope step,\n"
    "      set real, else -1; set real|null (calibration)|real_median (scope\n"
    "      step: median over steps); stat:\n"
    "      channel/token  n m constant g1_median g1_absmedian g2_median\n"
    "                     w_median astar_median {jb,k2,sw,ad}_raw_frac\n"
    "                     {jb,k2,sw,ad}_bh_frac\n"
    "      pca            n p explained mardia_skew mardia_skew_p\n"
    "                     mardia_skew_small mardia_skew_small_p mardia_kurt_z\n"
    "                     mardia_kurt_p hz hz_p\n"
    "      step           n m rms g1_median g2_median {jb,k2}_raw_frac\n"
    "                     {jb,k2}_bh_frac\n"
    "      (n values per test, m tests run, constant = constant columns\n"
    "      skipped, explained = variance fraction in the P axes)\n"
    "  DIR/summary.json provenance, config, seeds, per-item results\n"
    "  DIR/summary.md   tables per module and order, real and null side by side\n"
    "                   (step scope: medians over steps)\n"
    "  DIR/fig/f<i>-<file>-<module>-o<k>_{qq,hist}.{csv,gp,png,pdf}\n"
    "      Q-Q against N(0,1) and histograms over [-6, 6] of the standardised\n"
    "      sample along random directions, of the best and worst channel (by\n"
    "      W) and of a null N(0,1) sample; `gnuplot X.gp` in DIR/fig redraws.\n"
    "      No gnuplot on PATH: one warning, only .csv and .gp.\n"
    "\n"
    "Errors (one line on stderr, exit 1): bad trajectory, no feature matches,\n"
    "non-finite values, unwritable output.  Usage errors exit 2.\n",
};
