/* test_eval.c - evaluation metrics against hand-computed values and plain references:
 * ROC curves, AUC and EER (ties, perfect, inverted, one class), the histogram ROC against
 * the exact AUC on random data, case-level ROC and alarm counts on hand-made clips, macro
 * AUC and per-clip min-max, the labels files (JSON and intervals, corrupt inputs with their
 * line numbers), and pixel masks (1-bit PNGs written here) through ROI and fit.
 *
 * Tolerances: hand-computed AUC and EER values are exact fractions, compared at 1e-12 (the
 * sums are of a few small integers). The histogram AUC must lie within the bound it
 * reports (computed from its own counts; the exact AUC is the Mann-Whitney statistic of
 * the same float values), and that bound must stay below 2e-3 on these distributions with
 * 4096 bins over [1e-9, 1]. */
#include "core/rng.h"
#include "test.h"
#include "vigil/vigil.h"

#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

static vg_error err;

static void check_near(const char *what, double got, double want, double tol) {
    int ok = fabs(got - want) <= tol || (isnan(got) && isnan(want));
    printf("%-46s %.6f (want %.6f) %s\n", what, got, want, ok ? "ok" : "FAIL");
    if (!ok) test_failures++;
}

static void check_fails(const char *what, int rc, int code, const char *word) {
    int ok = rc == code && strstr(err.msg, word) != NULL;
    printf("%-46s -> %d \"%s\" %s\n", what, rc, err.msg, ok ? "ok" : "FAIL");
    if (!ok) test_failures++;
}

/* ---- ROC, AUC, EER --------------------------------------------------------------------- */

/* The Mann-Whitney statistic by comparing every pair: the plain reference. */
static double pairs_auc(const double *s, const unsigned char *l, long long n) {
    double wins = 0, pairs = 0;
    for (long long i = 0; i < n; i++)
        for (long long j = 0; j < n; j++)
            if (l[i] && !l[j]) wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0, pairs++;
    return wins / pairs;
}

static void roc_case(const char *what, const double *s, const unsigned char *l, int n,
                     double auc, double eer) {
    vg_roc r;
    char name[96];
    CHECK_OK(vg_roc_curve(s, l, n, &r, &err), &err);
    snprintf(name, sizeof name, "AUC %s", what);
    check_near(name, r.auc, auc, 1e-12);
    snprintf(name, sizeof name, "EER %s", what);
    check_near(name, r.eer, eer, 1e-12);
    CHECK(r.n >= 2 && r.fpr[0] == 0 && r.tpr[0] == 0 && r.fpr[r.n - 1] == 1 &&
          r.tpr[r.n - 1] == 1 && r.auc_bound == 0 && isinf(r.threshold[0]));
    for (long long i = 1; i < r.n; i++)
        CHECK(r.fpr[i] >= r.fpr[i - 1] && r.tpr[i] >= r.tpr[i - 1] &&
              r.threshold[i] < r.threshold[i - 1]);
    vg_roc_free(&r);
    CHECK(r.fpr == NULL && r.n == 0);
}

