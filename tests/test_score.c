/* test_score.c - frame scores against plain references, smoothing, and the pictures: the
 * heat-map PNG read back with libpng, the timeline SVG checked for its parts and for being
 * well-formed (a small tag checker, and xmllint when it is installed).
 *
 * Tolerances (scores in double; the error map is float):
 *   mse      rel 1e-10: the same double sums in another order, about 1e4 terms.
 *   map      rel 1e-7 of max|ref|: both round the same double to float.
 *   patch    rel 1e-6: the summed-area table adds double errors, the reference sums the
 *            float-rounded map (float rounding, 6e-8 relative, dominates).
 *   smooth   abs 1e-12 on values near 30: a running double sum against a direct mean. */
#include "core/rng.h"
#include "report/colormap.h"
#include "test.h"
#include "vigil/vigil.h"

#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEED 4242

/* ---- plain references ------------------------------------------------------------------ */

/* Is x0 the start of a window along an axis of len pixels: a multiple of the stride, or the
 * last window flush with the far edge (windows never leave the frame). */
static int is_window_start(int x0, int stride, int win, int len) {
    return x0 + win <= len && (x0 % stride == 0 || x0 == len - win);
}

/* mse, the error map and the patch score straight from their definitions. */
static void ref_score(const float *pred, const float *frame, int W, int H, int patch,
                      double *mse, float *map, double *patch_score) {
    size_t plane = (size_t)W * H;
    double se = 0;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            double d = (double)pred[c * plane + i] - frame[c * plane + i];
            se += d * d;
        }
    *mse = se / (3.0 * plane);
    for (size_t i = 0; i < plane; i++) {
        double d0 = (double)pred[i] - frame[i], d1 = (double)pred[plane + i] - frame[plane + i];
        double d2 = (double)pred[2 * plane + i] - frame[2 * plane + i];
        map[i] = (float)((d0 * d0 + d1 * d1 + d2 * d2) / 3);
    }
    int pw = patch < W ? patch : W, ph = patch < H ? patch : H, s = patch / 2 ? patch / 2 : 1;
    *patch_score = 0;
    for (int y0 = 0; y0 < H; y0++)
        for (int x0 = 0; x0 < W; x0++) {
            if (!is_window_start(x0, s, pw, W) || !is_window_start(y0, s, ph, H)) continue;
            double sum = 0;
            for (int y = y0; y < y0 + ph; y++)
                for (int x = x0; x < x0 + pw; x++) sum += map[y * W + x];
            if (sum / (pw * ph) > *patch_score) *patch_score = sum / (pw * ph);
        }
}

/* Mean of the finite values of in[max(0, i-width+1) .. i] (NaN when none). */
static double ref_smooth_at(const double *in, int i, int width) {
    double sum = 0;
    int count = 0;
    for (int k = i - width + 1 > 0 ? i - width + 1 : 0; k <= i; k++)
        if (isfinite(in[k])) sum += in[k], count++;
    return count ? sum / count : NAN;
}

/* ---- scores --------------------------------------------------------------------------- */

/* |got - want| <= rtol |want|, in double (check_close compares floats). */
static void check_rel(const char *name, const char *what, double got, double want, double rtol) {
    double rel = fabs(got - want) / fabs(want);
    int ok = rel <= rtol;
    printf("%-24s %-6s %.10g vs ref %.10g rel %.2g (tol %.0e) %s\n", name, what, got, want, rel,
           rtol, ok ? "ok" : "FAIL");
    if (!ok) test_failures++;
}

