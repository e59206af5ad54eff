/* timeline.c - a score over time as a self-contained SVG (900 x 260, no scripts, no external
 * fonts or styles): title and legend on top; the normal band, truth spans and grid behind
 * the score (thin) and its smoothed line (bold); the threshold dashed with its value.
 *
 * Long series (more than DECIMATE_ABOVE points) keep, per pixel column, the smallest and the
 * largest value in their order, so a one-frame spike survives and the file stays small.
 * Points whose time or value is not finite are skipped: the line breaks there. The file is
 * written in the C numeric locale of this thread (uselocale), since a ',' decimal point
 * from the caller's locale would break every coordinate. */
#include "report/atomic.h"

#include <limits.h>
#include <locale.h>
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
#define CHAR_W_LEGEND 6.2 /* 11 px sans */
#define CLOCK_FROM 600.0 /* seconds of footage from which x labels read m:ss */

#define C_SCORE "#4c78a8"
#define C_SMOOTH "#e45c17"
#define C_BAND "#54a24b"
#define C_THRESHOLD "#b22222"
#define C_TRUTH "#e45756"
#define C_GRID "#e6e6e6"
#define C_AXIS "#555555"

/* A data range and the pixels it maps onto (p0 at lo, p1 at hi). */
typedef struct axis {
    double lo, hi, p0, p1;
} axis;

typedef struct plot {
    FILE *f;
    const vg_timeline *tl;
    axis x, y;
} plot;

static double to_px(const axis *a, double v) {
    return a->p0 + (v - a->lo) * (a->p1 - a->p0) / (a->hi - a->lo);
}

static double x_of(const vg_timeline *tl, int i) { return tl->t ? tl->t[i] : i; }

/* ---- text ----------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s of a character XML allows, with its code
 * point in *cp; 0 when s does not start one. */
static int utf8_next(const unsigned char *s, unsigned *cp) {
    static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000}; /* overlong below */
    int n = s[0] < 0x80   ? 1
            : s[0] < 0xC0 ? 0 /* a continuation byte cannot start a character */
            : s[0] < 0xE0 ? 2
            : s[0] < 0xF0 ? 3
            : s[0] < 0xF8 ? 4
                          : 0;
    if (!n) return 0;
    unsigned c = n == 1 ? s[0] : s[0] & (0x3Fu >> (n - 1));
    for (int k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0; /* also stops at the terminating 0 */
        c = c << 6 | (s[k] & 0x3Fu);
    }
    if (c < min_cp[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE ||
        c == 0xFFFF)
        return 0;
    *cp = c;
    return n;
}

/* Characters (code points) in s. */
static int text_chars(const char *s) {
    int count = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; count++) {
        unsigned cp;
        int len = utf8_next(p, &cp);
        p += len ? len : 1;
    }
    return count;
}

/* s as XML character data, at most max_chars characters (the last one then an ellipsis):
 * markup characters escaped, control characters as spaces, bytes that are not UTF-8 as
 * U+FFFD, so any caller's string makes a well-formed file. */
static void put_text(FILE *f, const char *s, int max_chars) {
    int total = text_chars(s), count = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; count++) {
        if (total > max_chars && count == max_chars - 1) {
            fputs("\xE2\x80\xA6", f); /* ... */
            return;
        }
        unsigned cp = 0;
        int len = utf8_next(p, &cp);
        if (!len) fputs("\xEF\xBF\xBD", f);
        else if (cp < 0x20) fputc(' ', f);
        else if (cp == '&') fputs("&amp;", f);
        else if (cp == '<') fputs("&lt;", f);
        else if (cp == '>') fputs("&gt;", f);
        else if (cp == '"') fputs("&quot;", f);
        else if (cp == '\'') fputs("&apos;", f);
        else fwrite(p, 1, (size_t)len, f);
        p += len ? len : 1;
    }
}

/* ---- ranges and ticks ----------------------------------------------------------------- */

