/* kmeans.c: L1 k-means with warm starts (see kmeans.h). */
#include "kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

struct hc_kmeans {
    int K, max_iter, have;
    size_t T, D;
    float *cent;   /* [K, D] */
    double *sum;   /* [K, D] */
    int *count;    /* [K] */
    int *labels;   /* [T] */
    size_t *perm;  /* [T] */
    gsl_rng *rng;
};

hc_status hc_kmeans_alloc(int K, size_t T, size_t D, unsigned long seed, int max_iter, hc_kmeans **out)
{
    HC_ASSERT(K >= 1 && T >= 1 && D >= 1 && max_iter >= 1);
    *out = NULL;
    hc_kmeans *km = calloc(1, sizeof *km);
    if (!km) return hc_fail(HC_ENOMEM, "out of memory");
    km->K = (size_t)K > T ? (int)T : K;
    km->T = T;
    km->D = D;
    km->max_iter = max_iter;
    km->cent = malloc((size_t)km->K * D * sizeof *km->cent);
    km->sum = malloc((size_t)km->K * D * sizeof *km->sum);
    km->count = malloc((size_t)km->K * sizeof *km->count);
    km->labels = calloc(T, sizeof *km->labels);
    km->perm = malloc(T * sizeof *km->perm);
    km->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!km->cent || !km->sum || !km->count || !km->labels || !km->perm || !km->rng) {
        hc_kmeans_free(km);
        return hc_fail(HC_ENOMEM, "out of memory for k-means over %zu tokens", T);
    }
    gsl_rng_set(km->rng, seed);
    *out = km;
    return HC_OK;
}

void hc_kmeans_free(hc_kmeans *km)
{
    if (!km) return;
    free(km->cent);
    free(km->sum);
    free(km->count);
    free(km->labels);
    free(km->perm);
    if (km->rng) gsl_rng_free(km->rng);
    free(km);
}

void hc_kmeans_reset(hc_kmeans *km) { km->have = 0; }
const int *hc_kmeans_labels(const hc_kmeans *km) { return km->labels; }
int hc_kmeans_k(const hc_kmeans *km) { return km->K; }
const float *hc_kmeans_centroids(const hc_kmeans *km) { return km->cent; }

int hc_kmeans_run(hc_kmeans *km, const float *X)
{
    const size_t T = km->T, D = km->D, K = (size_t)km->K;
    if (!km->have) { /* K distinct random tokens: partial Fisher-Yates */
        for (size_t i = 0; i < T; i++) km->perm[i] = i;
        for (size_t i = 0; i < K; i++) {
            size_t j = i + gsl_rng_uniform_int(km->rng, T - i);
            size_t t = km->perm[i];
            km->perm[i] = km->perm[j];
            km->perm[j] = t;
            memcpy(km->cent + i * D, X + km->perm[i] * D, D * sizeof *X);
        }
        km->have = 1;
    }
    int it;
    for (it = 1; it <= km->max_iter; it++) {
        for (size_t t = 0; t < T; t++) {
            const float *x = X + t * D;
            double best = INFINITY;
            int arg = 0;
            for (size_t k = 0; k < K; k++) {
                const float *c = km->cent + k * D;
                double d = 0;
                for (size_t j = 0; j < D; j++) d += fabsf(x[j] - c[j]);
                if (d < best) { best = d; arg = (int)k; }
            }
            km->labels[t] = arg;
        }
        memset(km->sum, 0, K * D * sizeof *km->sum);
        memset(km->count, 0, K * sizeof *km->count);
        for (size_t t = 0; t < T; t++) {
            double *s = km->sum + (size_t)km->labels[t] * D;
            const float *x = X + t * D;
            for (size_t j = 0; j < D; j++) s[j] += x[j];
            km->count[km->labels[t]]++;
        }
        double moved = 0, scale = 0;
        for (size_t k = 0; k < K; k++) {
            if (!km->count[k]) continue; /* empty: keep the old centroid */
            float *c = km->cent + k * D;
            for (size_t j = 0; j < D; j++) {
                float nc = (float)(km->sum[k * D + j] / km->count[k]);
                moved += fabsf(nc - c[j]);
                scale += fabsf(nc);
                c[j] = nc;
            }
        }
        if (moved <= 1e-4 * scale) break;
    }
    return it > km->max_iter ? km->max_iter : it;
}
