/* cmd_gauss.c: placeholder until the gauss command lands. */
#include <stdio.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "hicache %s: not available in this build\n", argv[0]);
    return 1;
}

const hc_command hc_cmd_gauss = {"gauss", "Gaussianity of feature derivatives on trajectories", run,
                                 "usage: hicache gauss --traj FILE... -o DIR\n"};
