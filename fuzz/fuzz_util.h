/* fuzz_util.h: what the libFuzzer targets share (header-only; each target
 * is one fuzz_*.c built by cmake/fuzz.cmake).
 *
 * Files: a target whose API takes a path writes the input to one file in a
 * private directory made with mkdtemp on first use under $TMPDIR, else
 * /dev/shm (memory: thirty times the executions of a disk), else /tmp;
 * the file is rewritten for every input, and the file and the directory are
 * removed at exit.  Nothing is written anywhere else.
 *
 * Memory: libFuzzer checks every input for leaks, so each target frees all
 * it allocates; buffers sized from the input are capped by
 * FUZZ_MAX_FLOATS (64 MiB of floats) and larger objects are skipped. */
#ifndef HC_FUZZ_UTIL_H
#define HC_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

#define FUZZ_MAX_FLOATS ((size_t)16 << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The libFuzzer initialiser of a target that needs only the library's
 * (hc_init: GSL and HDF5 error handlers off). */
#define FUZZ_INIT_LIBRARY                                \
    int LLVMFuzzerInitialize(int *argc, char ***argv)    \
    {                                                    \
        (void)argc, (void)argv;                          \
        hc_init();                                       \
        return 0;                                        \
    }

static char fuzz_dir[4096];
static char fuzz_file[4200];

static inline void fuzz_cleanup(void)
{
    if (fuzz_file[0]) unlink(fuzz_file);
    if (fuzz_dir[0]) rmdir(fuzz_dir);
}

/* Write data to the target's scratch file; returns its path (aborts if the
 * scratch directory cannot be made: the fuzzer cannot run without it). */
static inline const char *fuzz_write_file(const uint8_t *data, size_t size, const char *name)
{
    if (!fuzz_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/hc_fuzz.XXXXXX", tmp);
        if (!mkdtemp(fuzz_dir)) {
            perror(fuzz_dir);
            abort();
        }
        snprintf(fuzz_file, sizeof fuzz_file, "%s/%s", fuzz_dir, name);
        atexit(fuzz_cleanup);
    }
    FILE *f = fopen(fuzz_file, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(fuzz_file);
        abort();
    }
    return fuzz_file;
}

/* The input as a NUL-terminated string (malloc'd; the caller frees). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
