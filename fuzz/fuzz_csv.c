/* fuzz_csv.c: the CSV reader (hc_csv_read_matrix on a file holding the
 * input), with and without the header output; on success every value and
 * header cell is touched. */
#include "csvread.h"
#include "fuzz_util.h"

FUZZ_INIT_LIBRARY

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(data, size, "in.csv");
    double *m = NULL;
    size_t rows = 0, cols = 0;
    char **header = NULL;
    if (hc_csv_read_matrix(path, &m, &rows, &cols, &header) == HC_OK) {
        if (rows == 0 || cols == 0) abort(); /* at least one data row */
        volatile double sum = 0;
        for (size_t i = 0; i < rows * cols; i++) sum += m[i];
        for (size_t j = 0; header && j < cols; j++) sum += (double)header[j][0];
        (void)sum;
        hc_csv_header_free(header, cols);
        free(m);
    }
    m = NULL;
    if (hc_csv_read_matrix(path, &m, &rows, &cols, NULL) == HC_OK) free(m);
    return 0;
}
