/* kmeans.h: L1 k-means over tokens, ClusCa's clustering.
 * Distance is L1 (the official code's cdist p=1), centroids are means,
 * the first run starts from K distinct random tokens (seeded), later runs
 * warm-start from the previous centroids; at most `max_iter` Lloyd
 * iterations, stopping when no centroid moves by more than 1e-4 relative.
 * An empty cluster keeps its previous centroid. */
#ifndef HC_KMEANS_H
#define HC_KMEANS_H

#include <stddef.h>

#include "status.h"

typedef struct hc_kmeans hc_kmeans;

/* K clusters (clamped to T) over T tokens of D channels. */
hc_status hc_kmeans_alloc(int K, size_t T, size_t D, unsigned long seed, int max_iter, hc_kmeans **out);
void hc_kmeans_free(hc_kmeans *km);

/* Cluster X [T, D] float32 row-major; no allocation.  Returns iterations run. */
int hc_kmeans_run(hc_kmeans *km, const float *X);

/* Forget the centroids (next run re-initialises). */
void hc_kmeans_reset(hc_kmeans *km);

const int *hc_kmeans_labels(const hc_kmeans *km); /* [T] */
int hc_kmeans_k(const hc_kmeans *km);
const float *hc_kmeans_centroids(const hc_kmeans *km); /* [K, D] */

#endif
