/* timeline.c - a score over time as a self-contained SVG (900 x 260, no scripts, no external
 * fonts or styles): title and legend on top; the normal band, truth spans and grid behind
 * the score (thin) and its smoothed line (bold); the threshold dashed with its value.
 *
 * Long series (more than DECIMATE_ABOVE points) keep, per pixel column, the smallest and the
 * largest value in their order, so a one-frame spike survives and the file stays small.
 * Points whose time or value is not finite are skipped: the line breaks there. The file is
 * written in the C numeric locale of this thread (markup.h). Axes, ticks and swatches are
 * svg.c's, shared with the charts of plot.c. */
#include "report/atomic.h"
#include "report/markup.h"
#include "report/svg.h"
#include "report/timeline.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#define SVG_W 900
#define SVG_H 260
#define PLOT_L 64.0 /* plot area, pixels */
#define PLOT_R 880.0
#define PLOT_T 40.0
#define PLOT_B 216.0
#define DECIMATE_ABOVE 4000
#define Y_PAD 0.06      /* share of the value range left free above and below */
#define TICKS_X 9       /* about this many ticks per axis */
#define TICKS_Y 5
#define CHAR_W_TITLE 8.0 /* average glyph advance, 14 px bold sans, for the title's room */
#define CLOCK_FROM 600.0 /* seconds of footage from which x labels read m:ss */

#define C_SCORE "#4c78a8"
#define C_SMOOTH "#e45c17"
#define C_BAND "#54a24b"
#define C_THRESHOLD "#b22222"
#define C_TRUTH "#e45756"

typedef struct plot {
    FILE *f;
    const vg_timeline *tl;
    vg_axis x, y;
} plot;

static double x_of(const vg_timeline *tl, int i) { return tl->t ? tl->t[i] : i; }

/* ---- ranges and ticks ----------------------------------------------------------------- */

static void x_range(const vg_timeline *tl, vg_axis *x) {
    x->lo = INFINITY, x->hi = -INFINITY;
    for (int i = 0; i < tl->n; i++) vg_range_widen(&x->lo, &x->hi, x_of(tl, i));
    vg_range_open(&x->lo, &x->hi, 0.5);
    x->p0 = PLOT_L, x->p1 = PLOT_R;
}

/* Values at finite times of score, smooth, the band and the threshold, padded by Y_PAD. */
static void y_range(const vg_timeline *tl, vg_axis *y) {
    y->lo = INFINITY, y->hi = -INFINITY;
    for (int i = 0; i < tl->n; i++) {
        if (!isfinite(x_of(tl, i))) continue;
        vg_range_widen(&y->lo, &y->hi, tl->score[i]);
        if (tl->smooth) vg_range_widen(&y->lo, &y->hi, tl->smooth[i]);
    }
    if (tl->band_lo < tl->band_hi) {
        vg_range_widen(&y->lo, &y->hi, tl->band_lo);
        vg_range_widen(&y->lo, &y->hi, tl->band_hi);
    }
    if (tl->has_threshold) vg_range_widen(&y->lo, &y->hi, tl->threshold);
    vg_range_open(&y->lo, &y->hi, 0.05);
    double pad = (y->hi - y->lo) * Y_PAD;
    y->lo -= pad, y->hi += pad;
    y->p0 = PLOT_B, y->p1 = PLOT_T;
}

/* Seconds a clock axis steps by: a round number of minutes or hours. */
static double clock_step(double span, int ticks) {
    static const double steps[] = {60, 120, 300, 600, 900, 1800, 3600};
    double raw = span / ticks;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        if (steps[i] >= raw) return steps[i];
    return vg_nice_step(span / 3600, ticks) * 3600;
}

/* ---- drawing -------------------------------------------------------------------------- */

