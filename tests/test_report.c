/* test_report.c - charts (SVG) and the HTML report builder: each output holds its parts, is
 * well-formed (xmllint, when installed, parses the SVG files and the page as XML: the page
 * is written to be both HTML5 and XML), carries nothing from outside (no scripts, links or
 * remote URLs), embeds files as base64 that decodes to the same bytes, and is written
 * atomically (no PATH.tmp left; a failed write leaves no file). */
#include "test.h"
#include "vigil/vigil.h"

#include <unistd.h>

static vg_error err;

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* Checks path holds every needle, no NaN/inf, nothing fetched from outside, parses as
 * XML, and left no PATH.tmp. Returns the file's text (free it), or NULL. */
static char *check_file(const char *what, const char *path, const char *const *needles) {
    size_t len = 0;
    char *s = test_read_file(path, &len);
    if (!s) return NULL;
    int missing = 0;
    for (int k = 0; needles[k]; k++)
        if (!strstr(s, needles[k])) fprintf(stderr, "  %s: no '%s'\n", path, needles[k]), missing++;
    char *text = strdup(s); /* without the base64 of embedded files, where "nan" may occur */
    for (char *q = text; (q = strstr(q, "base64,"));)
        for (q += 7; *q && *q != '"'; q++) *q = '.';
    int clean = !strstr(text, "nan") && !strstr(text, "inf") && !strstr(text, "<script") &&
                !strstr(text, "<link") && !strstr(text, "src=\"http") && !strstr(text, "url(");
    free(text);
    int lint = test_xmllint_ok(path);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int atomic = !file_exists(tmp);
    printf("%-36s %7zu bytes, parts %s, self-contained %s, xmllint %s, no .tmp %s\n", what, len,
           missing ? "FAIL" : "ok", clean ? "ok" : "FAIL",
           lint < 0 ? "not installed (skipped)" : lint ? "ok" : "FAIL", atomic ? "ok" : "FAIL");
    CHECK(!missing && clean && lint != 0 && atomic);
    return s;
}

static void check_fails(const char *what, int rc, int code, const char *word) {
    int ok = rc == code && strstr(err.msg, word) != NULL;
    printf("%-36s -> %d \"%s\" %s\n", what, rc, err.msg, ok ? "ok" : "FAIL");
    if (!ok) test_failures++;
}

/* ---- charts ---------------------------------------------------------------------------- */

static const double FPR_A[] = {0, 0, 0.5, 0.5, 1}, TPR_A[] = {0, 0.5, 0.5, 1, 1};
static const double FPR_B[] = {0, 1}, TPR_B[] = {0, 1};

