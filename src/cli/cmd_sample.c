/* cmd_sample.c: `hicache sample`: live sampling with the bundled model. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "live.h"
#include "model.h"

/* --labels "L,L,...": every item one class digit 0..9 (no empty item, no
 * sign or space), at most n of them, repeated to n. */
static hc_status parse_labels(const char *s, int n, int **out)
{
    int k = 0, bad = !*s;
    for (const char *p = s; *p && !bad; p += 2) {
        bad = *p < '0' || *p > '9' || (p[1] && p[1] != ',') || (p[1] == ',' && !p[2]);
        k++;
        if (!p[1]) break;
    }
    if (bad) return hc_fail(HC_EINVAL, "--labels: '%s' must be comma-separated classes 0..9", s);
    if (k > n) return hc_fail(HC_EINVAL, "--labels: %d classes given for --n %d samples", k, n);
    int *l = malloc((size_t)n * sizeof *l);
    if (!l) return hc_fail(HC_ENOMEM, "out of memory");
    for (int i = 0; i < k; i++) l[i] = s[2 * i] - '0';
    for (int i = k; i < n; i++) l[i] = l[i % k]; /* repeat the given list */
    *out = l;
    return HC_OK;
}

static int run(int argc, char **argv)
{
    static const struct option lo[] = {
        {"model", required_argument, NULL, 'm'},   {"method", required_argument, NULL, 'M'},
        {"n", required_argument, NULL, 'n'},       {"labels", required_argument, NULL, 'l'},
        {"seed", required_argument, NULL, 's'},    {"guidance", required_argument, NULL, 'g'},
        {"steps", required_argument, NULL, 'S'},   {"record", required_argument, NULL, 'r'},
        {"out", required_argument, NULL, 'o'},     {"batch", required_argument, NULL, 'b'},
        {"no-shift", no_argument, NULL, 'N'},      {"classifier", required_argument, NULL, 'c'},
        {"real", required_argument, NULL, 'R'},    {"quiet", no_argument, NULL, 'q'},
        {"record-modules", required_argument, NULL, 'G'}, {"record-dtype", required_argument, NULL, 'T'},
        {"record-deflate", required_argument, NULL, 'Z'}, {"max-memory", required_argument, NULL, 'X'},
        {0, 0, 0, 0}};
    hc_live_opts o;
    hc_live_defaults(&o);
    const char *spec = "full", *labels_s = NULL;
    int guidance_given = 0;
    hc_status st = HC_OK;
    long v;
    double d;
    int c;
    optind = 1;
    while (st == HC_OK && (c = getopt_long(argc, argv, "o:q", lo, NULL)) != -1) {
        switch (c) {
        case 'm': o.model_path = optarg; break;
        case 'M': spec = optarg; break;
        case 'n': if ((st = cli_int("--n", optarg, 1, 100000, &v)) == HC_OK) o.n = (int)v; break;
        case 'l': labels_s = optarg; break;
        case 's': if ((st = cli_int("--seed", optarg, 0, 2147483647L, &v)) == HC_OK) o.seed = (unsigned long)v; break;
        case 'g': if ((st = cli_double("--guidance", optarg, 0, 100, &d)) == HC_OK) o.cfg = d, guidance_given = 1; break;
        case 'S': if ((st = cli_int("--steps", optarg, 1, 10000, &v)) == HC_OK) o.steps = (int)v; break;
        case 'r': o.record_path = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case 'b': if ((st = cli_int("--batch", optarg, 1, 4096, &v)) == HC_OK) o.batch = (int)v; break;
        case 'N': o.shift = 0; break;
        case 'c': o.classifier_path = optarg; break;
        case 'R': if ((st = cli_int("--real", optarg, 2, 10000, &v)) == HC_OK) o.n_real = (int)v; break;
        case 'q': o.quiet = 1; break;
        case 'G': o.record_glob = optarg; break;
        case 'T':
            if (strcmp(optarg, "float16") == 0) o.record_f16 = 1;
            else if (strcmp(optarg, "float32") == 0) o.record_f16 = 0;
            else st = hc_fail(HC_EINVAL, "--record-dtype: '%s' (valid: float32, float16)", optarg);
            break;
        case 'Z': if ((st = cli_int("--record-deflate", optarg, 0, 9, &v)) == HC_OK) o.record_deflate = (int)v; break;
        case 'X': st = cli_size("--max-memory", optarg, &o.max_memory); break;
        default: fprintf(stderr, "hicache sample: see `hicache sample --help`\n"); return 2;
        }
    }
    if (st == HC_OK && optind < argc) st = hc_fail(HC_EINVAL, "unexpected argument '%s'", argv[optind]);
    if (st == HC_OK && !guidance_given) o.cfg = hc_model_default_guidance(o.model_path, o.cfg);
    int *labels = NULL;
    hc_method m;
    if (st == HC_OK && labels_s) st = parse_labels(labels_s, o.n, &labels);
    if (st == HC_OK) st = hc_method_parse(spec, &m);
    o.labels = labels;
    cJSON *doc = NULL;
    if (st == HC_OK) st = hc_live_sample(&o, &m, &doc);
    free(labels);
    if (st != HC_OK) return cli_error("sample", st);
    const cJSON *mt = cJSON_GetObjectItem(doc, "metrics");
    char *s = cJSON_Print(mt);
    printf("%s\n%s\nwrote %s/grid.png, %s/samples.h5, %s/metrics.json%s%s\n",
           cJSON_GetStringValue(cJSON_GetObjectItem(doc, "label")), s, o.out_dir, o.out_dir, o.out_dir,
           o.record_path ? " and " : "", o.record_path ? o.record_path : "");
    cJSON_free(s);
    cJSON_Delete(doc);
    return 0;
}

