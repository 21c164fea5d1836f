/* outfile.h: atomic result files (and whole small files read back).  Every output is written to
 * "<path>.partial" and renamed into place only when complete, so an
 * interrupted run never leaves a half-written file under the final name.
 *
 * Outputs that belong together (a report's results.csv, summary.json,
 * tables and figures; a sample's grid.png, samples.h5 and metrics.json) go
 * into an output set: each member DIR/NAME is completed (written, flushed,
 * synced, closed) as DIR/.partial/NAME, under its own name in a staging
 * folder beside it (so a gnuplot script there finds its data), and
 * hc_outset_commit renames them all only when every one is complete: a
 * failure part-way (a full disk) leaves none of them under its final name,
 * and a previous complete set stays as it was. */
#ifndef HC_OUTFILE_H
#define HC_OUTFILE_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "status.h"

typedef struct hc_outfile hc_outfile;
typedef struct hc_outset hc_outset;

/* Open "<path>.partial" for writing. */
hc_status hc_outfile_open(const char *path, hc_outfile **out);
/* The same as a member of `set` (NULL: a file of its own, as hc_outfile_open),
 * written to its temporary name (hc_outset_tmp): hc_outfile_commit then
 * completes it and adds it to the set instead of renaming it. */
hc_status hc_outfile_open_in(hc_outset *set, const char *path, hc_outfile **out);
FILE *hc_outfile_fp(hc_outfile *f);
/* Flush, sync, close and rename to path (a set's member: added to the set);
 * frees f either way; on failure the partial file is deleted. */
hc_status hc_outfile_commit(hc_outfile *f);
/* Close and delete the partial file; NULL is a no-op. */
void hc_outfile_abort(hc_outfile *f);

/* Write a JSON document (pretty-printed) atomically. */
hc_status hc_write_json(const char *path, const cJSON *doc);
/* Write a string atomically. */
hc_status hc_write_text(const char *path, const char *text);
/* The same as members of `set` (NULL: on their own). */
hc_status hc_write_json_in(hc_outset *set, const char *path, const cJSON *doc);
hc_status hc_write_text_in(hc_outset *set, const char *path, const char *text);

/* ---- output sets ---- */

hc_status hc_outset_new(hc_outset **out);
/* The temporary name of the output `path` into tmp: DIR/.partial/NAME for
 * a member of `set` (the staging folder created if needed), "<path>.partial"
 * for set NULL.  HC_EINVAL if it does not fit, HC_EIO if the staging
 * folder cannot be created. */
hc_status hc_outset_tmp(hc_outset *set, const char *path, char *tmp, size_t n);
/* Add a complete temporary file written by other means (HDF5, gnuplot),
 * named by hc_outset_tmp: `tmp` is renamed to `path` at commit (set NULL:
 * renamed now).  On failure (set NULL: the rename; otherwise out of
 * memory) tmp is deleted. */
hc_status hc_outset_add(hc_outset *set, const char *tmp, const char *path);
/* Rename every member into place, in the order they were added, remove
 * the (then empty) staging folders and free the set.  If a rename fails the
 * rest are deleted and the message names the members already in place.
 * NULL is a no-op. */
hc_status hc_outset_commit(hc_outset *set);
/* Delete every member's temporary file and the empty staging folders, and
 * free the set; NULL is a no-op. */
void hc_outset_abort(hc_outset *set);
/* The set committed when st is HC_OK, else aborted; returns st or the
 * commit's error. */
hc_status hc_outset_finish(hc_outset *set, hc_status st);

/* Write s as one CSV field (RFC 4180): quoted, with quotes doubled, when it
 * holds a comma, a quote or a line break. */
void hc_csv_field(FILE *f, const char *s);

/* Read a whole file (regular or not) into a NUL-terminated buffer the caller
 * frees; *len (may be NULL) gets its length.  HC_EIO naming the file when it
 * cannot be opened or read, HC_ENOMEM. */
hc_status hc_read_text(const char *path, char **text, size_t *len);

/* mkdir -p; HC_EIO naming the directory on failure. */
hc_status hc_mkdir_p(const char *dir);

/* 1 if `name` is safe as one output file or directory name: 1 to 128
 * characters from letters, digits, '_', '-', '.' and '+', not starting with
 * '.' (so never "." or ".."), no '/'.  Names from configs that become paths
 * are checked with this, so outputs stay inside their folder. */
int hc_safe_name(const char *name);
#define HC_SAFE_NAME_RULE "letters, digits, '_', '-', '.' and '+', not starting with '.', at most 128 characters"

/* dir + "/" + name into buf; HC_EINVAL if it does not fit. */
hc_status hc_path_join(char *buf, size_t n, const char *dir, const char *name);

#endif