static void test_score_case(int W, int H, int patch) {
    size_t plane = (size_t)W * H;
    float *pred = malloc(3 * plane * sizeof *pred), *frame = malloc(3 * plane * sizeof *frame);
    float *map = malloc(plane * sizeof *map), *ref_map = malloc(plane * sizeof *ref_map);
    char name[64];
    snprintf(name, sizeof name, "pred %dx%d", W, H);
    vg_fill_uniform(pred, 3 * plane, vg_seed_for(SEED, name), 0, 1);
    snprintf(name, sizeof name, "frame %dx%d", W, H);
    vg_fill_uniform(frame, 3 * plane, vg_seed_for(SEED, name), 0, 1);
    vg_score s, s_nomap;
    vg_error err = {0};
    CHECK_OK(vg_score_frame(pred, frame, W, H, patch, &s, map, &err), &err);
    CHECK_OK(vg_score_frame(pred, frame, W, H, patch, &s_nomap, NULL, &err), &err);
    double mse, patch_ref;
    ref_score(pred, frame, W, H, patch, &mse, ref_map, &patch_ref);
    snprintf(name, sizeof name, "%dx%d patch %d", W, H, patch);
    check_rel(name, "mse", s.mse, mse, 1e-10);
    check_rel(name, "psnr", s.psnr, -10 * log10(mse), 1e-10);
    check_rel(name, "patch", s.patch, patch_ref, 1e-6);
    snprintf(name, sizeof name, "%dx%d error map", W, H);
    check_close(name, map, ref_map, plane, 0, 1e-7);
    CHECK(memcmp(&s, &s_nomap, sizeof s) == 0); /* error_map NULL changes nothing */
    free(pred), free(frame), free(map), free(ref_map);
}

/* A bright 8x8 blob on an otherwise perfect prediction: the frame mean hides it, the patch
 * score does not. */
static void test_blob(void) {
    enum { W = 64, H = 64 };
    static float pred[3 * W * H], frame[3 * W * H];
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int in_blob = x >= 21 && x < 29 && y >= 37 && y < 45;
                frame[(c * H + y) * W + x] = in_blob ? 1.0f : 0.3f;
                pred[(c * H + y) * W + x] = 0.3f;
            }
    vg_score s;
    vg_error err = {0};
    CHECK_OK(vg_score_frame(pred, frame, W, H, VG_PATCH_DEFAULT, &s, NULL, &err), &err);
    double ratio = s.patch / s.mse;
    printf("%-44s patch %.4f mse %.5f ratio %.1f (>= 10) %s\n", "8x8 blob in 64x64", s.patch,
           s.mse, ratio, ratio >= 10 ? "ok" : "FAIL");
    CHECK(ratio >= 10);
}

static void test_psnr(void) {
    float a[3 * 16], b[3 * 16];
    vg_score s;
    vg_error err = {0};
    for (int i = 0; i < 48; i++) a[i] = 0.5f, b[i] = 0.5f;
    CHECK_OK(vg_score_frame(a, b, 4, 4, 2, &s, NULL, &err), &err);
    CHECK(s.mse == 0 && s.psnr == 100 && s.patch == 0);
    for (int i = 0; i < 48; i++) b[i] = 0.5f + 0x1p-20f; /* mse 9e-13: 120 dB, capped */
    CHECK_OK(vg_score_frame(a, b, 4, 4, 2, &s, NULL, &err), &err);
    CHECK(s.mse > 0 && s.psnr == 100);
    for (int i = 0; i < 48; i++) b[i] = 0.25f; /* mse 1/16: 12.04 dB */
    CHECK_OK(vg_score_frame(a, b, 4, 4, 2, &s, NULL, &err), &err);
    CHECK(s.mse == 0.0625 && fabs(s.psnr - 10 * log10(16.0)) < 1e-12);
    printf("%-44s perfect 100 dB, near-perfect capped, 1/16 -> %.4f dB\n", "psnr", s.psnr);
}

/* Expects rc == code and a message holding `word`. */
static void check_fails(int rc, const vg_error *err, int code, const char *word) {
    int ok = rc == code && strstr(err->msg, word) != NULL;
    printf("%-44s -> %d \"%s\" %s\n", word, rc, err->msg, ok ? "ok" : "FAIL");
    if (!ok) test_failures++;
}

