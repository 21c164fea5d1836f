/* gauss_internal.h: the statistics of one sample, shared by gauss.c (the
 * module pass: divided differences, subsamples, seeds) and gauss_scopes.c
 * (the step, channel/token and pca scopes, each with its null
 * calibration).  Private to src/eval; the contract is gauss.h. */
#ifndef HC_GAUSS_INTERNAL_H
#define HC_GAUSS_INTERNAL_H

#include <stddef.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>

#include "gauss.h"
#include "normality.h"

/* The four univariate tests, in the order of the hc_gauss_uni_stat fractions. */
enum { GAUSS_T_JB, GAUSS_T_K2, GAUSS_T_SW, GAUSS_T_AD, GAUSS_N_TESTS };

/* Scratch shared by every scope of one module (sizes fixed at allocation). */
typedef struct gauss_work {
    size_t cols;        /* max(D, T): columns of any univariate scope */
    size_t n_max;       /* largest pooled sample */
    hc_normality_ws *ws;
    double *g1, *g2, *w, *astar, *p[GAUSS_N_TESTS]; /* [cols] per tested column */
    int *col;           /* [cols] column of each tested entry */
    double *cmean, *csd;/* [cols] column mean and sd (null draws) */
    double *tmp;        /* [max(cols, n_max)] */
    size_t *idx;        /* [cols] */
    double *colbuf;     /* [n_max] one null column */
    /* step scope, [D] each */
    double *smean, *sm2, *sm3, *sm4, *smin, *smax;
} gauss_work;

/* For T tokens, D channels and pooled samples of at most n_max values.
 * Errors: HC_ENOMEM. */
hc_status gauss_work_alloc(gauss_work *w, size_t T, size_t D, size_t n_max);
void gauss_work_free(gauss_work *w);

/* Median of v[0..m-1] (copied into tmp, which is reordered; |v| if
 * absolute); NaN if m == 0. */
double gauss_median_of(const double *v, size_t m, double *tmp, int absolute);

/* Step scope: D'Agostino K^2 and Jarque-Bera per channel over the T tokens
 * of one step.  X: derivative [T, D] float64 row-major.  Needs
 * T >= HC_NORMALITY_MIN_N. */
hc_status gauss_step_stats(const double *X, size_t T, size_t D, double alpha, gauss_work *w,
                           hc_gauss_step *out);

/* Channel or token scope: test every column of the n x ncol matrix X
 * (leading dimension ncol), then the null: for each non-constant column, n
 * draws from N(its mean, its sd) with generator rng.  best/worst (may be
 * NULL) receive the columns with the largest and smallest W (-1 if none). */
hc_status gauss_run_uni(gauss_work *w, const double *X, size_t n, size_t ncol, double alpha,
                        unsigned long sw_seed, gsl_rng *rng, hc_gauss_uni out[2], int *best,
                        double *best_w, int *worst, double *worst_w);

/* The PCA workspace of one module (D x D covariance and eigenvectors). */
typedef struct gauss_pca {
    size_t D, n_max, P;
    double *mean;            /* [D] */
    gsl_matrix *cov, *evec;  /* D x D */
    gsl_vector *eval;        /* D */
    gsl_eigen_symmv_workspace *eig;
    double *Y;               /* [n_max x P] */
} gauss_pca;

/* Errors: HC_ENOMEM. */
hc_status gauss_pca_alloc(gauss_pca *p, size_t D, size_t n_max, size_t P);
void gauss_pca_free(gauss_pca *p);

/* Pca scope.  A: the n x D channel sample (centred in place here); the null
 * is drawn with rng.  Fills it->pca; what could not be computed goes to
 * it->note. */
hc_status gauss_run_pca(gauss_pca *p, double *A, size_t n, int P_req, gsl_rng *rng, hc_gauss_item *it);

/* Append fmt (one %s: detail) to it->note, "; "-separated; truncated to fit. */
void gauss_add_note(hc_gauss_item *it, const char *fmt, const char *detail);

#endif
