/* status.h: the one error convention of libhicache.
 *
 * Every fallible function returns an hc_status and writes results through
 * out-parameters.  The human-readable detail (one line: what, which file or
 * dataset, what was expected) is kept in a thread-local buffer read with
 * hc_errmsg(); it is valid until the next failing call on the same thread.
 * Programmer errors (violated preconditions) use HC_ASSERT and abort. */
#ifndef HC_STATUS_H
#define HC_STATUS_H

#include <stdio.h>
#include <stdlib.h>

typedef enum hc_status {
    HC_OK = 0,
    HC_EINVAL = 1,   /* invalid argument, option, spec or config value */
    HC_ENOMEM = 2,   /* allocation failed */
    HC_EIO = 3,      /* file missing, unreadable, unwritable */
    HC_EFORMAT = 4,  /* file exists but is not what the schema requires */
    HC_ENUM = 5,     /* numerical failure (non-positive-definite, no convergence) */
    HC_EUNSUP = 6    /* valid but not supported (dtype, rank, feature) */
} hc_status;

/* Short name of a status code ("invalid argument", ...).  Never NULL. */
const char *hc_strstatus(hc_status s);

/* The message of the last failure on this thread ("" if none). */
const char *hc_errmsg(void);

/* Record a message (printf-style) and return s, so callers can write
 * `return hc_fail(HC_EIO, "%s: cannot open", path);`. */
hc_status hc_fail(hc_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clear the message buffer. */
void hc_errclear(void);

/* One-time library set-up: switches off GSL's abort handler and HDF5's
 * automatic error printing so that both report through hc_status.
 * Idempotent; call it from main() and from test set-up. */
void hc_init(void);
/* The per-thread part, for a thread (other than main's) that makes HDF5
 * calls: a thread-safe HDF5 keeps the error-printing switch per thread. */
void hc_init_thread(void);
/* Before a thread started with hc_init_thread returns: clears its HDF5
 * error stack (HDF5 keeps one per thread; its messages would leak). */
void hc_end_thread(void);

#define HC_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "hicache: %s:%d: assertion failed: %s\n",         \
                    __FILE__, __LINE__, #cond);                                \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Propagate a non-OK status. */
#define HC_TRY(expr)                                                           \
    do {                                                                       \
        hc_status hc_try_s_ = (expr);                                          \
        if (hc_try_s_ != HC_OK) return hc_try_s_;                              \
    } while (0)

#endif
