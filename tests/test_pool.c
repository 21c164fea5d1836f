/* test_pool.c: the fork-join pool (pool.h): every task of a run is called
 * once, on distinct threads for t >= 1 (t = 0 on the caller); a run nested
 * inside a task runs its tasks serially on that thread, in order, and
 * completes (no deadlock on the busy workers); runs of any width up to
 * HC_POOL_MAX follow one another. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pool.h"

typedef struct job {
    int calls[HC_POOL_MAX];
    pthread_t who[HC_POOL_MAX];
    int nested;                 /* width of the run each task starts inside itself (0: none) */
    int order[HC_POOL_MAX][HC_POOL_MAX], n_order[HC_POOL_MAX];
    pthread_t inner_who[HC_POOL_MAX][HC_POOL_MAX];
} job;

typedef struct inner {
    job *j;
    int outer;
} inner;

static void inner_task(void *ud, int t)
{
    inner *in = ud;
    job *j = in->j;
    int k = j->n_order[in->outer]++;
    j->order[in->outer][k] = t;
    j->inner_who[in->outer][k] = pthread_self();
}

static void task(void *ud, int t)
{
    job *j = ud;
    __atomic_add_fetch(&j->calls[t], 1, __ATOMIC_SEQ_CST);
    j->who[t] = pthread_self();
    if (j->nested) {
        inner in = {j, t};
        hc_pool_run(j->nested, inner_task, &in);
    }
}

static void runs_every_task_once(void **state)
{
    (void)state;
    for (int n = 1; n <= HC_POOL_MAX; n++) {
        job j = {0};
        hc_pool_run(n, task, &j);
        for (int t = 0; t < n; t++) assert_int_equal(j.calls[t], 1);
        for (int t = n; t < HC_POOL_MAX; t++) assert_int_equal(j.calls[t], 0);
        assert_true(pthread_equal(j.who[0], pthread_self()));
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++) assert_false(pthread_equal(j.who[a], j.who[b]));
    }
}

static void nested_runs_serially(void **state)
{
    (void)state;
    for (int n = 2; n <= 4; n++) {
        job j = {0};
        j.nested = 3;
        hc_pool_run(n, task, &j);
        for (int t = 0; t < n; t++) {
            assert_int_equal(j.calls[t], 1);
            assert_int_equal(j.n_order[t], 3);
            for (int k = 0; k < 3; k++) {
                assert_int_equal(j.order[t][k], k);                         /* in order */
                assert_true(pthread_equal(j.inner_who[t][k], j.who[t])); /* on the task's thread */
            }
        }
        /* the pool still works after nesting */
        job again = {0};
        hc_pool_run(n, task, &again);
        for (int t = 0; t < n; t++) assert_int_equal(again.calls[t], 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_every_task_once),
        cmocka_unit_test(nested_runs_serially),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
