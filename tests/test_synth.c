/* test_synth.c - synthetic anomalies: every case of the sweep changes the frames of its
 * span and nothing else, the truth mask says which frames changed, each kind does what it
 * says (exact values for the colour tables, patterns and freezes), compression damage
 * grows as the bitrate falls, odd sizes work, footage a case cannot change is reported as
 * such, and bad arguments get one clear line.
 *
 * The test clip is synthetic: three sine gratings drifting at different speeds, one per
 * channel, a moving square and a little noise, so that every channel differs, every frame
 * differs from the last and the encoder has detail to lose. */
#include "calib/synth.h"
#include "core/rng.h"
#include "test.h"
#include "vigil/vigil.h"

#define SEED 77

typedef struct clip {
    unsigned char *rgb;
    int n, w, h;
} clip;

static size_t frame_bytes(const clip *c) {
    return (size_t)c->w * c->h * 3;
}

static unsigned char *frame_at(const clip *c, int i) {
    return c->rgb + (size_t)i * frame_bytes(c);
}

static clip make_clip(int n, int w, int h) {
    clip c = {malloc((size_t)n * w * h * 3), n, w, h};
    for (int t = 0; t < n; t++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                unsigned char *px = frame_at(&c, t) + ((size_t)y * w + x) * 3;
                int square = abs(x - (5 + 2 * t) % w) < 4 && abs(y - h / 2) < 4;
                double v[3] = {128 + 90 * sin(0.31 * x + 0.20 * t),
                               128 + 90 * sin(0.27 * y - 0.15 * t),
                               128 + 70 * sin(0.19 * (x + y) + 0.11 * t)};
                for (int k = 0; k < 3; k++) {
                    uint64_t i = (((uint64_t)t * h + y) * w + x) * 3 + k;
                    double noise = 3 * vg_rand_unit(SEED, i);
                    double s = square ? 250 - 40 * k : v[k] + noise;
                    px[k] = (unsigned char)(s < 0 ? 0 : s > 255 ? 255 : s);
                }
            }
    return c;
}

static clip copy_clip(const clip *c) {
    clip d = *c;
    d.rgb = malloc((size_t)c->n * frame_bytes(c));
    memcpy(d.rgb, c->rgb, (size_t)c->n * frame_bytes(c));
    return d;
}

static vg_synth_clip view(clip *c, double fps) {
    return (vg_synth_clip){c->rgb, c->n, c->w, c->h, fps};
}

static const vg_synth_case *find_case(const char *name) {
    int n;
    const vg_synth_case *cases = vg_synth_sweep(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(cases[i].name, name)) return &cases[i];
    fprintf(stderr, "FAIL: no case '%s' in the sweep\n", name);
    exit(1);
}

static double psnr(const unsigned char *a, const unsigned char *b, size_t n) {
    double se = 0;
    for (size_t i = 0; i < n; i++) se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return se == 0 ? 100 : 10 * log10(255.0 * 255.0 * (double)n / se);
}

/* Mean PSNR of frames start .. start+len-1 of a against b. */
static double span_psnr(const clip *a, const clip *b, int start, int len) {
    double sum = 0;
    for (int i = start; i < start + len; i++)
        sum += psnr(frame_at(a, i), frame_at(b, i), frame_bytes(a));
    return sum / len;
}

/* The truth mask's definition, written out: some value moved by more than 2. */
static int differs(const unsigned char *a, const unsigned char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (abs(a[i] - b[i]) > 2) return 1;
    return 0;
}

/* Applies the named case to a copy of orig over [start, start+len); returns the copy. */
static clip injected(const clip *orig, const char *name, int start, int len, unsigned char *truth) {
    clip c = copy_clip(orig);
    vg_synth_clip v = view(&c, 25);
    vg_error err = {0};
    CHECK_OK(vg_synth_apply(find_case(name), &v, start, len, truth, &err), &err);
    return c;
}

/* ---- the sweep --------------------------------------------------------------------------- */