static void test_charts(void) {
    vg_series roc[2] = {{"frame <psnr> & \"patch\"", FPR_A, TPR_A, 5}, {"chance", FPR_B, TPR_B, 2}};
    vg_chart c = {.kind = VG_CHART_ROC, .title = "ROC: frames", .series = roc, .n_series = 2};
    const char *p = test_path("roc.svg");
    CHECK_OK(vg_chart_svg(p, &c, &err), &err);
    const char *const roc_parts[] = {"<?xml", "<svg", "ROC: frames", "(AUC 0.7500)",
                                     "(AUC 0.5000)", "&lt;psnr&gt; &amp; &quot;patch&quot;",
                                     "false positive rate", "true positive rate", NULL};
    free(check_file("chart: ROC", p, roc_parts));

    enum { N = 500 };
    double normal[N], anomalous[N / 5], x[N], y1[N], y2[N];
    for (int i = 0; i < N; i++) {
        normal[i] = 0.01 + 0.002 * sin(i * 0.37) + (i % 7) * 0.0004;
        x[i] = i * 0.001, y1[i] = i < 250 ? i / 250.0 : 1, y2[i] = (double)i * i / (N * N);
    }
    for (int i = 0; i < N / 5; i++) anomalous[i] = 0.02 + 0.001 * (i % 11);
    normal[3] = NAN; /* skipped */
    vg_series h[2] = {{"normal", normal, NULL, N}, {"anomalous", anomalous, NULL, N / 5}};
    vg_chart hc = {.kind = VG_CHART_HISTOGRAM, .title = "patch score", .series = h,
                   .n_series = 2, .bins = 30, .has_marker = 1, .marker = 0.0175};
    p = test_path("hist.svg");
    CHECK_OK(vg_chart_svg(p, &hc, &err), &err);
    const char *const hist_parts[] = {"patch score", "threshold 0.0175", "stroke-dasharray",
                                      "fill-opacity=\"0.25\"", ">share<", "normal", "anomalous",
                                      NULL};
    free(check_file("chart: histogram with threshold", p, hist_parts));

    y2[10] = INFINITY; /* a break in the line */
    vg_series l[2] = {{"compression", x, y1, N}, {"freeze", x, y2, N}};
    vg_chart lc = {.kind = VG_CHART_LINES, .title = "recall", .xlabel = "threshold",
                   .ylabel = "recall", .series = l, .n_series = 2, .has_marker = 1,
                   .marker = 0.2, .marker_label = "chosen"};
    p = test_path("lines.svg");
    CHECK_OK(vg_chart_svg(p, &lc, &err), &err);
    const char *const line_parts[] = {"compression", "freeze", "chosen 0.2", ">threshold<",
                                      ">recall<", NULL};
    char *s = check_file("chart: lines", p, line_parts);
    /* the line of "freeze" breaks at the infinite point: two M commands */
    const char *second = s ? strstr(s, "#f58518\" stroke-width") : NULL;
    const char *d = second ? strstr(second, " d=\"") : NULL;
    int moves = 0;
    for (const char *q = d; q && *q && *q != '/'; q++) moves += *q == 'M';
    printf("line with an infinite point: %d runs %s\n", moves, moves == 2 ? "ok" : "FAIL");
    CHECK(moves == 2);
    free(s);

    vg_chart bad = c;
    bad.n_series = 0;
    check_fails("chart without series", vg_chart_svg(test_path("x.svg"), &bad, &err), VG_ERR_ARG,
                "0 series");
    vg_series empty = {"e", FPR_B, TPR_B, 0};
    bad = (vg_chart){.kind = VG_CHART_LINES, .series = &empty, .n_series = 1};
    check_fails("series without points", vg_chart_svg(test_path("x.svg"), &bad, &err),
                VG_ERR_ARG, "series 0 ('e') has no points");
    bad = hc, bad.marker = NAN;
    check_fails("NaN marker", vg_chart_svg(test_path("x.svg"), &bad, &err), VG_ERR_ARG, "marker");
    bad = hc, bad.bins = 5000;
    check_fails("too many bins", vg_chart_svg(test_path("x.svg"), &bad, &err), VG_ERR_ARG,
                "5000 bins");
    CHECK(!file_exists(test_path("x.svg")));
}

/* ---- HTML ------------------------------------------------------------------------------ */

/* Decodes the base64 after the first "base64," following marker in s into out. */
static size_t decode_after(const char *s, const char *marker, unsigned char *out, size_t cap) {
    const char *p = strstr(s, marker);
    p = p ? strstr(p, "base64,") : NULL;
    if (!p) return 0;
    p += 7;
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned v = 0;
    int bits = 0;
    for (; *p && *p != '"' && *p != '='; p++) {
        const char *c = strchr(abc, *p);
        if (!c) return 0;
        v = v << 6 | (unsigned)(c - abc), bits += 6;
        if (bits >= 8 && n < cap) out[n++] = (unsigned char)(v >> (bits - 8)), bits -= 8;
    }
    return n;
}

