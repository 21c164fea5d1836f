/* fuzz_traj_raw.c: the trajectory reader on raw bytes (hc_traj_open on a
 * file holding the input), then every row of every entry read as float32.
 * Seeds: the .h5 fixtures in tests/data (tools/fuzz_seeds.sh).
 *
 * Not part of tools/ci_fuzz.sh: this mostly fuzzes libhdf5's own decoder,
 * which is not instrumented and, in Debian 12's HDF5 1.10.8, overflows a
 * heap buffer, loops forever and leaks within seconds on corrupt global
 * heaps (H5HG_read under H5Aread of a variable-length string).  Run it by
 * hand with -detect_leaks=0; a report whose stack is all inside libhdf5 is
 * HDF5's.  fuzz_traj covers hicache's validation through valid HDF5. */
#include "fuzz_util.h"
#include "traj.h"

FUZZ_INIT_LIBRARY

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hc_traj *t = NULL;
    if (hc_traj_open(fuzz_write_file(data, size, "raw.h5"), &t) != HC_OK) return 0;
    const hc_traj_meta *m = hc_traj_get_meta(t);
    const double *times = hc_traj_times(t);
    volatile double sum = m->num_steps > 0 ? times[0] + times[m->num_steps - 1] : 0;
    for (size_t i = 0; i < hc_traj_num_entries(t); i++) {
        const hc_traj_entry *e = hc_traj_entry_at(t, i);
        if (hc_traj_find(t, e->kind, e->name) != (long)i) abort(); /* names are unique per kind */
        if (e->row_elems == 0 || e->row_elems > FUZZ_MAX_FLOATS) continue;
        float *row = malloc(e->row_elems * sizeof *row);
        if (!row) abort();
        for (int64_t r = 0; r < e->dims[0] && r < 4096; r++)
            if (hc_traj_read_row(t, i, r, row) == HC_OK) sum += row[0] + row[e->row_elems - 1];
        free(row);
    }
    (void)sum;
    hc_traj_close(t);
    return 0;
}