static void test_sweep(void) {
    static const char *operational[] = {"h264 1 Mbps", "scale x1/4",  "gamma 1.5",
                                        "swap BGR",    "swap GRB",    "freeze 5",
                                        "freeze 10",   "freeze 25",   "black frames"};
    int n, rank[VG_SYNTH_CATEGORIES] = {0}, ops[VG_SYNTH_CATEGORIES] = {0}, nop = 0;
    const vg_synth_case *cases = vg_synth_sweep(&n);
    CHECK(n == 25);
    for (int i = 0; i < n; i++) {
        const vg_synth_case *c = &cases[i];
        CHECK((unsigned)c->category < VG_SYNTH_CATEGORIES);
        CHECK(i == 0 || c->category >= cases[i - 1].category);
        CHECK(c->severity == rank[c->category]++);
        for (int j = 0; j < i; j++) CHECK(strcmp(cases[j].name, c->name) != 0);
        int listed = 0;
        for (size_t k = 0; k < sizeof operational / sizeof *operational; k++)
            listed |= !strcmp(operational[k], c->name);
        CHECK(c->operational == listed);
        ops[c->category] += c->operational;
        nop += c->operational;
        int freeze = c->category == VG_SYNTH_FREEZE && !strncmp(c->name, "freeze", 6);
        CHECK((c->frames != 0) == freeze);
    }
    CHECK(nop == (int)(sizeof operational / sizeof *operational));
    for (int k = 0; k < VG_SYNTH_CATEGORIES; k++) CHECK(ops[k] >= 1);
    CHECK(!strcmp(vg_synth_category_name(VG_SYNTH_COMPRESSION), "compression"));
    CHECK(!strcmp(vg_synth_category_name(VG_SYNTH_FORMAT), "format"));
    CHECK(!strcmp(vg_synth_category_name((vg_synth_category)99), "?"));
    CHECK(find_case("freeze 25")->frames == 25);
    const char *enc = vg_synth_encoder();
    CHECK(enc != NULL);
    printf("sweep: %d cases, %d operational; encoder %s\n", n, nop, enc ? enc : "(none)");
}

/* ---- every case: only the span changes, and the truth says which frames did ------------- */

static void test_every_case(int w, int h) {
    clip orig = make_clip(40, w, h);
    int n, start = 12;
    const vg_synth_case *cases = vg_synth_sweep(&n);
    unsigned char truth[40];
    for (int i = 0; i < n; i++) {
        int len = cases[i].frames ? cases[i].frames : 8, marked = 0, outside = 0, wrong = 0;
        memset(truth, 7, sizeof truth);
        clip c = injected(&orig, cases[i].name, start, len, truth);
        for (int t = 0; t < orig.n; t++) {
            int in_span = t >= start && t < start + len;
            int moved = differs(frame_at(&c, t), frame_at(&orig, t), frame_bytes(&orig));
            if (!in_span)
                outside += memcmp(frame_at(&c, t), frame_at(&orig, t), frame_bytes(&c)) != 0;
            wrong += truth[t] != moved;
            marked += truth[t];
        }
        /* a stutter leaves every other frame as it was; every other case changes them all */
        int want = strcmp(cases[i].name, "stutter x2") ? len : len / 2;
        printf("%dx%d %-18s frames %d..%d: %2d marked (want %2d), %d outside changed, "
               "span PSNR %.1f dB\n", w, h, cases[i].name, start, start + len - 1, marked, want,
               outside, span_psnr(&c, &orig, start, len));
        CHECK(outside == 0);
        CHECK(wrong == 0);
        CHECK(marked == want);
        free(c.rgb);
    }
    free(orig.rgb);
}

/* ---- what each kind does ------------------------------------------------------------------ */

