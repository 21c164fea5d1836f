/* fuzz_model_config.c: the model config parser (hc_model_config_parse on
 * the input as JSON, the `config` metadata of a model file); on success
 * the type's info, cache points and cost model are queried. */
#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "model.h"

FUZZ_INIT_LIBRARY

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *cj = cJSON_ParseWithLength((const char *)data, size);
    hc_model_config *c = NULL;
    if (cj && hc_model_config_parse("fuzz.json", cj, &c) == HC_OK) {
        hc_model_info info;
        c->type->info(c->cfg, &info);
        hc_point_plan plan[HC_MODEL_MAX_POINTS];
        for (int p = 0; p < c->n_points; p++)
            plan[p] = (hc_point_plan){.compute = (unsigned char)(p & 1), .forecast_terms = 3, .fresh_rows = 1};
        (void)hc_model_macs(c, 2, plan);
        hc_gemm_shape g[64];
        (void)c->type->gemms(c->cfg, 2, g, 64);
        hc_model_config_free(c);
    }
    cJSON_Delete(cj);
    return 0;
}
