/* test_clip.c - evidence clips (src/serve/clip.h): frames carry their index painted in (a
 * white 8x8 block on black whose place on a 20-column grid is the index), so that the
 * decoded clip (read back with vg_source_open) says which frames it holds. At 10 fps with
 * pre 2 s and post 1 s, an event from t = 5 to 6 gives the frames of t = 3 .. 7: indices
 * 30 .. 70. Also: overlapping clips and a late begin, clips finished by the free, a path in
 * a missing folder, a folder removed while recording, max_open and other refusals, the
 * bounded ring, the 10-minute cut and odd frame sizes. */
#include <sys/stat.h>

#include "serve/clip.h"
#include "test.h"
#include "evidence.h"

#define W 160 /* 20 columns of 8x8 blocks */
#define H 48
#define FPS 10.0

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* A finished clip: done once with ok, its size, no PATH.tmp, and the frames first .. last. */
static void check_clip(const char *what, const outcome *o, const char *path, int first,
                       int last) {
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    decoded d = decode_clip(path, W, H);
    printf("%-34s done %d ok %d  %lld bytes  %d frames %d..%d  %.2f..%.2f s%s%s\n", what,
           o->calls, o->ok, o->bytes, d.frames, d.first, d.last, d.t_first, d.t_last,
           o->ok ? "" : "  ", o->why);
    CHECK(o->calls == 1 && o->ok && strcmp(o->path, path) == 0);
    CHECK(o->bytes > 0 && o->bytes == file_size(path));
    CHECK(!exists(tmp));
    CHECK(d.rc == VG_OK && d.width == W && d.height == H);
    CHECK(d.first == first && d.last == last && d.consecutive);
    CHECK(d.frames == last - first + 1);
    CHECK(fabs(d.t_first) < 0.01);                            /* timestamps from 0 ... */
    CHECK(fabs(d.t_last - (last - first) / FPS) < 0.01);      /* ... at the frames' times */
}

static vg_recorder *recorder(double pre, double post, int max_open) {
    vg_recorder_params p = vg_recorder_default_params();
    p.width = W, p.height = H, p.fps = FPS, p.pre = pre, p.post = post, p.max_open = max_open;
    vg_recorder *r = NULL;
    vg_error err = {0};
    CHECK_OK(vg_recorder_create(&p, &r, &err), &err);
    return r;
}

static void push(vg_recorder *r, unsigned char *rgb, int k) {
    vg_error err = {0};
    paint_index(rgb, W, H, k);
    CHECK_OK(vg_recorder_push(r, rgb, k / FPS, &err), &err);
}

/* Event 5 .. 6 s, pre 2, post 1: frames 30 .. 70, about 4 s. */
static void test_event(unsigned char *rgb) {
    vg_recorder *r = recorder(2, 1, 4);
    if (!r) return;
    const char *path = test_path("event.mp4");
    outcome o = {0};
    vg_error err = {0};
    for (int k = 0; k < 100; k++) {
        push(r, rgb, k);
        if (k == 50) CHECK_OK(vg_recorder_begin(r, 7, path, 5.0, on_done, &o, &err), &err);
        if (k == 60) vg_recorder_end(r, 7, 6.0);
        if (k == 70) CHECK(o.calls == 0 && vg_recorder_open_clips(r) == 1);
    }
    CHECK(o.calls == 1 && o.key == 7 && vg_recorder_open_clips(r) == 0); /* frame 71 ended it */
    vg_recorder_free(r);
    check_clip("event 5..6 s, pre 2, post 1", &o, path, 30, 70);
}

