/* fuzz_experiment.c: the experiment config (hc_experiment_parse on the
 * input as JSON text; nothing is run), then every cell's id and label.
 * Paths in a config are resolved from the working directory and only
 * checked for existence: run it from the source root so that the bundled
 * model and tests/data are found. */
#include "experiment.h"
#include "fuzz_util.h"

FUZZ_INIT_LIBRARY

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strdup(data, size);
    hc_experiment *e = NULL;
    if (hc_experiment_parse(text, "fuzz.json", &e) == HC_OK) {
        (void)hc_experiment_name(e);
        int n = hc_experiment_num_cells(e);
        for (int i = 0; i < n; i++)
            if (!hc_experiment_cell_id(e, i)[0] || !hc_experiment_cell_label(e, i)[0]) abort();
        hc_experiment_free(e);
    }
    free(text);
    return 0;
}
