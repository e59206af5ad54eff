/* test_video.c - video sources (files, image folders, URLs, devices) and clip lists.
 *
 * Fixtures are made here, in a temporary folder, with the ffmpeg command; the checks that
 * need them report "skipped" when ffmpeg is not on PATH. They are: 20-frame testsrc clips
 * in H.264/mp4, H.265/mkv, MPEG-4/avi, MJPEG/mov and gray FFV1/mkv; pictures of three
 * coloured stripes, on which ROI, resizing and fit are checked by pixel colour; png folders
 * named 1, 2, 3, 10; a truncated clip; an audio-only file. The ped2 checks read ../shared
 * and are skipped without it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "video/video.h"
#include "vigil/vigil.h"

static const char *tmpdir; /* test_tmpdir's, where ffmpeg runs */
static int have_ffmpeg;

/* Runs ffmpeg with args (a printf format) in the temporary folder; 1 when it succeeded. */
static int ffmpeg(const char *fmt, ...) {
    char args[1024], cmd[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && ffmpeg -nostdin -hide_banner -loglevel error -y %s",
             tmpdir, args);
    int ok = system(cmd) == 0;
    if (!ok) fprintf(stderr, "FAIL fixture: %s\n", cmd);
    CHECK(ok);
    return ok;
}

