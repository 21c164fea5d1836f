/* sampler_ddim.c: the DDPM schedule, DiT's respaced grid and the DDIM step
 * (sampler.h), following DiT's diffusion/{gaussian_diffusion,respace}.py:
 * the schedule in float64, the per-step coefficients cast to float32 and the
 * update in float32, in the same order of operations. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

/* DiT's space_timesteps(T, "S") with one section: indices round(k (T-1)/(S-1))
 * (the stride accumulated in float64, Python's round: half to even), k < S;
 * S = 1 keeps index 0.  Ascending. */
static hc_status respace(int T, int S, int *idx)
{
    if (S > T) return hc_fail(HC_EINVAL, "DDIM: cannot divide %d timesteps into %d steps", T, S);
    double stride = S <= 1 ? 1.0 : (double)(T - 1) / (double)(S - 1), cur = 0.0;
    for (int k = 0; k < S; k++) {
        idx[k] = (int)nearbyint(cur); /* the default rounding mode: to nearest, ties to even */
        cur += stride;
    }
    return HC_OK;
}

hc_status hc_ddim_grid(const hc_model_info *info, int S, double *tau, double *abar, double *abar_prev)
{
    const int T = info->num_train_timesteps;
    if (T < 2 || !(info->beta_start > 0) || !(info->beta_end < 1))
        return hc_fail(HC_EINVAL, "DDIM: the model has no DDPM schedule (%d timesteps, betas %g..%g)", T,
                       info->beta_start, info->beta_end);
    int *idx = malloc((size_t)S * sizeof *idx);
    double *ac = malloc((size_t)T * sizeof *ac);
    hc_status st = idx && ac ? respace(T, S, idx) : hc_fail(HC_ENOMEM, "out of memory");
    if (st == HC_OK) {
        /* numpy.linspace(beta_start, beta_end, T) and cumprod(1 - betas) */
        const double step = (info->beta_end - info->beta_start) / (double)(T - 1);
        double prod = 1.0;
        for (int i = 0; i < T; i++) {
            double beta = i == T - 1 ? info->beta_end : (double)i * step + info->beta_start;
            prod *= 1.0 - beta;
            ac[i] = prod;
        }
        /* respaced betas 1 - ac[tau_k] / ac[tau_{k-1}], cumulated again */
        double last = 1.0, cum = 1.0;
        for (int k = 0; k < S; k++) {
            double beta = 1.0 - ac[idx[k]] / last;
            last = ac[idx[k]];
            cum *= 1.0 - beta;
            /* sampling order counts down: step s is grid index S-1-s */
            tau[S - 1 - k] = (double)idx[k];
            abar[S - 1 - k] = cum;
        }
        for (int s = 0; s < S; s++) abar_prev[s] = s + 1 < S ? abar[s + 1] : 1.0;
    }
    free(idx);
    free(ac);
    return st;
}

void hc_ddim_guide(const float *v, int n, int guided, float w, const hc_model_info *info, float *eps)
{
    const size_t hw = (size_t)info->image_size * info->image_size;
    const int C = info->image_channels, Co = info->out_channels, G = info->cfg_channels;
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < C; ch++) {
            const float *c = v + ((size_t)b * Co + ch) * hw, *u = v + ((size_t)(n + b) * Co + ch) * hw;
            float *e = eps + ((size_t)b * C + ch) * hw;
            if (guided && ch < G)
                for (size_t i = 0; i < hw; i++) e[i] = u[i] + w * (c[i] - u[i]);
            else
                for (size_t i = 0; i < hw; i++) e[i] = c[i];
        }
}

void hc_ddim_step(float *x, const float *eps, size_t count, double abar, double abar_prev)
{
    /* _predict_xstart_from_eps, then ddim_sample's eps from x0 (eta = 0) */
    const float r = (float)sqrt(1.0 / abar), rm1 = (float)sqrt(1.0 / abar - 1.0), ap = (float)abar_prev;
    const float sap = sqrtf(ap), s1 = sqrtf(1.0f - ap - 0.0f);
    for (size_t i = 0; i < count; i++) {
        float x0 = r * x[i] - rm1 * eps[i];
        float e = (r * x[i] - x0) / rm1;
        x[i] = x0 * sap + s1 * e;
    }
}