static void test_colour_values(void) {
    clip orig = make_clip(4, 16, 8);
    clip g = injected(&orig, "gamma 1.5", 1, 2, NULL);
    clip s = injected(&orig, "swap GRB", 1, 2, NULL);
    clip wb = injected(&orig, "white balance 10%", 1, 2, NULL);
    int bad_g = 0, bad_s = 0, bad_wb = 0;
    for (size_t i = 0; i < (size_t)16 * 8; i++) {
        const unsigned char *o = frame_at(&orig, 1) + 3 * i;
        const unsigned char *pg = frame_at(&g, 1) + 3 * i, *ps = frame_at(&s, 1) + 3 * i;
        const unsigned char *pw = frame_at(&wb, 1) + 3 * i;
        for (int k = 0; k < 3; k++) bad_g += pg[k] != (int)lround(255 * pow(o[k] / 255.0, 1.5));
        bad_s += ps[0] != o[1] || ps[1] != o[0] || ps[2] != o[2];
        bad_wb += pw[0] != (int)fmin(255, lround(o[0] * 1.1)) || pw[1] != o[1] ||
                  pw[2] != (int)lround(o[2] * 0.9);
    }
    printf("colour: gamma 1.5 %d, swap GRB %d, white balance 10%% %d values off\n", bad_g,
           bad_s, bad_wb);
    CHECK(bad_g == 0 && bad_s == 0 && bad_wb == 0);
    free(orig.rgb), free(g.rgb), free(s.rgb), free(wb.rgb);
}

static void test_patterns(void) {
    int w = 70, h = 40;
    clip orig = make_clip(6, w, h);
    clip black = injected(&orig, "black frames", 2, 3, NULL);
    clip bars = injected(&orig, "colour bars", 2, 3, NULL);
    int nonzero = 0, bad_bars = 0;
    for (size_t i = 0; i < frame_bytes(&orig); i++) nonzero += frame_at(&black, 3)[i] != 0;
    /* the centre column of each bar, 75% = 191: white yellow cyan green magenta red blue */
    static const unsigned char want[7][3] = {{191, 191, 191}, {191, 191, 0}, {0, 191, 191},
                                             {0, 191, 0},     {191, 0, 191}, {191, 0, 0},
                                             {0, 0, 191}};
    for (int b = 0; b < 7; b++)
        for (int y = 0; y < h; y++) {
            int x = (2 * b + 1) * w / 14;
            const unsigned char *px = frame_at(&bars, 4) + ((size_t)y * w + x) * 3;
            bad_bars += memcmp(px, want[b], 3) != 0;
        }
    printf("patterns: black frame %d nonzero values, colour bars %d wrong pixels\n", nonzero,
           bad_bars);
    CHECK(nonzero == 0 && bad_bars == 0);
    CHECK(!memcmp(frame_at(&bars, 2), frame_at(&bars, 4), frame_bytes(&orig)));
    free(orig.rgb), free(black.rgb), free(bars.rgb);
}

/* Rows (or columns) that are black across the whole frame. */
static int black_lines(const clip *c, int t, int rows, int from, int to) {
    int count = 0;
    for (int a = from; a < to; a++) {
        int all = 1;
        for (int b = 0; b < (rows ? c->w : c->h); b++) {
            int x = rows ? b : a, y = rows ? a : b;
            const unsigned char *px = frame_at(c, t) + ((size_t)y * c->w + x) * 3;
            all &= px[0] == 0 && px[1] == 0 && px[2] == 0;
        }
        count += all;
    }
    return count;
}

static void test_boxes(void) {
    clip orig = make_clip(3, 64, 48);
    clip lb = injected(&orig, "letterbox", 1, 1, NULL);
    clip pb = injected(&orig, "pillarbox", 1, 1, NULL);
    /* 3/4 of 48 rows = 36 rows of picture, 6 black above and below; 64 columns: 48 and 8 */
    int top = black_lines(&lb, 1, 1, 0, 6), bottom = black_lines(&lb, 1, 1, 42, 48);
    int middle = black_lines(&lb, 1, 1, 6, 42);
    int left = black_lines(&pb, 1, 0, 0, 8), right = black_lines(&pb, 1, 0, 56, 64);
    int centre = black_lines(&pb, 1, 0, 8, 56);
    printf("letterbox: %d+%d black rows, %d in the picture; pillarbox: %d+%d black columns, "
           "%d in the picture\n", top, bottom, middle, left, right, centre);
    CHECK(top == 6 && bottom == 6 && middle == 0);
    CHECK(left == 8 && right == 8 && centre == 0);
    free(orig.rgb), free(lb.rgb), free(pb.rgb);
}