static void test_score_args(void) {
    float a[3 * 16] = {0}, b[3 * 16] = {0};
    vg_score s;
    vg_error err = {0};
    check_fails(vg_score_frame(a, b, 0, 4, 2, &s, NULL, &err), &err, VG_ERR_ARG, "0x4");
    check_fails(vg_score_frame(a, b, 4, -1, 2, &s, NULL, &err), &err, VG_ERR_ARG, "4x-1");
    check_fails(vg_score_frame(a, b, 4, 4, 0, &s, NULL, &err), &err, VG_ERR_ARG, "patch 0");
    check_fails(vg_score_frame(NULL, b, 4, 4, 2, &s, NULL, &err), &err, VG_ERR_ARG, "NULL");
    check_fails(vg_score_frame(a, b, 4, 4, 2, NULL, NULL, &err), &err, VG_ERR_ARG, "NULL");
    a[7] = NAN;
    check_fails(vg_score_frame(a, b, 4, 4, 2, &s, NULL, &err), &err, VG_ERR_ARG, "NaN");
}

/* ---- smoothing ------------------------------------------------------------------------ */

static void test_smooth(void) {
    enum { N = 60 };
    double in[N], out[N], inplace[N];
    for (int i = 0; i < N; i++) in[i] = 30 + 5 * sin(i * 0.7) + (i % 7) * 0.1;
    in[20] = NAN, in[33] = INFINITY, in[34] = NAN; /* skipped, not spread */
    const int widths[] = {1, 2, 5, 10, N, N + 20};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        memcpy(inplace, in, sizeof in);
        vg_smooth(in, out, N, widths[w]);
        vg_smooth(inplace, inplace, N, widths[w]);
        double worst = 0;
        int same = 1;
        for (int i = 0; i < N; i++) {
            double want = widths[w] <= 1 ? in[i] : ref_smooth_at(in, i, widths[w]);
            if (isfinite(want)) worst = fmax(worst, fabs(out[i] - want));
            else same &= !isfinite(out[i]) || widths[w] <= 1;
            same &= memcmp(&out[i], &inplace[i], sizeof out[i]) == 0;
        }
        printf("smooth width %-3d max|diff| %.3g, in place identical %s\n", widths[w], worst,
               worst <= 1e-12 && same ? "ok" : "FAIL");
        CHECK(worst <= 1e-12 && same);
    }
    double gap[4] = {NAN, NAN, 1, 3};
    vg_smooth(gap, gap, 4, 2);
    CHECK(isnan(gap[0]) && isnan(gap[1]) && gap[2] == 1 && gap[3] == 2);
}

/* ---- heat map --------------------------------------------------------------------------- */

/* The PNG at path as 8-bit RGB in a new buffer; NULL (and a FAIL) when it cannot be read. */
static unsigned char *read_png(const char *path, int *W, int *H) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) {
        fprintf(stderr, "FAIL: %s: %s\n", path, img.message);
        test_failures++;
        return NULL;
    }
    CHECK(img.format == PNG_FORMAT_RGB); /* 8-bit RGB, no alpha, as written */
    img.format = PNG_FORMAT_RGB;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(img));
    if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        fprintf(stderr, "FAIL: %s: %s\n", path, img.message);
        test_failures++;
        free(buf);
        return NULL;
    }
    *W = (int)img.width, *H = (int)img.height;
    return buf;
}

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* A 40x30 frame: no error left of x = 10, a ramp to 0.5 at x = 29, 1.0 from x = 30. */
static void heat_inputs(unsigned char *rgb, float *e, int W, int H) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned char *p = rgb + 3 * (y * W + x);
            p[0] = (unsigned char)(6 * x), p[1] = (unsigned char)(8 * y), p[2] = 200;
            e[y * W + x] = x < 10 ? 0 : x < 30 ? 0.025f * (x - 9) : 1.0f;
        }
}