static void test_roc(void) {
    unsigned char l4[] = {0, 0, 1, 1};
    double perfect[] = {0.1, 0.2, 0.8, 0.9}, inverted[] = {0.9, 0.8, 0.2, 0.1};
    double hand[] = {0.1, 0.4, 0.35, 0.8}, tied[] = {1, 1, 1, 1};
    roc_case("perfect", perfect, l4, 4, 1, 0);
    roc_case("inverted", inverted, l4, 4, 0, 1);
    roc_case("all tied", tied, l4, 4, 0.5, 0.5);
    /* points (0,0) (0,.5) (.5,.5) (.5,1) (1,1): FPR = 1 - TPR at (.5, .5) */
    roc_case("hand example", hand, l4, 4, 0.75, 0.5);
    /* mixed ties: pairs 1v1 .5, 1v2 0, 2v1 1, 2v2 .5, 3v1 1, 3v2 1 -> 4/6 */
    double ties[] = {1, 1, 2, 2, 3};
    unsigned char lt[] = {0, 1, 0, 1, 1};
    roc_case("mixed ties", ties, lt, 5, 4.0 / 6, 0.4); /* (0,1/3) to (.5,2/3) at t = .8 */
    /* one tied group of 1 anomalous + 2 normal, then 1 anomalous: points (0,0) (1,.5) (1,1);
     * FPR + TPR - 1 crosses 0 at t = 2/3 of the first segment: EER = 2/3 (interpolated) */
    double grp[] = {2, 2, 2, 1};
    unsigned char lg[] = {1, 0, 0, 1};
    roc_case("EER inside a segment", grp, lg, 4, 0.25, 2.0 / 3);

    vg_roc r;
    unsigned char all[] = {1, 1, 1, 1};
    check_fails("one class only", vg_roc_curve(hand, all, 4, &r, &err), VG_ERR_ARG,
                "both normal and anomalous frames (4 of 4 anomalous)");
    CHECK(r.fpr == NULL);
    double nan[] = {0.1, NAN, 0.3, 0.4};
    check_fails("NaN score", vg_roc_curve(nan, l4, 4, &r, &err), VG_ERR_ARG, "score 1");
    double auc = 0;
    CHECK_OK(vg_roc_auc(hand, l4, 4, &auc, &err), &err);
    CHECK(auc == 0.75);

    /* random scores with many ties against the pairwise reference */
    enum { N = 600 };
    double s[N];
    unsigned char l[N];
    for (int i = 0; i < N; i++) {
        l[i] = vg_rand_unit(7, 2 * i) < 0.3f;
        s[i] = floor(vg_rand_unit(7, 2 * i + 1) * 25) + (l[i] ? 4 : 0);
    }
    CHECK_OK(vg_roc_curve(s, l, N, &r, &err), &err);
    check_near("AUC random, 25 tied levels vs pairs", r.auc, pairs_auc(s, l, N), 1e-12);
    vg_roc_free(&r);
}

/* ---- histogram ROC --------------------------------------------------------------------- */

/* Squared-error-like values spread over decades: log-uniform, anomalous ones shifted up by
 * shift decades; every 50th value exactly 0. */
static float draw_value(uint64_t seed, long long i, int anomalous, double shift) {
    if (i % 50 == 0) return 0;
    double u = vg_rand_unit(seed, (uint64_t)i);
    return (float)pow(10, -7 + 5 * u + (anomalous ? shift : 0));
}

static void test_hist_vs_exact(void) {
    enum { N = 200000 };
    float *v = malloc(N * sizeof *v);
    double *d = malloc(N * sizeof *d);
    unsigned char *l = malloc(N);
    double worst = 0, worst_bound = 0;
    const double shifts[] = {0.05, 0.4, 1.5};
    for (int t = 0; t < 3; t++) {
        for (long long i = 0; i < N; i++) {
            l[i] = vg_rand_unit(100 + t, (uint64_t)i) < 0.1f;
            v[i] = draw_value(200 + t, i, l[i], shifts[t]);
            d[i] = v[i];
        }
        vg_roc exact, approx;
        vg_roc_hist *h = NULL;
        CHECK_OK(vg_roc_curve(d, l, N, &exact, &err), &err);
        CHECK_OK(vg_roc_hist_create(1e-9, 1, 4096, &h, &err), &err);
        CHECK_OK(vg_roc_hist_add(h, v, l, N / 2, &err), &err); /* in two calls */
        CHECK_OK(vg_roc_hist_add(h, v + N / 2, l + N / 2, N - N / 2, &err), &err);
        CHECK_OK(vg_roc_hist_curve(h, &approx, &err), &err);
        double e = fabs(approx.auc - exact.auc);
        printf("hist AUC shift %.2f: exact %.6f hist %.6f |diff| %.2e bound %.2e EER %.4f/%.4f "
               "%s\n", shifts[t], exact.auc, approx.auc, e, approx.auc_bound, exact.eer,
               approx.eer, e <= approx.auc_bound && approx.auc_bound < 2e-3 ? "ok" : "FAIL");
        CHECK(e <= approx.auc_bound + 1e-12 && approx.auc_bound < 2e-3);
        CHECK(approx.pos == exact.pos && approx.neg == exact.neg && approx.n <= 4097);
        CHECK(fabs(approx.eer - exact.eer) < 5e-3);
        worst = fmax(worst, e), worst_bound = fmax(worst_bound, approx.auc_bound);
        vg_roc_free(&exact), vg_roc_free(&approx);
        vg_roc_hist_free(h);
    }
    printf("hist AUC: largest |error| %.2e, largest bound %.2e (tolerance: the bound, < 2e-3)\n",
           worst, worst_bound);

    /* VG_LABEL_NONE is skipped; NaN refused; one class refused */
    vg_roc_hist *h = NULL;
    vg_roc r;
    CHECK_OK(vg_roc_hist_create(1e-9, 1, 64, &h, &err), &err);
    float few[] = {0.5f, 0.1f, NAN, 2.0f};
    unsigned char fl[] = {1, 0, VG_LABEL_NONE, VG_LABEL_NONE};
    CHECK_OK(vg_roc_hist_add(h, few, fl, 4, &err), &err);
    CHECK_OK(vg_roc_hist_curve(h, &r, &err), &err);
    CHECK(r.pos == 1 && r.neg == 1 && r.auc == 1);
    vg_roc_free(&r);
    unsigned char nl[] = {1, 0, 0, 1};
    check_fails("hist NaN value", vg_roc_hist_add(h, few, nl, 4, &err), VG_ERR_ARG,
                "value 2 is not a number");
    vg_roc_hist_free(h);
    CHECK_OK(vg_roc_hist_create(1e-9, 1, 64, &h, &err), &err);
    CHECK_OK(vg_roc_hist_add(h, few, fl + 1, 1, &err), &err);
    check_fails("hist one class", vg_roc_hist_curve(h, &r, &err), VG_ERR_ARG,
                "anomalous pixels (0 of 1 anomalous)");
    vg_roc_hist_free(h);
    check_fails("hist bad range", vg_roc_hist_create(0, 1, 64, &h, &err), VG_ERR_ARG, "[0, 1]");
    check_fails("hist bad bins", vg_roc_hist_create(1e-9, 1, 1, &h, &err), VG_ERR_ARG,
                "1 bins");
    free(v), free(d), free(l);
}