static void copy_prefix(const char *from, const char *to, double fraction) {
    size_t n = 0;
    char *buf = test_read_file(from, &n);
    CHECK(!buf || n > 0);
    if (buf) test_write_file(to, buf, (size_t)(n * fraction));
    free(buf);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* vg_source_params.abort: stop 0.2 s after the time at user. */
static int after_200ms(void *user) { return now() - *(const double *)user > 0.2; }


/* What reading a whole source gave. */
typedef struct run {
    int rc;      /* of vg_source_open */
    vg_error e;  /* of the open, or of the read that ended the source */
    int end_rc;  /* of that read: VG_END for a source read to its end */
    long long frames, errors;
    int width, height, same_size, indices_ok, pts_increasing;
    double first_pts, last_pts, second_pts, fps;
    unsigned char *first, *last; /* copies of the first and last frames */
} run;

static unsigned char *copy_frame(unsigned char *old, const vg_frame *f) {
    size_t n = (size_t)f->width * f->height * 3;
    unsigned char *p = realloc(old, n);
    if (p) memcpy(p, f->rgb, n);
    return p;
}

/* Opens uri with p and reads up to max frames (max <= 0: all). */
static run read_source(const char *uri, const vg_source_params *p, long long max) {
    run r = {.same_size = 1, .indices_ok = 1, .pts_increasing = 1};
    vg_source *s = NULL;
    r.rc = vg_source_open(uri, p, &s, &r.e);
    if (r.rc != VG_OK) return r;
    r.fps = vg_source_fps(s);
    vg_frame f;
    while ((max <= 0 || r.frames < max) && (r.end_rc = vg_source_read(s, &f, &r.e)) == VG_OK) {
        if (r.frames == 0) {
            r.width = f.width, r.height = f.height, r.first_pts = f.pts;
            r.first = copy_frame(NULL, &f);
        } else {
            r.same_size &= f.width == r.width && f.height == r.height;
            r.pts_increasing &= f.pts > r.last_pts;
        }
        if (r.frames == 1) r.second_pts = f.pts;
        r.indices_ok &= f.index == r.frames;
        r.last_pts = f.pts;
        r.last = copy_frame(r.last, &f);
        r.frames++;
    }
    r.errors = vg_source_errors(s);
    vg_source_close(s);
    return r;
}

static void run_free(run *r) {
    free(r->first);
    free(r->last);
}

/* Whether pixel (x, y) of frame rgb (width w) is within tol of colour c (0xRRGGBB). */
static int pixel_is(const unsigned char *rgb, int w, int x, int y, unsigned c, int tol) {
    if (!rgb) return 0;
    const unsigned char *px = rgb + ((size_t)y * w + x) * 3;
    int want[3] = {(int)(c >> 16) & 255, (int)(c >> 8) & 255, (int)c & 255};
    for (int k = 0; k < 3; k++)
        if (abs(px[k] - want[k]) > tol) return 0;
    return 1;
}

/* The message of a refusal must be one line that starts with the path. */
static int names(const vg_error *e, const char *path) {
    size_t n = strlen(path);
    return strncmp(e->msg, path, n) == 0 && e->msg[n] == ':' && !strchr(e->msg, '\n');
}

/* Opens uri with p, expecting code and a message that starts with uri and holds needle. */
static void expect_refusal(const char *what, const char *uri, const vg_source_params *p,
                           int code, const char *needle) {
    run r = read_source(uri, p, 1);
    int ok = r.rc == code && names(&r.e, uri) && strstr(r.e.msg, needle);
    printf("refused %-22s code %d: %s %s\n", what, r.rc, r.e.msg, ok ? "ok" : "FAIL");
    CHECK(ok);
    run_free(&r);
}

/* expect_refusal, given up within lo .. hi seconds. */
static void timed_refusal(const char *name, const char *url, const vg_source_params *p, int code,
                          const char *msg, double lo, double hi) {
    double t0 = now();
    expect_refusal(name, url, p, code, msg);
    double dt = now() - t0;
    printf("%s: given up after %.3f s (%g .. %g s) %s\n", name, dt, lo, hi,
           dt >= lo && dt < hi ? "ok" : "FAIL");
    CHECK(dt >= lo && dt < hi);
}

/* ---- natural order ---- */

static void test_natural_order(void) {
    CHECK(vg_natcmp("2.png", "10.png") < 0 && vg_natcmp("10.png", "2.png") > 0);
    CHECK(vg_natcmp("frame9", "frame10") < 0 && vg_natcmp("a2b", "a10b") < 0);
    CHECK(vg_natcmp("x", "x1") < 0 && vg_natcmp("abc", "abd") < 0);
    CHECK(vg_natcmp("007", "7") != 0 && vg_natcmp("007", "7") == -vg_natcmp("7", "007"));
    CHECK(vg_natcmp("99999999999999999999", "100000000000000000000") < 0); /* beyond 64 bits */
    CHECK(vg_natcmp("same", "same") == 0);
    CHECK(vg_is_image_name("A.JPG") && vg_is_image_name("b.Tiff") && !vg_is_image_name("png"));
    CHECK(vg_is_video_name("c.MKV") && !vg_is_video_name("c.txt"));
    printf("natural order: 2 < 10, digits beyond 64 bits, case-insensitive extensions %s\n",
           test_failures ? "FAIL" : "ok");
}

/* ---- video files ---- */

static void check_clip(const char *what, const char *file, unsigned gray) {
    vg_source_params p = vg_source_default_params();
    run r = read_source(test_path(file), &p, 0);
    int ok = r.rc == VG_OK && r.end_rc == VG_END && r.frames == 20 && r.errors == 0 &&
             r.width == 64 && r.height == 48 && r.same_size && r.indices_ok &&
             r.pts_increasing && fabs(r.first_pts) < 1e-9 && fabs(r.last_pts - 1.9) < 1e-3 &&
             fabs(r.fps - 10) < 1e-9;
    if (gray) /* every pixel R = G = B */
        for (int i = 0; ok && i < 64 * 48; i++)
            ok = r.first[3 * i] == r.first[3 * i + 1] && r.first[3 * i] == r.first[3 * i + 2];
    printf("%-16s %lld frames %dx%d, pts %.3f..%.3f, %.0f fps, %lld errors%s %s\n", what,
           r.frames, r.width, r.height, r.first_pts, r.last_pts, r.fps, r.errors,
           gray ? ", R = G = B" : "", ok ? "ok" : "FAIL");
    if (r.rc != VG_OK || r.end_rc != VG_END) fprintf(stderr, "  %s\n", r.e.msg);
    CHECK(ok);
    run_free(&r);
}

static void test_files(void) {
    check_clip("H.264 mp4", "h264.mp4", 0);
    check_clip("H.265 mkv", "hevc.mkv", 0);
    check_clip("MPEG-4 avi", "mpeg4.avi", 0);
    check_clip("MJPEG mov", "mjpeg.mov", 0);
    check_clip("gray FFV1 mkv", "gray.mkv", 1);

    /* resized as it is read */
    vg_source_params p = vg_source_default_params();
    p.width = 40, p.height = 30;
    run r = read_source(test_path("h264.mp4"), &p, 0);
    int ok = r.rc == VG_OK && r.frames == 20 && r.width == 40 && r.height == 30 && r.same_size;
    printf("H.264 resized    %lld frames %dx%d %s\n", r.frames, r.width, r.height,
           ok ? "ok" : "FAIL");
    CHECK(ok);
    run_free(&r);
}

/* A file cut short delivers the frames before the cut, counts what it lost, then ends. */
static void test_truncated(void) {
    const char *cuts[][2] = {{"whole.mkv", "cut.mkv"}, {"whole.avi", "cut.avi"}};
    for (int i = 0; i < 2; i++) {
        copy_prefix(test_path(cuts[i][0]), test_path(cuts[i][1]), 0.6);
        vg_source_params p = vg_source_default_params();
        run r = read_source(test_path(cuts[i][1]), &p, 0);
        int ok = r.rc == VG_OK && r.end_rc == VG_END && r.frames >= 5 && r.frames < 20 &&
                 r.errors >= 1 && r.pts_increasing;
        printf("truncated %-6s %lld of 20 frames, %lld errors, then end %s\n", cuts[i][1] + 4,
               r.frames, r.errors, ok ? "ok" : "FAIL");
        if (r.rc != VG_OK) fprintf(stderr, "  %s\n", r.e.msg);
        CHECK(ok);
        run_free(&r);
    }
    /* an mp4 keeps its index at the end: cut, there is nothing to read */
    copy_prefix(test_path("h264.mp4"), test_path("cut.mp4"), 0.6);
    vg_source_params p = vg_source_default_params();
    expect_refusal("truncated mp4", test_path("cut.mp4"), &p, VG_ERR_FORMAT, "cannot read this");
}

/* Realtime delivery takes as long as the frames' timestamps say. */
static void test_realtime(void) {
    vg_source_params p = vg_source_default_params();
    p.realtime = 1;
    double t0 = now();
    run r = read_source(test_path("h264.mp4"), &p, 6); /* 10 fps: 5 intervals of 0.1 s */
    double dt = now() - t0;
    int ok = r.rc == VG_OK && r.frames == 6 && dt >= 0.48 && dt < 1.5;
    printf("realtime         6 frames at 10 fps in %.3f s (>= 0.5 s) %s\n", dt, ok ? "ok" : "FAIL");
    CHECK(ok);
    run_free(&r);
}

/* ---- ROI, resizing and fit, by colour ---- */

#define RED 0xff0000u
#define GREEN 0x00ff00u
#define BLUE 0x0000ffu
#define BLACK 0x000000u

/* Opens path with the given geometry and checks the size and the colours of pixels of
 * the first frame: probes is a list of x, y, colour, ended by x < 0. */
static void check_colours(const char *what, const char *path, const vg_source_params *p, int w,
                          int h, int tol, const int (*probes)[3]) {
    run r = read_source(path, p, 1);
    int ok = r.rc == VG_OK && r.width == w && r.height == h;
    for (int i = 0; ok && probes[i][0] >= 0; i++) {
        ok = pixel_is(r.first, w, probes[i][0], probes[i][1], (unsigned)probes[i][2], tol);
        if (!ok) {
            const unsigned char *px = r.first + ((size_t)probes[i][1] * w + probes[i][0]) * 3;
            fprintf(stderr, "  (%d,%d) is %d,%d,%d, want %06x\n", probes[i][0], probes[i][1],
                    px[0], px[1], px[2], (unsigned)probes[i][2]);
        }
    }
    printf("%-44s %dx%d %s\n", what, r.width, r.height, ok ? "ok" : "FAIL");
    if (r.rc != VG_OK) fprintf(stderr, "  %s\n", r.e.msg);
    CHECK(ok);
    run_free(&r);
}

static vg_source_params geometry(int w, int h, vg_fit fit, int rx, int ry, int rw, int rh) {
    vg_source_params p = vg_source_default_params();
    p.width = w, p.height = h, p.fit = fit;
    p.roi_x = rx, p.roi_y = ry, p.roi_w = rw, p.roi_h = rh;
    return p;
}

static void test_geometry(void) {
    const char *wide = test_path("wide.png"), *tall = test_path("tall.png");
    vg_source_params p = geometry(0, 0, VG_FIT_STRETCH, 0, 0, 0, 0);
    check_colours("as is: 96x32, exact", wide, &p, 96, 32, 0,
                  (const int[][3]){{0, 0, RED}, {31, 31, RED}, {32, 0, GREEN}, {63, 31, GREEN},
                                   {64, 0, BLUE}, {95, 31, BLUE}, {-1}});
    p = geometry(48, 16, VG_FIT_STRETCH, 0, 0, 0, 0);
    check_colours("stretch 96x32 -> 48x16", wide, &p, 48, 16, 2,
                  (const int[][3]){{0, 0, RED}, {14, 15, RED}, {18, 8, GREEN}, {29, 8, GREEN},
                                   {34, 0, BLUE}, {47, 15, BLUE}, {-1}});
    p = geometry(32, 32, VG_FIT_CROP, 0, 0, 0, 0);
    check_colours("crop 96x32 -> 32x32: the green centre", wide, &p, 32, 32, 2,
                  (const int[][3]){{0, 0, GREEN}, {31, 31, GREEN}, {0, 31, GREEN},
                                   {31, 0, GREEN}, {-1}});
    p = geometry(32, 32, VG_FIT_CROP, 0, 0, 0, 0);
    check_colours("crop 32x96 -> 32x32: the green centre", tall, &p, 32, 32, 2,
                  (const int[][3]){{0, 0, GREEN}, {31, 31, GREEN}, {0, 31, GREEN},
                                   {31, 0, GREEN}, {-1}});
    /* 96x32 into 32x32: 32x11 (32 * 32/96 = 10.7, rounded) at rows 10..20 */
    p = geometry(32, 32, VG_FIT_PAD, 0, 0, 0, 0);
    check_colours("pad 96x32 -> 32x32: bars above and below", wide, &p, 32, 32, 2,
                  (const int[][3]){{16, 0, BLACK}, {16, 9, BLACK}, {3, 15, RED}, {16, 15, GREEN},
                                   {28, 15, BLUE}, {16, 21, BLACK}, {31, 31, BLACK}, {-1}});
    p = geometry(32, 32, VG_FIT_PAD, 0, 0, 0, 0);
    check_colours("pad 32x96 -> 32x32: bars left and right", tall, &p, 32, 32, 2,
                  (const int[][3]){{0, 16, BLACK}, {9, 16, BLACK}, {15, 3, RED}, {15, 16, GREEN},
                                   {15, 28, BLUE}, {21, 16, BLACK}, {31, 31, BLACK}, {-1}});
    p = geometry(0, 0, VG_FIT_STRETCH, 64, 0, 32, 32);
    check_colours("ROI x=64 w=32: blue, 32x32", wide, &p, 32, 32, 0,
                  (const int[][3]){{0, 0, BLUE}, {31, 31, BLUE}, {-1}});
    p = geometry(0, 0, VG_FIT_STRETCH, 16, 4, 32, 24);
    check_colours("ROI x=16 w=32: half red, half green", wide, &p, 32, 24, 0,
                  (const int[][3]){{0, 0, RED}, {15, 23, RED}, {16, 0, GREEN}, {31, 23, GREEN},
                                   {-1}});
    /* a tall green ROI padded into a square: bars left and right */
    p = geometry(32, 32, VG_FIT_PAD, 40, 0, 16, 32);
    check_colours("ROI 16x32 padded -> 32x32", wide, &p, 32, 32, 2,
                  (const int[][3]){{0, 16, BLACK}, {7, 16, BLACK}, {8, 0, GREEN}, {23, 31, GREEN},
                                   {24, 16, BLACK}, {-1}});
    /* 4:2:0: an odd x goes through RGB first; an even x is cut from the planes, and its
     * width of 30 (not a multiple of 8) must be converted to the last pixel */
    const char *wide264 = test_path("wide.mp4");
    p = geometry(0, 0, VG_FIT_STRETCH, 33, 1, 30, 30);
    check_colours("4:2:0 ROI at odd x=33 w=30: green", wide264, &p, 30, 30, 12,
                  (const int[][3]){{0, 0, GREEN}, {29, 0, GREEN}, {29, 29, GREEN}, {-1}});
    p = geometry(0, 0, VG_FIT_STRETCH, 34, 2, 30, 30);
    check_colours("4:2:0 ROI at even x=34 w=30: green", wide264, &p, 30, 30, 12,
                  (const int[][3]){{0, 0, GREEN}, {29, 0, GREEN}, {29, 29, GREEN}, {-1}});
    p = geometry(0, 0, VG_FIT_STRETCH, 4, 0, 90, 32);
    check_colours("4:2:0 ROI x=4 w=90: red .. blue", wide264, &p, 90, 32, 12,
                  (const int[][3]){{0, 0, RED}, {45, 16, GREEN}, {89, 31, BLUE}, {-1}});

    p = geometry(0, 0, VG_FIT_STRETCH, 80, 0, 32, 32);
    expect_refusal("ROI outside", wide, &p, VG_ERR_ARG,
                   "ROI x=80 y=0 w=32 h=32 is outside the 96x32 frame");
    p = geometry(16, 16, VG_FIT_CROP, 0, 20, 96, 20);
    expect_refusal("ROI below", wide, &p, VG_ERR_ARG, "is outside the 96x32 frame");
}

/* ---- image folders ---- */

static void make_folder(const char *name) { CHECK(mkdir(test_path(name), 0700) == 0); }

static void test_folders(void) {
    test_write_file(test_path("pngs/notes.txt"), "not an image", 12);
    test_write_file(test_path("pngs/._1.png"), "resource fork", 13); /* hidden: ignored */

    /* 1, 2, 3, 10; the 8x32 picture 3.PNG is stretched to the size of the first */
    vg_source_params p = vg_source_default_params();
    vg_source *s = NULL;
    vg_error e = {0};
    CHECK_OK(vg_source_open(test_path("pngs"), &p, &s, &e), &e);
    const unsigned order[] = {RED, GREEN, 0xffff00u, BLUE};
    vg_frame f;
    int ok = s && vg_source_fps(s) == 25;
    for (int i = 0; ok && i < 4; i++)
        ok = vg_source_read(s, &f, &e) == VG_OK && f.index == i && fabs(f.pts - i / 25.0) < 1e-12 &&
             f.width == 16 && f.height == 16 && pixel_is(f.rgb, 16, 8, 8, order[i], 0);
    ok = ok && vg_source_read(s, &f, &e) == VG_END && vg_source_read(s, &f, &e) == VG_END &&
         vg_source_errors(s) == 0;
    vg_source_close(s);
    printf("png folder: 1, 2, 3 (.PNG), 10 in natural order, pts i/25, one size %s\n",
           ok ? "ok" : "FAIL");
    CHECK(ok);

    /* a damaged image is counted and skipped; timestamps keep each image's place */
    make_folder("damaged");
    CHECK(rename(test_path("pngs/1.png"), test_path("damaged/1.png")) == 0);
    CHECK(rename(test_path("pngs/10.png"), test_path("damaged/3.png")) == 0);
    test_write_file(test_path("damaged/2.png"), "\x89PNG\r\n\x1a\n but no more", 20);
    p.folder_fps = 10;
    run r = read_source(test_path("damaged"), &p, 0);
    ok = r.rc == VG_OK && r.end_rc == VG_END && r.frames == 2 && r.errors == 1 &&
         fabs(r.second_pts - 0.2) < 1e-12 && r.fps == 10 && pixel_is(r.last, 16, 0, 0, BLUE, 0);
    printf("folder with a damaged image: %lld frames, %lld error, pts 0 then %.1f %s\n", r.frames,
           r.errors, r.second_pts, ok ? "ok" : "FAIL");
    CHECK(ok);
    run_free(&r);

    make_folder("empty");
    expect_refusal("empty folder", test_path("empty"), &p, VG_ERR_FORMAT,
                   "no images (jpg, jpeg, png");
    make_folder("bad");
    test_write_file(test_path("bad/1.jpg"), "not a jpeg", 10);
    expect_refusal("folder of bad images", test_path("bad"), &p, VG_ERR_FORMAT,
                   "none of its 1 images could be read (last: ");
}

/* ---- refusals ---- */

/* A socket listening on a free port of 127.0.0.1 (never accepting); url gets
 * "scheme://127.0.0.1:PORT/x". Returns the socket, or -1. */
static int listen_on(char *url, const char *scheme, size_t size) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 4) == 0 &&
             getsockname(fd, (struct sockaddr *)&a, &n) == 0;
    CHECK(ok);
    snprintf(url, size, "%s://127.0.0.1:%d/x", scheme, ntohs(a.sin_port));
    if (!ok && fd >= 0) close(fd);
    return ok ? fd : -1;
}

