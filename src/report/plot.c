/* plot.c - charts as self-contained SVG: ROC curves, histograms, lines (vigil.h vg_chart).
 *
 * Layout: the title on top, the plot area on the left, the legend as a column to its right
 * (so it never covers data, however many series); ROC plots are square. Every point is
 * drawn except repeats of the previous pixel, so a chart is for curves of up to some
 * thousands of points (a ROC over a histogram, a recall curve), not for long recordings:
 * those are timelines (timeline.c, which decimates). Axes, ticks and swatches come from
 * svg.c, shared with the timelines. */
#include "report/plot.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "report/atomic.h"
#include "report/markup.h"
#include "report/svg.h"

#define DEFAULT_BINS 40
#define MAX_BINS 1000
#define Y_PAD 0.06         /* share of the value range left free above and below */
#define CHAR_W_TITLE 8.0   /* average glyph advance, 14 px bold sans */
#define LEGEND_ROW 18.0    /* pixels between legend entries */
#define C_MARKER "#b22222"
#define C_CHANCE "#999999"

/* Tableau's colours: distinct for the colour-blind and in grey print */
static const char *const PALETTE[VG_CHART_MAX_SERIES] = {
    "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d"};

typedef struct frame {
    int w, h;             /* the picture */
    double l, r, t, b;    /* the plot area */
} frame;

static const frame ROC_FRAME = {680, 400, 64, 364, 40, 340};
static const frame WIDE_FRAME = {760, 320, 64, 544, 40, 276};

typedef struct chart {
    FILE *f;
    const vg_chart *c;
    frame fr;
    vg_axis x, y;
} chart;

/* ---- ranges --------------------------------------------------------------------------- */

/* The range of the finite points of all series (x alone for histograms) and the marker. */
static void data_ranges(const vg_chart *c, double *x_lo, double *x_hi, double *y_lo,
                        double *y_hi) {
    *x_lo = *y_lo = INFINITY, *x_hi = *y_hi = -INFINITY;
    for (int s = 0; s < c->n_series; s++) {
        const vg_series *v = &c->series[s];
        for (long long i = 0; i < v->n; i++) {
            if (!isfinite(v->x[i]) || (v->y && !isfinite(v->y[i]))) continue;
            vg_range_widen(x_lo, x_hi, v->x[i]);
            if (v->y) vg_range_widen(y_lo, y_hi, v->y[i]);
        }
    }
    if (c->has_marker) vg_range_widen(x_lo, x_hi, c->marker);
}

static int bins_of(const vg_chart *c) { return c->bins > 0 ? c->bins : DEFAULT_BINS; }

/* Shares of series s's finite values per bin of [lo, hi]; returns the largest. */
static double bin_shares(const vg_series *v, double lo, double hi, int bins, double *share) {
    long long total = 0;
    memset(share, 0, (size_t)bins * sizeof *share);
    for (long long i = 0; i < v->n; i++) {
        if (!isfinite(v->x[i])) continue;
        int b = (int)((v->x[i] - lo) / (hi - lo) * bins);
        share[b < 0 ? 0 : b >= bins ? bins - 1 : b] += 1;
        total++;
    }
    double top = 0;
    for (int b = 0; b < bins; b++) {
        share[b] = total ? share[b] / (double)total : 0;
        top = fmax(top, share[b]);
    }
    return top;
}

static void set_axes(chart *p) {
    const vg_chart *c = p->c;
    double xl, xh, yl, yh;
    data_ranges(c, &xl, &xh, &yl, &yh);
    if (c->kind == VG_CHART_ROC) xl = yl = 0, xh = yh = 1;
    vg_range_open(&xl, &xh, 0.5);
    if (c->kind == VG_CHART_HISTOGRAM) {
        double share[MAX_BINS];
        yl = 0, yh = 0;
        for (int s = 0; s < c->n_series; s++)
            yh = fmax(yh, bin_shares(&c->series[s], xl, xh, bins_of(c), share));
        yh = yh > 0 ? yh * (1 + Y_PAD) : 1;
    } else if (c->kind == VG_CHART_LINES) {
        vg_range_open(&yl, &yh, 0.05);
        double pad = (yh - yl) * Y_PAD;
        yl -= pad, yh += pad;
    }
    p->x = (vg_axis){xl, xh, p->fr.l, p->fr.r};
    p->y = (vg_axis){yl, yh, p->fr.b, p->fr.t};
}

/* ---- drawing -------------------------------------------------------------------------- */

static const char *xlabel_of(const vg_chart *c) {
    return c->xlabel ? c->xlabel : c->kind == VG_CHART_ROC ? "false positive rate" : NULL;
}

