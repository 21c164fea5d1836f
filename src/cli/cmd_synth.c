/* cmd_synth.c: `hicache synth`: write a synthetic trajectory with known
 * ground truth (polynomial, sinusoid or Gaussian-process features). */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "synth.h"

static const cli_numopt numopts[] = {
    {"steps", CLI_INT, offsetof(hc_synth_opts, steps), 2, 100000},
    {"tokens", CLI_INT, offsetof(hc_synth_opts, tokens), 1, 1 << 20},
    {"channels", CLI_INT, offsetof(hc_synth_opts, channels), 1, 1 << 20},
    {"modules", CLI_INT, offsetof(hc_synth_opts, modules), 1, 10000},
    {"degree", CLI_INT, offsetof(hc_synth_opts, degree), 0, 12},
    {"clusters", CLI_INT, offsetof(hc_synth_opts, clusters), 0, 1 << 20},
    {"length-scale", CLI_DOUBLE, offsetof(hc_synth_opts, length_scale), 1e-6, 100},
    {"max-freq", CLI_DOUBLE, offsetof(hc_synth_opts, max_freq), 1e-6, 1000},
    {"token-noise", CLI_DOUBLE, offsetof(hc_synth_opts, token_noise), 0, 10},
};
#define N_NUMOPTS (sizeof numopts / sizeof numopts[0])

enum { OPT_KIND = 1000, OPT_SEED, OPT_DTYPE, OPT_DEFLATE, OPT_NO_HIDDEN, OPT_NUM0 };

static int run(int argc, char **argv)
{
    struct option longopts[N_NUMOPTS + 8];
    cli_numopt_longopts(numopts, N_NUMOPTS, OPT_NUM0, longopts);
    size_t n = N_NUMOPTS;
    longopts[n++] = (struct option){"kind", required_argument, NULL, OPT_KIND};
    longopts[n++] = (struct option){"seed", required_argument, NULL, OPT_SEED};
    longopts[n++] = (struct option){"dtype", required_argument, NULL, OPT_DTYPE};
    longopts[n++] = (struct option){"deflate", required_argument, NULL, OPT_DEFLATE};
    longopts[n++] = (struct option){"no-hidden", no_argument, NULL, OPT_NO_HIDDEN};
    longopts[n++] = (struct option){"output", required_argument, NULL, 'o'};
    longopts[n++] = (struct option){0, 0, 0, 0};

    hc_synth_opts o;
    hc_synth_defaults(&o);
    const char *out = "synth.h5";
    hc_status st = HC_OK;
    int c;
    optind = 1;
    while (st == HC_OK && (c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        long iv;
        int handled;
        st = cli_numopt_parse(numopts, N_NUMOPTS, OPT_NUM0, c, optarg, &o, &handled);
        if (handled) continue;
        switch (c) {
        case 'o': out = optarg; break;
        case OPT_KIND: st = hc_synth_kind_parse(optarg, &o.kind); break;
        case OPT_SEED:
            if ((st = cli_int("--seed", optarg, 0, 2147483647L, &iv)) == HC_OK) o.seed = (unsigned long)iv;
            break;
        case OPT_DTYPE:
            if (strcmp(optarg, "float32") == 0 || strcmp(optarg, "f32") == 0) o.write.dtype = HC_F32;
            else if (strcmp(optarg, "float16") == 0 || strcmp(optarg, "f16") == 0) o.write.dtype = HC_F16;
            else st = hc_fail(HC_EINVAL, "--dtype: '%s' (valid: float32, float16)", optarg);
            break;
        case OPT_DEFLATE:
            if ((st = cli_int("--deflate", optarg, 0, 9, &iv)) == HC_OK) o.write.deflate = (int)iv;
            break;
        case OPT_NO_HIDDEN: o.hidden = 0; break;
        default:
            fprintf(stderr, "hicache synth: see `hicache synth --help`\n");
            return 2;
        }
    }
    if (st == HC_OK && optind < argc)
        st = hc_fail(HC_EINVAL, "unexpected argument '%s'", argv[optind]);
    if (st == HC_OK) st = hc_synth_write(out, &o);
    if (st != HC_OK) return cli_error("synth", st);
    printf("wrote %s: %s, %d steps, %d modules of [%d tokens, %d channels], seed %lu\n", out,
           hc_synth_kind_name(o.kind), o.steps, o.modules, o.tokens, o.channels, o.seed);
    return 0;
}

const hc_command hc_cmd_synth = {
    "synth", "write a synthetic trajectory with known ground truth", run,
    "usage: hicache synth [-o FILE] [options]\n"
    "\n"
    "Write a schema-v1 trajectory whose features have a known law, for tests and\n"
    "demos.  Modules are /features/dit/<layer>/{attn,mlp} (layer = module/2).\n"
    "The time grid is t_s = 1 - s/S.  Every module is a pure function of the\n"
    "options and the seed: the same seed gives the same bytes.\n"
    "\n"
    "  -o, --output FILE     output file (default synth.h5); written to\n"
    "                        FILE.partial and renamed when complete\n"
    "  --kind KIND           poly: random polynomials of --degree in the step index\n"
    "                              (lagrange of order >= degree is exact on them;\n"
    "                              taylor only for degree <= 1)\n"
    "                        sin:  sinusoids, up to --max-freq cycles over the run\n"
    "                        gp:   Gaussian process over t, squared-exponential\n"
    "                              kernel with --length-scale (default)\n"
    "  --steps S             sampling steps (default 50)\n"
    "  --tokens T            tokens per module (default 16)\n"
    "  --channels D          channels per token (default 32)\n"
    "  --modules M           feature datasets (default 4)\n"
    "  --degree K            poly degree (default 2)\n"
    "  --length-scale L      gp kernel length scale in t units (default 0.2)\n"
    "  --max-freq F          sin: maximum cycles over the run (default 1.5)\n"
    "  --clusters C          tokens share C cluster base signals, token i in\n"
    "                        cluster i mod C (default 4; 0 = independent tokens)\n"
    "  --token-noise R       size of each token's own part relative to its\n"
    "                        cluster's (default 0.2)\n"
    "  --no-hidden           do not write /hidden/dit/<layer> (by default the mean\n"
    "                        of each layer's modules, the clustering input)\n"
    "  --seed N              random seed (default 0)\n"
    "  --dtype float32|float16   on-disk type (default float32)\n"
    "  --deflate L           shuffle + deflate level 0..9 (default 0 = none)\n",
};
