/* classifier.h: the bundled Fashion-MNIST CNN (docs/model-format.md §5):
 * conv3x3(1->32)+ReLU, maxpool2, conv3x3(32->64)+ReLU, maxpool2, fc 3136->128
 * + ReLU (the FD feature layer), fc 128->10.  Input [n, 1, 28, 28] float32 in
 * [-1, 1] (samples are clamped first).  Convolutions run as im2col + sgemm. */
#ifndef HC_CLASSIFIER_H
#define HC_CLASSIFIER_H

#include "status.h"

#define HC_CLS_FEATURES 128
#define HC_CLS_CLASSES 10

typedef struct hc_classifier hc_classifier;

hc_status hc_classifier_load(const char *path, hc_classifier **out);
void hc_classifier_free(hc_classifier *c);

/* For n images: features [n, 128] (may be NULL) and predicted classes [n]
 * (may be NULL).  Inputs are clamped to [-1, 1]. */
hc_status hc_classifier_run(hc_classifier *c, const float *x, int n, float *features, int *classes);

#endif
