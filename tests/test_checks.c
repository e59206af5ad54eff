/* test_checks.c - the deterministic signal checks on synthetic frames (a repeated frame
 * with small noise is frozen, moving content is not; black; flat; timestamp gaps; a
 * failing source), the normal-motion fit against a plain reference, the checks feeding
 * their deciders end to end, and, when ../shared is present, the defaults on UCSD Ped2:
 * no check fires on real footage, and a freeze injected into it is caught. */
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
#include "test.h"
#include "vigil/vigil.h"

#define W 64
#define H 48
#define SEED 99

/* A scene: a diagonal gradient with a bright square at x0, and sensor noise of +-noise
 * levels drawn per (frame, pixel, channel). */
static void scene(unsigned char *rgb, int w, int h, int x0, int noise, uint64_t frame) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                size_t i = ((size_t)y * w + x) * 3 + c;
                int v = 40 + (x + y) * 2 + (x >= x0 && x < x0 + 12 && y >= 10 && y < 22) * 120;
                if (noise) v += (int)(vg_rand_unit(SEED + frame, i) * (2 * noise + 1)) - noise;
                rgb[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
}

static void fill(unsigned char *rgb, size_t n, int level, int noise, uint64_t frame) {
    for (size_t i = 0; i < n * 3; i++) {
        int v = level + (noise ? (int)(vg_rand_unit(SEED + frame, i) * (2 * noise + 1)) - noise : 0);
        rgb[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

static vg_checks *make(const vg_checks_params *p) {
    vg_checks *c = NULL;
    vg_error err = {0};
    CHECK_OK(vg_checks_create(p, &c, &err), &err);
    return c;
}

static vg_checks_frame push(vg_checks *c, const unsigned char *rgb, int w, int h, double pts) {
    vg_checks_frame f;
    vg_error err = {0};
    memset(&f, 0, sizeof f);
    CHECK_OK(vg_checks_push(c, rgb, w, h, pts, &f, &err), &err);
    return f;
}

/* ---- per-frame checks ------------------------------------------------------------------- */

static void test_frozen(void) {
    static unsigned char a[W * H * 3], b[W * H * 3];
    vg_checks_params p = vg_checks_default_params();
    p.motion = 2.5; /* about the normal motion of this noisy scene */
    vg_checks *c = make(&p);
    if (!c) return;
    scene(a, W, H, 10, 3, 0);
    vg_checks_frame f = push(c, a, W, H, 0);
    CHECK(isnan(f.motion) && f.score[VG_EVENT_FROZEN_FRAME] == 0);
    scene(b, W, H, 11, 3, 1); /* the square moves a pixel; fresh noise */
    f = push(c, b, W, H, 0.04);
    printf("moving scene: motion %.2f, frozen score %.3f\n", f.motion, f.score[VG_EVENT_FROZEN_FRAME]);
    CHECK(f.motion > 1 && f.score[VG_EVENT_FROZEN_FRAME] < 0.5);
    /* the same frame again with a few pixels off by one level (a re-encoded repeat) */
    memcpy(a, b, sizeof a);
    for (size_t i = 0; i < sizeof a; i += 29) a[i] = (unsigned char)(a[i] ^ 1);
    f = push(c, a, W, H, 0.08);
    printf("near-exact repeat: motion %.3f, frozen score %.2f\n", f.motion, f.score[VG_EVENT_FROZEN_FRAME]);
    CHECK(f.motion > 0 && f.score[VG_EVENT_FROZEN_FRAME] >= 1);
    f = push(c, a, W, H, 0.12);
    CHECK(f.motion == 0 && f.score[VG_EVENT_FROZEN_FRAME] == 100);
    /* a static noiseless scene with no fitted motion: the floor still catches exact repeats */
    vg_checks_params q = vg_checks_default_params();
    vg_checks *s = make(&q);
    if (s) {
        push(s, a, W, H, 0);
        f = push(s, a, W, H, 0.04);
        CHECK(f.score[VG_EVENT_FROZEN_FRAME] == 100);
        scene(b, W, H, 30, 0, 0); /* the square jumps: motion */
        f = push(s, b, W, H, 0.08);
        CHECK(f.score[VG_EVENT_FROZEN_FRAME] < 1);
        /* a size change or a reset: no previous frame */
        static unsigned char small[32 * 24 * 3];
        f = push(s, small, 32, 24, 0.12);
        CHECK(isnan(f.motion));
        vg_checks_reset(s);
        f = push(s, b, W, H, 0.16);
        CHECK(isnan(f.motion) && isnan(f.gap));
    }
    vg_checks_free(s);
    vg_checks_free(c);
}

static void test_black_and_flat(void) {
    static unsigned char rgb[W * H * 3];
    vg_checks_params p = vg_checks_default_params();
    vg_checks *c = make(&p);
    if (!c) return;
    const struct {
        const char *what;
        int level, noise, textured;
        int black, flat;
    } cases[] = {
        {"black", 0, 0, 0, 1, 0},
        {"limited-range black (16)", 16, 1, 0, 1, 0},
        {"grey card with noise", 128, 2, 0, 0, 1},
        {"blue screen", 0, 0, 0, 0, 1}, /* filled below */
        {"dim but textured", 0, 3, 1, 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        if (cases[k].textured) {
            scene(rgb, W, H, 20, 3, k);
        } else {
            fill(rgb, (size_t)W * H, cases[k].level, cases[k].noise, k);
        }
        if (!strcmp(cases[k].what, "blue screen"))
            for (size_t i = 0; i < (size_t)W * H; i++) rgb[3 * i] = 0, rgb[3 * i + 1] = 0, rgb[3 * i + 2] = 200;
        vg_checks_frame f = push(c, rgb, W, H, (double)k);
        int black = f.score[VG_EVENT_BLACK_FRAME] >= 1, flat = f.score[VG_EVENT_FLAT_FRAME] >= 1;
        int ok = black == cases[k].black && flat == cases[k].flat;
        printf("%-26s luma mean %6.2f std %5.2f: black %.2f flat %.2f %s\n", cases[k].what,
               f.luma_mean, f.luma_std, f.score[VG_EVENT_BLACK_FRAME],
               f.score[VG_EVENT_FLAT_FRAME], ok ? "ok" : "FAIL");
        if (!ok) test_failures++;
    }
    vg_checks_free(c);
}

static void test_gaps(void) {
    static unsigned char rgb[8 * 8 * 3];
    fill(rgb, 64, 100, 0, 0);
    const double pts[] = {0, 0.04, 0.08, 0.12, 0.52, 0.56, 0.50};
    const double want[] = {NAN, 1, 1, 1, 10, 1, NAN}; /* intervals; the last goes back */
    for (int stated = 0; stated < 2; stated++) {
        vg_checks_params p = vg_checks_default_params();
        p.fps = stated ? 25 : 0;
        vg_checks *c = make(&p);
        if (!c) return;
        int ok = 1;
        for (int i = 0; i < 7; i++) {
            vg_checks_frame f = push(c, rgb, 8, 8, pts[i]);
            ok &= isnan(want[i]) ? isnan(f.gap) && f.score[VG_EVENT_SIGNAL_LOST] == 0
                                 : fabs(f.gap - want[i]) < 1e-9 &&
                                       fabs(f.score[VG_EVENT_SIGNAL_LOST] - want[i] / 5) < 1e-9;
        }
        /* the source fails: lost at least at its limit, and more as time goes by */
        vg_checks_frame f;
        vg_checks_lost(c, 0.54, &f);
        ok &= f.score[VG_EVENT_SIGNAL_LOST] == 1 && f.score[VG_EVENT_BLACK_FRAME] == 0;
        vg_checks_lost(c, 0.50 + 0.04 * 15, &f);
        ok &= fabs(f.score[VG_EVENT_SIGNAL_LOST] - 3) < 1e-9;
        printf("timestamp gaps (%s): a 10-interval step scores 2, a failing source >= 1 %s\n",
               stated ? "stated 25 fps" : "interval learned", ok ? "ok" : "FAIL");
        if (!ok) test_failures++;
        vg_checks_free(c);
    }
    vg_checks_params p = vg_checks_default_params();
    vg_checks *c = make(&p);
    vg_checks_frame f;
    vg_checks_lost(c, 1, &f); /* no frame ever came */
    CHECK(f.score[VG_EVENT_SIGNAL_LOST] == 1 && isnan(f.gap));
    vg_checks_free(c);
}

static void test_param_errors(void) {
    const char *names[] = {"normal motion -1", "frozen ratio -1", "frozen floor 0",
                           "black level 0", "flat level -1", "frame rate -1", "gap 1"};
    for (int k = 0; k < 7; k++) {
        vg_checks_params p = vg_checks_default_params();
        double *field[] = {&p.motion, &p.frozen_ratio, &p.frozen_floor, &p.black_level,
                           &p.flat_level, &p.fps, &p.gap_frames};
        *field[k] = k == 2 || k == 3 ? 0 : k == 6 ? 1 : -1;
        vg_checks *c = (vg_checks *)&p;
        vg_error err = {0};
        int rc = vg_checks_create(&p, &c, &err);
        int ok = rc == VG_ERR_ARG && !c && strstr(err.msg, names[k]);
        printf("%-18s -> %s %s\n", names[k], err.msg, ok ? "ok" : "FAIL");
        if (!ok) test_failures++;
    }
    vg_checks_params p = vg_checks_default_params();
    p.black_level = NAN;
    vg_checks *c = NULL;
    vg_error err = {0};
    CHECK(vg_checks_create(&p, &c, &err) == VG_ERR_ARG);
    p = vg_checks_default_params();
    p.detail_ratio = 1; /* a frame as detailed as normal would be flagged */
    CHECK(vg_checks_create(&p, &c, &err) == VG_ERR_ARG && strstr(err.msg, "detail ratio"));
    p = vg_checks_default_params();
    c = make(&p);
    vg_checks_frame f;
    unsigned char px[3] = {0};
    CHECK(vg_checks_push(c, px, 0, 1, 0, &f, &err) == VG_ERR_ARG && strstr(err.msg, "0x1"));
    CHECK(vg_checks_push(c, NULL, 1, 1, 0, &f, &err) == VG_ERR_ARG);
    vg_checks_free(c);
}

/* ---- the normal-motion fit -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean |luma difference| of two RGB frames, straight from the definition. */
static double ref_motion(const unsigned char *a, const unsigned char *b, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        int ya = (77 * a[3 * i] + 150 * a[3 * i + 1] + 29 * a[3 * i + 2] + 128) >> 8;
        int yb = (77 * b[3 * i] + 150 * b[3 * i + 1] + 29 * b[3 * i + 2] + 128) >> 8;
        sum += abs(ya - yb);
    }
    return sum / (double)n;
}

/* Detail: a textured scene keeps it, the same scene blurred (a 4x4 box: a picture scaled
 * down and up, or coded at a starved bitrate) loses it; black frames are not reported twice. */
static void test_detail(void) {
    static unsigned char a[W * H * 3], b[W * H * 3];
    vg_checks_params p = vg_checks_default_params();
    scene(a, W, H, 10, 6, 0);
    vg_checks *c = make(&p);
    if (!c) return;
    p.detail = push(c, a, W, H, 0).detail; /* this scene's normal detail */
    vg_checks_free(c);
    c = make(&p);
    if (!c) return;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int ch = 0; ch < 3; ch++) {
                int s = 0;
                for (int k = 0; k < 16; k++) s += a[((size_t)(y / 4 * 4 + k / 4) * W + x / 4 * 4 + k % 4) * 3 + ch];
                b[((size_t)y * W + x) * 3 + ch] = (unsigned char)(s / 16);
            }
    vg_checks_frame sharp = push(c, a, W, H, 0), blurred = push(c, b, W, H, 0.04);
    printf("detail: normal %.3f, sharp %.3f (score %.2f), blurred %.3f (score %.2f)\n", p.detail,
           sharp.detail, sharp.score[VG_EVENT_DETAIL_LOSS], blurred.detail,
           blurred.score[VG_EVENT_DETAIL_LOSS]);
    CHECK(sharp.score[VG_EVENT_DETAIL_LOSS] < 1 && blurred.score[VG_EVENT_DETAIL_LOSS] >= 1);
    fill(b, (size_t)W * H, 0, 0, 0);
    vg_checks_frame black = push(c, b, W, H, 0.08);
    CHECK(black.score[VG_EVENT_BLACK_FRAME] >= 1 && black.score[VG_EVENT_DETAIL_LOSS] == 0);
    vg_checks_free(c);
    p = vg_checks_default_params(); /* unknown normal detail: no check */
    c = make(&p);
    if (!c) return;
    CHECK(push(c, b, W, H, 0).score[VG_EVENT_DETAIL_LOSS] == 0);
    vg_checks_free(c);
}

static void test_fit(void) {
    const char *dir = test_tmpdir("checks");
    static unsigned char frames[2][6][W * H * 3];
    const int lens[2] = {6, 4};
    double want[8];
    int n = 0;
    char path[256];
    vg_error err = {0};
    for (int clip = 0; clip < 2; clip++) {
        snprintf(path, sizeof path, "%s/%d", dir, clip);
        mkdir(path, 0777);
        for (int k = 0; k < lens[clip]; k++) {
            scene(frames[clip][k], W, H, 5 + 3 * k * (clip + 1), 2 + clip, (uint64_t)(10 * clip + k));
            snprintf(path, sizeof path, "%s/%d/%02d.png", dir, clip, k);
            CHECK_OK(vg_png_write(path, frames[clip][k], W, H, &err), &err);
            if (k) want[n++] = ref_motion(frames[clip][k], frames[clip][k - 1], (size_t)W * H);
        }
    }
    qsort(want, (size_t)n, sizeof *want, cmp_double);
    double median = (want[n / 2 - 1] + want[n / 2]) / 2; /* n = 8 pairs */
    const char *paths[] = {dir};
    vg_source_params sp = vg_source_default_params();
    vg_footage *fo = NULL;
    double got = -1;
    CHECK_OK(vg_footage_load(paths, 1, &sp, NULL, NULL, &fo, &err), &err);
    vg_checks_params fit = vg_checks_default_params();
    if (fo) CHECK_OK(vg_checks_fit(fo, &fit, &err), &err);
    got = fit.motion;
    int same = fabs(got - median) <= 1e-12 * median;
    printf("normal motion fit: %.6f, reference median of %d pairs %.6f %s\n", got, n, median,
           same ? "ok" : "FAIL");
    CHECK(same);
    vg_footage_free(fo);
    /* one frame per clip: nothing to learn from */
    const char *single[] = {test_path("single")};
    mkdir(single[0], 0777);
    snprintf(path, sizeof path, "%s/0.png", single[0]);
    CHECK_OK(vg_png_write(path, frames[0][0], W, H, &err), &err);
    fo = NULL;
    CHECK_OK(vg_footage_load(single, 1, &sp, NULL, NULL, &fo, &err), &err);
    if (fo) CHECK(vg_checks_fit(fo, &fit, &err) == VG_ERR_ARG && strstr(err.msg, "two frames"));
    vg_footage_free(fo);
    test_tmpdir_remove();
}

/* ---- checks into deciders --------------------------------------------------------------- */

/* Events of each check class over a stream, as "class:start-end" words. */
typedef struct stream_events {
    char text[1024];
    int n;
} stream_events;

static void feed(vg_decider *const dec[VG_EVENT_CLASSES], long long frame, double pts,
                 const vg_checks_frame *f, stream_events *out) {
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES; k++) {
        vg_event ev;
        int got = 0;
        vg_error err = {0};
        CHECK_OK(vg_decider_push(dec[k], frame, pts, f->score[k], &ev, &got, &err), &err);
        if (got && ev.type == VG_EVENT_END) {
            size_t len = strlen(out->text);
            snprintf(out->text + len, sizeof out->text - len, "%s%s:%lld-%lld", out->n ? " " : "",
                     vg_event_class_name(k), ev.start_frame, ev.end_frame);
            out->n++;
        }
    }
}

static void test_end_to_end(void) {
    static unsigned char rgb[W * H * 3];
    vg_checks_params p = vg_checks_default_params();
    p.motion = 2.5, p.fps = 25;
    vg_checks *c = make(&p);
    vg_decider *dec[VG_EVENT_CLASSES] = {NULL};
    vg_error err = {0};
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES; k++) {
        vg_decide_params dp = vg_decide_default_params((vg_event_class)k);
        CHECK_OK(vg_decider_create(&dp, &dec[k], &err), &err);
    }
    /* frames 0-19 moving; 20-27 the same picture (a freeze); 28-39 moving; 40-44 black;
     * 45-54 moving; 55-58 a grey card; 59-69 moving, with a 0.4 s hole before frame 65 */
    stream_events got = {.n = 0};
    double pts = 0;
    for (long long i = 0; i < 70 && c; i++) {
        int frozen = i >= 21 && i <= 27;
        if (i >= 40 && i <= 44) fill(rgb, (size_t)W * H, 2, 1, (uint64_t)i);
        else if (i >= 55 && i <= 58) fill(rgb, (size_t)W * H, 150, 1, (uint64_t)i);
        else if (!frozen) scene(rgb, W, H, (int)(i % 50), 3, (uint64_t)i);
        pts += i == 65 ? 0.40 : 0.04;
        vg_checks_frame f = push(c, rgb, W, H, pts);
        feed(dec, i, pts, &f, &got);
    }
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES; k++) {
        vg_event ev;
        int emitted = 0;
        vg_decider_flush(dec[k], &ev, &emitted);
        CHECK(!emitted);
        vg_decider_free(dec[k]);
    }
    vg_checks_free(c);
    const char *want = "frozen_frame:21-27 black_frame:40-44 flat_frame:55-58 signal_lost:65-65";
    printf("checks into deciders: %s (want %s)\n", got.text, want);
    CHECK(!strcmp(got.text, want));
}

