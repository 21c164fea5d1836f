/* csvread.c: plain numeric CSV to a row-major double matrix (format and
 * errors in csvread.h). */
#include "csvread.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

void hc_csv_header_free(char **header, size_t n_cols)
{
    if (!header) return;
    for (size_t j = 0; j < n_cols; j++) free(header[j]);
    free(header);
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* Split line (NUL-terminated, modified in place) at commas into at most
 * max cells, trimming blanks; returns the number of cells found (which may
 * exceed max, in which case only the first max are stored). */
static size_t split_cells(char *line, char **cells, size_t max)
{
    size_t k = 0;
    char *p = line;
    for (;;) {
        char *end = strchr(p, ',');
        char *stop = end ? end : p + strlen(p);
        while (p < stop && is_blank(*p)) p++;
        char *q = stop;
        while (q > p && is_blank(q[-1])) q--;
        *q = '\0';
        if (k < max) cells[k] = p;
        k++;
        if (!end) break;
        p = end + 1;
    }
    return k;
}

static size_t count_cells(const char *line)
{
    size_t k = 1;
    for (; *line; line++)
        if (*line == ',') k++;
    return k;
}

static bool parse_number(const char *s, double *v)
{
    if (*s == '\0') return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0') return false;
    *v = d;
    return true;
}

static char *dup_header_cell(const char *s)
{
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    char *r = malloc(len + 1);
    if (!r) return NULL;
    memcpy(r, s, len);
    r[len] = '\0';
    return r;
}

hc_status hc_csv_read_matrix(const char *path, double **data_out, size_t *n_rows,
                             size_t *n_cols, char ***header_out)
{
    HC_ASSERT(path != NULL && data_out != NULL && n_rows != NULL && n_cols != NULL);
    FILE *f = fopen(path, "r");
    if (!f) return hc_fail(HC_EIO, "%s: cannot open: %s", path, strerror(errno));

    hc_status st = HC_OK;
    char *line = NULL;
    size_t line_cap = 0;
    char **cells = NULL;
    char **header = NULL;
    double *data = NULL;
    size_t cols = 0, rows = 0, data_cap = 0, lineno = 0, header_line = 0;
    ssize_t len;

    while ((len = getline(&line, &line_cap, f)) != -1) {
        lineno++;
        if (memchr(line, '\0', (size_t)len)) {
            st = hc_fail(HC_EFORMAT, "%s: line %zu: contains a NUL byte (not a text CSV)",
                         path, lineno);
            goto fail;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        bool blank = true;
        for (ssize_t i = 0; i < len && blank; i++)
            if (!is_blank(line[i])) blank = false;
        if (blank) continue;

        size_t k = count_cells(line);
        if (cols == 0) {
            /* first non-blank line: fixes the width; header if non-numeric */
            cols = k;
            cells = malloc(cols * sizeof *cells);
            if (!cells) {
                st = hc_fail(HC_ENOMEM, "%s: cannot allocate %zu cell pointers", path, cols);
                goto fail;
            }
            split_cells(line, cells, cols);
            bool numeric = true;
            double v;
            for (size_t j = 0; j < cols && numeric; j++)
                if (!parse_number(cells[j], &v)) numeric = false;
            if (!numeric) {
                header_line = lineno;
                if (header_out) {
                    header = calloc(cols, sizeof *header);
                    if (!header) {
                        st = hc_fail(HC_ENOMEM, "%s: cannot allocate the header", path);
                        goto fail;
                    }
                    for (size_t j = 0; j < cols; j++)
                        if (!(header[j] = dup_header_cell(cells[j]))) {
                            st = hc_fail(HC_ENOMEM, "%s: cannot allocate the header", path);
                            goto fail;
                        }
                }
                continue;
            }
        } else {
            if (k != cols) {
                if (header_line)
                    st = hc_fail(HC_EFORMAT, "%s: line %zu: ragged row: %zu columns, but the "
                                 "header on line %zu has %zu", path, lineno, k, header_line, cols);
                else
                    st = hc_fail(HC_EFORMAT, "%s: line %zu: ragged row: %zu columns, expected %zu",
                                 path, lineno, k, cols);
                goto fail;
            }
            split_cells(line, cells, cols);
        }

        if (rows == data_cap) {
            size_t ncap = data_cap ? 2 * data_cap : 64;
            if (ncap > SIZE_MAX / sizeof(double) / cols) {
                st = hc_fail(HC_ENOMEM, "%s: too many rows at line %zu", path, lineno);
                goto fail;
            }
            double *nd = realloc(data, ncap * cols * sizeof *nd);
            if (!nd) {
                st = hc_fail(HC_ENOMEM, "%s: cannot allocate %zu rows of %zu columns", path,
                             ncap, cols);
                goto fail;
            }
            data = nd;
            data_cap = ncap;
        }
        double *row = data + rows * cols;
        for (size_t j = 0; j < cols; j++) {
            if (!parse_number(cells[j], &row[j])) {
                if (cells[j][0] == '\0')
                    st = hc_fail(HC_EFORMAT, "%s: line %zu, column %zu: empty cell", path,
                                 lineno, j + 1);
                else
                    st = hc_fail(HC_EFORMAT, "%s: line %zu, column %zu: \"%.40s\" is not a number",
                                 path, lineno, j + 1, cells[j]);
                goto fail;
            }
        }
        rows++;
    }
    if (ferror(f)) {
        st = hc_fail(HC_EIO, "%s: read error after line %zu: %s", path, lineno, strerror(errno));
        goto fail;
    }
    if (rows == 0) {
        st = hc_fail(HC_EFORMAT, "%s: no data rows%s", path,
                     header_line ? " after the header" : " (empty file)");
        goto fail;
    }

    free(line);
    free(cells);
    fclose(f);
    *data_out = data;
    *n_rows = rows;
    *n_cols = cols;
    if (header_out) *header_out = header;
    return HC_OK;

fail:
    free(line);
    free(cells);
    free(data);
    hc_csv_header_free(header, header ? cols : 0);
    fclose(f);
    return st;
}
