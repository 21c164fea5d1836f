/* memory.h: how much memory a command may plan to use.  Working sets are
 * sized before anything is allocated and compared with this cap, so that a
 * file or config that declares too much is one clear error, not an
 * out-of-memory kill later. */
#ifndef HC_MEMORY_H
#define HC_MEMORY_H

#include <stddef.h>

/* `requested` (e.g. --max-memory) when non-zero, else half of physical
 * memory (SIZE_MAX when it cannot be read). */
size_t hc_memory_cap(size_t requested);

/* "1.5 GiB", "512 B": a byte count for messages. */
void hc_format_bytes(size_t bytes, char *out, size_t n);

#endif