/* vg_tick_label_fn: seconds as m:ss, or h:mm:ss when *hours. */
static void put_clock(FILE *f, double seconds, void *hours) {
    long long s = llround(fabs(seconds));
    if (seconds < 0 && s) fputc('-', f);
    if (*(int *)hours) fprintf(f, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else fprintf(f, "%lld:%02lld", s / 60, s % 60);
}

static void draw_x_ticks(const plot *p) {
    const vg_timeline *tl = p->tl;
    double span = p->x.hi - p->x.lo;
    int clock = tl->t && span >= CLOCK_FROM, hours = p->x.hi >= 3600;
    double step = clock ? clock_step(span, TICKS_X) : vg_nice_step(span, TICKS_X);
    if (!tl->t && step < 1) step = 1; /* frame numbers are whole */
    vg_svg_x_ticks(p->f, &p->x, PLOT_B, step, clock ? put_clock : NULL, &hours);
    fprintf(p->f, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
            (PLOT_L + PLOT_R) / 2, SVG_H - 8,
            !tl->t ? "frame" : !clock ? "time (s)" : hours ? "time (h:mm:ss)" : "time (m:ss)");
}

static void draw_y_ticks(const plot *p) {
    vg_svg_y_axis(p->f, &p->y, PLOT_L, PLOT_R, TICKS_Y, p->tl->ylabel ? p->tl->ylabel : "score");
}

/* A horizontal line across the plot at value v. */
static void put_hline(const plot *p, double v, const char *color, const char *extra) {
    double y = vg_axis_px(&p->y, v);
    fprintf(p->f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" %s/>\n",
            PLOT_L, PLOT_R, y, y, color, extra);
}

/* The normal band, and its edge on the anomalous side (below for PSNR, above for errors)
 * drawn solid: the line a score crosses to leave normal. */
static void draw_band(const plot *p) {
    const vg_timeline *tl = p->tl;
    if (!(tl->band_lo < tl->band_hi)) return;
    vg_svg_rect(p->f, PLOT_L, vg_axis_px(&p->y, tl->band_hi), PLOT_R,
                vg_axis_px(&p->y, tl->band_lo), C_BAND, 0.14);
    put_hline(p, tl->higher_is_normal ? tl->band_lo : tl->band_hi, C_BAND,
              "stroke-opacity=\"0.6\"");
}

/* Each run of truth flags as a light red span, a frame's width but at least a pixel; spans
 * less than a pixel apart merge, so flickering truth on a long series stays a few rects. */
static void draw_truth(const plot *p) {
    const vg_timeline *tl = p->tl;
    if (!tl->truth) return;
    double frame_px = tl->n > 1 ? (PLOT_R - PLOT_L) / (tl->n - 1) : PLOT_R - PLOT_L;
    double half = frame_px / 2 > 0.5 ? frame_px / 2 : 0.5;
    double s0 = 0, s1 = -1; /* the span being merged; s1 < s0: none yet */
    for (int i = 0; i < tl->n; i++) {
        double x = x_of(tl, i);
        if (!tl->truth[i] || !isfinite(x)) continue;
        double px = vg_axis_px(&p->x, x), a = fmax(px - half, PLOT_L), b = fmin(px + half, PLOT_R);
        if (s1 >= s0 && a <= s1 + 1) {
            s1 = fmax(s1, b);
            continue;
        }
        if (s1 >= s0) vg_svg_rect(p->f, s0, PLOT_T, s1, PLOT_B, C_TRUTH, 0.16);
        s0 = a, s1 = b;
    }
    if (s1 >= s0) vg_svg_rect(p->f, s0, PLOT_T, s1, PLOT_B, C_TRUTH, 0.16);
}

/* Path data: "M" starts a run, "L" continues it. */
typedef struct pen {
    FILE *f;
    int down;
} pen;

static void pen_to(pen *pn, const plot *p, int i, const double *v) {
    fprintf(pn->f, pn->down ? " L%.1f %.1f" : " M%.1f %.1f", vg_axis_px(&p->x, x_of(p->tl, i)),
            vg_axis_px(&p->y, v[i]));
    pn->down = 1;
}

static void trace_all(const plot *p, const double *v, pen *pn) {
    for (int i = 0; i < p->tl->n; i++) {
        if (isfinite(x_of(p->tl, i)) && isfinite(v[i])) pen_to(pn, p, i, v);
        else pn->down = 0;
    }
}

/* The points that fall in one pixel column. */
typedef struct column {
    long col;
    int seen;   /* some point fell here */
    int lo, hi; /* indices of the smallest and largest finite value; -1: none */
} column;

static void column_flush(const column *c, const plot *p, const double *v, pen *pn) {
    if (!c->seen) return;
    if (c->lo < 0) { /* only non-finite values here: a gap */
        pn->down = 0;
        return;
    }
    int first = c->lo < c->hi ? c->lo : c->hi, last = c->lo < c->hi ? c->hi : c->lo;
    pen_to(pn, p, first, v);
    if (last != first) pen_to(pn, p, last, v);
}

/* Min/max decimation: per pixel column, its lowest and highest point in time order. Assumes
 * times that do not decrease, as a recording's do. */
static void trace_decimated(const plot *p, const double *v, pen *pn) {
    column c = {.col = -1, .seen = 0, .lo = -1, .hi = -1};
    for (int i = 0; i < p->tl->n; i++) {
        double x = x_of(p->tl, i);
        if (!isfinite(x)) continue;
        long col = (long)floor(vg_axis_px(&p->x, x));
        if (col != c.col) {
            column_flush(&c, p, v, pn);
            c = (column){.col = col, .seen = 1, .lo = -1, .hi = -1};
        }
        if (!isfinite(v[i])) continue;
        if (c.lo < 0 || v[i] < v[c.lo]) c.lo = i;
        if (c.hi < 0 || v[i] > v[c.hi]) c.hi = i;
    }
    column_flush(&c, p, v, pn);
}

static void draw_series(const plot *p, const double *v, const char *id, const char *style) {
    fprintf(p->f, "<path id=\"%s\" fill=\"none\" stroke-linejoin=\"round\" %s d=\"", id, style);
    pen pn = {p->f, 0};
    if (p->tl->n > DECIMATE_ABOVE) trace_decimated(p, v, &pn);
    else trace_all(p, v, &pn);
    fputs("\"/>\n", p->f);
}

static void draw_threshold(const plot *p) {
    const vg_timeline *tl = p->tl;
    if (!tl->has_threshold) return;
    put_hline(p, tl->threshold, C_THRESHOLD, "stroke-width=\"1.2\" stroke-dasharray=\"6 4\"");
    double y = vg_axis_px(&p->y, tl->threshold);
    y = y - 4 < PLOT_T + 10 ? y + 13 : y - 4; /* above the line unless at the top edge */
    fprintf(p->f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"" C_THRESHOLD "\" "
                  "stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">threshold %.4g"
                  "</text>\n",
            PLOT_R - 4, y, tl->threshold);
}

/* ---- legend and title ----------------------------------------------------------------- */

typedef struct legend_item {
    const char *label, *color;
    vg_swatch kind;
} legend_item;

/* The entries this timeline shows; returns their count. */
static int legend_items(const vg_timeline *tl, legend_item items[5]) {
    int n = 0;
    items[n++] = (legend_item){"score", C_SCORE, VG_SW_LINE};
    if (tl->smooth) items[n++] = (legend_item){"smoothed", C_SMOOTH, VG_SW_BOLD};
    if (tl->band_lo < tl->band_hi) items[n++] = (legend_item){"normal band", C_BAND, VG_SW_AREA};
    if (tl->has_threshold) items[n++] = (legend_item){"threshold", C_THRESHOLD, VG_SW_DASHED};
    if (tl->truth) items[n++] = (legend_item){"anomaly (truth)", C_TRUTH, VG_SW_AREA};
    return n;
}

/* Pixels an entry takes: swatch, gap, label, space before the next. */
static double item_width(const legend_item *it) {
    return 22 + VG_SVG_CHAR_W * (double)strlen(it->label) + 14;
}

/* The legend, right-aligned on the title row; returns where it starts. */
static double draw_legend(FILE *f, const vg_timeline *tl) {
    legend_item items[5];
    int n = legend_items(tl, items);
    double width = 0, y = 24;
    for (int i = 0; i < n; i++) width += item_width(&items[i]);
    double x0 = SVG_W - 12 - width, x = x0;
    for (int i = 0; i < n; i++) {
        vg_svg_swatch(f, x, y, items[i].color, items[i].kind);
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\">%s</text>\n", x + 22, y, items[i].label);
        x += item_width(&items[i]);
    }
    return x0;
}

