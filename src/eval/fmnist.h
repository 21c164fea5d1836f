/* fmnist.h: Fashion-MNIST IDX files (Debian package dataset-fashion-mnist,
 * /usr/share/datasets/fashion-mnist/, gzip'd big-endian IDX). */
#ifndef HC_FMNIST_H
#define HC_FMNIST_H

#include "status.h"

#define HC_FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Read the first up-to-`max` images of the test split ("t10k") or the
 * training split ("train") as float32 [n, 1, 28, 28] in [-1, 1]
 * (u8 / 127.5 - 1) and their labels.  Caller frees *images and *labels. */
hc_status hc_fmnist_read(const char *dir, const char *split, int max, float **images, int **labels, int *n);

#endif
