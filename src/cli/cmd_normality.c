/* cmd_normality.c: placeholder until the normality commands land. */
#include <stdio.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "hicache %s: not available in this build\n", argv[0]);
    return 1;
}

const hc_command hc_cmd_normality = {"normality", "univariate normality tests on CSV data", run,
                                     "usage: hicache normality --csv FILE [--column K]\n"};
const hc_command hc_cmd_mvnormality = {"mvnormality", "multivariate normality tests on CSV data", run,
                                       "usage: hicache mvnormality --csv FILE\n"};
