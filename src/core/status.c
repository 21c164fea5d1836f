/* status.c: thread-local error messages and one-time library set-up. */
#include "status.h"

#include <stdarg.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <hdf5.h>

static _Thread_local char hc_msg[1024];

const char *hc_strstatus(hc_status s)
{
    static const char *const names[] = {
        [HC_OK] = "ok",
        [HC_EINVAL] = "invalid argument",
        [HC_ENOMEM] = "out of memory",
        [HC_EIO] = "i/o error",
        [HC_EFORMAT] = "bad file format",
        [HC_ENUM] = "numerical failure",
        [HC_EUNSUP] = "unsupported",
    };
    if ((unsigned)s < sizeof names / sizeof names[0] && names[s]) return names[s];
    return "unknown status";
}

const char *hc_errmsg(void) { return hc_msg; }

void hc_errclear(void) { hc_msg[0] = '\0'; }

hc_status hc_fail(hc_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hc_msg, sizeof hc_msg, fmt, ap);
    va_end(ap);
    /* one line: fold any newline a library message smuggled in */
    for (char *p = hc_msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return s;
}

void hc_init(void)
{
    static int done;
    if (done) return;
    done = 1;
    gsl_set_error_handler_off();
    H5open();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void hc_init_thread(void)
{
    hc_init();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void hc_end_thread(void)
{
    H5Eclear2(H5E_DEFAULT);
}