static const char *ylabel_of(const vg_chart *c) {
    return c->ylabel                   ? c->ylabel
           : c->kind == VG_CHART_ROC   ? "true positive rate"
           : c->kind == VG_CHART_HISTOGRAM ? "share"
                                       : NULL;
}

static void draw_axes(const chart *p) {
    const frame *fr = &p->fr;
    vg_svg_y_axis(p->f, &p->y, fr->l, fr->r, 5, ylabel_of(p->c));
    vg_svg_x_ticks(p->f, &p->x, fr->b, vg_nice_step(p->x.hi - p->x.lo, 5), NULL, NULL);
    if (xlabel_of(p->c)) {
        fprintf(p->f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">", (fr->l + fr->r) / 2,
                fr->b + 34);
        vg_xml_text(p->f, xlabel_of(p->c), (int)((fr->r - fr->l) / VG_SVG_CHAR_W));
        fputs("</text>\n", p->f);
    }
    fprintf(p->f, "<path d=\"M%.0f %.0f V%.0f H%.0f\" fill=\"none\" stroke=\"" VG_SVG_AXIS_COLOR
                  "\"/>\n",
            fr->l, fr->t, fr->b, fr->r);
}

/* A polyline through the finite points, breaking at the others; a point on the pixel of
 * the one before adds nothing. */
static void draw_line(const chart *p, const vg_series *v, const char *color) {
    fprintf(p->f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" "
                  "stroke-linejoin=\"round\" d=\"",
            color);
    int down = 0;
    double last_x = NAN, last_y = NAN;
    for (long long i = 0; i < v->n; i++) {
        if (!isfinite(v->x[i]) || !isfinite(v->y[i])) {
            down = 0;
            continue;
        }
        double x = round(vg_axis_px(&p->x, v->x[i]) * 10) / 10;
        double y = round(vg_axis_px(&p->y, v->y[i]) * 10) / 10;
        if (down && x == last_x && y == last_y) continue;
        fprintf(p->f, "%s%.1f %.1f", down ? " L" : " M", x, y);
        down = 1, last_x = x, last_y = y;
    }
    fputs("\"/>\n", p->f);
}

/* The series' shares per bin as a filled outline over the baseline. */
static void draw_bars(const chart *p, const vg_series *v, const char *color) {
    int bins = bins_of(p->c);
    double share[MAX_BINS], base = vg_axis_px(&p->y, 0), width = (p->x.hi - p->x.lo) / bins;
    bin_shares(v, p->x.lo, p->x.hi, bins, share);
    fprintf(p->f, "<path fill=\"%s\" fill-opacity=\"0.25\" stroke=\"%s\" stroke-width=\"1.2\" "
                  "d=\"M%.1f %.1f",
            color, color, p->x.p0, base);
    for (int b = 0; b < bins; b++)
        fprintf(p->f, " V%.1f H%.1f", vg_axis_px(&p->y, share[b]),
                vg_axis_px(&p->x, p->x.lo + (b + 1) * width));
    fprintf(p->f, " V%.1f Z\"/>\n", base);
}

static void draw_marker(const chart *p) {
    const vg_chart *c = p->c;
    if (!c->has_marker) return;
    double x = vg_axis_px(&p->x, c->marker);
    /* the label reads away from the nearer edge, so it never runs into the legend */
    int right = x > (p->fr.l + p->fr.r) / 2;
    fprintf(p->f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"" C_MARKER
                  "\" stroke-width=\"1.2\" stroke-dasharray=\"6 4\"/>\n"
                  "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\" fill=\"" C_MARKER "\" "
                  "stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">",
            x, x, p->fr.t, p->fr.b, right ? x - 4 : x + 4, p->fr.t + 12, right ? "end" : "start");
    vg_xml_text(p->f, c->marker_label ? c->marker_label : "threshold", 24);
    fprintf(p->f, " %.4g</text>\n", c->marker);
}

/* Area under the series' finite points taken in order (trapezoids). */
static double area(const vg_series *v) {
    double a = 0, px = NAN, py = NAN;
    for (long long i = 0; i < v->n; i++) {
        if (!isfinite(v->x[i]) || !isfinite(v->y[i])) continue;
        if (isfinite(px)) a += (v->x[i] - px) * (v->y[i] + py) / 2;
        px = v->x[i], py = v->y[i];
    }
    return a;
}