static void test_refusals(void) {
    vg_source_params p = vg_source_default_params();
    expect_refusal("missing file", test_path("clip.mp4"), &p, VG_ERR_IO, ": no such file");
    expect_refusal("missing device", "/dev/video99", &p, VG_ERR_IO, "/dev/video99: no such device");
    test_write_file(test_path("notes.txt"), "some notes\nabout the footage\n", 30);
    expect_refusal("text file", test_path("notes.txt"), &p, VG_ERR_FORMAT,
                   ": not a video or image (ffmpeg: Invalid data found when processing input)");
    unsigned char junk[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) /* a linear congruential generator */
        junk[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 24);
    test_write_file(test_path("junk.mp4"), junk, sizeof junk);
    expect_refusal("random bytes", test_path("junk.mp4"), &p, VG_ERR_FORMAT,
                   ": not a video or image");
    test_write_file(test_path("zero.avi"), "", 0);
    expect_refusal("empty file", test_path("zero.avi"), &p, VG_ERR_FORMAT, ": not a video or image");
    if (have_ffmpeg)
        expect_refusal("audio only", test_path("tone.wav"), &p, VG_ERR_FORMAT, ": no video stream");

    /* nothing listens on port 1: refused at once, and the timeout bounds it anyway */
    p.timeout_ms = 500;
    double t0 = now();
    expect_refusal("rtsp, nobody there", "rtsp://127.0.0.1:1/x", &p, VG_ERR_IO,
                   "rtsp://127.0.0.1:1/x: cannot connect (Connection refused)");
    expect_refusal("http, nobody there", "http://127.0.0.1:1/x.mp4", &p, VG_ERR_IO,
                   ": cannot connect (Connection refused)");
    double dt = now() - t0;
    printf("unreachable URLs answered in %.3f s (< 2 s) %s\n", dt, dt < 2 ? "ok" : "FAIL");
    CHECK(dt < 2);

    /* a server that takes the connection (the kernel does, for a listening socket) and
     * never answers: only the timeout ends the wait */
    char url[64];
    int fd = listen_on(url, "rtsp", sizeof url);
    timed_refusal("rtsp, silent server", url, &p, VG_ERR_IO,
                  ": cannot connect (no answer within 500 ms)", 0.5, 1.5);
    /* the caller's abort ends the same wait long before a 10 s timeout */
    vg_source_params q = p;
    q.timeout_ms = 10000, q.abort = after_200ms, q.abort_user = &t0;
    t0 = now();
    timed_refusal("rtsp, silent server, aborted", url, &q, VG_ERR_ABORTED,
                  ": interrupted (the reader was asked to stop)", 0.2, 1);
    if (fd >= 0) close(fd);
    /* a character device that is not a camera goes to video4linux2, which says no */
    expect_refusal("not a V4L2 device", "/dev/null", &p, VG_ERR_IO,
                   "/dev/null: cannot open the device (");

    const char *any = test_path("any.mp4");
    vg_source_params bad[6];
    for (int i = 0; i < 6; i++) bad[i] = vg_source_default_params();
    bad[0].width = 64;           /* height missing */
    bad[1].roi_x = -1, bad[1].roi_w = bad[1].roi_h = 8;
    bad[2].roi_w = 8;            /* roi_h missing */
    bad[3].fit = (vg_fit)7;
    bad[4].timeout_ms = -1;
    bad[5].folder_fps = 0;
    const char *needles[] = {"output size 64x0", "ROI x=-1", "ROI x=0 y=0 w=8 h=0", "fit 7",
                             "timeout_ms -1", "folder_fps 0"};
    for (int i = 0; i < 6; i++)
        expect_refusal("bad parameters", any, &bad[i], VG_ERR_ARG, needles[i]);
    vg_source *s = (vg_source *)1;
    vg_error e = {0};
    int ok = vg_source_open("", &p, &s, &e) == VG_ERR_ARG && s == NULL && strstr(e.msg, "no path");
    printf("refused empty uri: %s %s\n", e.msg, ok ? "ok" : "FAIL");
    CHECK(ok);
    vg_source_close(NULL);
}

