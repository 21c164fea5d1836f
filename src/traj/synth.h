/* synth.h: synthetic trajectories with known ground truth, written in the
 * schema-v1 store.  Used by tests and demos:
 *   poly: each element is a random polynomial of degree `degree` in the step
 *         index (Lagrange extrapolation of order >= degree is exact on it;
 *         TaylorSeer's backward differences only for degree <= 1);
 *   sin:  random-amplitude/frequency/phase sinusoids over the step index;
 *   gp:   Gaussian-process samples over the sampler time t with a
 *         squared-exponential kernel exp(-(t-t')^2 / (2 l^2)), the process
 *         family HiCache's theory assumes.
 * Tokens can share a per-cluster base signal (`clusters` > 0) so that
 * token clustering (ClusCa) has structure to find.  Every module is a pure
 * function of (options, seed, module index): same seed, same bytes. */
#ifndef HC_SYNTH_H
#define HC_SYNTH_H

#include "status.h"
#include "traj.h"

typedef enum hc_synth_kind { HC_SYNTH_POLY = 0, HC_SYNTH_SIN = 1, HC_SYNTH_GP = 2 } hc_synth_kind;

typedef struct hc_synth_opts {
    hc_synth_kind kind;
    int steps;            /* S, default 50 */
    int tokens;           /* T, default 16 */
    int channels;         /* D, default 32 */
    int modules;          /* number of feature datasets, default 4 (2 layers x attn, mlp) */
    int degree;           /* poly: degree, default 2 */
    double length_scale;  /* gp: kernel length scale in t units, default 0.2 */
    double max_freq;      /* sin: max cycles over the run, default 1.5 */
    int clusters;         /* tokens grouped into this many shared bases (0 = independent) */
    double token_noise;   /* relative size of the per-token part when clusters > 0 */
    int hidden;           /* also write /hidden/dit/<layer> (mean of the layer's modules) */
    unsigned long seed;
    hc_traj_write_opts write;
} hc_synth_opts;

/* Fill *o with the defaults above. */
void hc_synth_defaults(hc_synth_opts *o);

/* Parse "poly" / "sin" / "gp". */
hc_status hc_synth_kind_parse(const char *s, hc_synth_kind *out);
const char *hc_synth_kind_name(hc_synth_kind k);

/* Check option ranges; HC_EINVAL with a message naming the option. */
hc_status hc_synth_validate(const hc_synth_opts *o);

/* The sampler time of step s: t_s = 1 - s/S (uniform rectified-flow grid). */
double hc_synth_time(const hc_synth_opts *o, int s);

/* Module m's data, float32 row-major [S, T, D] into out (caller-owned). */
hc_status hc_synth_module(const hc_synth_opts *o, int m, float *out);

/* Name parts of module m: block kind "dit", layer m/2, module attn|mlp. */
void hc_synth_module_name(int m, int *layer, const char **module);

/* Write a complete trajectory file (atomically: .partial then rename). */
hc_status hc_synth_write(const char *path, const hc_synth_opts *o);

#endif
