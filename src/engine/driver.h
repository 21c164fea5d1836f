/* driver.h: the cache driver, shared by replay (recorded rows) and live
 * sampling (module outputs a model computes on demand).
 *
 * One driver serves one method over one sampling run of `steps` steps.  Per
 * cache point it owns the predictor instance; per step it makes the
 * full/forecast decision (today from the method's schedule; a policy that
 * decides from signals at each step plugs in at hc_driver_compute); it owns
 * the step context, ClusCa's clustering (k-means per group on clustering
 * inputs, or on a point's own full-step feature) and the fresh-token rule.
 * It reads what a method needs from its capability flags (hc_method_caps),
 * never from its name or fields.
 *
 * Feeders call, per run:
 *   hc_driver_alloc -> hc_driver_add_input (clustering inputs) ->
 *   hc_driver_begin -> hc_driver_add_point (any time before the point is used)
 *   then, at step s, per point p:  hc_driver_compute(d, p, s) ?
 *     hc_driver_observe(d, p, s, true value) : hc_driver_forecast(d, p, s, ...)
 *   and for each clustering input j: hc_driver_cluster(d, j, s, x).
 * Replay walks point-major (every step of one point, then the next point;
 * hc_driver_drop_point frees a finished point), live walks step-major; both
 * give the same forecasts for the same rows because labels are kept per full
 * step and a point's state is its own.
 *
 * Tensors: a point's value [groups * tokens, channels] float32 row-major,
 * group-major (a group is a batch element). */
#ifndef HC_DRIVER_H
#define HC_DRIVER_H

#include <stddef.h>

#include "predictor.h"
#include "status.h"

#define HC_CLUSTER_NONE (-1) /* the point's tokens have no labels */
#define HC_CLUSTER_OWN (-2)  /* cluster the point's own full-step feature */

typedef struct hc_driver_point {
    const char *name;    /* "double/0/img_mlp" (messages) */
    const char *module;  /* "img_mlp", "mlp", "total": the fresh-token rule reads it */
    size_t tokens;       /* per group */
    size_t channels;
    int fresh;           /* the feeder can supply true rows of chosen tokens at forecast steps */
    int cluster;         /* clustering input index, HC_CLUSTER_OWN or HC_CLUSTER_NONE */
    unsigned long id;    /* the point's index in its model or file: seeds its randomness */
    int head;            /* belongs to the model's head (first) block: always computed under a
                            head policy (HC_POL_HEAD), which then gives it no predictor */
} hc_driver_point;

typedef struct hc_driver hc_driver;

/* A driver for method m over `steps` steps and `groups` batch elements. */
hc_status hc_driver_alloc(const hc_method *m, int steps, int groups, hc_driver **out);
void hc_driver_free(hc_driver *d);

/* Declare clustering input j (in call order): [groups * tokens, channels]. */
hc_status hc_driver_add_input(hc_driver *d, size_t tokens, size_t channels, int *idx);
/* After the inputs: allocate the clustering working set.  K-means of input
 * j, group b is seeded with method seed + 7919 (n_inputs b + j). */
hc_status hc_driver_begin(hc_driver *d);
/* Declare point p (in call order; indices count from 0). */
hc_status hc_driver_add_point(hc_driver *d, const hc_driver_point *pt, int *idx);
/* Free point p's predictor (its cache bytes are kept for the total). */
void hc_driver_drop_point(hc_driver *d, int p);

/* ---- decisions ---------------------------------------------------------------- */

/* The method's capabilities and the run's schedule. */
unsigned hc_driver_caps(const hc_driver *d);
const hc_method *hc_driver_method(const hc_driver *d);
int hc_driver_steps(const hc_driver *d);
int hc_driver_groups(const hc_driver *d);
int hc_driver_is_full(const hc_driver *d, int step);
int hc_driver_full_steps(const hc_driver *d);
/* Steps since the last full step (0 at a full step). */
int hc_driver_horizon(const hc_driver *d, int step);
/* 1: compute point p at step s (observe it); 0: forecast it.  Under a
 * dynamic policy this decides steps up to s (hc_driver_decide) unless p is a
 * head point, so the signals the policy needs at s must be set first. */
int hc_driver_compute(hc_driver *d, int p, int step);
/* Whether a point (head or not) is computed at an already decided step. */
int hc_driver_point_computes(const hc_driver *d, int head, int step);

/* ---- policies (policy.h): steps decided in order from signals ------------------------
 * A fixed schedule is decided at alloc; a dynamic policy decides step s when
 * hc_driver_decide(d, s) (or compute/observe) first asks, from the signals set
 * so far.  Replay sets every step's recorded signals and decides open loop;
 * live sets each step's signals as the model computes them. */
void hc_driver_set_signal(hc_driver *d, hc_signal sig, int step, int ref, double value);
void hc_driver_decide(hc_driver *d, int step);
int hc_driver_decided(const hc_driver *d, int step);
/* The last full step before `step` (-1 none), among decided steps. */
int hc_driver_last_full(const hc_driver *d, int step);

/* The fresh-token rule, in one place: a point takes fresh tokens when the
 * feeder can supply them and the method asks for them there (fresh=all:
 * every module; fresh=mlp, the default: MLP modules, as the official ClusCa
 * recomputes MLP outputs only). */
int hc_driver_takes_fresh(const hc_method *m, const hc_driver_point *pt);

/* Forecast cost of point pt at a forecast step: multiply-adds per element
 * and the rows recomputed for fresh tokens. */
void hc_driver_forecast_cost(const hc_driver *d, const hc_driver_point *pt, double *terms, double *fresh_rows);

/* ---- data ------------------------------------------------------------------------ */

/* Clustering input j at step s, x [groups * tokens, channels]: clusters it
 * at full steps when the method needs labels (a no-op otherwise). */
void hc_driver_cluster(hc_driver *d, int input, int step, const float *x);
/* Point p computed at step s: val [groups * tokens, channels]. */
hc_status hc_driver_observe(hc_driver *d, int p, int step, const float *val);
/* Forecast point p at step s into out; fresh (may be NULL where the point
 * cannot supply rows) computes true rows of chosen tokens. */
hc_status hc_driver_forecast(hc_driver *d, int p, int step, hc_fresh_fn fresh, void *fresh_ud, float *out);
/* The same forecast in pieces, where the point's type forecasts in ranges
 * (HC_PRED_RANGE): *ranged = 1 and the step's forecast is prepared, then
 * hc_driver_forecast_range writes elements [e0, e0 + n) of it (of the
 * point's [groups * tokens * channels]) into out[0..n) -- bit for bit
 * hc_driver_forecast's -- from any thread, until the point's next call.
 * *ranged = 0: nothing done, use hc_driver_forecast. */
hc_status hc_driver_forecast_prepare(hc_driver *d, int p, int step, int *ranged);
void hc_driver_forecast_range(const hc_driver *d, int p, size_t e0, size_t n, float *out);

/* Bytes of feature cache over all points (dropped ones included); 0 when
 * every step is full. */
size_t hc_driver_cache_bytes(const hc_driver *d);
/* Which clustering sources served labels: bit 0 an input, bit 1 own features. */
int hc_driver_cluster_sources(const hc_driver *d);

#endif
