/* outfile.h: atomic result files (and whole small files read back).  Every output is written to
 * "<path>.partial" and renamed into place only when complete, so an
 * interrupted run never leaves a half-written file under the final name. */
#ifndef HC_OUTFILE_H
#define HC_OUTFILE_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "status.h"

typedef struct hc_outfile hc_outfile;

/* Open "<path>.partial" for writing. */
hc_status hc_outfile_open(const char *path, hc_outfile **out);
FILE *hc_outfile_fp(hc_outfile *f);
/* Flush, sync, close and rename to path; frees f either way. */
hc_status hc_outfile_commit(hc_outfile *f);
/* Close and delete the partial file; NULL is a no-op. */
void hc_outfile_abort(hc_outfile *f);

/* Write a JSON document (pretty-printed) atomically. */
hc_status hc_write_json(const char *path, const cJSON *doc);
/* Write a string atomically. */
hc_status hc_write_text(const char *path, const char *text);

/* Write s as one CSV field (RFC 4180): quoted, with quotes doubled, when it
 * holds a comma, a quote or a line break. */
void hc_csv_field(FILE *f, const char *s);

/* Read a whole file (regular or not) into a NUL-terminated buffer the caller
 * frees; *len (may be NULL) gets its length.  HC_EIO naming the file when it
 * cannot be opened or read, HC_ENOMEM. */
hc_status hc_read_text(const char *path, char **text, size_t *len);

/* mkdir -p; HC_EIO naming the directory on failure. */
hc_status hc_mkdir_p(const char *dir);

/* dir + "/" + name into buf; HC_EINVAL if it does not fit. */
hc_status hc_path_join(char *buf, size_t n, const char *dir, const char *name);

#endif
