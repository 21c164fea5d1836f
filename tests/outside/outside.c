/* outside.c: a program outside the hicache tree, built against an installed
 * libhicache (tests/cli_install.sh builds it with pkg-config and with
 * find_package(hicache)).  It uses only the public headers, as installed in
 * include/hicache, and checks what it gets:
 *   1. hc_method_parse: a valid spec resolves; an invalid one fails with
 *      HC_EINVAL and a message (the status convention works across the link);
 *   2. a TaylorSeer predictor over a [T, D] = [2, 3] tensor observes a line
 *      F(s) = a + b s at the full steps of its schedule and forecasts the
 *      cached steps: exact once two full steps gave D_1 (TaylorSeer is exact
 *      on lines), F(last full step) before that (only D_0 is known);
 *   3. metrics.h: rel_l2 of the exact forecasts is 0;
 *   4. traj.h: opens the trajectory given on the command line and prints
 *      its feature modules and steps;
 *   5. driver.h: the cache driver replays the file's first module under
 *      FORA (reuse): every forecast equals the row of the last full step.
 * Tolerance 0: a, b are multiples of 1/8 below 16 and the full steps are 3
 * apart, so every float operation of the forecast (F - D_0, / 3, D_0 + x D_1)
 * is exact.  Exit 0 only if every check holds. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "driver.h"
#include "metrics.h"
#include "predictor.h"
#include "status.h"
#include "traj.h"

enum { S = 10, T = 2, D = 3, N_EL = T * D };

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "outside: FAILED: %s\n", what);
        failures++;
    }
}

/* the line F(s)[e] = a_e + b_e s */
static void line_at(int s, float *F)
{
    for (int e = 0; e < N_EL; e++) F[e] = (float)(0.5 * e - 1.0) + (float)(0.125 * (e + 1)) * (float)s;
}

static void methods(void)
{
    hc_method m;
    check(hc_method_parse("taylor:N=0", &m) == HC_EINVAL && hc_errmsg()[0] != '\0',
          "hc_method_parse(\"taylor:N=0\") must fail with HC_EINVAL and a message");
    printf("bad spec: %s\n", hc_strstatus(HC_EINVAL));
}

static void forecast(void)
{
    hc_method m;
    if (hc_method_parse("taylor:N=3,W=1,O=1", &m) != HC_OK) {
        check(0, hc_errmsg());
        return;
    }
    char desc[HC_SPEC_MAX];
    hc_method_describe(&m, desc, sizeof desc);
    printf("method: %s\n", desc);
    hc_predictor *p;
    if (hc_predictor_alloc(&m, T, D, 0, &p) != HC_OK) {
        check(0, hc_errmsg());
        return;
    }
    unsigned char full[S];
    int n_full = hc_schedule_mask(&m.sched, S, full);
    float F[N_EL], last[N_EL], out[N_EL];
    hc_step_ctx ctx = {0};
    int seen = 0, exact = 0, held = 0;
    double worst_l2 = 0;
    for (int s = 0; s < S; s++) {
        line_at(s, F);
        ctx.step = s;
        if (full[s]) {
            p->type->observe(p->state, &ctx, F);
            memcpy(last, F, sizeof F);
            seen++;
            continue;
        }
        check(p->type->predict(p->state, &ctx, out) == HC_OK, "predict");
        if (seen >= 2) { /* D_0 and D_1: the line itself */
            check(memcmp(out, F, sizeof F) == 0, "forecast after two full steps equals the line");
            double mt[HC_N_METRICS];
            hc_metrics_compute(out, F, N_EL, mt);
            worst_l2 = fmax(worst_l2, mt[HC_REL_L2]);
            exact++;
        } else { /* D_0 only: the last full step */
            check(memcmp(out, last, sizeof F) == 0, "forecast before the second full step holds F(0)");
            held++;
        }
    }
    hc_predictor_free(p);
    check(exact > 0 && held > 0, "the schedule has cached steps before and after the second full step");
    check(worst_l2 == 0, "rel_l2 of the exact forecasts is 0");
    printf("schedule: %d full of %d steps\n", n_full, S);
    printf("forecast: %d cached steps exact (%s %g), %d held\n", exact, hc_metric_names[HC_REL_L2],
           worst_l2, held);
}

static void trajectory(const char *path)
{
    hc_traj *t;
    if (hc_traj_open(path, &t) != HC_OK) {
        check(0, hc_errmsg());
        return;
    }
    const hc_traj_meta *meta = hc_traj_get_meta(t);
    size_t nf = hc_traj_num_features(t);
    printf("traj: %zu modules, %d steps, t = %g .. %g\n", nf, meta->num_steps, hc_traj_times(t)[0],
           hc_traj_times(t)[meta->num_steps - 1]);
    for (size_t i = 0; i < nf; i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        printf("  %s [%lld, %lld, %lld]\n", e->name, (long long)e->dims[0], (long long)e->dims[1],
               (long long)e->dims[2]);
    }
    hc_traj_close(t);
}

static void driver(const char *path)
{
    hc_traj *t;
    hc_method m;
    hc_driver *d = NULL;
    if (hc_traj_open(path, &t) != HC_OK || hc_method_parse("reuse:N=2,W=1", &m) != HC_OK) {
        check(0, hc_errmsg());
        return;
    }
    const hc_traj_entry *e = hc_traj_entry_at(t, 0);
    const int steps = hc_traj_get_meta(t)->num_steps;
    hc_driver_point pt = {.name = e->name, .module = e->module, .tokens = (size_t)e->dims[1],
                          .channels = (size_t)e->dims[2], .cluster = HC_CLUSTER_NONE};
    float *row = malloc(e->row_elems * sizeof *row), *last = malloc(e->row_elems * sizeof *row),
          *out = malloc(e->row_elems * sizeof *row);
    int p = -1, full = 0, equal = 0, ok = row && last && out;
    ok = ok && hc_driver_alloc(&m, steps, 1, &d) == HC_OK && hc_driver_begin(d) == HC_OK &&
         hc_driver_add_point(d, &pt, &p) == HC_OK;
    for (int s = 0; ok && s < steps; s++) {
        ok = hc_traj_read_row(t, 0, s, row) == HC_OK;
        if (ok && hc_driver_compute(d, p, s)) {
            ok = hc_driver_observe(d, p, s, row) == HC_OK;
            memcpy(last, row, e->row_elems * sizeof *row);
            full++;
        } else if (ok) {
            ok = hc_driver_forecast(d, p, s, NULL, NULL, out) == HC_OK;
            equal += ok && memcmp(out, last, e->row_elems * sizeof *out) == 0;
            check(ok && memcmp(out, last, e->row_elems * sizeof *out) == 0, "reuse forecasts the last full row");
        }
    }
    check(ok, hc_errmsg());
    printf("driver: reuse:N=2,W=1 on %s: %d full of %d steps, %d forecasts equal the last full row\n", e->name, full,
           steps, equal);
    hc_driver_free(d);
    free(row);
    free(last);
    free(out);
    hc_traj_close(t);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: outside TRAJECTORY.h5\n");
        return 2;
    }
    hc_init();
    methods();
    forecast();
    trajectory(argv[1]);
    driver(argv[1]);
    if (failures) fprintf(stderr, "outside: %d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
