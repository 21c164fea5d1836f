/* main.c: `hicache <command> [options]`: dispatch through the command table. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "provenance.h"

static const hc_command *const commands[] = {
    &hc_cmd_run,
    &hc_cmd_synth,
    &hc_cmd_info,
    &hc_cmd_replay,
    &hc_cmd_calibrate,
    &hc_cmd_weights,
    &hc_cmd_sample,
    &hc_cmd_gauss,
    &hc_cmd_normality,
    &hc_cmd_mvnormality,
    &hc_cmd_bench,
    &hc_cmd_version,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

int cli_error(const char *cmd, hc_status s)
{
    const char *msg = hc_errmsg();
    fprintf(stderr, "hicache %s: %s\n", cmd, msg[0] ? msg : hc_strstatus(s));
    return 1;
}

hc_status cli_int(const char *opt, const char *val, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (end == val || *end || isspace((unsigned char)val[0]))
        return hc_fail(HC_EINVAL, "%s: '%s' is not an integer", opt, val);
    if (errno) return hc_fail(HC_EINVAL, "%s: %s out of range [%ld, %ld]", opt, val, lo, hi);
    if (v < lo || v > hi) return hc_fail(HC_EINVAL, "%s: %ld out of range [%ld, %ld]", opt, v, lo, hi);
    *out = v;
    return HC_OK;
}

hc_status cli_size(const char *opt, const char *s, size_t *out)
{
    static const char units[] = "KMGT";
    char *end = NULL;
    double v = strtod(s, &end), mult = 1;
    if (end != s && *end) {
        const char *u = strchr(units, toupper((unsigned char)*end));
        if (u) {
            for (long i = 0; i <= u - units; i++) mult *= 1024;
            end++;
        }
        if (end[0] == 'i' && end[1] == 'B') end += 2;
        else if (end[0] == 'B') end++;
    }
    if (end == s || *end || !(v * mult >= 1) || v * mult > 9e18)
        return hc_fail(HC_EINVAL, "%s: '%s' is not a size (e.g. 2G, 512M, 1500000)", opt, s);
    *out = (size_t)(v * mult);
    return HC_OK;
}

hc_status cli_double(const char *opt, const char *val, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(val, &end);
    if (end == val || *end || isspace((unsigned char)val[0]) || isnan(v))
        return hc_fail(HC_EINVAL, "%s: '%s' is not a number", opt, val);
    /* an overflow is +-inf (out of range); an underflow is a tiny number that the range decides */
    if (isinf(v)) return hc_fail(HC_EINVAL, "%s: %s out of range [%g, %g]", opt, val, lo, hi);
    if (v < lo || v > hi) return hc_fail(HC_EINVAL, "%s: %g out of range [%g, %g]", opt, v, lo, hi);
    *out = v;
    return HC_OK;
}

void cli_numopt_longopts(const cli_numopt *t, size_t n, int code0, struct option *out)
{
    for (size_t i = 0; i < n; i++) out[i] = (struct option){t[i].name, required_argument, NULL, code0 + (int)i};
}

hc_status cli_numopt_parse(const cli_numopt *t, size_t n, int code0, int code, const char *arg, void *base,
                           int *handled)
{
    *handled = code >= code0 && code < code0 + (int)n;
    if (!*handled) return HC_OK;
    const cli_numopt *p = &t[code - code0];
    char name[48];
    snprintf(name, sizeof name, "--%s", p->name);
    char *field = (char *)base + p->off;
    if (p->kind == CLI_DOUBLE) return cli_double(name, arg, p->lo, p->hi, (double *)(void *)field);
    long v;
    HC_TRY(cli_int(name, arg, (long)p->lo, (long)p->hi, &v));
    if (p->kind == CLI_SIZE) *(size_t *)(void *)field = (size_t)v;
    else *(int *)(void *)field = (int)v;
    return HC_OK;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hicache <command> [options]\n\n"
               "Feature-forecasting (feature caching) harness for diffusion transformers.\n\n"
               "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n`hicache <command> --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    hc_init();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        if (argc > 2)
            for (size_t i = 0; i < N_COMMANDS; i++)
                if (strcmp(argv[2], commands[i]->name) == 0) {
                    fputs(commands[i]->usage, stdout);
                    return 0;
                }
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) return hc_cmd_version.run(argc - 1, argv + 1);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i]->name) == 0) {
            if (cli_wants_help(argc - 1, argv + 1)) {
                fputs(commands[i]->usage, stdout);
                return 0;
            }
            return commands[i]->run(argc - 1, argv + 1);
        }
    fprintf(stderr, "hicache: unknown command '%s' (valid:", argv[1]);
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(stderr, " %s", commands[i]->name);
    fprintf(stderr, ")\n");
    return 2;
}