/* ---- a live stream ---- */

/* ffmpeg serves h264.mp4 once as MPEG-TS over HTTP; the source reads it to its end. */
static void test_network(void) {
    char url[64];
    int fd = listen_on(url, "http", sizeof url); /* finds a free port, then frees it */
    if (fd < 0) return;
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && timeout 20 ffmpeg -nostdin -loglevel error -i h264.mp4 "
             "-c copy -f mpegts -listen 1 %s >/dev/null 2>&1 &", tmpdir, url);
    CHECK(system(cmd) == 0);
    vg_source_params p = vg_source_default_params();
    p.timeout_ms = 2000;
    run r = {0};
    for (int tries = 0; tries < 50; tries++) { /* until the server listens */
        run_free(&r);
        r = read_source(url, &p, 0);
        if (r.rc != VG_ERR_IO || !strstr(r.e.msg, "Connection refused")) break;
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    int ok = r.rc == VG_OK && r.end_rc == VG_END && r.frames == 20 && r.errors == 0 &&
             r.width == 64 && r.height == 48 && r.pts_increasing && fabs(r.first_pts) < 1e-9 &&
             fabs(r.last_pts - 1.9) < 1e-3 && fabs(r.fps - 10) < 1e-9;
    printf("HTTP live stream %lld frames %dx%d, pts %.3f..%.3f, %.0f fps %s\n", r.frames, r.width,
           r.height, r.first_pts, r.last_pts, r.fps, ok ? "ok" : "FAIL");
    if (!ok) fprintf(stderr, "  %s\n", r.e.msg);
    CHECK(ok);
    run_free(&r);
}

