/* test_mobilenet_reference - the genuine ImageNet MobileNetV2 of ../shared/models against
 * an independent float64 forward pass on three photos (see ../shared/models/README.md).
 *
 * The three images run as one batch of 3. Compared: features.6, .13, .17, .18 and the
 * logits (global average pool + classifier.1, in plain C here: only this test needs
 * them), then the top-1 classes 286 (cat), 20 (bird), 653 (grace_hopper).
 *
 * Tolerance: our fp32 vs a float64 reference through 53 layers. The README expects
 * relative errors of 1e-5 to 1e-4; atol 1e-5 + rtol 1e-4 of max|ref| is that bound, and
 * any geometry slip (TF "same" padding off by one, a missed residual) moves features by
 * order max|ref|. */
#include <stdint.h>

#include "backend/backend.h"
#include "io/tensorfile.h"
#include "models/encoder.h"
#include "test.h"

#define ATOL 1e-5
#define RTOL 1e-4
#define N_IMG 3
#define HW 224
#define CLASSES 1001
#define C_OUT 1280

static const char *images[N_IMG] = {"cat", "bird", "grace_hopper"};
static const int top1[N_IMG] = {286, 20, 653};

/* logits[k] = bias[k] + sum_c weight[k, c] * mean_hw(f[c]) for one image's f [C_OUT, hw]. */
static void classify(const float *f, int hw, const float *weight, const float *bias,
                     float *logits) {
    double pooled[C_OUT];
    for (int c = 0; c < C_OUT; c++) {
        double s = 0;
        for (int i = 0; i < hw; i++) s += f[(size_t)c * hw + i];
        pooled[c] = s / hw;
    }
    for (int k = 0; k < CLASSES; k++) {
        double s = bias[k];
        for (int c = 0; c < C_OUT; c++) s += (double)weight[(size_t)k * C_OUT + c] * pooled[c];
        logits[k] = (float)s;
    }
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* Stacks the three <img>.input tensors into one batch. */
static int load_inputs(const vg_tensorfile *ref, float *x, vg_error *err) {
    const int64_t shape[4] = {1, 3, HW, HW};
    size_t per = (size_t)3 * HW * HW;
    for (int i = 0; i < N_IMG; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.input", images[i]);
        const float *src = vg_tensorfile_get(ref, name, 4, shape, err);
        if (!src) return err->code;
        memcpy(x + i * per, src, per * sizeof(float));
    }
    return VG_OK;
}

/* Compares one module's output of all three images with <img>.<module>. */
static void compare_module(const vg_encoder *enc, const vg_tensorfile *ref,
                           const char *module, float **keep) {
    vg_error err = {0};
    const vg_tensor *t = vg_encoder_output(enc, module);
    CHECK(t != NULL);
    if (!t) return;
    vg_shape s = vg_tensor_shape(t);
    size_t per = vg_shape_count(s) / (size_t)s.n;
    float *got = malloc(vg_shape_count(s) * sizeof(float));
    CHECK_OK(vg_tensor_read(t, got, &err), &err);
    for (int i = 0; i < N_IMG; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", images[i], module);
        const int64_t shape[4] = {1, s.c, s.h, s.w};
        const float *want = vg_tensorfile_get(ref, name, 4, shape, &err);
        if (!want) {
            fprintf(stderr, "FAIL %s\n", err.msg);
            test_failures++;
            continue;
        }
        check_close(name, got + i * per, want, per, ATOL, RTOL);
    }
    if (keep) *keep = got;
    else free(got);
}

static void compare_logits(const vg_tensorfile *weights, const vg_tensorfile *ref,
                           const float *f18) {
    vg_error err = {0};
    const int64_t wshape[2] = {CLASSES, C_OUT}, bshape[1] = {CLASSES};
    const int64_t lshape[2] = {1, CLASSES};
    const float *w = vg_tensorfile_get(weights, "classifier.1.weight", 2, wshape, &err);
    const float *b = NULL;
    if (w) b = vg_tensorfile_get(weights, "classifier.1.bias", 1, bshape, &err);
    if (!b) {
        fprintf(stderr, "FAIL %s\n", err.msg);
        test_failures++;
        return;
    }
    int hw = (HW / 32) * (HW / 32);
    for (int i = 0; i < N_IMG; i++) {
        char name[64];
        float logits[CLASSES];
        snprintf(name, sizeof name, "%s.logits", images[i]);
        const float *want = vg_tensorfile_get(ref, name, 2, lshape, &err);
        classify(f18 + (size_t)i * C_OUT * hw, hw, w, b, logits);
        if (want) check_close(name, logits, want, CLASSES, ATOL, RTOL);
        else { fprintf(stderr, "FAIL %s\n", err.msg); test_failures++; }
        int k = argmax(logits, CLASSES);
        printf("%-44s top-1 %d (logit %.3f), expected %d %s\n", images[i], k, logits[k],
               top1[i], k == top1[i] ? "ok" : "FAIL");
        CHECK(k == top1[i]);
    }
}

int main(void) {
    const char *shared = test_shared_dir();
    if (!shared) {
        printf("skipped: ../shared not found\n");
        return TEST_SKIP;
    }
    char wpath[4096], rpath[4096];
    snprintf(wpath, sizeof wpath, "%s/models/mobilenet_v2_imagenet.safetensors", shared);
    snprintf(rpath, sizeof rpath, "%s/models/mobilenet_v2_reference.safetensors", shared);
    const vg_shape in = {N_IMG, 3, HW, HW};
    vg_error err = {0};
    vg_ctx *ctx = NULL;
    vg_tensorfile *weights = NULL, *ref = NULL;
    vg_encoder *enc = NULL;
    vg_tensor *frames = NULL;
    float *x = malloc(vg_shape_count(in) * sizeof(float)), *f18 = NULL;
    CHECK_OK(vg_ctx_create(0, &ctx, &err), &err);
    CHECK_OK(vg_tensorfile_open(wpath, &weights, &err), &err);
    CHECK_OK(vg_tensorfile_open(rpath, &ref, &err), &err);
    if (!ctx || !weights || !ref) goto done;
    vg_file_weights fw = {weights, ""};
    vg_weights w = vg_weights_from_file(&fw);
    CHECK_OK(vg_encoder_create(ctx, VG_ENCODER_MOBILENET_V2, &w, in, &enc, &err), &err);
    CHECK_OK(vg_tensor_create(ctx, in, &frames, &err), &err);
    CHECK_OK(load_inputs(ref, x, &err), &err);
    if (!enc || !frames || test_failures) goto done;
    CHECK_OK(vg_tensor_write(frames, x, &err), &err);
    CHECK_OK(vg_encoder_forward(enc, frames, &err), &err);
    CHECK(vg_encoder_tap(enc, 8) == vg_encoder_output(enc, "features.6"));
    CHECK(vg_encoder_tap(enc, 16) == vg_encoder_output(enc, "features.13"));
    CHECK(vg_encoder_tap(enc, 32) == vg_encoder_output(enc, "features.18"));
    compare_module(enc, ref, "features.6", NULL);
    compare_module(enc, ref, "features.13", NULL);
    compare_module(enc, ref, "features.17", NULL);
    compare_module(enc, ref, "features.18", &f18);
    if (f18) compare_logits(weights, ref, f18);
done:
    free(f18);
    free(x);
    vg_tensor_free(frames);
    vg_encoder_free(enc);
    vg_tensorfile_close(ref);
    vg_tensorfile_close(weights);
    vg_ctx_free(ctx);
    return test_result();
}
