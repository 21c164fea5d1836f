/* policy.h: decision policies -- when to recompute.  A method is written
 * PREDICTOR[@POLICY], e.g. `taylor:O=2@teacache:delta=0.3`; without `@` (or
 * with `@fixed:...`) the predictor's fixed schedule (N, W, sched) decides, as
 * before policies existed.
 *
 * A policy type is a const struct listed in one registry table
 * (hc_policy_types, predictors/policy.c); adding one is one file
 * predictors/policy_NAME.c plus one row.  A policy consumes per-step scalar
 * signals (below) and the step context; it never sees a model.  It declares
 * the signals it reads (`needs`), so engines compute or read exactly those,
 * and whether the head block (the model's first block) must be computed at
 * every step (HC_POL_HEAD, first-block caching).
 *
 * Common keys of every dynamic policy: W (warm-up full steps), max_skip (most
 * cached steps in a row, 0 = no limit), last (the last K steps computed).
 * The decision at step s (after those rules) is the type's own. */
#ifndef HC_POLICY_H
#define HC_POLICY_H

#include <stddef.h>

#include "status.h"

/* Is `key` one of the names in the comma-separated `list` (NULL: none)?
 * (spec keys of policies and predictors alike) */
int hc_in_list(const char *list, const char *key);

/* ---- signals ------------------------------------------------------------------
 * Scalars per step, the same in a trajectory's /signals/<name> (float64) and in
 * a live run; row s is step s.  "change" is relative L1: sum|a - b| / sum|b|. */
typedef enum hc_signal {
    HC_SIG_MOD_IN = 0,     /* "mod_in_change" [S]: first block's modulated image input at s vs
                              step s-1 (0 at s = 0); TeaCache's input */
    HC_SIG_HEAD_RESID = 1, /* "head_resid_change" [S, S]: first block's image residual
                              (output - input) at s vs at step a, row s column a (a < s; 0 elsewhere);
                              first-block caching's input */
    HC_SIG_RESID_NORM = 2, /* "resid_norm" [S]: mean over image tokens of the L2 norm of the
                              transformer residual (last block's image stream - input embedding);
                              MagCache's magnitude */
    HC_SIG_OUT_CHANGE = 3, /* "out_change" [S]: network output at s vs step s-1 (0 at s = 0);
                              TeaCache's calibration target */
    HC_SIG_COUNT = 4
} hc_signal;

const char *hc_signal_name(hc_signal s);
/* -1 if unknown. */
int hc_signal_find(const char *name);
/* Whether signal s is [S, S] (else [S]). */
int hc_signal_is_matrix(hc_signal s);

/* What a decision reads: signal values of the run so far.  matrix signals are
 * asked at (step, ref); others at (step, -1).  Returns NAN where unknown. */
typedef double (*hc_signal_fn)(void *ud, hc_signal sig, int step, int ref);

/* ---- policy parameters and types ------------------------------------------------ */

#define HC_POL_HEAD 1u /* the head block is computed at every step (its points are never forecast) */
#define HC_POL_FIXED 2u /* the predictor's fixed schedule decides (no signals) */
#define HC_POL_MAX_POLY 8
#define HC_POL_MAX_RATIOS 1024

typedef struct hc_policy_type hc_policy_type;

/* A parsed policy: every key any type takes; each type reads its own. */
typedef struct hc_policy {
    const hc_policy_type *type; /* NULL: fixed schedule */
    int W;                      /* warm-up full steps */
    int max_skip;               /* most cached steps in a row (0: no limit) */
    int last;                   /* the last `last` steps are computed */
    double delta;               /* threshold */
    char calib[128];            /* calibration file ("" none) */
} hc_policy;

/* Decision state of one run, and the calibration it uses (loaded from
 * p->calib by hc_policy_state_init, owned here: a method stays small). */
typedef struct hc_policy_state {
    int anchor;      /* last full step (-1 before step 0) */
    int skips;       /* cached steps since the anchor */
    double acc;      /* accumulated indicator (TeaCache, MagCache error) */
    double R;        /* MagCache: product of ratios since the anchor */
    int prev_full;   /* full step before the anchor (-1 none) */
    int n_poly;      /* TeaCache rescaling polynomial, highest power first (numpy order); 0: identity */
    double poly[HC_POL_MAX_POLY];
    int n_ratios;    /* MagCache per-step magnitude ratios gamma_s, s < n_ratios; 0: estimated */
    double *ratios;
} hc_policy_state;

struct hc_policy_type {
    const char *name;
    const char *display;  /* "TeaCache" */
    const char *summary;
    unsigned flags;       /* HC_POL_* */
    unsigned needs;       /* bit (1 << hc_signal) per signal read by decide */
    const char *keys;     /* accepted keys besides W, max_skip, last */
    const char *defaults; /* "delta=0.4,W=1,max_skip=5,last=1" */
    const char *calib_key;/* its array in calib.json's object of its name: "poly", "ratios" (NULL: none) */
    /* 1: compute step s (after the common rules said maybe); updates st->acc/R. */
    int (*decide)(const hc_policy *p, hc_policy_state *st, int step, int steps, hc_signal_fn sig, void *ud);
};

extern const hc_policy_type *const hc_policy_types[];
const hc_policy_type *hc_policy_type_find(const char *name);
void hc_policy_type_list(char *buf, size_t n);

/* Parse "name:key=value,..." into p (fixed's keys N, W, sched are the
 * method's schedule: parsed by method.c).  Errors name `spec`. */
hc_status hc_policy_parse(const char *spec, const char *pol, hc_policy *p);
/* Whether the policy part `pol` ("teacache:delta=0.1", "fixed") takes key
 * (fixed: N, W, sched; others: W, max_skip, last and the type's keys). */
int hc_policy_takes_key(const char *pol, const char *key);
/* Canonical "@name:key=value,..." ("" for a fixed schedule). */
void hc_policy_describe(const hc_policy *p, char *buf, size_t n);
/* A run's state: reset, and the calibration file's entries for this policy
 * read (calib.json from `hicache calibrate`: TeaCache "teacache.poly",
 * MagCache "magcache.ratios").  Free with hc_policy_state_free. */
hc_status hc_policy_state_init(const hc_policy *p, hc_policy_state *st);
void hc_policy_state_free(hc_policy_state *st);

/* The signals a policy reads (bit per hc_signal); 0 for fixed. */
unsigned hc_policy_needs(const hc_policy *p);
/* HC_POL_* flags (HC_POL_FIXED for no policy). */
unsigned hc_policy_flags(const hc_policy *p);

/* Forget the run (the calibration stays). */
void hc_policy_state_reset(hc_policy_state *st);
/* The decision at step s in sampling order (steps decided in order 0, 1, ...):
 * the common rules (step 0, warm-up, last steps, max_skip), then the type's.
 * Updates st. */
int hc_policy_step(const hc_policy *p, hc_policy_state *st, int step, int steps, hc_signal_fn sig, void *ud);

/* TeaCache's rescaling: poly (highest power first) at x; identity if n = 0. */
double hc_policy_poly(const hc_policy_state *st, double x);

#endif