/* ---- clip lists ---- */

/* Lists path, expecting the clips' names (the last part of each path), NULL-ended. */
static void expect_clips(const char *what, const char *path, const char *const *want) {
    char **clips = NULL;
    int n = -1;
    vg_error e = {0};
    int rc = vg_clips_list(path, &clips, &n, &e);
    int ok = rc == VG_OK, count = 0;
    for (; want[count]; count++) {
        /* a wanted name with a '/' is a whole path */
        const char *name = count < n ? strrchr(clips[count], '/') : NULL;
        if (name && !strchr(want[count], '/')) name++;
        else name = count < n ? clips[count] : NULL;
        ok = ok && name && strcmp(name, want[count]) == 0;
    }
    ok = ok && n == count;
    printf("clips of %-34s %d: %s%s .. %s %s\n", what, n, rc ? e.msg : "", n > 0 ? clips[0] : "",
           n > 0 ? strrchr(clips[n - 1], '/') + 1 : "", ok ? "ok" : "FAIL");
    CHECK(ok);
    vg_clips_free(clips, n);
}

static void test_clips(void) {
    /* names are all listing looks at: empty files do */
    make_folder("clips");
    const char *dirs[] = {"clips/10", "clips/2", "clips/b", "clips/c"};
    for (int i = 0; i < 4; i++) make_folder(dirs[i]);
    const char *files[] = {"clips/10/1.jpg", "clips/2/000.JPEG", "clips/c/notes.txt",
                           "clips/10.mp4", "clips/2.mkv", "clips/x.txt", "clips/.hidden.avi"};
    for (int i = 0; i < 7; i++) test_write_file(test_path(files[i]), "", 0);
    expect_clips("a folder of clips", test_path("clips"),
                 (const char *[]){"2", "2.mkv", "10", "10.mp4", NULL});
    expect_clips("a folder of images", test_path("clips/10"), (const char *[]){"10", NULL});
    expect_clips("a file", test_path("clips/x.txt"), (const char *[]){"x.txt", NULL});
    expect_clips("a URL", "rtsp://cam.local/stream",
                 (const char *[]){"rtsp://cam.local/stream", NULL});

    char **clips = (char **)1;
    int n = -1;
    vg_error e = {0};
    int rc = vg_clips_list(test_path("clips/b"), &clips, &n, &e);
    int ok = rc == VG_ERR_FORMAT && clips == NULL && n == 0 && names(&e, test_path("clips/b")) &&
             strstr(e.msg, "no images, folders of images or video files");
    printf("clips refused: %s %s\n", e.msg, ok ? "ok" : "FAIL");
    CHECK(ok);
    rc = vg_clips_list(test_path("nowhere"), &clips, &n, &e);
    ok = rc == VG_ERR_IO && clips == NULL && strstr(e.msg, "nowhere: no such file");
    printf("clips refused: %s %s\n", e.msg, ok ? "ok" : "FAIL");
    CHECK(ok);
}

