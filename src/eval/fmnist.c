/* fmnist.c: gzip'd IDX reader (see fmnist.h). */
#include "fmnist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

static hc_status read_idx(const char *path, unsigned magic, int rank, unsigned *dims, unsigned char **data, size_t max_items)
{
    gzFile g = gzopen(path, "rb");
    if (!g) return hc_fail(HC_EIO, "%s: cannot open (install Debian's dataset-fashion-mnist)", path);
    unsigned char hdr[16];
    hc_status s = HC_OK;
    int hl = 4 + 4 * rank;
    if (gzread(g, hdr, (unsigned)hl) != hl) {
        s = hc_fail(HC_EFORMAT, "%s: truncated IDX header", path);
        goto done;
    }
    unsigned m = (unsigned)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
    if (m != magic) {
        s = hc_fail(HC_EFORMAT, "%s: IDX magic 0x%08x, expected 0x%08x", path, m, magic);
        goto done;
    }
    size_t per = 1;
    for (int i = 0; i < rank; i++) {
        const unsigned char *p = hdr + 4 + 4 * i;
        dims[i] = (unsigned)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
        if (i > 0) per *= dims[i];
    }
    if (dims[0] > max_items) dims[0] = (unsigned)max_items;
    size_t bytes = (size_t)dims[0] * per;
    *data = malloc(bytes ? bytes : 1);
    if (!*data) {
        s = hc_fail(HC_ENOMEM, "out of memory");
        goto done;
    }
    if ((size_t)gzread(g, *data, (unsigned)bytes) != bytes) {
        free(*data);
        *data = NULL;
        s = hc_fail(HC_EFORMAT, "%s: truncated IDX data", path);
    }
done:
    gzclose(g);
    return s;
}

hc_status hc_fmnist_read(const char *dir, const char *split, int max, float **images, int **labels, int *n)
{
    *images = NULL;
    *labels = NULL;
    *n = 0;
    char ip[1024], lp[1024];
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    unsigned di[3] = {0}, dl[1] = {0};
    unsigned char *img = NULL, *lab = NULL;
    HC_TRY(read_idx(ip, 0x803, 3, di, &img, (size_t)max));
    hc_status s = read_idx(lp, 0x801, 1, dl, &lab, (size_t)max);
    if (s == HC_OK && (di[1] != 28 || di[2] != 28 || dl[0] != di[0]))
        s = hc_fail(HC_EFORMAT, "%s: expected 28x28 images and one label each", ip);
    if (s == HC_OK) {
        *images = malloc((size_t)di[0] * 784 * sizeof **images);
        *labels = malloc((size_t)di[0] * sizeof **labels);
        if (!*images || !*labels) s = hc_fail(HC_ENOMEM, "out of memory");
    }
    if (s == HC_OK) {
        for (size_t i = 0; i < (size_t)di[0] * 784; i++) (*images)[i] = (float)(img[i] / 127.5 - 1.0);
        for (unsigned i = 0; i < di[0]; i++) (*labels)[i] = lab[i];
        *n = (int)di[0];
    } else {
        free(*images);
        free(*labels);
        *images = NULL;
        *labels = NULL;
    }
    free(img);
    free(lab);
    return s;
}
