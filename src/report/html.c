/* html.c - a self-contained HTML report (vigil.h vg_html), built in memory.
 *
 * The page is HTML5 that is also well-formed XML (every element closed, attributes quoted,
 * text escaped by markup.c), so XML tools can check it. Nothing is fetched when it is
 * opened: the style is inline, charts are inline SVG (they carry no ids, so several never
 * clash), and files are embedded as base64 data: URIs (timelines too, since theirs carry
 * ids). Parts are appended to a memory stream; a part that fails is cut off again, so the
 * page holds whole parts only. */
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "report/atomic.h"
#include "report/markup.h"
#include "report/plot.h"
#include "report/timeline.h"

#define STYLE                                                                               \
    "body{font-family:" "DejaVu Sans,Helvetica,Arial,sans-serif" ";color:#222;margin:24px "  \
    "auto;max-width:1000px;padding:0 16px}"                                                  \
    "h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}"      \
    "table{border-collapse:collapse;font-size:13px}"                                         \
    "th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"        \
    "th{background:#f4f4f4}figure{margin:12px 0;display:inline-block;vertical-align:top}"    \
    "figcaption{font-size:12px;color:#555}img,svg{max-width:100%;height:auto}"              \
    "img{min-width:240px;image-rendering:pixelated}"

struct vg_html {
    FILE *f; /* a memory stream over buf */
    char *buf;
    size_t len;
};

int vg_html_create(const char *title, vg_html **out, vg_error *err) {
    *out = NULL;
    vg_html *h = calloc(1, sizeof *h);
    if (h) h->f = open_memstream(&h->buf, &h->len);
    if (!h || !h->f) {
        free(h);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for an HTML page");
    }
    const char *t = title ? title : "report";
    fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n<title>", h->f);
    vg_xml_text(h->f, t, 200);
    fputs("</title>\n<style>" STYLE "</style>\n</head>\n<body>\n<h1>", h->f);
    vg_xml_text(h->f, t, 200);
    fputs("</h1>\n", h->f);
    *out = h;
    return VG_OK;
}

void vg_html_free(vg_html *h) {
    if (!h) return;
    if (h->f) fclose(h->f);
    free(h->buf);
    free(h);
}

/* Where a part starts, to cut it off again when it fails. */
static long part_begin(vg_html *h) { return ftell(h->f); }

/* Ends a part begun at start: VG_OK, or the part removed and VG_ERR_NOMEM when the memory
 * stream could not grow (it keeps its error flag, so the page stays refused after that). */
static int part_end(vg_html *h, long start, vg_error *err) {
    if (!ferror(h->f) && fflush(h->f) == 0) return VG_OK;
    fseek(h->f, start, SEEK_SET);
    return vg_fail(err, VG_ERR_NOMEM, "out of memory for the HTML page");
}

int vg_html_section(vg_html *h, const char *heading, vg_error *err) {
    long start = part_begin(h);
    fputs("<h2>", h->f);
    vg_xml_text(h->f, heading ? heading : "", 200);
    fputs("</h2>\n", h->f);
    return part_end(h, start, err);
}

int vg_html_text(vg_html *h, const char *text, vg_error *err) {
    long start = part_begin(h);
    fputs("<p>", h->f);
    vg_xml_text(h->f, text ? text : "", 1 << 20);
    fputs("</p>\n", h->f);
    return part_end(h, start, err);
}

int vg_html_table(vg_html *h, const char *const *cells, int rows, int cols, vg_error *err) {
    if (rows < 1 || cols < 1 || !cells)
        return vg_fail(err, VG_ERR_ARG, "HTML table of %d x %d cells: expected at least a "
                       "header row", rows, cols);
    long start = part_begin(h);
    fputs("<table>\n", h->f);
    for (int r = 0; r < rows; r++) {
        fputs(r == 0 ? "<thead><tr>" : "<tr>", h->f);
        for (int c = 0; c < cols; c++) {
            const char *cell = cells[(size_t)r * cols + c];
            fputs(r == 0 ? "<th>" : "<td>", h->f);
            vg_xml_text(h->f, cell ? cell : "", 1 << 20);
            fputs(r == 0 ? "</th>" : "</td>", h->f);
        }
        fputs(r == 0 ? "</tr></thead>\n<tbody>\n" : "</tr>\n", h->f);
    }
    fputs("</tbody>\n</table>\n", h->f);
    return part_end(h, start, err);
}