/* ---- UCSD ped2 ---- */

static void test_ped2(const char *shared) {
    char frames[1024];
    snprintf(frames, sizeof frames, "%s/data/ped2/training/frames", shared);
    char **clips = NULL;
    int n = 0;
    vg_error e = {0};
    CHECK_OK(vg_clips_list(frames, &clips, &n, &e), &e);
    int ok = n == 16 && strcmp(strrchr(clips[0], '/'), "/01") == 0 &&
             strcmp(strrchr(clips[15], '/'), "/16") == 0;
    printf("ped2 training clips: %d, %s .. %s %s\n", n, n ? clips[0] : "", n ? clips[n - 1] : "",
           ok ? "ok" : "FAIL");
    CHECK(ok);

    vg_source_params p = vg_source_default_params();
    run r = read_source(n ? clips[0] : frames, &p, 1);
    /* grayscale stored as colour JPEG: R, G and B agree up to chroma rounding */
    ok = r.rc == VG_OK && r.width == 360 && r.height == 240;
    for (int i = 0; ok && i < 360 * 240; i += 97)
        ok = abs(r.first[3 * i] - r.first[3 * i + 1]) <= 3 &&
             abs(r.first[3 * i] - r.first[3 * i + 2]) <= 3;
    printf("ped2 01 as is: %dx%d, gray %s\n", r.width, r.height, ok ? "ok" : "FAIL");
    CHECK(ok);
    run_free(&r);

    p.width = p.height = 224;
    double t0 = now();
    r = read_source(n ? clips[0] : frames, &p, 0);
    double dt = now() - t0;
    ok = r.rc == VG_OK && r.end_rc == VG_END && r.frames == 120 && r.errors == 0 &&
         r.width == 224 && r.height == 224 && r.same_size && r.indices_ok &&
         fabs(r.last_pts - 119 / 25.0) < 1e-9;
    printf("ped2 01 at 224x224: %lld frames, %lld errors, last pts %.2f, %.0f frames/s %s\n",
           r.frames, r.errors, r.last_pts, r.frames / dt, ok ? "ok" : "FAIL");
    CHECK(ok);
    run_free(&r);
    vg_clips_free(clips, n);
}

