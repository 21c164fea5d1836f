/* bench.h: the replay benchmarks of `hicache bench` and what they share with
 * the others (bench_replay.c). */
#ifndef HC_BENCH_H
#define HC_BENCH_H

/* hicache bench replay FILE... : replay time / raw HDF5 read, 1 and M methods */
int hc_bench_replay(int argc, char **argv);
/* hicache bench replay-scale: replay time and peak memory over a grid of sizes */
int hc_bench_replay_scale(int argc, char **argv);
/* read bandwidth (bytes/s) of `threads` pool threads streaming a 256 MiB
 * buffer, best of 3; 0 when it cannot be allocated */
double hc_bench_read_bandwidth(int threads);
/* seconds on the monotonic clock */
double hc_bench_now(void);

#endif
