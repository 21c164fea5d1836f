/* rowq.h: the rows replay scores, read ahead by a reader thread.
 *
 * A queue of trajectory rows in a fixed order (entries[0] steps 0..S-1,
 * then entries[1], ...), each row float32 as hc_traj_read_row_counted gives
 * it (float16 converted, non-finite values zeroed and counted).  Threaded, a
 * reader thread reads and decompresses row k+1 (and further with a deeper
 * ring, hc_rowq_slots; buffers allocated up front) while the caller works
 * on row k.  The HDF5
 * library is not thread-safe here: while the queue runs, the reader thread
 * makes every HDF5 call on the file, and the caller must make none (on any
 * file) until hc_rowq_close.  Serial (threaded = 0), hc_rowq_next reads in
 * the caller's thread; both give the same rows and errors. */
#ifndef HC_ROWQ_H
#define HC_ROWQ_H

#include <stddef.h>

#include "status.h"
#include "traj.h"

typedef struct hc_rowq hc_rowq;

#define HC_ROWQ_MAX_SLOTS 8

/* A queue over rows 0..steps-1 of entries[0..n) of t (indices as for
 * hc_traj_entry_at; copied), each at most row_max floats. */
hc_status hc_rowq_open(hc_traj *t, const size_t *entries, size_t n, int steps, size_t row_max, int threaded,
                       hc_rowq **out);
/* The next row: *row (valid until the next call or close) and its count of
 * zeroed non-finite values.  An error of the read (its message carried over
 * from the reader thread) ends the queue. */
hc_status hc_rowq_next(hc_rowq *q, const float **row, size_t *n_nonfinite);
/* Stop the reader (waits for its current read) and free. NULL is a no-op. */
void hc_rowq_close(hc_rowq *q);
/* Rows the reader thread may hold (read ahead, and the caller's): 2 (the
 * memory replay's estimate counts), or K from the environment variable
 * HC_REPLAY_QUEUE=K (2..8) to measure deeper read-ahead; on the loaded
 * 2-core machine 8 did not beat 2 (docs/replay-performance.md). */
int hc_rowq_slots(void);
/* Replay's default for `threaded`: 1 unless HC_REPLAY_SERIAL is set in the
 * environment (tests compare both). */
int hc_rowq_default_threaded(void);

#endif
