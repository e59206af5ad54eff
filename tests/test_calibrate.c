/* test_calibrate.c - thresholds from normal scores, and a whole calibration on a tiny
 * model: the operating point round-trips through the model's metadata, the record holds
 * every case of the synthetic sweep, and bad inputs give clear errors. */
#include <cjson/cJSON.h>
#include <sys/stat.h>

#include "calib/threshold.h"
#include "test.h"
#include "clips.h"

#define W 32
#define H 32
#define CLIP_FRAMES 60

static vg_error err;

static void test_thresholds(void) {
    enum { N = 1000 };
    double v[N];
    for (int i = 0; i < N; i++) v[i] = i + 1;
    double lo, hi, t = vg_threshold_percentile(v, N, 0.005, &lo, &hi);
    printf("percentile 0.5%% of 1..1000: %g (band %g..%g), FPR %g\n", t, lo, hi,
           vg_fpr_at(v, N, t));
    CHECK(t == 995.5 && vg_fpr_at(v, N, t) == 0.005);
    CHECK(lo <= t && t <= hi && lo >= 985 && hi <= 1000);
    t = vg_threshold_percentile(v, N, 1e-4, &lo, &hi); /* fewer than one frame allowed */
    CHECK(t > 1000 && vg_fpr_at(v, N, t) == 0);
    CHECK(fabs(vg_threshold_meanstd(v, N, 0) - 500.5) < 1e-9);
    CHECK(vg_threshold_meanstd(v, N, 2) > 500.5 + 2 * 288);
    /* worst - 1 dB: PSNR (held as -dB) one dB lower; an MSE 10^0.1 times higher */
    CHECK(fabs(vg_threshold_worst(v, N, 1, VG_SCORE_PSNR) - 1001) < 1e-9);
    CHECK(fabs(vg_threshold_worst(v, N, 1, VG_SCORE_PATCH) - 1000 * pow(10, 0.1)) < 1e-9);
    CHECK(vg_fpr_at(v, N, 0) == 1 && vg_fpr_at(v, N, 1001) == 0 && vg_fpr_at(v, N, 1) == 1);
}

/* A bright square gliding over a dark ground, each clip from another place. */
static void paint_square(unsigned char *rgb, int w, int h, int c, int k) {
    for (int i = 0; i < w * h; i++) {
        int x = i % w, y = i / w, p = (k + 7 * c) % 20;
        int on = x >= 4 + p && x < 12 + p && y >= 10 && y < 18;
        rgb[3 * i] = (unsigned char)(on ? 220 : 40 + (x + y) % 7);
        rgb[3 * i + 1] = (unsigned char)(on ? 200 : 50);
        rgb[3 * i + 2] = (unsigned char)(on ? 60 : 45);
    }
}

/* T = 2, seed 5; 1 thread: tiny work, threads would only wait on each other. */
static vg_model *new_model(void) { return test_unet_model(W, H, 2, 1, 1, 5); }

static void check_record(const char *json, const vg_model *m) {
    cJSON *rec = cJSON_Parse(json);
    CHECK(rec != NULL);
    const cJSON *syn = cJSON_GetObjectItem(rec, "synthetic");
    int n = 0;
    vg_synth_sweep(&n);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(syn, "cases")) == n);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(syn, "categories")) == VG_SYNTH_CATEGORIES);
    const cJSON *c;
    int measured = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(syn, "cases")) {
        const cJSON *r = cJSON_GetObjectItem(c, "recall");
        measured += cJSON_IsNumber(r) && r->valuedouble >= 0 && r->valuedouble <= 1;
    }
    printf("cases with a recall: %d of %d\n", measured, n);
    CHECK(measured >= n - 2); /* channel swaps may not apply; nothing else may be skipped */
    double fpr = cJSON_GetObjectItem(rec, "fpr")->valuedouble;
    CHECK(fpr <= 0.005 + 1e-12);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "normal"), "clips")) == 2);
    vg_calibration cal;
    CHECK_OK(vg_model_calibration(m, &cal, &err), &err);
    printf("threshold %.6g (record %.6g), band %.6g..%.6g, FPR %g\n", cal.threshold,
           cJSON_GetObjectItem(rec, "threshold")->valuedouble, cal.band_lo, cal.band_hi, cal.fpr);
    CHECK(cal.threshold == cJSON_GetObjectItem(rec, "threshold")->valuedouble);
    CHECK(cal.score == VG_SCORE_PATCH && cal.smooth == 5 && cal.patch == VG_PATCH_DEFAULT);
    CHECK(cal.band_lo <= cal.threshold && cal.threshold <= cal.band_hi && cal.fpr == fpr);
    /* the normal percentiles: increasing, the 0.5% FPR threshold between the 99th and the
       100th (or just over it, when fewer than one frame in 200 may pass) */
    double ref[101];
    CHECK_OK(vg_model_calibration_reference(m, ref, &err), &err);
    int rising = 1;
    for (int i = 1; i <= 100; i++) rising &= ref[i] >= ref[i - 1];
    printf("reference %.6g .. %.6g (99th %.6g), increasing %d\n", ref[0], ref[100], ref[99],
           rising);
    CHECK(rising && ref[99] <= cal.threshold && cal.threshold <= nextafter(ref[100], INFINITY));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(rec, "reference")) == 101);
    cJSON_Delete(rec);
}