static void check_heat_pixels(const char *what, const unsigned char *got, const unsigned char *rgb,
                              int W, float vmax, const float *e) {
    unsigned char lut[VG_COLORMAP_SIZE][3];
    vg_colormap_inferno(lut);
    const unsigned char *clear = got + 3 * (7 * W + 5), *hot = got + 3 * (20 * W + 35);
    int ok_clear = !memcmp(clear, rgb + 3 * (7 * W + 5), 3);
    int ok_hot = !memcmp(hot, lut[255], 3);
    /* x = 19: e = 0.25, a = e / vmax, expected frame + a (colour - frame), +-1 for rounding */
    float a = e[10 * W + 19] / vmax;
    const unsigned char *mid = got + 3 * (10 * W + 19), *f = rgb + 3 * (10 * W + 19);
    const unsigned char *c = lut[(int)(a * 255 + 0.5f)];
    int ok_mid = 1;
    for (int k = 0; k < 3; k++) ok_mid &= fabsf(mid[k] - (f[k] + a * (c[k] - f[k]))) <= 1;
    printf("%-44s error 0: frame %s, error >= vmax: inferno(1) %s, a=%.2f blend %s\n", what,
           ok_clear ? "ok" : "FAIL", ok_hot ? "ok" : "FAIL", a, ok_mid ? "ok" : "FAIL");
    CHECK(ok_clear && ok_hot && ok_mid);
}

static void test_heatmap(void) {
    enum { W = 40, H = 30 };
    static unsigned char rgb[3 * W * H];
    static float e[W * H];
    heat_inputs(rgb, e, W, H);
    vg_error err = {0};
    const char *path = "test_score_heat.png";
    const float vmaxes[] = {0.5f, 0.0f}; /* 0: the 99.9th percentile, here 1.0 */
    for (int k = 0; k < 2; k++) {
        remove(path);
        CHECK_OK(vg_heatmap_png(path, rgb, e, W, H, vmaxes[k], &err), &err);
        CHECK(!file_exists("test_score_heat.png.tmp"));
        int gw = 0, gh = 0;
        unsigned char *got = read_png(path, &gw, &gh);
        if (!got) continue;
        CHECK(gw == W && gh == H);
        char what[64];
        snprintf(what, sizeof what, "heat map %dx%d vmax %g", gw, gh, vmaxes[k]);
        check_heat_pixels(what, got, rgb, W, vmaxes[k] > 0 ? vmaxes[k] : 1.0f, e);
        free(got);
    }
    CHECK_OK(vg_heatmap_png(path, rgb, e, W, H, 0.5f, &err), &err); /* replaces the file */
    check_fails(vg_heatmap_png(path, rgb, e, 0, H, 0.5f, &err), &err, VG_ERR_ARG, "0x30");
    check_fails(vg_heatmap_png(path, NULL, e, W, H, 0.5f, &err), &err, VG_ERR_ARG, "NULL");
    check_fails(vg_heatmap_png("no-such-dir/x.png", rgb, e, W, H, 0.5f, &err), &err, VG_ERR_IO,
                "no-such-dir/x.png: cannot write (No such file or directory)");
}

/* A picture libpng refuses (wider than its 1e6-pixel limit): its error comes back through
 * longjmp as VG_ERR_IO, and nothing leaks (the ASan build checks) or stays behind. */
static void test_heatmap_png_error(void) {
    enum { W = 1000001 };
    unsigned char *rgb = calloc(3 * (size_t)W, 1);
    float *e = calloc(W, sizeof *e);
    vg_error err = {0};
    check_fails(vg_heatmap_png("test_score_wide.png", rgb, e, W, 1, 1, &err), &err, VG_ERR_IO,
                "test_score_wide.png: cannot write (PNG encoder: ");
    CHECK(!file_exists("test_score_wide.png") && !file_exists("test_score_wide.png.tmp"));
    free(rgb), free(e);
}

/* An unwritable folder; root writes anywhere, so then there is nothing to test. */
static void test_permission_denied(void) {
    if (geteuid() == 0) {
        printf("%-44s skipped: running as root, which may write anywhere\n", "permission denied");
        return;
    }
    const char *dir = "test_score_ro";
    rmdir(dir);
    CHECK(mkdir(dir, 0500) == 0);
    unsigned char rgb[3] = {1, 2, 3};
    float e[1] = {0};
    vg_error err = {0};
    check_fails(vg_heatmap_png("test_score_ro/x.png", rgb, e, 1, 1, 1, &err), &err, VG_ERR_IO,
                "test_score_ro/x.png: cannot write (Permission denied)");
    rmdir(dir);
}

