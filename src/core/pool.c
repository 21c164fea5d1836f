/* pool.c: fork-join worker pool (see pool.h). */
#include "pool.h"

#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static int started;            /* workers running (t = 1..started) */
static unsigned long gen;      /* bumped per job */
static int job_n, pending;     /* tasks of the current job; workers not yet finished */
static hc_pool_fn job_fn;
static void *job_ud;

static int width = 1;
/* set while this thread runs a task: a nested hc_pool_run runs serially */
static _Thread_local int in_task;

int hc_pool_width(void) { return width; }
void hc_pool_set_width(int n) { width = n < 1 ? 1 : n > HC_POOL_MAX ? HC_POOL_MAX : n; }

int hc_pool_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > HC_POOL_MAX ? HC_POOL_MAX : (int)n;
}

static void *worker(void *arg)
{
    int t = (int)(long)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (gen == seen) pthread_cond_wait(&go, &mu);
        seen = gen;
        if (t >= job_n) continue;
        hc_pool_fn fn = job_fn;
        void *ud = job_ud;
        pthread_mutex_unlock(&mu);
        in_task = 1;
        fn(ud, t);
        in_task = 0;
        pthread_mutex_lock(&mu);
        if (--pending == 0) pthread_cond_signal(&done);
    }
    return NULL;
}

void hc_pool_run(int n, hc_pool_fn fn, void *ud)
{
    if (n > HC_POOL_MAX) n = HC_POOL_MAX;
    if (n <= 1) {
        fn(ud, 0);
        return;
    }
    if (in_task) { /* called from a task: the workers are busy with the outer job */
        for (int t = 0; t < n; t++) fn(ud, t);
        return;
    }
    pthread_mutex_lock(&mu);
    while (started < n - 1) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        int ok = pthread_create(&th, &at, worker, (void *)(long)(started + 1)) == 0;
        pthread_attr_destroy(&at);
        if (!ok) break;
        started++;
    }
    if (started < n - 1) { /* could not start enough workers: run serially */
        pthread_mutex_unlock(&mu);
        for (int t = 0; t < n; t++) fn(ud, t);
        return;
    }
    job_fn = fn;
    job_ud = ud;
    job_n = n;
    pending = n - 1;
    gen++;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&mu);
    in_task = 1;
    fn(ud, 0);
    in_task = 0;
    pthread_mutex_lock(&mu);
    while (pending > 0) pthread_cond_wait(&done, &mu);
    pthread_mutex_unlock(&mu);
}