static void test_html(void) {
    enum { W = 5, H = 3 };
    unsigned char rgb[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) rgb[i] = (unsigned char)(i * 17);
    char png[512], svg[512]; /* test_path's buffers are reused */
    snprintf(png, sizeof png, "%s", test_path("frame.png"));
    CHECK_OK(vg_png_write(png, rgb, W, H, &err), &err);
    vg_series roc = {"psnr", FPR_A, TPR_A, 5};
    vg_chart c = {.kind = VG_CHART_ROC, .title = "frames", .series = &roc, .n_series = 1};
    snprintf(svg, sizeof svg, "%s", test_path("roc.svg"));
    CHECK_OK(vg_chart_svg(svg, &c, &err), &err);
    double score[6] = {NAN, 1, 2, 5, 2, 1};
    unsigned char truth[6] = {0, 0, 1, 1, 0, 0};
    vg_timeline tl = {.title = "clip 01", .ylabel = "patch score", .score = score, .n = 6,
                      .truth = truth, .has_threshold = 1, .threshold = 3};

    vg_html *h = NULL;
    CHECK_OK(vg_html_create("eval <of> model & \"x\"", &h, &err), &err);
    if (!h) return;
    const char *cells[] = {"metric", "raw", "normalised", "AUC", "0.7840", NULL};
    CHECK_OK(vg_html_section(h, "Metrics", &err), &err);
    CHECK_OK(vg_html_table(h, cells, 2, 3, &err), &err);
    CHECK_OK(vg_html_text(h, "a < b & c > d, \xff bad byte", &err), &err);
    CHECK_OK(vg_html_chart(h, &c, &err), &err);
    CHECK_OK(vg_html_timeline(h, &tl, &err), &err);
    CHECK_OK(vg_html_image(h, png, "clip 01, frame 3", &err), &err);
    CHECK_OK(vg_html_image(h, svg, NULL, &err), &err);
    /* failed parts leave the page as it was */
    check_fails("image file missing", vg_html_image(h, test_path("none.png"), "x", &err),
                VG_ERR_IO, "none.png: cannot open");
    const char *txt = test_path("note.txt");
    test_write_file(txt, "not an image", 12);
    check_fails("image file of another kind", vg_html_image(h, txt, "x", &err), VG_ERR_FORMAT,
                "not a PNG, JPEG or SVG image");
    check_fails("table without rows", vg_html_table(h, cells, 0, 3, &err), VG_ERR_ARG,
                "0 x 3 cells");
    vg_chart none = {.kind = VG_CHART_ROC};
    check_fails("chart without series", vg_html_chart(h, &none, &err), VG_ERR_ARG, "0 series");
    check_fails("timeline without scores", vg_html_timeline(h, &(vg_timeline){.n = 0}, &err),
                VG_ERR_ARG, "no scores");

    const char *page = test_path("report.html");
    CHECK_OK(vg_html_write(h, page, &err), &err);
    check_fails("page into a missing folder",
                vg_html_write(h, test_path("no-such-dir/report.html"), &err), VG_ERR_IO,
                "cannot write (No such file or directory)");
    CHECK(!file_exists(test_path("no-such-dir/report.html")));
    vg_html_free(h);
    vg_html_free(NULL);

    const char *const parts[] = {"<!DOCTYPE html>", "<title>eval &lt;of&gt; model &amp; "
                                 "&quot;x&quot;</title>", "<h2>Metrics</h2>", "<th>metric</th>",
                                 "<td>0.7840</td>", "<td></td>", "a &lt; b &amp; c &gt; d",
                                 "\xEF\xBF\xBD", "(AUC 0.7500)", "data:image/png;base64,",
                                 "data:image/svg+xml;base64,", "<figcaption>clip 01, frame 3",
                                 "</html>", NULL};
    char *s = check_file("HTML page", page, parts);
    if (!s) return;
    size_t want_len = 0;
    char *want = test_read_file(png, &want_len);
    unsigned char got[4096];
    size_t n = decode_after(s, "alt=\"clip 01, frame 3\"", got, sizeof got);
    int same = want && n == want_len && !memcmp(got, want, n);
    printf("embedded PNG decodes to the file's %zu bytes: %s\n", want_len, same ? "ok" : "FAIL");
    CHECK(same);
    CHECK(!strstr(s, "none.png") && !strstr(s, "note.txt")); /* failed parts left nothing */
    int figures = 0;
    for (const char *q = s; (q = strstr(q, "<figure>")); q++) figures++;
    CHECK(figures == 4); /* chart, timeline, two images */
    free(want), free(s);
}

int main(void) {
    test_tmpdir("report");
    test_charts();
    test_html();
    test_tmpdir_remove();
    return test_result();
}