const hc_command hc_cmd_sample = {
    "sample", "sample with a model (default the bundled flux-mini) under a caching method; quality vs full compute",
    run,
    "usage: hicache sample [--model M] [--method SPEC] [--n 64] [--labels L,...] [--seed S]\n"
    "                      [--guidance G] [--steps 50] [--batch B] [--no-shift]\n"
    "                      [--record FILE.h5] [-o DIR]\n"
    "\n"
    "Sample Fashion-MNIST images with the bundled class-conditional flux-mini MMDiT\n"
    "(rectified-flow Euler, FLUX time shift, true classifier-free guidance with cond\n"
    "and uncond as one batch) under a caching method, closed loop: at cached steps\n"
    "every block's attention and MLP are skipped and the cache points are forecast\n"
    "(double/<i>/{img,txt}_{attn,mlp}, single/<n>/total, pre-gate), while modulation\n"
    "and gates are recomputed.  The same noise and labels are sampled with full\n"
    "compute for reference.\n"
    "\n"
    "  --model M        weights (default data/models/flux_mini.safetensors); a DiT\n"
    "                   file (arch dit, docs/dit.md) samples with DDIM over DiT's\n"
    "                   respaced grid, cache points dit/<i>/{attn,mlp}, /steps/t\n"
    "                   = the DDPM timestep indices, /hidden = the last block's output\n"
    "  --method SPEC    caching method as for replay (default full); e.g.\n"
    "                   hicache:N=7,O=2,sigma=0.5  clusca:base=hicache,N=7,K=16\n"
    "  --n N            samples (default 64); --batch B images per run (default 16)\n"
    "  --labels L,...   classes 0..9, at most n, repeated to n (default i mod 10)\n"
    "  --seed S         noise seed (default 0): sample i uses mt19937 seeded\n"
    "                   S*1000003+i, so a sample does not depend on n or batch\n"
    "  --guidance G     CFG scale (default: the model's default_guidance, else 2.5;\n"
    "                   1 = the conditional branch alone)\n"
    "  --steps K        sampler steps (default 50); --no-shift: uniform t grid (Euler)\n"
    "  --record FILE    write the full-compute trajectory of sample 0 (conditional\n"
    "                   branch) in schema v1: every cache point, /hidden (img stream\n"
    "                   after the last double block), /latents/x and /latents/out;\n"
    "                   --record-modules GLOB,... (e.g. 'double/1/*,single/5/*') keeps a subset,\n"
    "                   --record-dtype float16 and --record-deflate L shrink the file\n"
    "  --classifier F   Fashion-MNIST CNN (default data/models/fmnist_classifier\n"
    "                   .safetensors; '' skips class_acc and FD); --real N held-out\n"
    "                   test images for FD (default 2000)\n"
    "  --max-memory SZ  cap on the planned image working set (e.g. 2G; default half\n"
    "                   of physical memory): checked before anything is allocated\n"
    "  -o DIR           outputs (default out/sample)\n"
    "\n"
    "Outputs, renamed into place together when all are complete (a failure\n"
    "leaves none): DIR/grid.png (10 per row), DIR/samples.h5 (/samples, /labels),\n"
    "DIR/metrics.json: rel_l2, psnr, ssim against full compute (PSNR on [-1,1],\n"
    "data range 2; SSIM 11x11 Gaussian window sigma 1.5, data range 2), fd (Frechet\n"
    "distance of classifier features vs real test images: FD, not FID), class_acc,\n"
    "full_steps, flops (analytic MAC model x 2), flops_speedup, wall_speedup (same\n"
    "thread count), with provenance.\n",
};