/* ---- timeline -------------------------------------------------------------------------- */

/* A small XML well-formedness check: nested tags match, attribute values are quoted, '&'
 * starts an entity, '<' never appears in text. Returns 1 when well-formed. */
static int xml_balanced(const char *s) {
    const char *stack[64];
    int depth = 0, elements = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '&') {
            const char *ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            int known = 0;
            for (int k = 0; k < 5; k++) known |= !strncmp(p, ents[k], strlen(ents[k]));
            if (!known) return 0;
        }
        if (*p != '<') continue;
        if (p[1] == '?') { /* the XML declaration */
            p = strstr(p, "?>");
            if (!p) return 0;
            continue;
        }
        const char *end = p + 1;
        for (char q = 0; *end && (q || *end != '>'); end++)
            if (*end == '"' || *end == '\'') q = q == *end ? 0 : q ? q : *end;
        if (*end != '>') return 0;
        size_t nlen = strcspn(p + 1 + (p[1] == '/'), " \t\n/>");
        if (p[1] == '/') {
            const char *open = depth ? stack[depth - 1] : "";
            if (strcspn(open, " \t\n/>") != nlen || strncmp(open, p + 2, nlen)) return 0;
            depth--;
        } else if (end[-1] != '/') {
            if (depth == 64) return 0;
            stack[depth++] = p + 1;
            elements++;
        }
        p = end;
    }
    return depth == 0 && elements > 0;
}

static void check_svg_file(const char *what, const char *path, const char *const *needles) {
    size_t len = 0;
    char *s = test_read_file(path, &len);
    if (!s) return;
    int missing = 0;
    for (int k = 0; needles[k]; k++)
        if (!strstr(s, needles[k])) fprintf(stderr, "  %s: no '%s'\n", path, needles[k]), missing++;
    int no_nan = !strstr(s, "nan") && !strstr(s, "inf");
    int balanced = xml_balanced(s), lint = test_xmllint_ok(path);
    printf("%-44s %zu bytes, parts %s, no nan/inf %s, tags %s, xmllint %s\n", what, len,
           missing ? "FAIL" : "ok", no_nan ? "ok" : "FAIL", balanced ? "ok" : "FAIL",
           lint < 0 ? "not installed (skipped)" : lint ? "ok" : "FAIL");
    CHECK(!missing && no_nan && balanced && lint != 0);
    CHECK(!strncmp(s, "<?xml", 5) && len > 7 && !strcmp(s + len - 7, "</svg>\n"));
    free(s);
}

static void test_timeline(void) {
    /* the checker itself: it must reject what it is there to catch */
    CHECK(xml_balanced("<a x=\"1>2\"><b/>t &amp; u</a>"));
    CHECK(!xml_balanced("<a><b></a></b>") && !xml_balanced("<a>") && !xml_balanced("<a>&</a>"));
    CHECK(!xml_balanced("<ab></a>") && !xml_balanced("<a x=\"1></a>"));
    enum { N = 300 };
    double t[N], score[N], smooth[N];
    unsigned char truth[N] = {0};
    for (int i = 0; i < N; i++) {
        t[i] = i / 25.0;
        score[i] = 32 + 1.5 * sin(i * 0.21) - (i >= 150 && i < 180 ? 6 : 0);
        truth[i] = i >= 150 && i < 180;
    }
    score[40] = NAN, score[41] = INFINITY, t[90] = NAN;
    vg_smooth(score, smooth, N, 5);
    vg_timeline tl = {.title = "Ped2 <test 01> & \"quotes\" 'x' \x01 bad \xff byte",
                      .ylabel = "PSNR dB", .t = t, .score = score, .smooth = smooth, .n = N,
                      .higher_is_normal = 1, .band_lo = 29.5, .band_hi = 34,
                      .threshold = 28.25, .has_threshold = 1, .truth = truth};
    vg_error err = {0};
    const char *path = "test_score_timeline.svg";
    CHECK_OK(vg_timeline_svg(path, &tl, &err), &err);
    CHECK(!file_exists("test_score_timeline.svg.tmp"));
    const char *const parts[] = {"<svg", "<title>Ped2 &lt;test 01&gt; &amp; &quot;quotes&quot;",
                                 "id=\"score\"", "id=\"smoothed\"", "stroke-dasharray",
                                 "threshold 28.25", "#e45756", "#54a24b", "time (s)",
                                 "PSNR dB", "normal band", "anomaly (truth)", "\xEF\xBF\xBD",
                                 NULL};
    check_svg_file("timeline 300 points, NaN, band, truth", path, parts);
}