static const char *title_of(const vg_timeline *tl) {
    return tl->title ? tl->title : tl->ylabel ? tl->ylabel : "score";
}

/* The title, left on the top row, cut to the room the legend leaves. */
static void draw_title(FILE *f, const vg_timeline *tl, double legend_x) {
    int room = (int)((legend_x - PLOT_L - 16) / CHAR_W_TITLE);
    fprintf(f, "<text x=\"%.0f\" y=\"24\" font-size=\"14\" font-weight=\"bold\" "
               "fill=\"#222222\">",
            PLOT_L);
    vg_xml_text(f, title_of(tl), room > 4 ? room : 4);
    fputs("</text>\n", f);
}

/* ---- the file ------------------------------------------------------------------------- */

void vg_timeline_write(FILE *f, const vg_timeline *tl) {
    plot p = {.f = f, .tl = tl};
    x_range(p.tl, &p.x);
    y_range(p.tl, &p.y);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"" VG_SVG_FONT "\" "
               "font-size=\"11\" fill=\"#333333\">\n<title>",
            SVG_W, SVG_H, SVG_W, SVG_H);
    vg_xml_text(f, title_of(p.tl), INT_MAX);
    fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W, SVG_H);
    draw_band(&p);
    draw_truth(&p);
    draw_y_ticks(&p);
    draw_x_ticks(&p);
    fprintf(f, "<path d=\"M%.0f %.0f V%.0f H%.0f\" fill=\"none\" stroke=\"" VG_SVG_AXIS_COLOR
               "\"/>\n",
            PLOT_L, PLOT_T, PLOT_B, PLOT_R);
    draw_series(&p, p.tl->score, "score", "stroke=\"" C_SCORE "\" stroke-width=\"1\"");
    if (p.tl->smooth)
        draw_series(&p, p.tl->smooth, "smoothed", "stroke=\"" C_SMOOTH "\" stroke-width=\"2\"");
    draw_threshold(&p);
    draw_title(f, p.tl, draw_legend(f, p.tl));
    fputs("</svg>\n", f);
}

