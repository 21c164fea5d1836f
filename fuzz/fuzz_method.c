/* fuzz_method.c: the method spec parser (hc_method_parse on the input as a
 * string), then describe, label, caps and cost of every accepted spec; a
 * described spec must parse again to the same description. */
#include <string.h>

#include "fuzz_util.h"
#include "predictor.h"

FUZZ_INIT_LIBRARY

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = fuzz_strdup(data, size);
    hc_method m, m2;
    if (hc_method_parse(spec, &m) == HC_OK) {
        char desc[512], desc2[512], label[512];
        hc_method_describe(&m, desc, sizeof desc);
        hc_method_label(&m, label, sizeof label);
        (void)hc_method_caps(&m);
        double terms, fresh;
        hc_method_cost(&m, 64, 1, &terms, &fresh);
        if (hc_method_parse(desc, &m2) != HC_OK) {
            fprintf(stderr, "spec '%s' described as '%s', which does not parse: %s\n", spec, desc, hc_errmsg());
            abort();
        }
        hc_method_describe(&m2, desc2, sizeof desc2);
        if (strcmp(desc, desc2) != 0) {
            fprintf(stderr, "spec '%s': describe is not stable: '%s' then '%s'\n", spec, desc, desc2);
            abort();
        }
    }
    free(spec);
    return 0;
}
