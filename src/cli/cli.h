/* cli.h: the command table of the `hicache` executable.  The CLI is a thin
 * layer over libhicache: each command parses its options, calls the
 * library, prints, and maps hc_status to an exit code. */
#ifndef HC_CLI_H
#define HC_CLI_H

#include "status.h"

typedef struct hc_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *usage;                 /* full --help text */
} hc_command;

/* Every command, in the order `hicache --help` lists them. */
extern const hc_command hc_cmd_info, hc_cmd_synth, hc_cmd_version, hc_cmd_replay, hc_cmd_weights,
    hc_cmd_bench, hc_cmd_normality, hc_cmd_mvnormality, hc_cmd_gauss, hc_cmd_sample, hc_cmd_run;

/* Print "hicache <cmd>: <message>" on stderr and return the exit code (1). */
int cli_error(const char *cmd, hc_status s);

/* Strict number parsing for option values; HC_EINVAL names the option. */
hc_status cli_int(const char *opt, const char *val, long lo, long hi, long *out);
hc_status cli_double(const char *opt, const char *val, double lo, double hi, double *out);

/* True if argv contains -h or --help (before any "--"). */
int cli_wants_help(int argc, char **argv);

#endif
