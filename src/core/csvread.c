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

/* The reader's state between lines. */
typedef struct csv_state {
    const char *path;
    char **cells;       /* cols cell pointers into the current line */
    char **header;      /* cols names, or NULL */
    double *data;       /* rows x cols, room for data_cap rows */
    size_t cols, rows, data_cap;
    size_t lineno;      /* of the current line, 1-based */
    size_t header_line; /* 0 if there is no header */
} csv_state;

/* Drop the line ending of line (len bytes, NUL-terminated); true if what
 * is left is empty or only blanks. */
static bool strip_line(char *line, ssize_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    bool blank = true;
    for (ssize_t i = 0; i < len && blank; i++)
        if (!is_blank(line[i])) blank = false;
    return blank;
}

/* The first non-blank line (k cells): fixes the width and splits it into
 * c->cells; *is_header when a cell is not a number (then the names are
 * kept in c->header if want_header). */
static hc_status first_line(csv_state *c, char *line, size_t k, bool want_header, bool *is_header)
{
    c->cols = k;
    c->cells = malloc(c->cols * sizeof *c->cells);
    if (!c->cells) return hc_fail(HC_ENOMEM, "%s: cannot allocate %zu cell pointers", c->path, c->cols);
    split_cells(line, c->cells, c->cols);
    bool numeric = true;
    double v;
    for (size_t j = 0; j < c->cols && numeric; j++)
        if (!parse_number(c->cells[j], &v)) numeric = false;
    *is_header = !numeric;
    if (numeric) return HC_OK;
    c->header_line = c->lineno;
    if (!want_header) return HC_OK;
    c->header = calloc(c->cols, sizeof *c->header);
    if (!c->header) return hc_fail(HC_ENOMEM, "%s: cannot allocate the header", c->path);
    for (size_t j = 0; j < c->cols; j++)
        if (!(c->header[j] = dup_header_cell(c->cells[j])))
            return hc_fail(HC_ENOMEM, "%s: cannot allocate the header", c->path);
    return HC_OK;
}

/* A later line of k cells: must have the first line's width; split into c->cells. */
static hc_status next_line(csv_state *c, char *line, size_t k)
{
    if (k != c->cols) {
        if (c->header_line)
            return hc_fail(HC_EFORMAT, "%s: line %zu: ragged row: %zu columns, but the "
                           "header on line %zu has %zu", c->path, c->lineno, k, c->header_line, c->cols);
        return hc_fail(HC_EFORMAT, "%s: line %zu: ragged row: %zu columns, expected %zu",
                       c->path, c->lineno, k, c->cols);
    }
    split_cells(line, c->cells, c->cols);
    return HC_OK;
}

/* Parse c->cells as one more data row, growing c->data (doubling) as needed. */
static hc_status append_row(csv_state *c)
{
    const size_t cols = c->cols;
    if (c->rows == c->data_cap) {
        size_t ncap = c->data_cap ? 2 * c->data_cap : 64;
        if (ncap > SIZE_MAX / sizeof(double) / cols)
            return hc_fail(HC_ENOMEM, "%s: too many rows at line %zu", c->path, c->lineno);
        double *nd = realloc(c->data, ncap * cols * sizeof *nd);
        if (!nd)
            return hc_fail(HC_ENOMEM, "%s: cannot allocate %zu rows of %zu columns", c->path,
                           ncap, cols);
        c->data = nd;
        c->data_cap = ncap;
    }
    double *row = c->data + c->rows * cols;
    for (size_t j = 0; j < cols; j++) {
        if (!parse_number(c->cells[j], &row[j])) {
            if (c->cells[j][0] == '\0')
                return hc_fail(HC_EFORMAT, "%s: line %zu, column %zu: empty cell", c->path,
                               c->lineno, j + 1);
            return hc_fail(HC_EFORMAT, "%s: line %zu, column %zu: \"%.40s\" is not a number",
                           c->path, c->lineno, j + 1, c->cells[j]);
        }
    }
    c->rows++;
    return HC_OK;
}

hc_status hc_csv_read_matrix(const char *path, double **data_out, size_t *n_rows,
                             size_t *n_cols, char ***header_out)
{
    HC_ASSERT(path != NULL && data_out != NULL && n_rows != NULL && n_cols != NULL);
    FILE *f = fopen(path, "r");
    if (!f) return hc_fail(HC_EIO, "%s: cannot open: %s", path, strerror(errno));

    hc_status st = HC_OK;
    csv_state c = {.path = path};
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;

    while ((len = getline(&line, &line_cap, f)) != -1) {
        c.lineno++;
        if (memchr(line, '\0', (size_t)len)) {
            st = hc_fail(HC_EFORMAT, "%s: line %zu: contains a NUL byte (not a text CSV)",
                         path, c.lineno);
            goto fail;
        }
        if (c.lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            /* a UTF-8 byte-order mark (spreadsheet exports) is not part of the first cell */
            memmove(line, line + 3, (size_t)len - 2);
            len -= 3;
        }
        if (strip_line(line, len)) continue;
        size_t k = count_cells(line);
        if (c.cols == 0) {
            bool is_header;
            if ((st = first_line(&c, line, k, header_out != NULL, &is_header)) != HC_OK) goto fail;
            if (is_header) continue;
        } else if ((st = next_line(&c, line, k)) != HC_OK) {
            goto fail;
        }
        if ((st = append_row(&c)) != HC_OK) goto fail;
    }
    if (ferror(f)) {
        st = hc_fail(HC_EIO, "%s: read error after line %zu: %s", path, c.lineno, strerror(errno));
        goto fail;
    }
    if (c.rows == 0) {
        st = hc_fail(HC_EFORMAT, "%s: no data rows%s", path,
                     c.header_line ? " after the header" : " (empty file)");
        goto fail;
    }

    free(line);
    free(c.cells);
    fclose(f);
    *data_out = c.data;
    *n_rows = c.rows;
    *n_cols = c.cols;
    if (header_out) *header_out = c.header;
    return HC_OK;

fail:
    free(line);
    free(c.cells);
    free(c.data);
    hc_csv_header_free(c.header, c.header ? c.cols : 0);
    fclose(f);
    return st;
}
