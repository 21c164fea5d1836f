/* test_replay_threads.c: replay with the reader thread (rows of step s+1
 * read while step s is scored) gives exactly what reading on one thread
 * gives: every record's values bit for bit, the statistics, the counts of
 * zeroed rows; the row queue hands out the rows of hc_traj_read_row in
 * order, in both modes; a read error on the reader thread (a flipped byte
 * under a Fletcher-32 checksum) ends replay with the same one-line message
 * as on one thread; closing a queue early stops its reader; and 1, 2 or 3
 * scoring threads (rows split by blocks, range forecasts, split updates)
 * give the same bits, on rows long enough that every split happens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <hdf5.h>

#include "replay.h"
#include "rowq.h"
#include "synth.h"
#include "testutil.h"

static void make_sized(const char *path, hc_dtype dt, int hidden, int steps, int tokens, int channels, int modules)
{
    hc_synth_opts o;
    hc_synth_defaults(&o);
    o.kind = HC_SYNTH_GP;
    o.steps = steps;
    o.tokens = tokens;
    o.channels = channels;
    o.modules = modules;
    o.hidden = hidden;
    o.seed = 5;
    o.write.dtype = dt;
    assert_int_equal(hc_synth_write(path, &o), HC_OK);
}

static void make(const char *path, hc_dtype dt, int hidden) { make_sized(path, dt, hidden, 24, 40, 17, 6); }

static const char *const specs[] = {"taylor:N=4,O=2", "hicache:N=3,O=1,sigma=0.5", "reuse:N=5", "lagrange:N=4,O=3",
                                    "clusca:base=taylor,N=4,O=2,K=4", "full"};
#define NM 6

static hc_replay_result *run_threads(const char *path, int serial, int threads, hc_status want)
{
    hc_method m[NM];
    for (int i = 0; i < NM; i++) assert_int_equal(hc_method_parse(specs[i], &m[i]), HC_OK);
    hc_replay_opts o = {.files = &path, .n_files = 1, .methods = m, .n_methods = NM, .quiet = 1, .serial = serial,
                        .threads = threads};
    hc_replay_result *r = NULL;
    assert_int_equal(hc_replay_compute(&o, &r), want);
    return r;
}

static hc_replay_result *run(const char *path, int serial, hc_status want) { return run_threads(path, serial, 0, want); }

static void same_results(const hc_replay_result *a, const hc_replay_result *b)
{
    assert_int_equal(a->n_methods, b->n_methods);
    for (int m = 0; m < a->n_methods; m++) {
        const hc_replay_method *x = &a->methods[m], *y = &b->methods[m];
        assert_int_equal(x->n_records, y->n_records);
        assert_true(x->n_records > 0 || m == NM - 1); /* "full" scores nothing */
        for (size_t i = 0; i < x->n_records; i++) {
            const hc_replay_record *p = &x->records[i], *q = &y->records[i];
            assert_int_equal(p->module, q->module);
            assert_int_equal(p->step, q->step);
            assert_int_equal(p->horizon, q->horizon);
            if (memcmp(p->v, q->v, sizeof p->v) != 0)
                fail_msg("%s record %zu: rel_l2 %.17g vs %.17g", specs[m], i, p->v[HC_REL_L2], q->v[HC_REL_L2]);
        }
        assert_true(memcmp(&x->stat[HC_REL_L2].mean, &y->stat[HC_REL_L2].mean, sizeof(double)) == 0);
        assert_int_equal(x->zeroed_rows[0], y->zeroed_rows[0]);
        assert_int_equal(x->full_steps, y->full_steps);
    }
}

static void threaded_equals_serial(void **state)
{
    (void)state;
    const hc_dtype dts[] = {HC_F16, HC_F32};
    for (int k = 0; k < 2; k++) {
        make("thr.h5", dts[k], 1);
        hc_replay_result *a = run("thr.h5", 1, HC_OK), *b = run("thr.h5", 0, HC_OK);
        same_results(a, b);
        hc_replay_result_free(a);
        hc_replay_result_free(b);
    }
    remove("thr.h5");
}