/* ---- embedded files ------------------------------------------------------------------- */

static void put_base64(FILE *f, const unsigned char *p, size_t n) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {abc[v >> 18 & 63], abc[v >> 12 & 63], i + 1 < n ? abc[v >> 6 & 63] : '=',
                     i + 2 < n ? abc[v & 63] : '='};
        fwrite(q, 1, 4, f);
    }
}

/* The MIME type of an image file's bytes, or NULL when it is none this page embeds. */
static const char *image_type(const unsigned char *p, size_t n) {
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return "image/png";
    if (n >= 3 && !memcmp(p, "\xff\xd8\xff", 3)) return "image/jpeg";
    size_t i = 0;
    while (i < n && strchr(" \t\r\n", p[i])) i++;
    if (n - i >= 5 && (!memcmp(p + i, "<?xml", 5) || !memcmp(p + i, "<svg", 4)))
        return "image/svg+xml";
    return NULL;
}

/* A figure showing the image bytes p[0..n) of the given type. */
static void put_figure(FILE *f, const char *type, const unsigned char *p, size_t n,
                       const char *caption) {
    fprintf(f, "<figure><img alt=\"");
    vg_xml_text(f, caption ? caption : "image", 200);
    fprintf(f, "\" src=\"data:%s;base64,", type);
    put_base64(f, p, n);
    fputs("\"/>", f);
    if (caption) {
        fputs("<figcaption>", f);
        vg_xml_text(f, caption, 1 << 20);
        fputs("</figcaption>", f);
    }
    fputs("</figure>\n", f);
}

int vg_html_image(vg_html *h, const char *path, const char *caption, vg_error *err) {
    size_t n = 0;
    unsigned char *p = (unsigned char *)vg_read_file(path, &n, err);
    if (!p) return err->code;
    const char *type = image_type(p, n);
    int rc = type ? VG_OK
                  : vg_fail(err, VG_ERR_FORMAT, "%s: not a PNG, JPEG or SVG image", path);
    long start = part_begin(h);
    if (!rc) put_figure(h->f, type, p, n, caption);
    free(p);
    return rc ? rc : part_end(h, start, err);
}

/* ---- charts and timelines ------------------------------------------------------------- */

int vg_html_chart(vg_html *h, const vg_chart *c, vg_error *err) {
    int rc = vg_chart_check("HTML chart", c, err);
    vg_c_numeric loc;
    if (!rc && vg_c_numeric_enter(&loc) != 0)
        rc = vg_fail(err, VG_ERR_NOMEM, "HTML chart: cannot make the C numeric locale");
    if (rc) return rc;
    long start = part_begin(h);
    fputs("<figure>", h->f);
    vg_chart_write(h->f, c, 0);
    fputs("</figure>\n", h->f);
    vg_c_numeric_leave(&loc);
    return part_end(h, start, err);
}

int vg_html_timeline(vg_html *h, const vg_timeline *tl, vg_error *err) {
    int rc = vg_timeline_check("HTML timeline", tl, err);
    if (rc) return rc;
    char *svg = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&svg, &n);
    vg_c_numeric loc;
    if (!m || vg_c_numeric_enter(&loc) != 0) {
        if (m) fclose(m);
        free(svg);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for an HTML timeline");
    }
    vg_timeline_write(m, tl);
    vg_c_numeric_leave(&loc);
    int bad = ferror(m);
    fclose(m);
    long start = part_begin(h);
    if (!bad) put_figure(h->f, "image/svg+xml", (const unsigned char *)svg, n, tl->title);
    free(svg);
    if (bad) return vg_fail(err, VG_ERR_NOMEM, "out of memory for an HTML timeline");
    return part_end(h, start, err);
}

/* ---- the file ------------------------------------------------------------------------- */

/* vg_write_fn: the page so far and its end. */
static int write_page(FILE *f, void *ctx, char why[VG_WHY_LEN]) {
    (void)why;
    const vg_html *h = ctx;
    fwrite(h->buf, 1, h->len, f);
    fputs("</body>\n</html>\n", f);
    return 0;
}

int vg_html_write(vg_html *h, const char *path, vg_error *err) {
    if (!path) return vg_fail(err, VG_ERR_ARG, "vg_html_write: path must not be NULL");
    if (ferror(h->f) || fflush(h->f) != 0)
        return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory building the page", path);
    return vg_write_atomic(path, write_page, h, err);
}
