/* replay.h: open-loop replay of recorded trajectories.
 *
 * For every file, method and feature module the engine walks the steps in
 * sampling order: at a full step (per the method's schedule) the predictor
 * observes the true feature; at a cached step it forecasts and the
 * forecast is scored against the truth.  Each (module, step) row is read
 * once and shared by all methods.  ClusCa methods cluster tokens with L1
 * k-means at every full step on the recorded /hidden state (the last hidden
 * dataset with the module's token count) or, where the file has none, on
 * the module's own full-step feature; their fresh tokens come from the
 * trajectory (open loop).
 *
 * Outputs (atomic): DIR/results.csv in long form
 *   method,file,module,step,horizon,metric,value
 * with metrics rel_l1, rel_l2, cosine, max_abs, and DIR/summary.json. */
#ifndef HC_REPLAY_H
#define HC_REPLAY_H

#include <cjson/cJSON.h>

#include "metrics.h"
#include "predictor.h"

typedef struct hc_replay_opts {
    const char *const *files;
    int n_files;
    const hc_method *methods;
    int n_methods;
    const char *out_dir;      /* created if missing */
    const char *modules_glob; /* fnmatch pattern on "dit/3/attn"; NULL = all */
    int quiet;                /* no progress lines on stderr */
} hc_replay_opts;

/* Run the replay and write the outputs.  *summary (may be NULL) receives
 * the summary document (caller frees with cJSON_Delete). */
hc_status hc_replay_run(const hc_replay_opts *o, cJSON **summary);

/* Print the compact table of a summary document to f. */
void hc_replay_print_table(const cJSON *summary, FILE *f);

#endif