static void test_freezes(void) {
    clip orig = make_clip(30, 32, 24);
    clip f = injected(&orig, "freeze 10", 5, 10, NULL);
    int repeats = 0;
    for (int t = 5; t < 15; t++)
        repeats += !memcmp(frame_at(&f, t), frame_at(&orig, 4), frame_bytes(&orig));
    clip s = injected(&orig, "stutter x2", 5, 9, NULL);
    int stutter_ok = 1;
    for (int k = 0; k < 9; k++)
        stutter_ok &=
            !memcmp(frame_at(&s, 5 + k), frame_at(&orig, 5 + k - k % 2), frame_bytes(&orig));
    printf("freeze 10: %d of 10 frames repeat frame 4 exactly; stutter x2 %s\n", repeats,
           stutter_ok ? "repeats every other frame" : "WRONG");
    CHECK(repeats == 10 && stutter_ok);
    free(orig.rgb), free(f.rgb), free(s.rgb);
}

/* Damage grows as the bitrate or the scale falls. */
static void test_monotone(void) {
    clip orig = make_clip(40, 128, 96);
    static const char *const sweeps[2][4] = {
        {"h264 8 Mbps", "h264 4 Mbps", "h264 2 Mbps", "h264 1 Mbps"},
        {"scale x1/2", "scale x1/4", "scale x1/8", NULL}};
    for (int s = 0; s < 2; s++) {
        double last = 1e9;
        for (int i = 0; i < 4 && sweeps[s][i]; i++) {
            clip c = injected(&orig, sweeps[s][i], 20, 10, NULL);
            double p = span_psnr(&c, &orig, 20, 10);
            printf("%-12s span PSNR %.2f dB\n", sweeps[s][i], p);
            CHECK(p < last - 0.5);
            last = p;
            free(c.rgb);
        }
    }
    free(orig.rgb);
}

/* The round trip itself, at a bitrate that starves nothing (50 bits a pixel): what is left
 * is 4:2:0 chroma subsampling (this clip's colour gratings cap PSNR near 32 dB) and no
 * colour shift. A wrong matrix or range in either conversion would move the channel means
 * by levels: FFmpeg 5.1's default YUV 4:2:0 to RGB24 path alone makes them 1.7 darker. */
static void test_round_trip(void) {
    clip orig = make_clip(30, 128, 96);
    unsigned char *out = malloc(10 * frame_bytes(&orig));
    vg_error err = {0};
    CHECK_OK(vg_synth_reencode(orig.rgb, orig.w, orig.h, 25, 20, 10, 50, out, &err), &err);
    double bias[3] = {0};
    size_t px = (size_t)10 * orig.w * orig.h;
    for (size_t i = 0; i < 3 * px; i++)
        bias[i % 3] += ((double)out[i] - frame_at(&orig, 20)[i]) / (double)px;
    double p = psnr(out, frame_at(&orig, 20), 10 * frame_bytes(&orig));
    printf("round trip at 50 bit/pixel: PSNR %.2f dB, channel mean shifts %.2f %.2f %.2f\n", p,
           bias[0], bias[1], bias[2]);
    CHECK(p > 30);
    for (int k = 0; k < 3; k++) CHECK(fabs(bias[k]) < 0.25);
    free(out);
    free(orig.rgb);
}

/* Same clip and case, same bytes; and a span at the clip's start (lead-in mirrored). */
static void test_codec_repeatable(void) {
    clip orig = make_clip(20, 48, 32);
    clip a = injected(&orig, "h264 2 Mbps", 0, 6, NULL);
    clip b = injected(&orig, "h264 2 Mbps", 0, 6, NULL);
    CHECK(!memcmp(a.rgb, b.rgb, (size_t)orig.n * frame_bytes(&orig)));
    printf("h264 2 Mbps at frame 0 twice: %s, span PSNR %.1f dB\n",
           memcmp(a.rgb, b.rgb, (size_t)orig.n * frame_bytes(&orig)) ? "differ" : "identical",
           span_psnr(&a, &orig, 0, 6));
    free(orig.rgb), free(a.rgb), free(b.rgb);
}