/* The d attribute of the path with the given id: its smallest y and its point count. */
static void path_stats(const char *svg, const char *id, double *min_y, int *points) {
    char key[64];
    snprintf(key, sizeof key, "id=\"%s\"", id);
    const char *p = strstr(svg, key);
    p = p ? strstr(p, " d=\"") : NULL;
    *min_y = INFINITY, *points = 0;
    if (!p) return;
    p += 4;
    double x, y;
    int used;
    while ((*p == ' ' || *p == 'M' || *p == 'L') && sscanf(p + 1 + (*p == ' '), "%lf %lf%n",
                                                           &x, &y, &used) == 2) {
        p += 1 + (*p == ' ') + used;
        *min_y = fmin(*min_y, y), (*points)++;
    }
}

/* 200000 frames with one single-frame spike: decimated, and the spike is still drawn. */
static void test_timeline_long(void) {
    enum { N = 200000 };
    double *score = malloc(N * sizeof *score);
    for (int i = 0; i < N; i++) score[i] = 0.01 + 0.001 * sin(i * 0.01);
    score[123457] = 0.05;
    vg_timeline tl = {.ylabel = "patch error", .score = score, .n = N};
    vg_error err = {0};
    const char *path = "test_score_long.svg";
    CHECK_OK(vg_timeline_svg(path, &tl, &err), &err);
    const char *const parts[] = {"frame", "patch error", "id=\"score\"", NULL};
    check_svg_file("timeline 200000 points (decimated)", path, parts);
    size_t len = 0;
    char *s = test_read_file(path, &len);
    double min_y = INFINITY;
    int points = 0;
    if (s) path_stats(s, "score", &min_y, &points);
    /* the spike is the top of the range: 6 % padding below the plot's top edge at y = 40 */
    int ok = points <= 2 * 820 && min_y < 55 && len < 100000;
    printf("%-44s %d points, top y %.1f (spike < 55), %zu bytes %s\n", "decimation", points,
           min_y, len, ok ? "ok" : "FAIL");
    CHECK(ok);
    free(s), free(score);
}

/* Ten minutes of footage: the x axis reads m:ss; a series of NaN still makes a file. */
static void test_timeline_clock_and_empty(void) {
    enum { N = 1201 };
    static double t[N], score[N];
    for (int i = 0; i < N; i++) t[i] = i, score[i] = i % 50 == 0 ? 2 : 1;
    vg_timeline tl = {.title = "clip", .t = t, .score = score, .n = N};
    vg_error err = {0};
    CHECK_OK(vg_timeline_svg("test_score_clock.svg", &tl, &err), &err);
    const char *const parts[] = {"time (m:ss)", ">10:00<", ">20:00<", NULL};
    check_svg_file("timeline 20 minutes", "test_score_clock.svg", parts);
    double nans[3] = {NAN, NAN, NAN};
    vg_timeline none = {.score = nans, .n = 3};
    CHECK_OK(vg_timeline_svg("test_score_nan.svg", &none, &err), &err);
    const char *const empty_parts[] = {"id=\"score\"", NULL};
    check_svg_file("timeline of NaN only", "test_score_nan.svg", empty_parts);
}

