/* sbuf.h: a growing text buffer (report files are built in memory and
 * written atomically).  Not installed. */
#ifndef HC_SBUF_H
#define HC_SBUF_H

#include <stddef.h>

#include "outfile.h"
#include "status.h"

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Write the text to `path` (a member of `set`, outfile.h; NULL: on its own) and free it. */
hc_status sb_write(sbuf *b, hc_outset *set, const char *path);

#endif
