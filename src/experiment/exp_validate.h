/* exp_validate.h: private to src/experiment: validation of config values.
 * Every check returns HC_EINVAL (HC_EIO for files) with a one-line message
 * "ORIGIN: $.json.path: problem" and writes nothing on failure. */
#ifndef HC_EXP_VALIDATE_H
#define HC_EXP_VALIDATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "status.h"

typedef struct exp_vctx {
    const char *origin; /* the config's name in messages */
} exp_vctx;

hc_status exp_verr(const exp_vctx *v, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* A short rendering of a JSON value for messages: "ten", 3.5, [...]. */
void exp_jshow(const cJSON *x, char *buf, size_t n);
/* "path.key" and "path[i]" into buf */
void exp_subpath(char *buf, size_t n, const char *path, const char *key);
void exp_idxpath(char *buf, size_t n, const char *path, int i);
/* Reject keys not in `allowed` (NULL-terminated). */
hc_status exp_check_keys(const exp_vctx *v, const char *path, const cJSON *obj, const char *const *allowed);
/* The value at `path` as the type wanted, in range; files and directories readable. */
hc_status exp_want_int(const exp_vctx *v, const char *path, const cJSON *x, long lo, long hi, long *out);
hc_status exp_want_num(const exp_vctx *v, const char *path, const cJSON *x, double lo, double hi, double *out);
hc_status exp_want_str(const exp_vctx *v, const char *path, const cJSON *x, char *out, size_t n, int nonempty);
hc_status exp_want_bool(const exp_vctx *v, const char *path, const cJSON *x, int *out);
hc_status exp_want_array(const exp_vctx *v, const char *path, const cJSON *x, int nonempty);
hc_status exp_want_object(const exp_vctx *v, const char *path, const cJSON *x);
hc_status exp_want_file(const exp_vctx *v, const char *path, const char *file);
hc_status exp_want_dir(const exp_vctx *v, const char *path, const char *dir);

#endif