/* ---- fixtures ---- */

#define CLIP " -map 0 -frames:v 20 "

/* The clips: 20 frames of testsrc at 10 fps in several codecs and containers, two more to
 * truncate, and an audio-only file. */
static int make_clips(void) {
    return ffmpeg("-f lavfi -i testsrc=size=64x48:rate=10 -f lavfi -i sine=duration=0.2"
                  CLIP "-c:v libx264 -pix_fmt yuv420p h264.mp4"
                  CLIP "-c:v libx265 -pix_fmt yuv420p -x265-params log-level=error hevc.mkv"
                  CLIP "-c:v mpeg4 mpeg4.avi" CLIP "-c:v mjpeg mjpeg.mov"
                  CLIP "-c:v ffv1 -pix_fmt gray gray.mkv"
                  CLIP "-c:v libx264 -g 5 -pix_fmt yuv420p whole.mkv" CLIP "-c:v mjpeg whole.avi"
                  " -map 1 tone.wav");
}

/* The pictures: wide.png, 96x32, is red, green and blue stripes of 32x32; tall.png the
 * same stacked (32x96); wide.mp4 is wide.png in lossless H.264 4:2:0, whose chroma has
 * half the resolution, so that a ROI at an odd x cannot be cut from the decoded planes.
 * pngs/ holds 16x16 red 1.png, green 2.png, blue 10.png and an 8x32 yellow 3.PNG. */
