/* csvread.h: read a plain numeric CSV file into a row-major double matrix.
 *
 * Format: comma-separated cells, one row per line ('\n' or "\r\n"), every
 * row with the same number of cells; a UTF-8 byte-order mark at the start
 * of the file is skipped.  Cells are parsed with strtod (so
 * "1e-3", "-0.5", "nan" and "inf" are numbers) after trimming spaces and
 * tabs; an empty cell is an error.  Lines that are empty or only
 * whitespace are skipped.  The first non-blank line is a header when any
 * of its cells is not a number; header cells are trimmed and a pair of
 * surrounding double quotes is removed.  Quoted data cells, other
 * delimiters and comment lines are not supported. */
#ifndef HC_STATS_CSVREAD_H
#define HC_STATS_CSVREAD_H

#include <stddef.h>

#include "status.h"

/* Read the CSV file at path.  On success *data_out is a malloc'd array of
 * (*n_rows) * (*n_cols) doubles, row-major (free with free()), and, when
 * header_out is not NULL, *header_out is a malloc'd array of *n_cols
 * malloc'd column names (free with hc_csv_header_free), or NULL if the
 * file has no header.  At least one data row is required.
 *
 * Returns HC_OK; HC_EIO naming the path if it cannot be opened or read;
 * HC_EFORMAT naming the path, line number (1-based, counting every line)
 * and column (1-based) for a non-numeric or empty cell or a row whose cell
 * count differs from the first row's (or the header's), and for a file
 * with no data rows; HC_ENOMEM.  On failure the outputs are untouched. */
hc_status hc_csv_read_matrix(const char *path, double **data_out, size_t *n_rows,
                             size_t *n_cols, char ***header_out);

/* Free a header returned by hc_csv_read_matrix; NULL is a no-op. */
void hc_csv_header_free(char **header, size_t n_cols);

#endif
