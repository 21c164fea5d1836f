/* test_traj_errors.c: every malformed input gives a status and a one-line
 * message naming the file and what was expected; never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "synth.h"
#include "traj.h"

typedef struct bad_case {
    const char *file;     /* under tests/data, or a scratch file */
    hc_status status;
    const char *expect;   /* substring of the message */
} bad_case;

static const bad_case cases[] = {
    {"bad_schema.h5", HC_EFORMAT, "expected \"hicache-trajectory\""},
    {"bad_version.h5", HC_EUNSUP, "schema_version 2 is not supported"},
    {"bad_incomplete.h5", HC_EFORMAT, "incomplete trajectory"},
    {"bad_no_times.h5", HC_EFORMAT, "missing dataset /steps/t"},
    {"bad_no_features.h5", HC_EFORMAT, "missing group /features"},
    {"bad_rank.h5", HC_EFORMAT, "/features/dit/0/attn has rank 2; expected 3"},
    {"bad_shape.h5", HC_EFORMAT, "/features/dit/0/attn has 7 rows; expected 5"},
    {"bad_dtype_f64.h5", HC_EUNSUP, "has float64; expected float32 or float16"},
    {"bad_dtype_int.h5", HC_EUNSUP, "has an integer type; expected float32 or float16"},
    {"bad_layer_name.h5", HC_EFORMAT, "/features/dit/first: expected a layer index"},
    {"bad_layer_alias.h5", HC_EFORMAT, "/features/dit/03: expected a layer index"},
    {"bad_unwritten.h5", HC_EFORMAT, "/features/dit/0/attn: steps never written: 0-4 (5 of 5 chunks missing"},
    /* some steps written: HDF5 1.10 cannot count chunks over H5S_ALL (-1), so
     * these passed as complete and the missing steps read as fill values */
    {"bad_partial.h5", HC_EFORMAT, "/features/dit/0/attn: steps never written: 2, 4 (2 of 5 chunks missing"},
    {"bad_partial2.h5", HC_EFORMAT, "/features/dit/0/attn: steps never written: 2-3 (2 of 6 chunks missing"},
    {"bad_empty_features.h5", HC_EFORMAT, "no datasets under /features"},
};

static void check_fails(const char *path, hc_status want, const char *expect)
{
    hc_traj *t = (hc_traj *)0x1;
    hc_errclear();
    hc_status st = hc_traj_open(path, &t);
    if (st != want || !strstr(hc_errmsg(), expect) || !strstr(hc_errmsg(), path))
        fail_msg("%s: got status %d message '%s'; want %d containing '%s'", path, st, hc_errmsg(),
                 want, expect);
    assert_null(t);
    assert_null(strchr(hc_errmsg(), '\n'));
}

static void schema_violations(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", HC_TEST_DATA, cases[i].file);
        check_fails(path, cases[i].status, cases[i].expect);
    }
}

static void missing_and_not_hdf5(void **state)
{
    (void)state;
    check_fails("no_such_file.h5", HC_EIO, "No such file");
    FILE *f = fopen("not_hdf5.h5", "w");
    fputs("this is a text file, not HDF5\n", f);
    fclose(f);
    check_fails("not_hdf5.h5", HC_EFORMAT, "not an HDF5 file");
    f = fopen("empty.h5", "w");
    fclose(f);
    check_fails("empty.h5", HC_EFORMAT, "not an HDF5 file");
    mkdir("a_directory.h5", 0755);
    check_fails("a_directory.h5", HC_EIO, "is a directory");
    remove("a_fifo.h5");
    assert_int_equal(mkfifo("a_fifo.h5", 0644), 0);
    check_fails("a_fifo.h5", HC_EIO, "not a regular file"); /* never blocks on open */
    remove("a_fifo.h5");
    remove("not_hdf5.h5");
    remove("empty.h5");
    rmdir("a_directory.h5");
}

/* Cut a valid file at several lengths: each open (or the first read that
 * touches a missing chunk) must fail cleanly. */
static void truncated_files(void **state)
{
    (void)state;
    hc_synth_opts o;
    hc_synth_defaults(&o);
    o.steps = 8;
    o.modules = 2;
    assert_int_equal(hc_synth_write("whole.h5", &o), HC_OK);
    FILE *f = fopen("whole.h5", "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    static const double fractions[] = {0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99};
    float *row = malloc(sizeof(float) * 16 * 32);
    for (size_t i = 0; i < sizeof fractions / sizeof fractions[0]; i++) {
        long cut = (long)(fractions[i] * (double)n);
        f = fopen("cut.h5", "wb");
        fwrite(buf, 1, (size_t)cut, f);
        fclose(f);
        hc_traj *t;
        hc_status st = hc_traj_open("cut.h5", &t);
        if (st == HC_OK) { /* metadata survived: a data read must fail */
            hc_status rs = HC_OK;
            for (size_t e = 0; e < hc_traj_num_entries(t) && rs == HC_OK; e++)
                for (int s = 0; s < 8 && rs == HC_OK; s++) rs = hc_traj_read_row(t, e, s, row);
            hc_traj_close(t);
            if (rs == HC_OK) fail_msg("file cut at %ld of %ld bytes read without error", cut, n);
            assert_int_equal(rs, HC_EFORMAT);
        } else {
            assert_int_equal(st, HC_EFORMAT);
            assert_non_null(strstr(hc_errmsg(), "cut.h5"));
        }
    }
    free(row);
    free(buf);
    remove("cut.h5");
    remove("whole.h5");
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_violations),
        cmocka_unit_test(missing_and_not_hdf5),
        cmocka_unit_test(truncated_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