static int make_pictures(void) {
    make_folder("pngs");
    return ffmpeg("-filter_complex \""
                  "color=c=0xff0000:s=32x32,format=rgb24,split[r1][r2];"
                  "color=c=0x00ff00:s=32x32,format=rgb24,split[g1][g2];"
                  "color=c=0x0000ff:s=32x32,format=rgb24,split[b1][b2];"
                  "[r1][g1][b1]hstack=inputs=3,split[wide][wide2];"
                  "[r2][g2][b2]vstack=inputs=3[tall];"
                  "color=c=0xff0000:s=16x16,format=rgb24[p1];"
                  "color=c=0x00ff00:s=16x16,format=rgb24[p2];"
                  "color=c=0x0000ff:s=16x16,format=rgb24[p10];"
                  "color=c=0xffff00:s=8x32,format=rgb24[p3]\""
                  " -map [wide] -frames:v 1 wide.png -map [tall] -frames:v 1 tall.png"
                  " -map [wide2] -frames:v 1 -c:v libx264 -qp 0 -pix_fmt yuv420p wide.mp4"
                  " -map [p1] -frames:v 1 pngs/1.png -map [p2] -frames:v 1 pngs/2.png"
                  " -map [p10] -frames:v 1 pngs/10.png -map [p3] -frames:v 1 pngs/3.PNG");
}

int main(void) {
    tmpdir = test_tmpdir("video");
    setvbuf(stdout, NULL, _IOLBF, 0); /* keeps check lines and FAIL lines (stderr) in order */
    have_ffmpeg = system("ffmpeg -version >/dev/null 2>&1") == 0;
    test_natural_order();
    if (have_ffmpeg && make_clips() && make_pictures()) {
        test_files();
        test_truncated();
        test_realtime();
        test_geometry();
        test_folders();
        test_network();
    } else {
        printf("skipped: files, truncation, realtime, ROI and fit, folders (%s)\n",
               have_ffmpeg ? "fixtures failed" : "no ffmpeg on PATH");
    }
    test_refusals();
    test_clips();
    const char *shared = test_shared_dir();
    if (shared) test_ped2(shared);
    else printf("skipped: ped2 (no ../shared)\n");

    test_tmpdir_remove();
    return test_result();
}
