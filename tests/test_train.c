/* test_train.c - training on footage end to end, and the evaluation helpers.
 *
 *   - footage: two PNG clips decoded into memory;
 *   - schedule: a run stopped by its progress callback (as Ctrl-C stops vigil train) and
 *     resumed from its checkpoint ends with exactly the weights of an uninterrupted run
 *     (the draws are counter-based, so a resumed run takes the same batches);
 *     augmentation runs and changes the result;
 *   - validation statistics land in the model's metadata and survive save/load;
 *   - ROC AUC against hand-computed values, labels files good and bad.
 * Everything is small (U-Net at 32x32, T = 2) and runs in a few seconds. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "clips.h"
#include "vigil/vigil.h"

#define W 32
#define H 32
#define CLIP_FRAMES 12

static vg_error err;

/* A bright square moving right, one pixel a frame. */
static void paint_square(unsigned char *rgb, int w, int h, int c, int k) {
    for (int i = 0; i < w * h; i++) {
        int x = i % w, y = i / w, on = x >= 4 + k + c && x < 12 + k + c && y >= 10 && y < 18;
        rgb[3 * i] = rgb[3 * i + 1] = (unsigned char)(on ? 220 : 40);
        rgb[3 * i + 2] = (unsigned char)(on ? 60 : 40);
    }
}

/* T = 2, seed 3; 2 threads, as vigil train runs. */
static vg_model *new_model(void) { return test_unet_model(W, H, 2, 1, 2, 3); }

static vg_schedule schedule(int epochs, const char *checkpoint) {
    vg_schedule s = vg_schedule_default();
    s.epochs = epochs;
    s.seqs_per_epoch = 8;
    s.train.batch = 4;
    s.train.seed = 5;
    s.checkpoint = checkpoint;
    return s;
}

/* Stops the run at its third batch, as Ctrl-C does through the CLI's callback. */
static int stop_at_third(const vg_progress *p, void *user) {
    int *calls = user;
    return !strcmp(p->stage, "train") && ++*calls == 3;
}

static void predict(vg_model *m, float *out) {
    static float frames[2 * 3 * W * H];
    for (size_t i = 0; i < sizeof frames / sizeof *frames; i++) frames[i] = (float)(i % 7) / 7.f;
    CHECK_OK(vg_model_predict(m, frames, 1, out, &err), &err);
}

static void test_resume(const vg_footage *f) {
    static float straight[3 * W * H], resumed[3 * W * H], augmented[3 * W * H];
    vg_model *a = new_model();
    vg_schedule s = schedule(2, NULL);
    CHECK_OK(vg_train_footage(a, f, &s, &err), &err);
    predict(a, straight);

    /* stopped in epoch 1, then resumed from the checkpoint by a new process's worth of
     * objects: a model loaded from the file and a fresh trainer */
    const char *ck = test_path("ck.safetensors");
    vg_model *b = new_model();
    int calls = 0;
    s = schedule(2, ck);
    s.progress = stop_at_third, s.user = &calls;
    int rc = vg_train_footage(b, f, &s, &err);
    CHECK(rc == VG_ERR_ABORTED);
    printf("stopped run: %s\n", err.msg);
    vg_model_free(b);
    b = NULL;
    CHECK_OK(vg_model_load(ck, 2, &b, &err), &err);
    s = schedule(2, ck);
    s.resume = 1;
    if (b) CHECK_OK(vg_train_footage(b, f, &s, &err), &err);
    if (b) predict(b, resumed);
    int same = memcmp(straight, resumed, sizeof straight) == 0;
    printf("resumed run equals the uninterrupted one bit for bit: %s\n", same ? "ok" : "FAIL");
    CHECK(same);

    vg_model *c = new_model();
    s = schedule(2, NULL);
    s.aug = VG_AUG_GENERAL;
    s.aug_chunk = 4;
    CHECK_OK(vg_train_footage(c, f, &s, &err), &err);
    predict(c, augmented);
    CHECK(memcmp(straight, augmented, sizeof straight) != 0);
    s.aug_chunk = 2; /* shorter than a sequence of T+1 = 3 frames */
    CHECK(vg_train_footage(c, f, &s, &err) == VG_ERR_ARG);
    printf("short augmentation chunk: %s\n", err.msg);

    /* validation statistics travel in the file */
    CHECK_OK(vg_validate(a, f, 8, NULL, NULL, &err), &err);
    const char *mp = test_path("m.safetensors");
    CHECK_OK(vg_model_save(a, mp, &err), &err);
    vg_model *back = NULL;
    CHECK_OK(vg_model_load(mp, 2, &back, &err), &err);
    char *v = back ? vg_model_get_meta(back, "validation") : NULL;
    CHECK(v && strstr(v, "\"psnr\"") && strstr(v, "\"99.5\"") && strstr(v, "\"frames\":20"));
    printf("validation metadata: %.90s...\n", v ? v : "(none)");
    free(v);
    CHECK(vg_model_set_meta(a, "encoder", "{}", &err) == VG_ERR_ARG);
    CHECK(vg_model_set_meta(a, "notes", "[1,", &err) == VG_ERR_ARG);
    vg_model_free(back);
    vg_model_free(a), vg_model_free(b), vg_model_free(c);
}

