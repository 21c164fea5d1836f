/* memory.c: the memory cap (memory.h). */
#include "memory.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

size_t hc_memory_cap(size_t requested)
{
    if (requested) return requested;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return SIZE_MAX;
    return (size_t)pages / 2 * (size_t)page;
}

void hc_format_bytes(size_t b, char *out, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}
