/* cost.h: multiply-accumulates (MACs) of a caching run, priced by the model
 * registry from a model config (the bundled model's, or the one a recorded
 * trajectory carries in its provenance).  Engines use this opaque handle and
 * never see a model's internals. */
#ifndef HC_COST_H
#define HC_COST_H

#include <cjson/cJSON.h>

#include "driver.h"
#include "status.h"

typedef struct hc_cost hc_cost;

/* From a model `config` object (its "arch" picks the type); `origin` names
 * the source in messages.  Unknown or missing arch: HC_EFORMAT. */
hc_status hc_cost_from_config(const char *origin, const cJSON *config, hc_cost **out);
void hc_cost_free(hc_cost *c);

/* MACs of one forward of B elements at step s under driver d's decisions:
 * computed points at their cost, forecast points at the method's forecast
 * cost (multiply-adds, fresh rows where the model can compute them). */
double hc_cost_step(hc_cost *c, const hc_driver *d, int B, int step);
/* The same with every point computed. */
double hc_cost_full(hc_cost *c, int B);

#endif