static void test_timeline_args(void) {
    double v[2] = {1, 2};
    vg_error err = {0};
    vg_timeline tl = {.score = v, .n = 0};
    check_fails(vg_timeline_svg("x.svg", &tl, &err), &err, VG_ERR_ARG, "no scores (n = 0)");
    tl.n = 2, tl.band_lo = 3, tl.band_hi = 1;
    check_fails(vg_timeline_svg("x.svg", &tl, &err), &err, VG_ERR_ARG, "normal band");
    tl.band_lo = tl.band_hi = 0, tl.has_threshold = 1, tl.threshold = NAN;
    check_fails(vg_timeline_svg("x.svg", &tl, &err), &err, VG_ERR_ARG, "threshold");
    check_fails(vg_timeline_svg(NULL, &tl, &err), &err, VG_ERR_ARG, "NULL");
    tl.has_threshold = 0;
    check_fails(vg_timeline_svg("no-such-dir/t.svg", &tl, &err), &err, VG_ERR_IO,
                "no-such-dir/t.svg: cannot write (No such file or directory)");
    CHECK(!file_exists("x.svg"));
}

/* ---- lanes: cameras scored in batches ---------------------------------------------------- */

/* Three cameras pushed to one 3-lane scorer in batches of 3, 2 and 1 (lanes in varying
 * order, one lane reset midway) score as three 1-lane scorers do. Tolerance: rel 1e-4 on
 * the MSE, since oneDNN may sum a batch's convolutions in another order than one frame's. */
static void test_lanes_model(const char *encoder) {
    enum { L = 3, STEPS = 9, W = 64, H = 64 };
    vg_model_params mp = vg_model_default_params();
    mp.encoder = encoder, mp.width = W, mp.height = H, mp.frames = 2, mp.threads = 1;
    vg_model *m = NULL;
    vg_error err = {0};
    CHECK_OK(vg_model_create(&mp, &m, &err), &err);
    if (!m) return;
    vg_scorer *one[L] = {0}, *multi = NULL;
    for (int l = 0; l < L; l++) CHECK_OK(vg_scorer_create(m, 16, &one[l], &err), &err);
    CHECK_OK(vg_scorer_create_lanes(m, 16, L, &multi, &err), &err);
    size_t fb = (size_t)W * H * 3;
    unsigned char *rgb = malloc(fb * L);
    double worst = 0;
    int compared = 0, agree = 1;
    for (int step = 0; step < STEPS && multi; step++) {
        /* batches: all three, then lanes 2 and 0, then lane 1 alone, ... */
        int n = 3 - step % 3, lane[L] = {2, 0, 1};
        if (step == 5) {
            vg_scorer_reset_lane(multi, 1);
            vg_scorer_reset(one[1]);
        }
        const unsigned char *frames[L];
        for (int i = 0; i < n; i++) {
            for (size_t b = 0; b < fb; b++)
                rgb[i * fb + b] = (unsigned char)((b * 7 + step * 13 + lane[i] * 101) % 251);
            frames[i] = rgb + i * fb;
        }
        vg_score got[L], want;
        int scored[L], scored1 = 0;
        CHECK_OK(vg_scorer_push_lanes(multi, n, lane, frames, got, NULL, NULL, scored, &err), &err);
        for (int i = 0; i < n; i++) {
            CHECK_OK(vg_scorer_push(one[lane[i]], frames[i], &want, NULL, NULL, &scored1, &err),
                     &err);
            agree &= scored[i] == scored1;
            if (!scored1 || !scored[i]) continue;
            double rel = fabs(got[i].mse - want.mse) / want.mse;
            worst = rel > worst ? rel : worst;
            compared++;
        }
    }
    int ok = agree && compared >= 6 && worst <= 1e-4;
    printf("%-44s %d frames compared, largest mse rel %.2g (tol 1e-4) %s\n", encoder, compared,
           worst, ok ? "ok" : "FAIL");
    CHECK(ok);
    int bad = 0, dup[2] = {1, 1};
    const unsigned char *two[2] = {rgb, rgb};
    vg_score sc[2];
    int scored[2];
    bad = vg_scorer_push_lanes(multi, 2, dup, two, sc, NULL, NULL, scored, &err);
    printf("%-44s -> %d \"%s\"\n", "the same lane twice in one call", bad, err.msg);
    CHECK(bad == VG_ERR_ARG);
    free(rgb);
    for (int l = 0; l < L; l++) vg_scorer_free(one[l]);
    vg_scorer_free(multi);
    vg_model_free(m);
}

