/* pool.h: a process-wide pool of worker threads for fork-join loops (the
 * model's batch split).  hc_pool_run(n, fn, ud) calls fn(ud, t) for
 * t = 0..n-1, t = 0 on the calling thread and t >= 1 each on its own
 * persistent worker, and returns when all have returned.  Workers start on
 * first use and live until exit.  One hc_pool_run at a time; one called
 * from inside a task (a kernel that splits its rows, called by a stage)
 * runs its n tasks serially on that thread, in order. */
#ifndef HC_POOL_H
#define HC_POOL_H

#define HC_POOL_MAX 16

typedef void (*hc_pool_fn)(void *ud, int t);

/* n in [1, HC_POOL_MAX]; n == 1 calls fn(ud, 0) directly.  When workers
 * cannot be started, runs every t on the calling thread, in order. */
void hc_pool_run(int n, hc_pool_fn fn, void *ud);

/* The width that kernels called outside hc_pool_run (the model's hooks
 * between its stages: the forecast) may split their work to: 1 unless a
 * caller set it (the forward sets its thread count and restores it). */
int hc_pool_width(void);
void hc_pool_set_width(int n);
/* The machine's online CPUs, in [1, HC_POOL_MAX]: the default width of a
 * caller that splits its own work (replay's scoring). */
int hc_pool_cores(void);

#endif
