/* cmd_run.c: placeholder until the experiment runner lands. */
#include <stdio.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "hicache %s: not available in this build\n", argv[0]);
    return 1;
}

const hc_command hc_cmd_run = {"run", "run a declared experiment grid (experiments/<name>.json)", run,
                               "usage: hicache run experiments/<name>.json [-o DIR]\n"};