static void widen(double *lo, double *hi, double v) {
    if (!isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

/* A range of width zero (one value, or none) opened to something drawable. */
static void open_range(double *lo, double *hi, double half) {
    if (*lo > *hi) *lo = 0, *hi = 1; /* no finite value */
    if (*lo < *hi) return;
    double h = *lo != 0 ? fabs(*lo) * half : half;
    *lo -= h, *hi += h;
}

static void x_range(const vg_timeline *tl, axis *x) {
    x->lo = INFINITY, x->hi = -INFINITY;
    for (int i = 0; i < tl->n; i++) widen(&x->lo, &x->hi, x_of(tl, i));
    open_range(&x->lo, &x->hi, 0.5);
    x->p0 = PLOT_L, x->p1 = PLOT_R;
}

/* Values at finite times of score, smooth, the band and the threshold, padded by Y_PAD. */
static void y_range(const vg_timeline *tl, axis *y) {
    y->lo = INFINITY, y->hi = -INFINITY;
    for (int i = 0; i < tl->n; i++) {
        if (!isfinite(x_of(tl, i))) continue;
        widen(&y->lo, &y->hi, tl->score[i]);
        if (tl->smooth) widen(&y->lo, &y->hi, tl->smooth[i]);
    }
    if (tl->band_lo < tl->band_hi) {
        widen(&y->lo, &y->hi, tl->band_lo);
        widen(&y->lo, &y->hi, tl->band_hi);
    }
    if (tl->has_threshold) widen(&y->lo, &y->hi, tl->threshold);
    open_range(&y->lo, &y->hi, 0.05);
    double pad = (y->hi - y->lo) * Y_PAD;
    y->lo -= pad, y->hi += pad;
    y->p0 = PLOT_B, y->p1 = PLOT_T;
}

/* 1, 2 or 5 times a power of ten, near span / ticks. */
static double nice_step(double span, int ticks) {
    double raw = span / ticks, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

/* Seconds a clock axis steps by: a round number of minutes or hours. */
static double clock_step(double span, int ticks) {
    static const double steps[] = {60, 120, 300, 600, 900, 1800, 3600};
    double raw = span / ticks;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        if (steps[i] >= raw) return steps[i];
    return nice_step(span / 3600, ticks) * 3600;
}

/* Decimals that show a step of 1, 2 or 5 x 10^k exactly. */
static int step_decimals(double step) {
    int d = -(int)floor(log10(step) + 1e-9);
    return d > 0 ? d : 0;
}

/* ---- drawing -------------------------------------------------------------------------- */

/* A tick value: -0 (a tick at k = -0) shown as 0. */
static double tick_value(double k, double step) { return k == 0 ? 0 : k * step; }

static void put_clock(FILE *f, double seconds, int hours) {
    long long s = llround(fabs(seconds));
    if (seconds < 0 && s) fputc('-', f);
    if (hours) fprintf(f, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else fprintf(f, "%lld:%02lld", s / 60, s % 60);
}

static void draw_x_ticks(const plot *p) {
    const vg_timeline *tl = p->tl;
    double span = p->x.hi - p->x.lo;
    int clock = tl->t && span >= CLOCK_FROM, hours = p->x.hi >= 3600;
    double step = clock ? clock_step(span, TICKS_X) : nice_step(span, TICKS_X);
    if (!tl->t && step < 1) step = 1; /* frame numbers are whole */
    int decimals = step_decimals(step);
    for (double k = ceil(p->x.lo / step - 1e-9); k * step <= p->x.hi + step * 1e-9; k++) {
        double v = tick_value(k, step), x = to_px(&p->x, v);
        fprintf(p->f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"" C_AXIS
                      "\"/>\n<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">",
                x, x, PLOT_B, PLOT_B + 4, x, PLOT_B + 16);
        if (clock) put_clock(p->f, v, hours);
        else fprintf(p->f, "%.*f", decimals, v);
        fputs("</text>\n", p->f);
    }
    fprintf(p->f, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
            (PLOT_L + PLOT_R) / 2, SVG_H - 8,
            !tl->t ? "frame" : !clock ? "time (s)" : hours ? "time (h:mm:ss)" : "time (m:ss)");
}

static void draw_y_ticks(const plot *p) {
    double step = nice_step(p->y.hi - p->y.lo, TICKS_Y);
    int decimals = step_decimals(step);
    for (double k = ceil(p->y.lo / step - 1e-9); k * step <= p->y.hi + step * 1e-9; k++) {
        double v = tick_value(k, step), y = to_px(&p->y, v);
        fprintf(p->f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID
                      "\"/>\n<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
                PLOT_L, PLOT_R, y, y, PLOT_L - 6, y + 4, decimals, v);
    }
    fprintf(p->f, "<text transform=\"translate(16,%.0f) rotate(-90)\" text-anchor=\"middle\">",
            (PLOT_T + PLOT_B) / 2);
    put_text(p->f, p->tl->ylabel ? p->tl->ylabel : "score", 28); /* the axis height */
    fputs("</text>\n", p->f);
}

static void put_rect(FILE *f, double x0, double y0, double x1, double y1, const char *fill,
                     double opacity) {
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
               "fill-opacity=\"%.2f\"/>\n",
            x0, y0, x1 - x0, y1 - y0, fill, opacity);
}

/* A horizontal line across the plot at value v. */
static void put_hline(const plot *p, double v, const char *color, const char *extra) {
    double y = to_px(&p->y, v);
    fprintf(p->f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" %s/>\n",
            PLOT_L, PLOT_R, y, y, color, extra);
}

/* The normal band, and its edge on the anomalous side (below for PSNR, above for errors)
 * drawn solid: the line a score crosses to leave normal. */
static void draw_band(const plot *p) {
    const vg_timeline *tl = p->tl;
    if (!(tl->band_lo < tl->band_hi)) return;
    put_rect(p->f, PLOT_L, to_px(&p->y, tl->band_hi), PLOT_R, to_px(&p->y, tl->band_lo), C_BAND,
             0.14);
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
        double px = to_px(&p->x, x), a = fmax(px - half, PLOT_L), b = fmin(px + half, PLOT_R);
        if (s1 >= s0 && a <= s1 + 1) {
            s1 = fmax(s1, b);
            continue;
        }
        if (s1 >= s0) put_rect(p->f, s0, PLOT_T, s1, PLOT_B, C_TRUTH, 0.16);
        s0 = a, s1 = b;
    }
    if (s1 >= s0) put_rect(p->f, s0, PLOT_T, s1, PLOT_B, C_TRUTH, 0.16);
}

/* Path data: "M" starts a run, "L" continues it. */
typedef struct pen {
    FILE *f;
    int down;
} pen;

static void pen_to(pen *pn, const plot *p, int i, const double *v) {
    fprintf(pn->f, pn->down ? " L%.1f %.1f" : " M%.1f %.1f", to_px(&p->x, x_of(p->tl, i)),
            to_px(&p->y, v[i]));
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
        long col = (long)floor(to_px(&p->x, x));
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
    double y = to_px(&p->y, tl->threshold);
    y = y - 4 < PLOT_T + 10 ? y + 13 : y - 4; /* above the line unless at the top edge */
    fprintf(p->f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"" C_THRESHOLD "\" "
                  "stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">threshold %.4g"
                  "</text>\n",
            PLOT_R - 4, y, tl->threshold);
}

/* ---- legend and title ----------------------------------------------------------------- */

typedef enum swatch { SW_LINE, SW_BOLD, SW_DASHED, SW_AREA } swatch;

typedef struct legend_item {
    const char *label, *color;
    swatch kind;
} legend_item;

/* The entries this timeline shows; returns their count. */
static int legend_items(const vg_timeline *tl, legend_item items[5]) {
    int n = 0;
    items[n++] = (legend_item){"score", C_SCORE, SW_LINE};
    if (tl->smooth) items[n++] = (legend_item){"smoothed", C_SMOOTH, SW_BOLD};
    if (tl->band_lo < tl->band_hi) items[n++] = (legend_item){"normal band", C_BAND, SW_AREA};
    if (tl->has_threshold) items[n++] = (legend_item){"threshold", C_THRESHOLD, SW_DASHED};
    if (tl->truth) items[n++] = (legend_item){"anomaly (truth)", C_TRUTH, SW_AREA};
    return n;
}

/* Pixels an entry takes: swatch, gap, label, space before the next. */
static double item_width(const legend_item *it) {
    return 22 + CHAR_W_LEGEND * (double)strlen(it->label) + 14;
}

static void put_swatch(FILE *f, double x, double y, const legend_item *it) {
    if (it->kind == SW_AREA) {
        put_rect(f, x, y - 9, x + 16, y + 1, it->color, 0.3);
        return;
    }
    fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
               "stroke-width=\"%s\"%s/>\n",
            x, x + 16, y - 4, y - 4, it->color, it->kind == SW_BOLD ? "2.2" : "1.2",
            it->kind == SW_DASHED ? " stroke-dasharray=\"6 4\"" : "");
}

/* The legend, right-aligned on the title row; returns where it starts. */
static double draw_legend(FILE *f, const vg_timeline *tl) {
    legend_item items[5];
    int n = legend_items(tl, items);
    double width = 0, y = 24;
    for (int i = 0; i < n; i++) width += item_width(&items[i]);
    double x0 = SVG_W - 12 - width, x = x0;
    for (int i = 0; i < n; i++) {
        put_swatch(f, x, y, &items[i]);
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
    put_text(f, title_of(tl), room > 4 ? room : 4);
    fputs("</text>\n", f);
}

/* ---- the file ------------------------------------------------------------------------- */

/* vg_write_fn: the whole SVG, back to front; stream errors are read by vg_write_atomic. */
static int write_svg(FILE *f, void *ctx, char why[VG_WHY_LEN]) {
    (void)why;
    plot p = {.f = f, .tl = ctx};
    x_range(p.tl, &p.x);
    y_range(p.tl, &p.y);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
               "font-size=\"11\" fill=\"#333333\">\n<title>",
            SVG_W, SVG_H, SVG_W, SVG_H);
    put_text(f, title_of(p.tl), INT_MAX);
    fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W, SVG_H);
    draw_band(&p);
    draw_truth(&p);
    draw_y_ticks(&p);
    draw_x_ticks(&p);
    fprintf(f, "<path d=\"M%.0f %.0f V%.0f H%.0f\" fill=\"none\" stroke=\"" C_AXIS "\"/>\n",
            PLOT_L, PLOT_T, PLOT_B, PLOT_R);
    draw_series(&p, p.tl->score, "score", "stroke=\"" C_SCORE "\" stroke-width=\"1\"");
    if (p.tl->smooth)
        draw_series(&p, p.tl->smooth, "smoothed", "stroke=\"" C_SMOOTH "\" stroke-width=\"2\"");
    draw_threshold(&p);
    draw_title(f, p.tl, draw_legend(f, p.tl));
    fputs("</svg>\n", f);
    return 0;
}

