/* taylor.c: TaylorSeer: Taylor series of divided differences, sum D_k x^k / k! */
#include "predictor.h"

HC_DCACHE_TYPE_ALLOC(alloc, hc_coef_taylor)

const hc_pred_type hc_pred_taylor = {
    .name = "taylor",
    .display = "TaylorSeer",
    .summary = "TaylorSeer: Taylor series of divided differences, sum D_k x^k / k!",
    .keys = "O",
    .defaults = "O=2",
    .caps = HC_DCACHE_CAPS,
    .alloc = alloc,
    .coef = hc_coef_taylor,
    HC_DCACHE_CALLBACKS,
};