/* Odd and tiny sizes: H.264 gets the last row and column repeated and cut off again. */
static void test_odd_sizes(void) {
    test_every_case(63, 47);
    static const int sizes[][2] = {{1, 1}, {3, 2}, {5, 7}};
    for (int i = 0; i < 3; i++) {
        clip orig = make_clip(30, sizes[i][0], sizes[i][1]);
        int n;
        const vg_synth_case *cases = vg_synth_sweep(&n);
        for (int k = 0; k < n; k++) {
            clip c = copy_clip(&orig);
            vg_synth_clip v = view(&c, 25);
            vg_error err = {0};
            CHECK_OK(vg_synth_apply(&cases[k], &v, 2, cases[k].frames ? cases[k].frames : 3, NULL,
                                    &err), &err);
            free(c.rgb);
        }
        printf("%dx%d: all %d cases applied\n", sizes[i][0], sizes[i][1], n);
        free(orig.rgb);
    }
}

/* Footage a case cannot change: the truth is all zero and the clip as it was. */
static void test_not_applicable(void) {
    clip grey = make_clip(12, 32, 24);
    for (size_t i = 0; i < (size_t)grey.n * grey.w * grey.h; i++)
        grey.rgb[3 * i + 1] = grey.rgb[3 * i + 2] = grey.rgb[3 * i];
    clip still = make_clip(12, 32, 24);
    for (int t = 1; t < still.n; t++) memcpy(frame_at(&still, t), still.rgb, frame_bytes(&still));
    unsigned char truth[12];
    struct {
        const clip *c;
        const char *name;
        int len, want;
    } cases[] = {{&grey, "swap BGR", 5, 0},   {&grey, "swap GRB", 5, 0},
                 {&grey, "gamma 1.5", 5, 5},  {&still, "freeze 5", 5, 0},
                 {&still, "stutter x2", 6, 0}, {&still, "scale x1/4", 5, 5}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clip c = injected(cases[i].c, cases[i].name, 3, cases[i].len, truth);
        int marked = 0;
        for (int t = 0; t < c.n; t++) marked += truth[t];
        int same = !memcmp(c.rgb, cases[i].c->rgb, (size_t)c.n * frame_bytes(&c));
        printf("%s footage, %-10s: %d frames marked (want %d)%s\n",
               cases[i].c == &grey ? "grey" : "still", cases[i].name, marked, cases[i].want,
               same ? ", clip unchanged" : "");
        CHECK(marked == cases[i].want);
        CHECK(same == (cases[i].want == 0));
        free(c.rgb);
    }
    free(grey.rgb), free(still.rgb);
}

/* Real grey footage (UCSD Ped2, three identical channels after JPEG): a channel swap does
 * not apply. Skipped without ../shared. */
