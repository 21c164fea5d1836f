/* pngout.h: grayscale image grids as 8-bit PNG (libpng), written atomically. */
#ifndef HC_PNGOUT_H
#define HC_PNGOUT_H

#include "outfile.h"
#include "status.h"

/* n images [n, H, W] float32 in [-1, 1] (clamped; u8 = round((x+1) 127.5))
 * tiled `cols` per row with a 2-pixel border, each pixel drawn as a
 * scale x scale block (nearest neighbour, so values stay exact).  Written
 * atomically, as a member of `set` (outfile.h; NULL: on its own). */
hc_status hc_png_grid(hc_outset *set, const char *path, const float *imgs, int n, int H, int W, int cols, int scale);

#endif