int vg_timeline_check(const char *what, const vg_timeline *tl, vg_error *err) {
    if (!tl) return vg_fail(err, VG_ERR_ARG, "%s: the timeline must not be NULL", what);
    if (tl->n < 1 || !tl->score)
        return vg_fail(err, VG_ERR_ARG, "%s: timeline has no scores (n = %d)", what, tl->n);
    if (!isfinite(tl->band_lo) || !isfinite(tl->band_hi) || tl->band_lo > tl->band_hi)
        return vg_fail(err, VG_ERR_ARG,
                       "%s: normal band [%g, %g], expected finite band_lo <= band_hi", what,
                       tl->band_lo, tl->band_hi);
    if (tl->has_threshold && !isfinite(tl->threshold))
        return vg_fail(err, VG_ERR_ARG, "%s: threshold %g is not finite", what, tl->threshold);
    return VG_OK;
}

/* vg_write_fn: the whole SVG; stream errors are read by vg_write_atomic. */
static int write_svg(FILE *f, void *ctx, char why[VG_WHY_LEN]) {
    (void)why;
    vg_timeline_write(f, ctx);
    return 0;
}

int vg_timeline_svg(const char *path, const vg_timeline *tl, vg_error *err) {
    if (!path) return vg_fail(err, VG_ERR_ARG, "vg_timeline_svg: path must not be NULL");
    int rc = vg_timeline_check(path, tl, err);
    if (rc != VG_OK) return rc;
    vg_c_numeric loc;
    if (vg_c_numeric_enter(&loc) != 0)
        return vg_fail(err, VG_ERR_NOMEM, "%s: cannot make the C numeric locale", path);
    rc = vg_write_atomic(path, write_svg, (void *)tl, err);
    vg_c_numeric_leave(&loc);
    return rc;
}