static int check_timeline(const char *path, const vg_timeline *tl, vg_error *err) {
    if (!path || !tl)
        return vg_fail(err, VG_ERR_ARG, "vg_timeline_svg: path and timeline must not be NULL");
    if (tl->n < 1 || !tl->score)
        return vg_fail(err, VG_ERR_ARG, "%s: timeline has no scores (n = %d)", path, tl->n);
    if (!isfinite(tl->band_lo) || !isfinite(tl->band_hi) || tl->band_lo > tl->band_hi)
        return vg_fail(err, VG_ERR_ARG,
                       "%s: normal band [%g, %g], expected finite band_lo <= band_hi", path,
                       tl->band_lo, tl->band_hi);
    if (tl->has_threshold && !isfinite(tl->threshold))
        return vg_fail(err, VG_ERR_ARG, "%s: threshold %g is not finite", path, tl->threshold);
    return VG_OK;
}

int vg_timeline_svg(const char *path, const vg_timeline *tl, vg_error *err) {
    int rc = check_timeline(path, tl, err);
    if (rc != VG_OK) return rc;
    /* This thread writes in the C numeric locale; the caller's and other threads' stay. */
    locale_t c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_numeric == (locale_t)0)
        return vg_fail(err, VG_ERR_NOMEM, "%s: cannot make the C numeric locale", path);
    locale_t caller = uselocale(c_numeric);
    rc = vg_write_atomic(path, write_svg, (void *)tl, err);
    uselocale(caller);
    freelocale(c_numeric);
    return rc;
}