static void test_calibrate(const vg_footage *f) {
    vg_model *m = new_model();
    vg_calibration cal;
    CHECK(vg_model_calibration(m, &cal, &err) == VG_ERR_MISSING);
    double ref[101];
    CHECK(vg_model_calibration_reference(m, ref, &err) == VG_ERR_MISSING);
    vg_calibrate_params p = vg_calibrate_default_params();
    p.report = test_tmpdir("calibrate");
    char *json = NULL;
    CHECK_OK(vg_calibrate(m, f, &p, &json, &err), &err);
    if (json) check_record(json, m);
    struct stat st;
    CHECK(stat(test_path("report.html"), &st) == 0 && st.st_size > 10000);
    free(json);

    /* PSNR thresholds read back in dB */
    p = vg_calibrate_default_params();
    p.score = VG_SCORE_PSNR, p.synthetic = 0, p.strategy = VG_THRESHOLD_WORST;
    CHECK_OK(vg_calibrate(m, f, &p, &json, &err), &err);
    cJSON *rec = cJSON_Parse(json);
    double db = cJSON_GetObjectItem(rec, "threshold")->valuedouble;
    CHECK_OK(vg_model_calibration(m, &cal, &err), &err);
    printf("psnr worst - 1 dB: %.3f dB, fpr %g\n", db, cal.fpr);
    CHECK(cal.score == VG_SCORE_PSNR && cal.threshold == -db && cal.fpr == 0);
    CHECK(!cJSON_GetObjectItem(rec, "synthetic"));
    /* stored in dB, rising; read back as -dB reversed: ref[100] is the lowest PSNR, whose
       worst - 1 dB is the threshold */
    CHECK_OK(vg_model_calibration_reference(m, ref, &err), &err);
    const cJSON *dbs = cJSON_GetObjectItem(rec, "reference");
    printf("psnr reference %.3f .. %.3f dB\n", -ref[100], -ref[0]);
    CHECK(fabs(cal.threshold - (ref[100] + 1)) < 1e-9 && ref[0] <= ref[100]);
    CHECK(cJSON_GetArrayItem(dbs, 0)->valuedouble == -ref[100] &&
          cJSON_GetArrayItem(dbs, 100)->valuedouble == -ref[0]);
    cJSON_Delete(rec);
    free(json);

    /* a model calibrated before the reference was stored */
    char *section = vg_model_get_meta(m, "calibration");
    cJSON *older = cJSON_Parse(section);
    free(section);
    cJSON_DeleteItemFromObject(older, "reference");
    char *text = cJSON_PrintUnformatted(older);
    CHECK_OK(vg_model_set_meta(m, "calibration", text, &err), &err);
    CHECK(vg_model_calibration_reference(m, ref, &err) == VG_ERR_MISSING);
    printf("older calibration: %s\n", err.msg);
    free(text);
    cJSON_Delete(older);

    vg_calibrate_params bad[4];
    for (int i = 0; i < 4; i++) bad[i] = vg_calibrate_default_params();
    bad[0].fpr = 0, bad[1].smooth = 0, bad[2].recall = 2, bad[3].fps = -1;
    for (int i = 0; i < 4; i++) {
        json = NULL;
        CHECK(vg_calibrate(m, f, &bad[i], &json, &err) == VG_ERR_ARG && !json);
        printf("bad params %d: %s\n", i, err.msg);
    }
    vg_model_free(m);
}

/* Clips no longer than the model's context have no score to calibrate on. */
static void test_too_short(void) {
    const char *src[1] = {test_path("short")};
    test_write_clip(src[0], 0, 2, W, H, NULL); /* black */
    vg_source_params sp = vg_source_default_params();
    vg_footage *f = NULL;
    CHECK_OK(vg_footage_load(src, 1, &sp, NULL, NULL, &f, &err), &err);
    vg_model *m = new_model();
    vg_calibrate_params p = vg_calibrate_default_params();
    char *json = NULL;
    CHECK(vg_calibrate(m, f, &p, &json, &err) == VG_ERR_ARG && !json);
    printf("too short: %s\n", err.msg);
    vg_model_free(m);
    vg_footage_free(f);
}

int main(void) {
    test_thresholds();
    test_tmpdir("calibrate");
    test_write_clips(test_path("normal"), 2, CLIP_FRAMES, W, H, paint_square);
    vg_footage *f = NULL;
    const char *src[1] = {test_path("normal")};
    vg_source_params sp = vg_source_default_params();
    CHECK_OK(vg_footage_load(src, 1, &sp, NULL, NULL, &f, &err), &err);
    if (f) test_calibrate(f);
    vg_footage_free(f);
    test_too_short();
    test_tmpdir_remove();
    return test_result();
}
