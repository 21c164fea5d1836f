/* cmd_version.c: `hicache version`: the provenance record of this build. */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "provenance.h"

static int run(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "hicache version: takes no arguments\n");
        return 2;
    }
    cJSON *p = hc_provenance_json();
    char *s = p ? cJSON_Print(p) : NULL;
    if (!s) {
        fprintf(stderr, "hicache version: out of memory\n");
        cJSON_Delete(p);
        return 1;
    }
    puts(s);
    cJSON_free(s);
    cJSON_Delete(p);
    return 0;
}

const hc_command hc_cmd_version = {
    "version", "print version, git commit, compiler and library versions (JSON)", run,
    "usage: hicache version\n"
    "\n"
    "Print the provenance record that every hicache output embeds: hicache\n"
    "version, git commit, compiler, OpenBLAS (config, core, threads), HDF5, GSL\n"
    "and cJSON versions, host and UTC time, as JSON.\n",
};
