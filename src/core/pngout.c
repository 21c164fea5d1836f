/* pngout.c: PNG image grids (see pngout.h). */
#include "pngout.h"

#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "outfile.h"

hc_status hc_png_grid(hc_outset *set, const char *path, const float *imgs, int n, int H0, int W0, int cols, int scale)
{
    if (n < 1 || cols < 1 || scale < 1 || scale > 64) return hc_fail(HC_EINVAL, "%s: empty image grid or bad scale", path);
    const int pad = 2, rows = (n + cols - 1) / cols, H = H0 * scale, W = W0 * scale;
    const int GW = cols * (W + pad) + pad, GH = rows * (H + pad) + pad;
    unsigned char *pix = calloc((size_t)GW * GH, 1);
    png_bytep *rowp = malloc((size_t)GH * sizeof *rowp);
    if (!pix || !rowp) {
        free(pix);
        free(rowp);
        return hc_fail(HC_ENOMEM, "out of memory");
    }
    memset(pix, 64, (size_t)GW * GH);
    for (int i = 0; i < n; i++) {
        int oy = pad + (i / cols) * (H + pad), ox = pad + (i % cols) * (W + pad);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float v = imgs[((size_t)i * H0 + y / scale) * W0 + x / scale];
                v = v < -1 ? -1 : v > 1 ? 1 : v;
                pix[(size_t)(oy + y) * GW + ox + x] = (unsigned char)lrintf((v + 1.0f) * 127.5f);
            }
    }
    for (int y = 0; y < GH; y++) rowp[y] = pix + (size_t)y * GW;
    hc_outfile *f;
    hc_status s = hc_outfile_open_in(set, path, &f);
    if (s != HC_OK) {
        free(pix);
        free(rowp);
        return s;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        hc_outfile_abort(f);
        free(pix);
        free(rowp);
        return hc_fail(HC_EIO, "%s: PNG encoding failed", path);
    }
    png_init_io(png, hc_outfile_fp(f));
    png_set_IHDR(png, info, (png_uint_32)GW, (png_uint_32)GH, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rowp);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(pix);
    free(rowp);
    return hc_outfile_commit(f);
}
