/* cmd_weights.c: `hicache weights`: each method as a linear combination of
 * past full-step snapshots. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "weights.h"

static void print_weights(const hc_method *m, const hc_weights *w)
{
    char desc[256], label[256];
    hc_method_describe(m, desc, sizeof desc);
    hc_method_label(m, label, sizeof label);
    printf("%s  —  %s\n", label, desc);
    /* snapshots with any non-zero weight, newest first */
    int cols[64], nc = 0;
    for (int j = w->n_snap - 1; j >= 0 && nc < 64; j--) {
        int used = 0;
        for (int x = 0; x < w->n_h; x++) used |= fabs(w->w[x * w->n_snap + j]) > 1e-9;
        if (used) cols[nc++] = j;
    }
    printf("anchor: full step a = %d of %d; F_hat(a+x) = sum of weight x F(step)\n", w->anchor, w->S);
    printf("%4s %5s", "x", "step");
    for (int c = 0; c < nc; c++) {
        char h[24];
        snprintf(h, sizeof h, "F(%d)", w->snap_step[cols[c]]);
        printf(" %10s", h);
    }
    printf(" %9s\n", "sum");
    for (int x = 1; x <= w->n_h; x++) {
        const double *row = w->w + (size_t)(x - 1) * w->n_snap;
        double sum = 0;
        printf("%4d %5d", x, w->anchor + x);
        for (int c = 0; c < nc; c++) {
            printf(" %10.5f", row[cols[c]]);
            sum += row[cols[c]];
        }
        printf(" %9.5f\n", sum);
    }
}

static int run(int argc, char **argv)
{
    long S = 50, anchor = -1;
    hc_status st = HC_OK;
    int n_spec = 0;
    for (int i = 1; i < argc && st == HC_OK; i++) {
        if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) st = cli_int("--steps", argv[++i], 2, 100000, &S);
        else if (strcmp(argv[i], "--anchor") == 0 && i + 1 < argc) st = cli_int("--anchor", argv[++i], 0, 100000, &anchor);
        else if (argv[i][0] == '-') st = hc_fail(HC_EINVAL, "unknown or incomplete option '%s'", argv[i]);
        else n_spec++;
    }
    if (st == HC_OK && n_spec == 0) st = hc_fail(HC_EINVAL, "no method SPEC given (e.g. hicache weights taylor:N=6,O=2)");
    for (int i = 1; i < argc && st == HC_OK; i++) {
        if (argv[i][0] == '-') { i++; continue; }
        hc_method m;
        hc_weights *w = NULL;
        if ((st = hc_method_parse(argv[i], &m)) != HC_OK) break;
        if ((st = hc_weights_compute(&m, (int)S, (int)anchor, &w)) != HC_OK) break;
        if (i > 1) printf("\n");
        print_weights(&m, w);
        hc_weights_free(w);
    }
    return st == HC_OK ? 0 : cli_error("weights", st);
}

const hc_command hc_cmd_weights = {
    "weights", "print each method's equivalent weights over past full-step snapshots", run,
    "usage: hicache weights SPEC... [--steps S] [--anchor A]\n"
    "\n"
    "Every Taylor-style forecaster is linear in the full-step snapshots it has\n"
    "seen: F_hat(a + x) = sum_j w_j(x) F(f_j).  This prints w_j(x) for the\n"
    "horizons x = 1..N-1 after a full step a, newest snapshot first, so methods\n"
    "can be compared as filters (TaylorSeer O=2 at N=6, x=3 is 1.625, -0.75,\n"
    "0.125; exact Lagrange extrapolation is 1.875, -1.25, 0.375).  The weights\n"
    "are the predictor's own response to impulse snapshots, warm-up effects\n"
    "included; the sum column is 1 when constants are preserved.\n"
    "\n"
    "  SPEC          a method spec as for replay (not clusca: its forecast\n"
    "                depends on fresh tokens)\n"
    "  --steps S     sampling steps (default 50)\n"
    "  --anchor A    the full step to count from (default: the last full step\n"
    "                followed by N-1 cached steps and a full one: steady state)\n",
};
