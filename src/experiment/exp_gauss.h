/* exp_gauss.h: Gaussianity experiments for `hicache run`: a config whose
 * top-level key "gauss" declares trajectory files and the options of
 * `hicache gauss` (docs/experiments.md).  The analysis is one unit: it is
 * written atomically under DIR and skipped when DIR/summary.json exists. */
#ifndef HC_EXP_GAUSS_H
#define HC_EXP_GAUSS_H

#include <cjson/cJSON.h>

#include "status.h"

/* 1 if the parsed config document is a Gaussianity experiment. */
int hc_exp_is_gauss(const cJSON *doc);

/* Validate `doc` (errors name the JSON path) and run it into out_dir (NULL:
 * out/NAME).  *skipped = 1 when finished output was found. */
hc_status hc_exp_gauss_run(const cJSON *doc, const char *origin, const char *out_dir, int *skipped,
                           char *dir_out, size_t dir_n);

#endif
