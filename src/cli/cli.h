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
    hc_cmd_bench, hc_cmd_normality, hc_cmd_mvnormality, hc_cmd_gauss, hc_cmd_sample, hc_cmd_run,
    hc_cmd_calibrate;

/* Print "hicache <cmd>: <message>" on stderr and return the exit code (1). */
int cli_error(const char *cmd, hc_status s);

/* Strict number parsing for option values; HC_EINVAL names the option. */
hc_status cli_int(const char *opt, const char *val, long lo, long hi, long *out);
hc_status cli_double(const char *opt, const char *val, double lo, double hi, double *out);
/* A byte count: 1500000, 512M, 2G, 1.5GiB (units of 1024). */
hc_status cli_size(const char *opt, const char *val, size_t *out);

/* Numeric options declared as a table and parsed by one loop: each row
 * names a long option, the field it sets (offset into an options struct),
 * its type and range. */
typedef enum cli_numkind { CLI_INT, CLI_SIZE, CLI_DOUBLE } cli_numkind;
typedef struct cli_numopt {
    const char *name;
    cli_numkind kind;
    size_t off;
    double lo, hi;
} cli_numopt;

struct option;
/* Fill out[0..n-1] with getopt_long entries (required argument, val = code0 + i). */
void cli_numopt_longopts(const cli_numopt *t, size_t n, int code0, struct option *out);
/* If code is one of the table's (code0 .. code0+n-1), parse arg into the
 * field of *base and set *handled; otherwise *handled = 0. */
hc_status cli_numopt_parse(const cli_numopt *t, size_t n, int code0, int code, const char *arg, void *base,
                           int *handled);

/* True if argv contains -h or --help (before any "--"). */
int cli_wants_help(int argc, char **argv);

#endif