/* ---- the frame step ----------------------------------------------------------------------- */

/* A stream of a model with step 3 predicts frame n from frames n-12, n-9, n-6, n-3: exactly
 * what vg_model_predict gives on those four (both run the same plans, so tolerance 0), and
 * its first prediction comes after the context of 12 frames. The step survives a save and
 * load. */
static void test_step_model(const char *encoder) {
    enum { T = 4, STEP = 3, W = 64, H = 64, FRAMES = T * STEP + 4 };
    vg_model_params mp = vg_model_default_params();
    mp.encoder = encoder, mp.width = W, mp.height = H, mp.frames = T, mp.step = STEP;
    mp.threads = 1;
    vg_model *m = NULL, *back = NULL;
    vg_error err = {0};
    CHECK_OK(vg_model_create(&mp, &m, &err), &err);
    if (!m) return;
    const char *path = "test_score_step.safetensors";
    CHECK_OK(vg_model_save(m, path, &err), &err);
    CHECK_OK(vg_model_load(path, 1, &back, &err), &err);
    remove(path);
    vg_model_info i = back ? vg_model_describe(back) : vg_model_describe(m);
    CHECK(i.step == STEP && i.context == T * STEP);
    size_t img = (size_t)3 * W * H;
    float *clip = malloc(FRAMES * img * sizeof *clip), *next = malloc(img * sizeof *next);
    float *window = malloc(T * img * sizeof *window), *want = malloc(img * sizeof *want);
    for (size_t k = 0; k < FRAMES * img; k++) clip[k] = (float)((k * 7919 % 1000) / 500.0 - 1);
    vg_stream *s = NULL;
    CHECK_OK(vg_stream_create(back, &s, &err), &err);
    double worst = 0;
    int predictions = 0, timing = 1;
    for (int n = 0; n < FRAMES && s; n++) {
        int ready = 0;
        CHECK_OK(vg_stream_push(s, clip + n * img, next, &ready, &err), &err);
        timing &= ready == (n + 1 >= T * STEP);
        if (!ready) continue;
        for (int t = 0; t < T; t++) /* the prediction of frame n + 1 */
            memcpy(window + t * img, clip + (n + 1 - T * STEP + t * STEP) * img,
                   img * sizeof *window);
        CHECK_OK(vg_model_predict(back, window, 1, want, &err), &err);
        for (size_t k = 0; k < img; k++) worst = fmax(worst, fabs((double)next[k] - want[k]));
        predictions++;
    }
    int ok = timing && predictions == FRAMES - T * STEP + 1 && worst == 0;
    printf("%-12s step %d: %d predictions after %d context frames, max|stream - batch| = %g "
           "(tol 0) %s\n", encoder, STEP, predictions, i.context, worst, ok ? "ok" : "FAIL");
    CHECK(ok);
    mp.step = 0;
    vg_model *bad = NULL;
    int rc = vg_model_create(&mp, &bad, &err);
    printf("%-44s -> %d \"%s\"\n", "step 0", rc, err.msg);
    CHECK(rc == VG_ERR_ARG && !bad);
    vg_stream_free(s);
    vg_model_free(back);
    vg_model_free(m);
    free(clip), free(next), free(window), free(want);
}

int main(void) {
    const int cases[][3] = {{64, 48, 16}, {37, 29, 8}, {33, 17, 16}, {10, 7, 16}, {12, 50, 16},
                            {40, 40, 1},  {31, 23, 5}, {45, 45, 2},  {224, 224, 16}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        test_score_case(cases[k][0], cases[k][1], cases[k][2]);
    test_blob();
    test_psnr();
    test_score_args();
    test_smooth();
    test_heatmap();
    test_heatmap_png_error();
    test_permission_denied();
    test_timeline();
    test_timeline_long();
    test_timeline_clock_and_empty();
    test_timeline_args();
    test_lanes_model("mobilenet_v2");
    test_lanes_model("unet");
    test_step_model("unet");
    test_step_model("mobilenet_v2");
    return test_result();
}
