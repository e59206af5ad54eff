/* svg.c - axes, ticks and swatches shared by the SVG plots (see svg.h). */
#include "report/svg.h"

#include <math.h>

#include "report/markup.h"

double vg_axis_px(const vg_axis *a, double v) {
    return a->p0 + (v - a->lo) * (a->p1 - a->p0) / (a->hi - a->lo);
}

void vg_range_widen(double *lo, double *hi, double v) {
    if (!isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

void vg_range_open(double *lo, double *hi, double half) {
    if (*lo > *hi) *lo = 0, *hi = 1; /* no finite value */
    if (*lo < *hi) return;
    double h = *lo != 0 ? fabs(*lo) * half : half;
    *lo -= h, *hi += h;
}

double vg_nice_step(double span, int ticks) {
    double raw = span / ticks, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

int vg_step_decimals(double step) {
    int d = -(int)floor(log10(step) + 1e-9);
    return d > 0 ? d : 0;
}

/* A tick value: -0 (a tick at k = -0) shown as 0. */
static double tick_value(double k, double step) { return k == 0 ? 0 : k * step; }

void vg_svg_x_ticks(FILE *f, const vg_axis *x, double y_bottom, double step,
                    vg_tick_label_fn label, void *ctx) {
    int decimals = vg_step_decimals(step);
    for (double k = ceil(x->lo / step - 1e-9); k * step <= x->hi + step * 1e-9; k++) {
        double v = tick_value(k, step), px = vg_axis_px(x, v);
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"" VG_SVG_AXIS_COLOR
                   "\"/>\n<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">",
                px, px, y_bottom, y_bottom + 4, px, y_bottom + 16);
        if (label) label(f, v, ctx);
        else fprintf(f, "%.*f", decimals, v);
        fputs("</text>\n", f);
    }
}

void vg_svg_y_axis(FILE *f, const vg_axis *y, double x0, double x1, int ticks,
                   const char *name) {
    double step = vg_nice_step(y->hi - y->lo, ticks);
    int decimals = vg_step_decimals(step);
    for (double k = ceil(y->lo / step - 1e-9); k * step <= y->hi + step * 1e-9; k++) {
        double v = tick_value(k, step), py = vg_axis_px(y, v);
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"" VG_SVG_GRID_COLOR
                   "\"/>\n<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
                x0, x1, py, py, x0 - 6, py + 4, decimals, v);
    }
    if (!name) return;
    fprintf(f, "<text transform=\"translate(%.0f,%.0f) rotate(-90)\" text-anchor=\"middle\">",
            x0 - 48, (y->p0 + y->p1) / 2);
    vg_xml_text(f, name, (int)(fabs(y->p0 - y->p1) / VG_SVG_CHAR_W)); /* the axis height */
    fputs("</text>\n", f);
}

void vg_svg_rect(FILE *f, double x0, double y0, double x1, double y1, const char *fill,
                 double opacity) {
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
               "fill-opacity=\"%.2f\"/>\n",
            x0, y0, x1 - x0, y1 - y0, fill, opacity);
}

void vg_svg_swatch(FILE *f, double x, double y, const char *color, vg_swatch kind) {
    if (kind == VG_SW_AREA) {
        vg_svg_rect(f, x, y - 9, x + 16, y + 1, color, 0.3);
        return;
    }
    fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
               "stroke-width=\"%s\"%s/>\n",
            x, x + 16, y - 4, y - 4, color, kind == VG_SW_BOLD ? "2.2" : "1.2",
            kind == VG_SW_DASHED ? " stroke-dasharray=\"6 4\"" : "");
}