/* 1024 tokens x 70 channels = 71,680 elements a row: 18 scoring blocks,
 * and above the size where forecasts and updates split across threads */
static void scoring_threads_agree(void **state)
{
    (void)state;
    const hc_dtype dts[] = {HC_F16, HC_F32};
    for (int k = 0; k < 2; k++) {
        make_sized("sc.h5", dts[k], 1, 12, 1024, 70, 2);
        hc_replay_result *a = run_threads("sc.h5", 0, 1, HC_OK);
        for (int w = 2; w <= 3; w++) {
            hc_replay_result *b = run_threads("sc.h5", 0, w, HC_OK);
            same_results(a, b);
            hc_replay_result_free(b);
        }
        hc_replay_result_free(a);
    }
    remove("sc.h5");
}

/* the queue's rows are hc_traj_read_row's, in order, threaded or not */
static void queue_order(void **state)
{
    (void)state;
    make("q.h5", HC_F16, 0);
    hc_traj *t;
    assert_int_equal(hc_traj_open("q.h5", &t), HC_OK);
    const size_t ents[] = {3, 0, 5}, n = 40 * 17;
    float *want = malloc(3 * 24 * n * sizeof *want);
    for (int e = 0; e < 3; e++)
        for (int s = 0; s < 24; s++)
            assert_int_equal(hc_traj_read_row(t, ents[e], s, want + ((size_t)e * 24 + s) * n), HC_OK);
    for (int threaded = 0; threaded < 2; threaded++) {
        hc_rowq *q;
        assert_int_equal(hc_rowq_open(t, ents, 3, 24, n, threaded, &q), HC_OK);
        for (size_t k = 0; k < 3 * 24; k++) {
            const float *row;
            size_t bad = 1;
            assert_int_equal(hc_rowq_next(q, &row, &bad), HC_OK);
            assert_int_equal(bad, 0);
            assert_memory_equal(row, want + k * n, n * sizeof *row);
        }
        const float *row;
        size_t bad;
        assert_int_equal(hc_rowq_next(q, &row, &bad), HC_EINVAL); /* past the end */
        hc_rowq_close(q);
        /* closed early, with the reader waiting on a full buffer */
        assert_int_equal(hc_rowq_open(t, ents, 3, 24, n, threaded, &q), HC_OK);
        assert_int_equal(hc_rowq_next(q, &row, &bad), HC_OK);
        hc_rowq_close(q);
    }
    free(want);
    hc_traj_close(t);
    remove("q.h5");
}

static void flip_mid_file(const char *path, const char *dset, int row)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    hsize_t off[3] = {(hsize_t)row, 0, 0}, size = 0;
    unsigned mask = 0;
    haddr_t addr = HADDR_UNDEF;
    assert_true(H5Dget_chunk_info_by_coord(d, off, &mask, &addr, &size) >= 0);
    H5Dclose(d);
    H5Fclose(f);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    long at = (long)addr + (long)size / 2;
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    fputc(c ^ 0x10, fp);
    fclose(fp);
}

static void reader_error_carried(void **state)
{
    (void)state;
    make("bad.h5", HC_F32, 0);
    flip_mid_file("bad.h5", "/features/dit/1/mlp", 13);
    char msg[2][1024];
    for (int serial = 0; serial < 2; serial++) {
        hc_errclear();
        hc_replay_result *r = run("bad.h5", serial, HC_EFORMAT);
        assert_null(r);
        snprintf(msg[serial], sizeof msg[serial], "%s", hc_errmsg());
    }
    if (!strstr(msg[0], "bad.h5: dataset /features/dit/1/mlp, step 13: Fletcher-32 checksum mismatch"))
        fail_msg("message: %s", msg[0]);
    assert_string_equal(msg[0], msg[1]);
    remove("bad.h5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threaded_equals_serial),
        cmocka_unit_test(scoring_threads_agree),
        cmocka_unit_test(queue_order),
        cmocka_unit_test(reader_error_carried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