/* Two clips at once; the second begun 0.7 s after its start, still with all of its pre. */
static void test_overlap(unsigned char *rgb) {
    vg_recorder *r = recorder(2, 1, 4);
    if (!r) return;
    const char *a = test_path("a.mp4"), *b = test_path("b.mp4");
    outcome oa = {0}, ob = {0};
    vg_error err = {0};
    for (int k = 0; k < 100; k++) {
        push(r, rgb, k);
        if (k == 25) CHECK_OK(vg_recorder_begin(r, 1, a, 2.5, on_done, &oa, &err), &err);
        if (k == 37) CHECK_OK(vg_recorder_begin(r, 2, b, 3.0, on_done, &ob, &err), &err);
        if (k == 40) CHECK(vg_recorder_open_clips(r) == 2);
        if (k == 40) vg_recorder_end(r, 1, 4.0);
        if (k == 80) vg_recorder_end(r, 2, 7.0);
    }
    vg_recorder_free(r);
    check_clip("overlapping clip a (2.5..4 s)", &oa, a, 5, 50);
    check_clip("overlapping clip b (3..7 s, late)", &ob, b, 10, 80);
}

/* The free finishes what is open, as if post had passed. */
static void test_free_finishes(unsigned char *rgb) {
    vg_recorder *r = recorder(2, 1, 4);
    if (!r) return;
    const char *path = test_path("open.mp4");
    outcome o = {0};
    vg_error err = {0};
    for (int k = 0; k < 30; k++) {
        push(r, rgb, k);
        if (k == 10) CHECK_OK(vg_recorder_begin(r, 3, path, 1.0, on_done, &o, &err), &err);
    }
    CHECK(o.calls == 0);
    vg_recorder_free(r);
    check_clip("open clip finished by the free", &o, path, 0, 29);
}

/* A path in a missing folder fails at begin, with its name; the recorder goes on. */
static void test_missing_folder(unsigned char *rgb) {
    vg_recorder *r = recorder(2, 1, 4);
    if (!r) return;
    const char *bad = test_path("no/such/folder/x.mp4"), *good = test_path("after.mp4");
    outcome ob = {0}, og = {0};
    vg_error err = {0};
    for (int k = 0; k < 10; k++) push(r, rgb, k);
    int rc = vg_recorder_begin(r, 1, bad, 0.5, on_done, &ob, &err);
    printf("missing folder: %s\n", err.msg);
    CHECK(rc == VG_ERR_IO && strstr(err.msg, bad) && vg_recorder_open_clips(r) == 0);
    CHECK_OK(vg_recorder_begin(r, 1, good, 0.5, on_done, &og, &err), &err);
    for (int k = 10; k < 20; k++) push(r, rgb, k);
    vg_recorder_free(r);
    CHECK(ob.calls == 0);
    check_clip("a clip after the failed one", &og, good, 0, 19);
}

