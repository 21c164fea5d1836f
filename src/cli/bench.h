/* bench.h: the replay benchmarks of `hicache bench` (bench_replay.c). */
#ifndef HC_BENCH_H
#define HC_BENCH_H

/* hicache bench replay FILE... : replay time / raw HDF5 read, 1 and M methods */
int hc_bench_replay(int argc, char **argv);
/* hicache bench replay-scale: replay time and peak memory over a grid of sizes */
int hc_bench_replay_scale(int argc, char **argv);
/* seconds on the monotonic clock */
double hc_bench_now(void);

#endif
