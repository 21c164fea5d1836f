/* quality.h: image-quality metrics computed in C, no external networks.
 *   PSNR  10 log10(R^2 / MSE) on images clamped to [-1, 1], data range R = 2;
 *   SSIM  Wang et al. (MATLAB ssim_index): 11x11 Gaussian window, sigma 1.5,
 *         'valid' filtering, K1 = 0.01, K2 = 0.03, data range 2, grayscale;
 *   FD    Frechet distance between Gaussians fitted to classifier features
 *         (the bundled Fashion-MNIST CNN's 128-d penultimate layer): FD, not
 *         FID (no Inception network). */
#ifndef HC_QUALITY_H
#define HC_QUALITY_H

#include <stddef.h>

#include "status.h"

double hc_psnr(const float *a, const float *b, size_t n);
/* Mean SSIM of two H x W images (values clamped to [-1, 1]). */
double hc_ssim(const float *a, const float *b, int H, int W);

/* Mean [d] and covariance [d, d] (divisor n-1) of n rows of x [n, d]. */
hc_status hc_feature_stats(const float *x, int n, int d, double *mean, double *cov);

/* ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)); HC_ENUM if an eigen
 * decomposition fails. */
hc_status hc_frechet(const double *mu1, const double *cov1, const double *mu2, const double *cov2, int d, double *fd);

#endif