/* With a frame step the windows stretch: T = 2 and step 5 need 11 frames (the clips have
 * 12), step 6 would need 13. */
static void test_step(const vg_footage *f) {
    vg_schedule s = schedule(1, NULL);
    for (int step = 5; step <= 6; step++) {
        vg_model *m = test_unet_model(W, H, 2, step, 2, 0);
        int rc = m ? vg_train_footage(m, f, &s, &err) : VG_ERR_ARG;
        printf("step %d: %s\n", step, rc ? err.msg : "trained");
        CHECK(step == 5 ? rc == VG_OK : rc == VG_ERR_ARG && strstr(err.msg, "13 consecutive"));
        vg_model_free(m);
    }
}

static void test_footage_errors(void) {
    vg_footage *f = NULL;
    vg_source_params sp = vg_source_default_params();
    const char *missing[1] = {test_path("nothing-here")};
    CHECK(vg_footage_load(missing, 1, &sp, NULL, NULL, &f, &err) != VG_OK && !f);
    printf("missing footage: %s\n", err.msg);
    CHECK(vg_footage_load(missing, 0, &sp, NULL, NULL, &f, &err) == VG_ERR_ARG);
}

static void check_auc(const char *what, const double *s, const unsigned char *l, int n,
                      double want) {
    double auc = -1;
    CHECK_OK(vg_roc_auc(s, l, n, &auc, &err), &err);
    int ok = fabs(auc - want) < 1e-12;
    printf("AUC %-28s %.4f (want %.4f) %s\n", what, auc, want, ok ? "ok" : "FAIL");
    if (!ok) test_failures++;
}

static void test_auc(void) {
    double s[] = {0.1, 0.4, 0.35, 0.8}, tie[] = {1, 1, 1, 1};
    unsigned char l[] = {0, 0, 1, 1}, all[] = {1, 1, 1, 1};
    check_auc("hand-computed example", s, l, 4, 0.75);
    double rev[] = {0.8, 0.9, 0.1, 0.2};
    check_auc("reversed", rev, l, 4, 0.0);
    check_auc("all tied", tie, l, 4, 0.5);
    double auc;
    CHECK(vg_roc_auc(s, all, 4, &auc, &err) == VG_ERR_ARG);
    printf("one class only: %s\n", err.msg);
    double nan[] = {0.1, 0.0 / 0.0, 0.3, 0.4};
    CHECK(vg_roc_auc(nan, l, 4, &auc, &err) == VG_ERR_ARG);
}

static void test_labels(void) {
    const char *p = test_path("labels.json");
    const char *good = "{\"clips\": {\"01\": [0, 1, 1], \"02\": []}}";
    test_write_file(p, good, strlen(good));
    vg_labels *l = NULL;
    CHECK_OK(vg_labels_load(p, &l, &err), &err);
    int n = 0;
    const unsigned char *c = l ? vg_labels_clip(l, "01", &n) : NULL;
    CHECK(c && n == 3 && c[0] == 0 && c[2] == 1);
    CHECK(l && !vg_labels_clip(l, "03", &n));
    vg_labels_free(l);
    static const char *const bad[] = {
        "{\"clips\": {\"01\": [0, 1, 1]",        /* truncated */
        "{\"clips\": {\"01\": [0, 2]}}",         /* not 0/1 */
        "{\"clips\": {\"01\": \"0110\"}}",       /* not an array */
        "{\"frames\": [0, 1]}",                  /* no clips */
        "",                                      /* empty */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        test_write_file(p, bad[i], strlen(bad[i]));
        l = NULL;
        int rc = vg_labels_load(p, &l, &err);
        CHECK(rc == VG_ERR_FORMAT && !l);
        printf("bad labels %zu: %s\n", i, err.msg);
    }
    CHECK(vg_labels_load(test_path("absent.json"), &l, &err) == VG_ERR_IO);
    printf("absent labels: %s\n", err.msg);
}

int main(void) {
    test_tmpdir("train");
    test_write_clips(test_path("normal"), 2, CLIP_FRAMES, W, H, paint_square);
    vg_footage *f = NULL;
    const char *src[1] = {test_path("normal")};
    vg_source_params sp = vg_source_default_params();
    CHECK_OK(vg_footage_load(src, 1, &sp, NULL, NULL, &f, &err), &err);
    CHECK(f && vg_footage_clips(f) == 2 && vg_footage_frames(f) == 2 * CLIP_FRAMES);
    if (f) test_resume(f);
    if (f) test_step(f);
    vg_footage_free(f);
    test_footage_errors();
    test_auc();
    test_labels();
    test_tmpdir_remove();
    return test_result();
}