/* The clip's folder disappears while it records: done says why, nothing is left. */
static void test_write_failure(unsigned char *rgb) {
    vg_recorder *r = recorder(0, 0, 4);
    if (!r) return;
    char dir[512], path[600], cmd[700];
    snprintf(dir, sizeof dir, "%s", test_path("gone"));
    snprintf(path, sizeof path, "%s/x.mp4", dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(mkdir(dir, 0777) == 0);
    outcome o = {0};
    vg_error err = {0};
    push(r, rgb, 0);
    CHECK_OK(vg_recorder_begin(r, 9, path, 0.0, on_done, &o, &err), &err);
    for (int k = 1; k < 5; k++) push(r, rgb, k);
    CHECK(system(cmd) == 0);
    vg_recorder_end(r, 9, 0.4);
    push(r, rgb, 5);
    printf("folder removed while recording: done %d ok %d bytes %lld: %s\n", o.calls, o.ok,
           o.bytes, o.why);
    CHECK(o.calls == 1 && !o.ok && o.bytes == 0 && strstr(o.why, path));
    CHECK(!exists(path) && vg_recorder_open_clips(r) == 0);
    vg_recorder_free(r);
}

/* What begin, push and create refuse, each with a message. */
static void test_refusals(unsigned char *rgb) {
    vg_recorder *r = recorder(1, 1, 2);
    if (!r) return;
    outcome o1 = {0}, o2 = {0}, o3 = {0};
    vg_error err = {0};
    for (int k = 0; k < 5; k++) push(r, rgb, k);
    const char *p1 = test_path("r1.mp4"), *p2 = test_path("r2.mp4"), *p3 = test_path("r3.mp4");
    CHECK_OK(vg_recorder_begin(r, 1, p1, 0.2, on_done, &o1, &err), &err);
    CHECK(vg_recorder_begin(r, 1, p3, 0.2, on_done, &o3, &err) == VG_ERR_ARG);
    printf("same key: %s\n", err.msg);
    CHECK(vg_recorder_begin(r, 2, p1, 0.2, on_done, &o3, &err) == VG_ERR_ARG);
    printf("same path: %s\n", err.msg);
    CHECK(vg_recorder_begin(r, 2, p2, NAN, on_done, &o3, &err) == VG_ERR_ARG);
    CHECK(vg_recorder_begin(r, 2, "", 0.2, on_done, &o3, &err) == VG_ERR_ARG);
    CHECK_OK(vg_recorder_begin(r, 2, p2, 0.2, on_done, &o2, &err), &err);
    CHECK(vg_recorder_begin(r, 3, p3, 0.2, on_done, &o3, &err) == VG_ERR_UNSUPPORTED);
    printf("over max_open: %s\n", err.msg);
    CHECK(strstr(err.msg, "max_open") && !exists(p3));
    vg_recorder_end(r, 42, 1.0); /* unknown: ignored */
    CHECK(vg_recorder_push(r, rgb, 0.1, &err) == VG_ERR_ARG);
    printf("time going back: %s\n", err.msg);
    CHECK(vg_recorder_push(r, rgb, NAN, &err) == VG_ERR_ARG);
    CHECK(vg_recorder_push(r, NULL, 1.0, &err) == VG_ERR_ARG);
    CHECK(vg_recorder_open_clips(r) == 2);
    vg_recorder_free(r);
    CHECK(o1.calls == 1 && o1.ok && o2.calls == 1 && o2.ok && o3.calls == 0);

    vg_recorder_params good = vg_recorder_default_params();
    good.width = W, good.height = H;
    vg_recorder_params bad[8];
    for (int i = 0; i < 8; i++) bad[i] = good;
    bad[0].width = 0, bad[1].height = 20000, bad[2].fps = 0, bad[3].fps = NAN;
    bad[4].pre = -1, bad[5].post = INFINITY, bad[6].lag = 599, bad[7].max_open = 0;
    for (int i = 0; i < 8; i++) {
        vg_recorder *x = NULL;
        CHECK(vg_recorder_create(&bad[i], &x, &err) == VG_ERR_ARG && x == NULL);
        vg_recorder_free(x);
        printf("bad params %d: %s\n", i, err.msg);
    }
}

/* The ring holds pre + lag seconds at the nominal rate, and no more frames than that even
 * when they come faster. */
static void test_ring_bounded(unsigned char *rgb) {
    vg_recorder_params p = vg_recorder_default_params();
    p.width = W, p.height = H, p.fps = FPS, p.pre = 2, p.lag = 1;
    vg_recorder *r = NULL;
    vg_error err = {0};
    CHECK_OK(vg_recorder_create(&p, &r, &err), &err);
    if (!r) return;
    int most = 0, cap = (int)ceil((p.pre + p.lag) * p.fps) + 2;
    paint_index(rgb, W, H, 0);
    for (int k = 0; k < 300; k++) {
        CHECK_OK(vg_recorder_push(r, rgb, k / FPS, &err), &err);
        if (vg_recorder_buffered(r) > most) most = vg_recorder_buffered(r);
    }
    int at_rate = vg_recorder_buffered(r);
    for (int k = 0; k < 300; k++) /* 4x the nominal rate */
        CHECK_OK(vg_recorder_push(r, rgb, 30 + k / (4 * FPS), &err), &err);
    printf("ring: %d frames at 10 fps (3 s), %d at 40 fps, at most %d seen, cap %d\n", at_rate,
           vg_recorder_buffered(r), most, cap);
    CHECK(at_rate >= 30 && at_rate <= 31 && most <= 31 && vg_recorder_buffered(r) == cap);
    vg_recorder_free(r);
}

/* A clip is cut 10 minutes after its first frame. */
static void test_cut(void) {
    vg_recorder_params p = vg_recorder_default_params();
    p.width = 16, p.height = 16, p.fps = 1, p.pre = 0, p.post = 0, p.lag = 0;
    vg_recorder *r = NULL;
    vg_error err = {0};
    CHECK_OK(vg_recorder_create(&p, &r, &err), &err);
    if (!r) return;
    unsigned char rgb[16 * 16 * 3];
    const char *path = test_path("long.mp4");
    outcome o = {0};
    for (int k = 0; k < 700; k++) {
        memset(rgb, k % 256, sizeof rgb);
        CHECK_OK(vg_recorder_push(r, rgb, k, &err), &err);
        if (k == 0) CHECK_OK(vg_recorder_begin(r, 5, path, 0, on_done, &o, &err), &err);
        if (k == 599) CHECK(o.calls == 0);
    }
    CHECK(o.calls == 1 && o.ok && vg_recorder_open_clips(r) == 0);
    vg_recorder_free(r);
    vg_source_params sp = vg_source_default_params();
    vg_source *s = NULL;
    CHECK_OK(vg_source_open(path, &sp, &s, &err), &err);
    vg_frame f;
    int n = 0;
    double last = -1;
    while (s && vg_source_read(s, &f, &err) == VG_OK) n++, last = f.pts;
    vg_source_close(s);
    printf("a 700 s event: clip of %d frames, last at %.1f s\n", n, last);
    CHECK(n == 600 && fabs(last - 599) < 0.01);
}

/* Odd sizes are padded: the clip is one column and row larger, the last ones repeated
 * (grey stays grey: the chroma at the edge averages no pixels from outside the frame). */
static void test_odd_size(void) {
    enum { w = 33, h = 25 };
    vg_recorder_params p = vg_recorder_default_params();
    p.width = w, p.height = h, p.fps = FPS;
    vg_recorder *r = NULL;
    vg_error err = {0};
    CHECK_OK(vg_recorder_create(&p, &r, &err), &err);
    if (!r) return;
    unsigned char rgb[w * h * 3];
    for (int y = 0; y < h; y++) /* a diagonal ramp: the right and bottom edges differ */
        for (int x = 0; x < w; x++) memset(rgb + (y * w + x) * 3, 40 + 4 * x + 3 * y, 3);
    const char *path = test_path("odd.mp4");
    outcome o = {0};
    for (int k = 0; k < 20; k++) {
        CHECK_OK(vg_recorder_push(r, rgb, k / FPS, &err), &err);
        if (k == 0) CHECK_OK(vg_recorder_begin(r, 1, path, 0, on_done, &o, &err), &err);
    }
    vg_recorder_free(r);
    CHECK(o.calls == 1 && o.ok);
    vg_source_params sp = vg_source_default_params();
    vg_source *s = NULL;
    CHECK_OK(vg_source_open(path, &sp, &s, &err), &err);
    vg_frame f;
    int n = 0, worst = 0;
    while (s && vg_source_read(s, &f, &err) == VG_OK && f.width == w + 1 && f.height == h + 1) {
        for (int y = 0; y <= h; y++) /* picture and padding against the original */
            for (int x = 0; x <= w; x++)
                for (int c = 0; c < 3; c++) {
                    int want = rgb[((y < h ? y : h - 1) * w + (x < w ? x : w - 1)) * 3 + c];
                    int d = abs(f.rgb[(y * (w + 1) + x) * 3 + c] - want);
                    if (d > worst) worst = d;
                }
        n++;
    }
    vg_source_close(s);
    printf("odd size %dx%d: %d frames of %dx%d, largest difference %d\n", w, h, n, w + 1,
           h + 1, worst);
    CHECK(n == 20 && worst <= 8);
}

int main(void) {
    test_tmpdir("clip");
    unsigned char *rgb = malloc((size_t)W * H * 3);
    CHECK(rgb != NULL);
    if (!rgb) return test_result();
    test_event(rgb);
    test_overlap(rgb);
    test_free_finishes(rgb);
    test_missing_folder(rgb);
    test_write_failure(rgb);
    test_refusals(rgb);
    test_ring_bounded(rgb);
    test_cut();
    test_odd_size();
    free(rgb);
    test_tmpdir_remove();
    return test_result();
}