static void test_ped2_grey(void) {
    const char *shared = test_shared_dir();
    if (!shared) {
        printf("ped2: ../shared absent, skipped\n");
        return;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/ped2/training/frames/01", shared);
    vg_source_params sp = vg_source_default_params();
    sp.width = 96, sp.height = 64;
    vg_source *src = NULL;
    vg_error err = {0};
    CHECK_OK(vg_source_open(dir, &sp, &src, &err), &err);
    if (!src) return;
    clip c = {malloc((size_t)20 * 96 * 64 * 3), 0, 96, 64};
    vg_frame f;
    while (c.n < 20 && vg_source_read(src, &f, &err) == VG_OK)
        memcpy(frame_at(&c, c.n++), f.rgb, frame_bytes(&c));
    vg_source_close(src);
    unsigned char truth[20];
    int marked_swap = 0, marked_freeze = 0;
    clip s = injected(&c, "swap GRB", 5, 10, truth);
    for (int t = 0; t < c.n; t++) marked_swap += truth[t];
    clip z = injected(&c, "freeze 10", 5, 10, truth);
    for (int t = 0; t < c.n; t++) marked_freeze += truth[t];
    printf("ped2 (%d frames): swap GRB marks %d frames (not applicable), freeze 10 marks %d\n",
           c.n, marked_swap, marked_freeze);
    CHECK(c.n == 20 && marked_swap == 0 && marked_freeze == 10);
    free(c.rgb), free(s.rgb), free(z.rgb);
}

/* ---- bad arguments: VG_ERR_ARG, one line naming the problem, the clip untouched ---------- */

static void expect_arg(const char *what, const vg_synth_case *c, vg_synth_clip *v, int start,
                       int len, const char *needle) {
    size_t bytes = v && v->rgb && v->n > 0 && v->width > 0 && v->height > 0
                       ? (size_t)v->n * v->width * v->height * 3 : 0;
    unsigned char *before = malloc(bytes + 1);
    if (bytes) memcpy(before, v->rgb, bytes);
    vg_error err = {0};
    int rc = vg_synth_apply(c, v, start, len, NULL, &err);
    int ok = rc == VG_ERR_ARG && strstr(err.msg, needle) && !strchr(err.msg, '\n') &&
             (!bytes || !memcmp(before, v->rgb, bytes));
    printf("%-26s -> %d \"%s\"%s\n", what, rc, err.msg, ok ? "" : "  FAIL");
    CHECK(ok);
    free(before);
}

static void test_errors(void) {
    clip orig = make_clip(10, 16, 8);
    vg_synth_clip v = view(&orig, 25);
    const vg_synth_case *h264 = find_case("h264 1 Mbps"), *freeze = find_case("freeze 5");
    vg_synth_case fake = *h264;
    fake.name = "h264 0 Mbps";
    expect_arg("no case", NULL, &v, 0, 2, "no synthetic case");
    expect_arg("unknown case", &fake, &v, 0, 2, "'h264 0 Mbps' is not in the sweep");
    expect_arg("span before the clip", h264, &v, -1, 2, "not inside the clip of 10 frames");
    expect_arg("span past the end", h264, &v, 8, 3, "span of 3 frames from frame 8");
    expect_arg("empty span", h264, &v, 0, 0, "span of 0 frames");
    expect_arg("freeze at frame 0", freeze, &v, 0, 5, "no frame before it to repeat");
    expect_arg("freeze of another length", freeze, &v, 1, 4, "spans exactly 5 frames, not 4");
    vg_synth_clip bad = v;
    bad.fps = 0;
    expect_arg("fps 0", h264, &bad, 0, 2, "frame rate 0 is not a positive number");
    bad.fps = NAN;
    expect_arg("fps NaN", h264, &bad, 0, 2, "frame rate nan");
    bad = v;
    bad.width = 0;
    expect_arg("width 0", h264, &bad, 0, 2, "clip frames of 0x8: need at least 1x1");
    bad = v;
    bad.n = 0;
    expect_arg("no frames", h264, &bad, 0, 2, "the clip has no frames");
    bad = v;
    bad.rgb = NULL;
    expect_arg("no pixels", h264, &bad, 0, 2, "no clip given");
    expect_arg("no clip", h264, NULL, 0, 2, "no clip given");
    /* a copy of a case (not the sweep's own pointer) is found by its name */
    vg_synth_case copy = *find_case("gamma 0.8");
    vg_error err = {0};
    CHECK_OK(vg_synth_apply(&copy, &v, 1, 2, NULL, &err), &err);
    free(orig.rgb);
}

int main(void) {
    test_sweep();
    test_every_case(64, 48);
    test_colour_values();
    test_patterns();
    test_boxes();
    test_freezes();
    test_monotone();
    test_round_trip();
    test_codec_repeatable();
    test_odd_sizes();
    test_not_applicable();
    test_ped2_grey();
    test_errors();
    return test_result();
}
