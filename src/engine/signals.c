/* signals.c: policy signals of a live run (signals.h). */
#include "signals.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* The model tensor each scalar signal comes from (-1: the network output). */
static const int source_of[HC_SIG_COUNT] = {
    [HC_SIG_MOD_IN] = HC_MSIG_MOD_IN, [HC_SIG_HEAD_RESID] = HC_MSIG_HEAD_RESID,
    [HC_SIG_RESID_NORM] = HC_MSIG_RESID, [HC_SIG_OUT_CHANGE] = -1};

struct hc_sigs {
    unsigned needs;
    int record, S;
    size_t rows, rows0, D, out_elems;
    float *prev_mod, *head_cur, *head_anchor; /* [rows * D]: live */
    float *prev_mod0, *hist0, *prev_out0;    /* recorded sample: [rows0 * D], [S][rows0 * D], [out_elems] */
    double *rec[HC_SIG_COUNT];               /* [S] or [S * S] */
};

double hc_rel_l1(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += fabs((double)a[i] - (double)b[i]);
        den += fabs((double)b[i]);
    }
    return den > 0 ? num / den : 0;
}

static double mean_row_norm(const float *x, size_t rows, size_t D)
{
    double sum = 0;
    for (size_t r = 0; r < rows; r++) {
        double q = 0;
        for (size_t c = 0; c < D; c++) q += (double)x[r * D + c] * x[r * D + c];
        sum += sqrt(q);
    }
    return rows ? sum / (double)rows : 0;
}

void hc_sigs_free(hc_sigs *g)
{
    if (!g) return;
    free(g->prev_mod);
    free(g->head_cur);
    free(g->head_anchor);
    free(g->prev_mod0);
    free(g->hist0);
    free(g->prev_out0);
    for (int k = 0; k < HC_SIG_COUNT; k++) free(g->rec[k]);
    free(g);
}

hc_status hc_sigs_alloc(unsigned needs, int record, int S, size_t rows, size_t rows0, size_t D, size_t out_elems,
                        hc_sigs **out)
{
    *out = NULL;
    hc_sigs *g = calloc(1, sizeof *g);
    if (!g) return hc_fail(HC_ENOMEM, "out of memory");
    *g = (hc_sigs){.needs = needs, .record = record, .S = S, .rows = rows, .rows0 = rows0, .D = D, .out_elems = out_elems};
    int ok = 1;
    size_t n = rows * D, n0 = rows0 * D;
    if (needs & (1u << HC_SIG_MOD_IN)) ok &= (g->prev_mod = calloc(n, sizeof(float))) != NULL;
    if (needs & (1u << HC_SIG_HEAD_RESID))
        ok &= (g->head_cur = calloc(n, sizeof(float))) != NULL && (g->head_anchor = calloc(n, sizeof(float))) != NULL;
    if (record) {
        if (S > 4096) ok = 0;
        ok &= (g->prev_mod0 = calloc(n0, sizeof(float))) != NULL && (g->hist0 = calloc((size_t)S * n0, sizeof(float))) != NULL &&
              (g->prev_out0 = calloc(out_elems, sizeof(float))) != NULL;
        for (int k = 0; k < HC_SIG_COUNT; k++)
            ok &= (g->rec[k] = calloc((size_t)S * (hc_signal_is_matrix((hc_signal)k) ? (size_t)S : 1), sizeof(double))) != NULL;
    }
    if (!ok) {
        hc_sigs_free(g);
        return hc_fail(HC_ENOMEM, "out of memory for the signals of %d steps of %zu x %zu", S, rows, D);
    }
    *out = g;
    return HC_OK;
}

unsigned hc_sigs_model_mask_for(unsigned needs)
{
    unsigned m = 0;
    for (int k = 0; k < HC_SIG_COUNT; k++)
        if (source_of[k] >= 0 && (needs & (1u << k))) m |= 1u << source_of[k];
    return m;
}

unsigned hc_sigs_model_mask(const hc_sigs *g)
{
    unsigned m = 0;
    for (int k = 0; k < HC_SIG_COUNT; k++)
        if (source_of[k] >= 0 && (g->record || (g->needs & (1u << k)))) m |= 1u << source_of[k];
    return m;
}

/* The recording: the recorded sample's rows (the first rows0). */
static void record_tensor(hc_sigs *g, int s, int kind, const float *x)
{
    size_t n0 = g->rows0 * g->D;
    if (kind == HC_MSIG_MOD_IN) {
        g->rec[HC_SIG_MOD_IN][s] = s > 0 ? hc_rel_l1(x, g->prev_mod0, n0) : 0;
        memcpy(g->prev_mod0, x, n0 * sizeof *x);
    } else if (kind == HC_MSIG_HEAD_RESID) {
        memcpy(g->hist0 + (size_t)s * n0, x, n0 * sizeof *x);
        for (int a = 0; a < s; a++)
            g->rec[HC_SIG_HEAD_RESID][(size_t)s * g->S + a] = hc_rel_l1(x, g->hist0 + (size_t)a * n0, n0);
    } else if (kind == HC_MSIG_RESID) {
        g->rec[HC_SIG_RESID_NORM][s] = mean_row_norm(x, g->rows0, g->D);
    }
}

void hc_sigs_tensor(hc_sigs *g, hc_driver *d, int s, int kind, const float *x, size_t rows)
{
    HC_ASSERT(rows == g->rows);
    size_t n = g->rows * g->D;
    if (g->record) record_tensor(g, s, kind, x);
    if (kind == HC_MSIG_MOD_IN && g->prev_mod) {
        hc_driver_set_signal(d, HC_SIG_MOD_IN, s, -1, s > 0 ? hc_rel_l1(x, g->prev_mod, n) : 0);
        memcpy(g->prev_mod, x, n * sizeof *x);
    } else if (kind == HC_MSIG_HEAD_RESID && g->head_cur) {
        int a = hc_driver_last_full(d, s);
        if (a >= 0) hc_driver_set_signal(d, HC_SIG_HEAD_RESID, s, a, hc_rel_l1(x, g->head_anchor, n));
        memcpy(g->head_cur, x, n * sizeof *x);
    } else if (kind == HC_MSIG_RESID && (g->needs & (1u << HC_SIG_RESID_NORM))) {
        hc_driver_set_signal(d, HC_SIG_RESID_NORM, s, -1, mean_row_norm(x, g->rows, g->D));
    }
}

void hc_sigs_end_step(hc_sigs *g, hc_driver *d, int s, const float *out0)
{
    hc_driver_decide(d, s);
    if (g->head_cur && hc_driver_is_full(d, s)) memcpy(g->head_anchor, g->head_cur, g->rows * g->D * sizeof(float));
    if (!g->record) return;
    g->rec[HC_SIG_OUT_CHANGE][s] = s > 0 ? hc_rel_l1(out0, g->prev_out0, g->out_elems) : 0;
    memcpy(g->prev_out0, out0, g->out_elems * sizeof *out0);
}

hc_status hc_sigs_write(const hc_sigs *g, hc_traj_writer *w)
{
    for (int k = 0; g->record && k < HC_SIG_COUNT; k++)
        HC_TRY(hc_traj_writer_put_signal(w, hc_signal_name((hc_signal)k), hc_signal_is_matrix((hc_signal)k) ? g->S : 1,
                                         g->rec[k]));
    return HC_OK;
}