static void draw_legend(const chart *p) {
    const vg_chart *c = p->c;
    double x = p->fr.r + 20, room = p->fr.w - 8 - (x + 22);
    for (int s = 0; s < c->n_series; s++) {
        const vg_series *v = &c->series[s];
        double y = p->fr.t + 12 + s * LEGEND_ROW;
        char auc[32] = "";
        if (c->kind == VG_CHART_ROC) snprintf(auc, sizeof auc, " (AUC %.4f)", area(v));
        vg_svg_swatch(p->f, x, y, PALETTE[s],
                      c->kind == VG_CHART_HISTOGRAM ? VG_SW_AREA : VG_SW_BOLD);
        fprintf(p->f, "<text x=\"%.1f\" y=\"%.0f\">", x + 22, y);
        int chars = (int)(room / VG_SVG_CHAR_W) - (int)strlen(auc);
        vg_xml_text(p->f, v->name ? v->name : "", chars > 4 ? chars : 4);
        fprintf(p->f, "%s</text>\n", auc);
    }
}

static void draw_title(const chart *p) {
    if (!p->c->title) return;
    fprintf(p->f, "<text x=\"%.0f\" y=\"24\" font-size=\"14\" font-weight=\"bold\" "
                  "fill=\"#222222\">",
            p->fr.l);
    vg_xml_text(p->f, p->c->title, (int)((p->fr.w - p->fr.l - 8) / CHAR_W_TITLE));
    fputs("</text>\n", p->f);
}

void vg_chart_write(FILE *f, const vg_chart *c, int standalone) {
    chart p = {.f = f, .c = c, .fr = c->kind == VG_CHART_ROC ? ROC_FRAME : WIDE_FRAME};
    set_axes(&p);
    if (standalone) fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"" VG_SVG_FONT "\" font-size=\"11\" "
               "fill=\"#333333\">\n<title>",
            p.fr.w, p.fr.h, p.fr.w, p.fr.h);
    vg_xml_text(f, c->title ? c->title : "chart", INT_MAX);
    fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", p.fr.w, p.fr.h);
    draw_axes(&p);
    if (c->kind == VG_CHART_ROC)
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"" C_CHANCE
                   "\" stroke-dasharray=\"3 3\"/>\n",
                p.fr.l, p.fr.b, p.fr.r, p.fr.t);
    for (int s = 0; s < c->n_series; s++) {
        if (c->kind == VG_CHART_HISTOGRAM) draw_bars(&p, &c->series[s], PALETTE[s]);
        else draw_line(&p, &c->series[s], PALETTE[s]);
    }
    draw_marker(&p);
    draw_legend(&p);
    draw_title(&p);
    fputs("</svg>\n", f);
}

int vg_chart_check(const char *what, const vg_chart *c, vg_error *err) {
    if (!c) return vg_fail(err, VG_ERR_ARG, "%s: the chart must not be NULL", what);
    if (c->n_series < 1 || c->n_series > VG_CHART_MAX_SERIES || !c->series)
        return vg_fail(err, VG_ERR_ARG, "%s: %d series, expected 1..%d", what, c->n_series,
                       VG_CHART_MAX_SERIES);
    if (c->kind != VG_CHART_LINES && c->kind != VG_CHART_ROC && c->kind != VG_CHART_HISTOGRAM)
        return vg_fail(err, VG_ERR_ARG, "%s: unknown chart kind %d", what, (int)c->kind);
    if (c->bins < 0 || c->bins > MAX_BINS)
        return vg_fail(err, VG_ERR_ARG, "%s: %d bins, expected 0..%d", what, c->bins, MAX_BINS);
    if (c->has_marker && !isfinite(c->marker))
        return vg_fail(err, VG_ERR_ARG, "%s: marker %g is not finite", what, c->marker);
    for (int s = 0; s < c->n_series; s++) {
        const vg_series *v = &c->series[s];
        if (v->n < 1 || !v->x || (!v->y && c->kind != VG_CHART_HISTOGRAM))
            return vg_fail(err, VG_ERR_ARG, "%s: series %d ('%s') has no points", what, s,
                           v->name ? v->name : "");
    }
    return VG_OK;
}

/* vg_write_fn: the standalone SVG; stream errors are read by vg_write_atomic. */
static int write_chart(FILE *f, void *ctx, char why[VG_WHY_LEN]) {
    (void)why;
    vg_chart_write(f, ctx, 1);
    return 0;
}

int vg_chart_svg(const char *path, const vg_chart *c, vg_error *err) {
    if (!path) return vg_fail(err, VG_ERR_ARG, "vg_chart_svg: path must not be NULL");
    int rc = vg_chart_check(path, c, err);
    if (rc != VG_OK) return rc;
    vg_c_numeric loc;
    if (vg_c_numeric_enter(&loc) != 0)
        return vg_fail(err, VG_ERR_NOMEM, "%s: cannot make the C numeric locale", path);
    rc = vg_write_atomic(path, write_chart, (void *)c, err);
    vg_c_numeric_leave(&loc);
    return rc;
}