/* ---- UCSD Ped2 ---------------------------------------------------------------------------
 * Real footage at a model-like size (192x128): the normal motion fitted on training clip
 * 01, then every check over the three first test clips (their anomalies are cyclists and
 * carts, not signal faults): no check may fire. Then a 5-frame freeze injected into test
 * clip 01 must give exactly one frozen_frame event. */

static int read_clip(const char *path, unsigned char **rgb, int *n) {
    vg_source_params sp = vg_source_default_params();
    sp.width = 192, sp.height = 128, sp.folder_fps = 10;
    vg_source *s = NULL;
    vg_error err = {0};
    int rc = vg_source_open(path, &sp, &s, &err);
    vg_frame f;
    *n = 0;
    *rgb = NULL;
    while (!rc && (rc = vg_source_read(s, &f, &err)) == VG_OK) {
        unsigned char *p = realloc(*rgb, (size_t)(*n + 1) * 192 * 128 * 3);
        if (!p) break;
        *rgb = p;
        memcpy(*rgb + (size_t)(*n)++ * 192 * 128 * 3, f.rgb, 192 * 128 * 3);
    }
    vg_source_close(s);
    if (rc != VG_END) fprintf(stderr, "FAIL %s: %s\n", path, err.msg), test_failures++;
    return rc == VG_END;
}

