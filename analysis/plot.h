/* plot.h: reproducible gnuplot figures.
 *
 * A figure named BASE in directory DIR is four files side by side:
 *   BASE.csv   the data (written by the caller, comma-separated, one header
 *              line; hc_plot_csv_open writes it atomically);
 *   BASE.gp    the gnuplot script (hc_plot_write_script), which reads
 *              BASE.csv by relative path, so `cd DIR && gnuplot BASE.gp`
 *              regenerates the figure anywhere;
 *   BASE.png   rendered with the pngcairo terminal, and
 *   BASE.pdf   with the pdfcairo terminal (hc_plot_render).
 * Rendering needs `gnuplot` (5.x with cairo: Debian's gnuplot-nox) on PATH;
 * without it callers skip hc_plot_render and keep the .csv and .gp.
 * Every file appears atomically (written as NAME.partial, then renamed); the
 * _in variants make the files members of an output set (outfile.h), renamed
 * with the set's other files when it is committed. */
#ifndef HC_PLOT_H
#define HC_PLOT_H

#include "outfile.h"
#include "status.h"

/* Figure size: PNG pixels; the PDF gets the same aspect at 120 px/inch. */
typedef struct hc_plot_size {
    int width;
    int height;
} hc_plot_size;

#define HC_PLOT_DEFAULT_SIZE ((hc_plot_size){1000, 700})

/* 1 if an executable `gnuplot` is on PATH, else 0. */
int hc_plot_gnuplot_available(void);

/* Open DIR/BASE.csv for writing (atomic: commit or abort the outfile). */
hc_status hc_plot_csv_open(const char *dir, const char *base, hc_outfile **out);
hc_status hc_plot_csv_open_in(hc_outset *set, const char *dir, const char *base, hc_outfile **out);

/* Write DIR/BASE.gp: a header (datafile separator comma), then `body` (the
 * gnuplot commands that draw the figure; they read "BASE.csv") run once for
 * the pngcairo terminal into BASE.png and once for pdfcairo into BASE.pdf.
 * Every function here: HC_EINVAL unless BASE is a safe file name
 * (hc_safe_name: no slash, no quote, not "..") ; HC_EIO. */
hc_status hc_plot_write_script(const char *dir, const char *base, hc_plot_size size,
                               const char *body);
hc_status hc_plot_write_script_in(hc_outset *set, const char *dir, const char *base, hc_plot_size size,
                                  const char *body);

/* Run `gnuplot BASE.gp` in DIR (a child process; its working directory is
 * DIR), rendering to BASE.png.partial and BASE.pdf.partial, and rename them
 * into place when gnuplot exits 0 (_in: added to the set).  HC_EIO with gnuplot's first error line
 * if it cannot be started or fails (no partial file is left). */
hc_status hc_plot_render(const char *dir, const char *base);
hc_status hc_plot_render_in(hc_outset *set, const char *dir, const char *base);

#endif
