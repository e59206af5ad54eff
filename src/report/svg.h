/* svg.h - what SVG plots share (timeline.c, plot.c): axes mapping data onto pixels, round
 * tick steps, tick marks with labels, rectangles and legend swatches. Everything writes to
 * a FILE; numbers assume the C numeric locale (markup.h). */
#ifndef VG_SVG_H
#define VG_SVG_H

#include <stdio.h>

#define VG_SVG_FONT "DejaVu Sans, Helvetica, Arial, sans-serif"
#define VG_SVG_AXIS_COLOR "#555555"
#define VG_SVG_GRID_COLOR "#e6e6e6"
#define VG_SVG_CHAR_W 6.2 /* average glyph advance of the 11 px labels, for their room */

/* A data range and the pixels it maps onto (p0 at lo, p1 at hi). */
typedef struct vg_axis {
    double lo, hi, p0, p1;
} vg_axis;

double vg_axis_px(const vg_axis *a, double v);

/* Widens [*lo, *hi] to hold v (non-finite v: unchanged). Start from lo = +inf, hi = -inf. */
void vg_range_widen(double *lo, double *hi, double v);

/* A range of width zero (one value, or none) opened to something drawable: by half of
 * |value| (or half itself at 0) on each side; no value at all: [0, 1]. */
void vg_range_open(double *lo, double *hi, double half);

/* 1, 2 or 5 times a power of ten, near span / ticks. */
double vg_nice_step(double span, int ticks);

/* Decimals that show a step of 1, 2 or 5 x 10^k exactly. */
int vg_step_decimals(double step);

/* Prints a tick's label for value v. */
typedef void (*vg_tick_label_fn)(FILE *f, double v, void *ctx);

/* Ticks every step along x below the plot (tick marks down from y_bottom, labels under
 * them); label NULL prints the value with the decimals step needs. */
void vg_svg_x_ticks(FILE *f, const vg_axis *x, double y_bottom, double step,
                    vg_tick_label_fn label, void *ctx);

/* Ticks at round values along y: grid lines from x0 to x1, values left of x0, and the
 * axis name (may be NULL: none) turned upright 48 px left of x0. */
void vg_svg_y_axis(FILE *f, const vg_axis *y, double x0, double x1, int ticks,
                   const char *name);

void vg_svg_rect(FILE *f, double x0, double y0, double x1, double y1, const char *fill,
                 double opacity);

/* How a legend entry shows its series. */
typedef enum vg_swatch { VG_SW_LINE, VG_SW_BOLD, VG_SW_DASHED, VG_SW_AREA } vg_swatch;

/* A 16 px swatch whose baseline-aligned label would start at x + 22, y. */
void vg_svg_swatch(FILE *f, double x, double y, const char *color, vg_swatch kind);

#endif