/* Events (END) of each check class over frames pushed at 10 fps. */
static int count_events(const vg_checks_params *p, const unsigned char *rgb, int n,
                        stream_events *out) {
    vg_checks *c = make(p);
    vg_decider *dec[VG_EVENT_CLASSES] = {NULL};
    vg_error err = {0};
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES; k++) {
        vg_decide_params dp = vg_decide_default_params((vg_event_class)k);
        CHECK_OK(vg_decider_create(&dp, &dec[k], &err), &err);
    }
    for (int i = 0; i < n && c; i++) {
        vg_checks_frame f = push(c, rgb + (size_t)i * 192 * 128 * 3, 192, 128, i / 10.0);
        feed(dec, i, i / 10.0, &f, out);
    }
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES; k++) vg_decider_free(dec[k]);
    vg_checks_free(c);
    return out->n;
}

static void test_ped2(void) {
    const char *shared = test_shared_dir();
    char path[4096];
    if (shared) snprintf(path, sizeof path, "%s/data/ped2/training/frames/01", shared);
    if (!shared || access(path, R_OK)) {
        printf("skipped: Ped2 defaults (no ../shared/data/ped2)\n");
        return;
    }
    vg_source_params sp = vg_source_default_params();
    sp.width = 192, sp.height = 128;
    const char *train[] = {path};
    vg_footage *fo = NULL;
    vg_error err = {0};
    vg_checks_params p = vg_checks_default_params();
    CHECK_OK(vg_footage_load(train, 1, &sp, NULL, NULL, &fo, &err), &err);
    if (fo) CHECK_OK(vg_checks_fit(fo, &p, &err), &err);
    vg_footage_free(fo);
    printf("Ped2 training 01: normal motion %.3f, frozen level %.3f\n", p.motion,
           fmax(p.frozen_ratio * p.motion, p.frozen_floor));
    unsigned char *rgb = NULL;
    int n = 0, total = 0, events = 0;
    for (int clip = 1; clip <= 3; clip++) {
        snprintf(path, sizeof path, "%s/data/ped2/testing/frames/%02d", shared, clip);
        if (!read_clip(path, &rgb, &n)) break;
        stream_events ev = {.n = 0};
        events += count_events(&p, rgb, n, &ev);
        if (ev.n) printf("  test %02d: %s\n", clip, ev.text);
        total += n;
        if (clip == 1 && n > 60) { /* a freeze: frames 41-45 repeat frame 40 */
            for (int k = 41; k <= 45; k++)
                memcpy(rgb + (size_t)k * 192 * 128 * 3, rgb + (size_t)40 * 192 * 128 * 3, 192 * 128 * 3);
            stream_events fz = {.n = 0};
            count_events(&p, rgb, n, &fz);
            printf("Ped2 test 01 with frames 41-45 frozen: %s\n", fz.text);
            CHECK(!strcmp(fz.text, "frozen_frame:41-45"));
        }
        free(rgb);
        rgb = NULL;
    }
    printf("Ped2 test 01-03: %d check events on %d real frames (want 0)\n", events, total);
    CHECK(events == 0 && total > 300);
}

int main(void) {
    test_frozen();
    test_black_and_flat();
    test_gaps();
    test_detail();
    test_param_errors();
    test_fit();
    test_end_to_end();
    test_ped2();
    return test_result();
}