/* ---- clips: cases, macro AUC, min-max, alarms ------------------------------------------- */

/* clip 0: N N N A A N N A; clip 1: A A N N (clip 0 ends and clip 1 starts anomalous: two
 * cases, not one). Cases and their maxima: N .5, A .9, N .4, A .35 | A .6, N .7. */
static const double CS[] = {0.1, 0.5, 0.2, 0.9, 0.3, 0.4, 0.1, 0.35, 0.2, 0.6, 0.7, 0.1};
static const unsigned char CL[] = {0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0};
static const int CC[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
#define CN 12

static void test_cases(void) {
    vg_roc r;
    CHECK_OK(vg_roc_cases(CS, CL, CC, CN, &r, &err), &err);
    /* anomalous {.9, .35, .6} against normal {.5, .4, .7}: 3 + 0 + 2 wins of 9 */
    check_near("case AUC, hand-made clips", r.auc, 5.0 / 9, 1e-12);
    CHECK(r.pos == 3 && r.neg == 3);
    vg_roc_free(&r);
    unsigned char one[CN] = {0};
    check_fails("case ROC without anomalies", vg_roc_cases(CS, one, CC, CN, &r, &err),
                VG_ERR_ARG, "anomalous cases (0 of 2 anomalous)");

    /* macro: clip 0 and clip 1 both have both classes; a third all-anomalous clip is left
     * out; the reference is each clip's pairwise AUC */
    double s[CN + 3];
    unsigned char l[CN + 3];
    int c[CN + 3];
    memcpy(s, CS, sizeof CS), memcpy(l, CL, sizeof CL), memcpy(c, CC, sizeof CC);
    for (int i = CN; i < CN + 3; i++) s[i] = i, l[i] = 1, c[i] = 2;
    double auc = 0, want = (pairs_auc(CS, CL, 8) + pairs_auc(CS + 8, CL + 8, 4)) / 2;
    int used = 0;
    CHECK_OK(vg_roc_macro_auc(s, l, c, CN + 3, &auc, &used, &err), &err);
    check_near("macro AUC (2 of 3 clips)", auc, want, 1e-12);
    CHECK(used == 2);
    check_fails("macro AUC, no clip with both", vg_roc_macro_auc(s + CN, l + CN, c + CN, 3,
                &auc, &used, &err), VG_ERR_ARG, "none of the 1 clips");

    double norm[CN + 3];
    vg_minmax_per_clip(s, c, CN + 3, norm);
    check_near("min-max clip 0 max -> 1", norm[3], 1, 0);
    check_near("min-max clip 0 .35 -> (.35-.1)/.8", norm[7], 0.25 / 0.8, 1e-15);
    check_near("min-max clip 1 min -> 0", norm[11], 0, 0);
    check_near("min-max clip 2 top -> 1", norm[14], 1, 0);
    double flat[3] = {2, 2, 2};
    int fc[3] = {0, 0, 0};
    vg_minmax_per_clip(flat, fc, 3, flat);
    CHECK(flat[0] == 0 && flat[2] == 0);
}

static void test_alarms(void) {
    vg_alarm_stats a;
    CHECK_OK(vg_alarm_stats_at(CS, CL, CC, CN, 0.5, &a, &err), &err);
    /* flagged: clip 0 frames 1 (normal: a false alarm) and 3 (hit); clip 1 frames 1 (hit)
     * and 2 (normal, but the alarm from frame 1 goes on: no new alarm) */
    printf("alarms at 0.5: TPR %.3f FPR %.3f cases %lld/%lld false alarms %lld\n", a.tpr, a.fpr,
           a.cases_detected, a.cases, a.false_alarms);
    CHECK(a.anomalous == 5 && a.normal == 7 && a.hits == 2 && a.false_hits == 2);
    CHECK(a.cases == 3 && a.cases_detected == 2 && a.false_alarms == 1);
    CHECK(fabs(a.tpr - 0.4) < 1e-15 && fabs(a.fpr - 2.0 / 7) < 1e-15);
    /* an alarm on a clip's first frame is new even when the clip before ended flagged */
    double s[4] = {0.9, 0.9, 0.9, 0.1};
    unsigned char l[4] = {0, 0, 0, 0};
    int c[4] = {0, 0, 1, 1};
    CHECK_OK(vg_alarm_stats_at(s, l, c, 4, 0.5, &a, &err), &err);
    CHECK(a.false_alarms == 2 && a.false_hits == 3 && isnan(a.tpr));
    check_fails("NaN threshold", vg_alarm_stats_at(s, l, c, 4, NAN, &a, &err), VG_ERR_ARG,
                "threshold");
}

/* ---- labels ---------------------------------------------------------------------------- */

static void test_json_labels(void) {
    const char *p = test_path("labels.json");
    const char *text = "  \n{\"clips\": {\"01\": [0, 1, 1], \"02\": [1]}}";
    test_write_file(p, text, strlen(text));
    vg_labels *l = NULL;
    unsigned char got[3];
    CHECK_OK(vg_labels_load(p, &l, &err), &err);
    CHECK_OK(vg_labels_get(l, "01", 3, got, &err), &err);
    CHECK(got[0] == 0 && got[1] == 1 && got[2] == 1);
    check_fails("JSON labels: frame count", vg_labels_get(l, "01", 5, got, &err), VG_ERR_SHAPE,
                "the footage has 5 frames, but the labels of '01' have 3");
    check_fails("JSON labels: clip missing", vg_labels_get(l, "07", 3, got, &err),
                VG_ERR_MISSING, "no labels for clip '07'");
    vg_labels_free(l);
}

static void test_intervals(void) {
    const char *p = test_path("labels.txt");
    const char *text = "# Ped2-like\r\n\n01 2 3   # two frames\r\n01\t3 5\n 02 0 0\n"
                       "long-name_3 1 1"; /* no newline at the end */
    test_write_file(p, text, strlen(text));
    vg_labels *l = NULL;
    unsigned char got[8];
    int n = -1;
    CHECK_OK(vg_labels_load(p, &l, &err), &err);
    if (!l) return;
    CHECK_OK(vg_labels_get(l, "01", 8, got, &err), &err);
    static const unsigned char want01[8] = {0, 0, 1, 1, 1, 1, 0, 0};
    CHECK(!memcmp(got, want01, 8));
    CHECK_OK(vg_labels_get(l, "02", 2, got, &err), &err);
    CHECK(got[0] == 1 && got[1] == 0);
    CHECK_OK(vg_labels_get(l, "long-name_3", 2, got, &err), &err);
    CHECK(got[0] == 0 && got[1] == 1);
    memset(got, 7, sizeof got);
    CHECK_OK(vg_labels_get(l, "09", 4, got, &err), &err); /* not listed: all normal */
    CHECK(got[0] == 0 && got[3] == 0);
    check_fails("intervals: span past the clip", vg_labels_get(l, "01", 5, got, &err),
                VG_ERR_SHAPE, "labels.txt:4: span 3..5 of clip '01' ends past its last frame, 4");
    CHECK(vg_labels_clip(l, "01", &n) == NULL && n == 0);
    vg_labels_free(l);

    static const struct {
        const char *text, *want;
        size_t len; /* 0: strlen */
    } bad[] = {
        {"01 5\n", "labels.txt:1: 2 fields", 0},
        {"# c\n01 5 x\n", "labels.txt:2: END 'x' is not a frame number", 0},
        {"01 9 3\n", "labels.txt:1: span 9..3 ends before it starts", 0},
        {"01 -1 3\n", "labels.txt:1: START '-1' is not a frame number", 0},
        {"01 1 2 3\n", "labels.txt:1: 4 fields", 0},
        {"01 0 99999999999\n", "END '99999999999' is not a frame number", 0},
        {"01 0 3\n02 1", "labels.txt:2: 2 fields", 0}, /* truncated */
        {"01 0 3\n\x89PNG\x0d\x0a\x1a\x0a", "labels.txt:2: 1 field,", 0},
        {"01 0 3\n\x1a\x1b junk\n", "labels.txt:2: byte 0x1a", 0},
        {"01 0 3\n0\0002 1 1\n", "labels.txt:2: byte 0x00", 15}, /* a NUL inside */
        {"", "no labels", 0},
        {"# nothing but comments\n\n   \n", "no labels", 0},
        {"{\"clips\": {\"01\": [0, 1]", "not valid JSON", 0}, /* truncated JSON */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        test_write_file(p, bad[i].text, bad[i].len ? bad[i].len : strlen(bad[i].text));
        l = NULL;
        char what[64];
        snprintf(what, sizeof what, "bad labels %zu", i);
        check_fails(what, vg_labels_load(p, &l, &err), VG_ERR_FORMAT, bad[i].want);
        CHECK(l == NULL);
    }
}

/* ---- masks ----------------------------------------------------------------------------- */

#define MW 8
#define MH 6

/* A 1-bit greyscale PNG, MW x MH, set where on(x, y), as Ped2's masks are stored. */
static void write_mask(const char *path, int (*on)(int x, int y)) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "FAIL: cannot write %s\n", path);
        test_failures++;
    } else {
        png_init_io(png, f);
        png_set_IHDR(png, info, MW, MH, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (int y = 0; y < MH; y++) {
            unsigned char row[1] = {0}; /* 8 pixels, most significant bit first */
            for (int x = 0; x < MW; x++) row[0] |= (unsigned char)(on(x, y) << (7 - x));
            png_write_row(png, row);
        }
        png_write_end(png, NULL);
    }
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static int block(int x, int y) { return x >= 2 && x < 4 && y >= 2 && y < 4; }
static int right_half(int x, int y) { return x >= 4 && y >= 0; }
static int nothing(int x, int y) { return x < 0 && y < 0; }

static vg_masks *open_masks(const char *d, int fw, int fh, const vg_source_params *p) {
    vg_masks *m = NULL;
    CHECK_OK(vg_masks_open(d, fw, fh, p, &m, &err), &err);
    return m;
}

static void test_masks(void) {
    const char *d = test_path("masks");
    mkdir(d, 0777);
    char p[300];
    /* natural order: 2.png (block) comes before 10.png (right half) */
    snprintf(p, sizeof p, "%s/10.png", d), write_mask(p, right_half);
    snprintf(p, sizeof p, "%s/2.png", d), write_mask(p, block);
    vg_source_params sp = vg_source_default_params();
    vg_masks *m = open_masks(d, MW, MH, &sp); /* same size: identity */
    unsigned char out[MW * MH * 2];
    if (!m) return;
    CHECK(vg_masks_count(m) == 2);
    CHECK_OK(vg_masks_read(m, 0, out, &err), &err);
    int same = 1;
    for (int y = 0; y < MH; y++)
        for (int x = 0; x < MW; x++) same &= out[y * MW + x] == block(x, y);
    printf("mask 2.png first, read as written: %s\n", same ? "ok" : "FAIL");
    CHECK(same);
    CHECK_OK(vg_masks_read(m, 1, out, &err), &err);
    CHECK(out[4] == 1 && out[3] == 0 && out[MW * MH - 1] == 1);
    check_fails("mask index past the folder", vg_masks_read(m, 2, out, &err), VG_ERR_SHAPE,
                "no mask for frame 2 (2 masks)");
    vg_masks_free(m);

    /* stretched to 4x3 by nearest neighbour: output (x, y) <- source (2x + 1, 2y + 1) */
    sp.width = 4, sp.height = 3;
    m = open_masks(d, MW, MH, &sp);
    CHECK_OK(vg_masks_read(m, 0, out, &err), &err);
    static const unsigned char half[12] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    /* the block covers source 2..3: only output (1, 1) samples it */
    CHECK(!memcmp(out, half, 12));
    vg_masks_free(m);

    /* a ROI: columns 2..5 only, output at the ROI's size */
    sp = vg_source_default_params();
    sp.roi_x = 2, sp.roi_y = 0, sp.roi_w = 4, sp.roi_h = MH;
    m = open_masks(d, MW, MH, &sp);
    CHECK_OK(vg_masks_read(m, 1, out, &err), &err); /* right half: source x >= 4 */
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 1 && out[3] == 1 && out[4 * MH - 1] == 1);
    vg_masks_free(m);

    /* fit pad into 8x8: rows 0 and 7 are bars (no frame pixel) */
    sp = vg_source_default_params();
    sp.width = 8, sp.height = 8, sp.fit = VG_FIT_PAD;
    m = open_masks(d, MW, MH, &sp);
    CHECK_OK(vg_masks_read(m, 0, out, &err), &err);
    CHECK(out[0] == VG_LABEL_NONE && out[7 * 8 + 7] == VG_LABEL_NONE && out[1 * 8] == 0 &&
          out[3 * 8 + 2] == 1);
    vg_masks_free(m);

    /* frames of another size than the masks */
    sp = vg_source_default_params();
    m = open_masks(d, 10, MH, &sp);
    check_fails("mask of the wrong size", vg_masks_read(m, 0, out, &err), VG_ERR_SHAPE,
                "2.png: mask is 8x6, the frames are 10x6");
    vg_masks_free(m);
    sp.roi_w = 20, sp.roi_h = 2;
    check_fails("ROI outside the frame", vg_masks_open(d, MW, MH, &sp, &m, &err), VG_ERR_ARG,
                "outside the 8x6 frame");
    CHECK(m == NULL);

    /* a corrupt PNG, a missing folder, a folder without images */
    sp = vg_source_default_params();
    snprintf(p, sizeof p, "%s/11.png", d), test_write_file(p, "\x89PNG\r\n\x1a\nnot really", 18);
    m = open_masks(d, MW, MH, &sp);
    check_fails("corrupt PNG mask", vg_masks_read(m, 2, out, &err), VG_ERR_FORMAT, "11.png");
    vg_masks_free(m);
    check_fails("missing mask folder", vg_masks_open(test_path("nope"), MW, MH, &sp, &m, &err),
                VG_ERR_IO, "nope");
    const char *empty = test_path("empty");
    mkdir(empty, 0777);
    check_fails("empty mask folder", vg_masks_open(empty, MW, MH, &sp, &m, &err),
                VG_ERR_FORMAT, "no mask images");
    /* an all-black mask reads as all normal */
    const char *d2 = test_path("masks2");
    mkdir(d2, 0777);
    snprintf(p, sizeof p, "%s/0.png", d2), write_mask(p, nothing);
    m = open_masks(d2, MW, MH, &sp);
    CHECK_OK(vg_masks_read(m, 0, out, &err), &err);
    int zeros = 1;
    for (int i = 0; i < MW * MH; i++) zeros &= out[i] == 0;
    CHECK(zeros);
    vg_masks_free(m);
}

int main(void) {
    test_tmpdir("eval");
    test_roc();
    test_hist_vs_exact();
    test_cases();
    test_alarms();
    test_json_labels();
    test_intervals();
    test_masks();
    test_tmpdir_remove();
    return test_result();
}
