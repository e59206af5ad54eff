/* test_encoders - ResNet-18 and MobileNetV2 with random weights.
 *
 * Three proofs: (1) against PyTorch (tests/fixtures/models.safetensors: the stride-8/16/32
 * taps of 8 frames of 64x64; the frames and weights are regenerated here by the fixture
 * rule, seed 7, names "frames" and "encoder." + torchvision name); (2) against a plain C
 * forward of the same tables, applying BN unfolded after each conv as PyTorch does, so
 * it also checks the folding, TF "same" padding on non-square inputs and the fused
 * residuals; (3) the parameter lists and the errors. Then it prints the 224x224 batch-1
 * forward time of each encoder (information, not a check).
 *
 * Tolerance (fp32 vs fp32, ~20-50 layers): each layer adds rounding of about
 * sqrt(fan_in) * 6e-8 relative to its output scale (different summation orders), which
 * compounds to ~1e-5 relative after the full depth (measured: <= 1.2e-6 of max|ref|);
 * atol 1e-5 + rtol 1e-4 of max|ref| leaves ample headroom for other ISAs, while a wrong
 * pad, tap or fold gives errors of order max|ref|. */
#include <float.h>
#include <stdint.h>
#include <time.h>

#include "backend/backend.h"
#include "core/rng.h"
#include "io/tensorfile.h"
#include "models/encoder.h"
#include "models/encoder_arch.h"
#include "models/init.h"
#include "test.h"

#define SEED 7
#define ATOL 1e-5
#define RTOL 1e-4

static const vg_encoder_kind kinds[] = {VG_ENCODER_RESNET18, VG_ENCODER_MOBILENET_V2};

static float *read_all(const vg_tensor *t) {
    vg_error err = {0};
    float *x = malloc(sizeof(float) * vg_shape_count(vg_tensor_shape(t)));
    if (x && vg_tensor_read(t, x, &err) != VG_OK) {
        fprintf(stderr, "FAIL read: %s\n", err.msg);
        test_failures++;
    }
    return x;
}

/* ---- parameter lists ---------------------------------------------------------------- */

static void test_param_list(vg_encoder_kind kind, int want_count, const char *first,
                            const char *last) {
    int n = vg_encoder_param_count(kind);
    const char *name = NULL, *name0 = NULL;
    int ndim;
    int64_t shape[4];
    printf("%s: %d parameter tensors\n", vg_encoder_describe(kind).name, n);
    CHECK(n == want_count);
    for (int i = 0; i < n; i++) {
        CHECK(vg_encoder_param(kind, i, &name, &ndim, shape) == VG_OK);
        CHECK(ndim == 1 || ndim == 4);
        if (i == 0) name0 = name;
        for (int j = 0; j < i; j++) { /* names are unique */
            const char *other;
            int nd;
            int64_t sh[4];
            vg_encoder_param(kind, j, &other, &nd, sh);
            CHECK(strcmp(other, name) != 0);
        }
    }
    CHECK(name0 && strcmp(name0, first) == 0);
    CHECK(name && strcmp(name, last) == 0);
    CHECK(vg_encoder_param(kind, n, &name, &ndim, shape) == VG_ERR_ARG);
    CHECK(vg_encoder_param(kind, -1, &name, &ndim, shape) == VG_ERR_ARG);
}

/* ---- plain C reference forward --------------------------------------------------------- */

typedef struct ref_map {
    int n, c, h, w;
    float *x;
} ref_map;

static void ref_same_pad(int n, int k, int s, int *first, int *last) {
    int total = ((n + s - 1) / s - 1) * s + k - n;
    *first = total > 0 ? total / 2 : 0;
    *last = total > 0 ? total - total / 2 : 0;
}

static const float *param(vg_weights *w, const char *name, int ndim, int64_t a, int64_t b,
                          int64_t c, int64_t d) {
    vg_error err = {0};
    const int64_t shape[4] = {a, b, c, d};
    const float *p = w->get(w->user, name, ndim, shape, &err);
    if (!p) fprintf(stderr, "reference: %s\n", err.msg);
    return p;
}

/* y = conv(x) + bias, then BN (eval), + residual, activation: PyTorch's order. */
static void ref_conv_row(const enc_row *r, vg_weights *w, const ref_map *x,
                         const ref_map *res, ref_map *y) {
    int pt = r->pad, pb = r->pad, pl = r->pad, pr = r->pad;
    if (r->pad == ENC_PAD_SAME) {
        ref_same_pad(x->h, r->k, r->stride, &pt, &pb);
        ref_same_pad(x->w, r->k, r->stride, &pl, &pr);
    }
    int cpg = r->in / r->groups, opg = r->out / r->groups;
    *y = (ref_map){x->n, r->out, (x->h + pt + pb - r->k) / r->stride + 1,
                   (x->w + pl + pr - r->k) / r->stride + 1, NULL};
    y->x = malloc(sizeof(float) * (size_t)y->n * y->c * y->h * y->w);
    const float *wt = param(w, r->weight, 4, r->out, cpg, r->k, r->k);
    const float *bias = r->bias ? param(w, r->bias, 1, r->out, 0, 0, 0) : NULL;
    const float *bn[4] = {NULL};
    for (int j = 0; r->bn[0] && j < 4; j++) bn[j] = param(w, r->bn[j], 1, r->out, 0, 0, 0);
    for (int n = 0; n < y->n; n++)
    for (int o = 0; o < y->c; o++)
    for (int i = 0; i < y->h; i++)
    for (int j = 0; j < y->w; j++) {
        double acc = bias ? bias[o] : 0.0;
        int g = o / opg;
        for (int ci = 0; ci < cpg; ci++)
        for (int ki = 0; ki < r->k; ki++)
        for (int kj = 0; kj < r->k; kj++) {
            int yy = i * r->stride - pt + ki, xx = j * r->stride - pl + kj;
            if (yy < 0 || yy >= x->h || xx < 0 || xx >= x->w) continue;
            acc += (double)wt[((o * cpg + ci) * r->k + ki) * r->k + kj] *
                   x->x[(((size_t)n * x->c + g * cpg + ci) * x->h + yy) * x->w + xx];
        }
        if (bn[0]) /* eval-mode BN: (x - mean) / sqrt(var + eps) * gamma + beta */
            acc = (acc - bn[2][o]) / sqrt((double)bn[3][o] + 1e-5) * bn[0][o] + bn[1][o];
        size_t at = (((size_t)n * y->c + o) * y->h + i) * y->w + j;
        if (res) acc += res->x[at];
        if (r->act == VG_ACT_RELU) acc = acc > 0 ? acc : 0;
        if (r->act == VG_ACT_RELU6) acc = acc < 0 ? 0 : acc > 6 ? 6 : acc;
        y->x[at] = (float)acc;
    }
}

static void ref_pool_row(const enc_row *r, const ref_map *x, ref_map *y) {
    *y = (ref_map){x->n, x->c, (x->h + 2 * r->pad - r->k) / r->stride + 1,
                   (x->w + 2 * r->pad - r->k) / r->stride + 1, NULL};
    y->x = malloc(sizeof(float) * (size_t)y->n * y->c * y->h * y->w);
    for (int n = 0; n < y->n; n++)
    for (int c = 0; c < y->c; c++)
    for (int i = 0; i < y->h; i++)
    for (int j = 0; j < y->w; j++) {
        float m = -FLT_MAX;
        for (int ki = 0; ki < r->k; ki++)
        for (int kj = 0; kj < r->k; kj++) {
            int yy = i * r->stride - r->pad + ki, xx = j * r->stride - r->pad + kj;
            if (yy < 0 || yy >= x->h || xx < 0 || xx >= x->w) continue;
            float v = x->x[(((size_t)n * x->c + c) * x->h + yy) * x->w + xx];
            if (v > m) m = v;
        }
        y->x[(((size_t)n * y->c + c) * y->h + i) * y->w + j] = m;
    }
}

/* The last row inside module ("layer2" holds "layer2.1.conv2"). */
static int last_row_of(const enc_arch *a, const char *module) {
    size_t len = strlen(module);
    int last = -1;
    for (int i = 0; i < a->n_rows; i++) {
        const char *m = a->rows[i].module;
        if (strncmp(m, module, len) == 0 && (m[len] == '.' || m[len] == '\0')) last = i;
    }
    return last;
}

/* Compares the encoder's taps with the plain forward of its table on one random input. */
static void test_against_reference(vg_ctx *ctx, vg_encoder_kind kind, vg_shape in) {
    const enc_arch *a = kind == VG_ENCODER_RESNET18 ? vg_resnet18_arch()
                                                    : vg_mobilenet_v2_arch();
    vg_error err = {0};
    vg_fixture_weights *fw = NULL;
    vg_encoder *enc = NULL;
    vg_tensor *frames = NULL;
    ref_map input = {in.n, in.c, in.h, in.w, malloc(sizeof(float) * vg_shape_count(in))};
    ref_map *out = calloc((size_t)a->n_rows, sizeof *out);
    vg_fill_uniform(input.x, vg_shape_count(in), 12345, -1.0f, 1.0f);
    CHECK_OK(vg_fixture_weights_create(SEED, "encoder.", &fw, &err), &err);
    vg_weights w = vg_fixture_weights_source(fw);
    CHECK_OK(vg_encoder_create(ctx, kind, &w, in, &enc, &err), &err);
    CHECK_OK(vg_tensor_create(ctx, in, &frames, &err), &err);
    if (!enc || !frames) goto done;
    CHECK_OK(vg_tensor_write(frames, input.x, &err), &err);
    CHECK_OK(vg_encoder_forward(enc, frames, &err), &err);
    for (int i = 0; i < a->n_rows; i++) {
        const enc_row *r = &a->rows[i];
        const ref_map *src = i - r->src < 0 ? &input : &out[i - r->src];
        if (r->weight) ref_conv_row(r, &w, src, r->res ? &out[i - r->res] : NULL, &out[i]);
        else ref_pool_row(r, src, &out[i]);
    }
    for (int t = 0; t < 3; t++) {
        int stride = 8 << t;
        char what[96];
        const ref_map *want = &out[last_row_of(a, a->taps[t])];
        const vg_tensor *tap = vg_encoder_tap(enc, stride);
        vg_shape s = vg_tensor_shape(tap);
        CHECK(s.n == want->n && s.c == want->c && s.h == want->h && s.w == want->w);
        CHECK(s.h == in.h / stride && s.w == in.w / stride);
        float *got = read_all(tap);
        snprintf(what, sizeof what, "%s %dx%d vs plain C: tap s%d", a->info.name, in.h, in.w,
                 stride);
        check_close(what, got, want->x, vg_shape_count(s), ATOL, RTOL);
        free(got);
    }
done:
    for (int i = 0; i < a->n_rows; i++) free(out[i].x);
    free(out);
    free(input.x);
    vg_tensor_free(frames);
    vg_encoder_free(enc);
    vg_fixture_weights_free(fw);
}

/* ---- PyTorch fixture ------------------------------------------------------------------ */

static void test_against_torch(vg_ctx *ctx, const vg_tensorfile *tf, vg_encoder_kind kind) {
    vg_encoder_info info = vg_encoder_describe(kind);
    const vg_shape in = {8, 3, 64, 64};
    vg_error err = {0};
    vg_fixture_weights *fw = NULL;
    vg_encoder *enc = NULL;
    vg_tensor *frames = NULL;
    /* "frames" (2, 4, 3, 64, 64) is regenerated, not stored; in memory it is (8, 3, 64, 64) */
    float *x = malloc(sizeof(float) * vg_shape_count(in));
    if (x) vg_fill_uniform(x, vg_shape_count(in), vg_seed_for(SEED, "frames"), -1.0f, 1.0f);
    CHECK_OK(vg_fixture_weights_create(SEED, "encoder.", &fw, &err), &err);
    vg_weights w = vg_fixture_weights_source(fw);
    CHECK_OK(vg_encoder_create(ctx, kind, &w, in, &enc, &err), &err);
    CHECK_OK(vg_tensor_create(ctx, in, &frames, &err), &err);
    if (!x || !enc || !frames) {
        fprintf(stderr, "FAIL %s fixture: %s\n", info.name, err.msg);
        test_failures++;
        goto done;
    }
    CHECK_OK(vg_tensor_write(frames, x, &err), &err);
    CHECK_OK(vg_encoder_forward(enc, frames, &err), &err);
    const int chans[3] = {info.c8, info.c16, info.c32};
    for (int t = 0; t < 3; t++) {
        int stride = 8 << t;
        char name[64], what[96];
        snprintf(name, sizeof name, "%s.f%d", info.name, stride);
        const int64_t shape[4] = {8, chans[t], 64 / stride, 64 / stride};
        const float *want = vg_tensorfile_get(tf, name, 4, shape, &err);
        if (!want) {
            fprintf(stderr, "FAIL %s\n", err.msg);
            test_failures++;
            continue;
        }
        float *got = read_all(vg_encoder_tap(enc, stride));
        snprintf(what, sizeof what, "%s vs torch: %s", info.name, name);
        check_close(what, got, want, (size_t)(shape[0] * shape[1] * shape[2] * shape[3]),
                    ATOL, RTOL);
        free(got);
    }
done:
    free(x);
    vg_tensor_free(frames);
    vg_encoder_free(enc);
    vg_fixture_weights_free(fw);
}

/* ---- errors ------------------------------------------------------------------------- */

static const float *no_weights(void *user, const char *name, int ndim, const int64_t *shape,
                               vg_error *err) {
    (void)user, (void)ndim, (void)shape;
    vg_fail(err, VG_ERR_MISSING, "test: tensor '%s' is missing", name);
    return NULL;
}

static void test_errors(vg_ctx *ctx) {
    vg_error err = {0};
    vg_encoder *enc = (vg_encoder *)&err; /* must be reset to NULL on failure */
    vg_weights none = {no_weights, NULL};
    int rc = vg_encoder_create(ctx, VG_ENCODER_RESNET18, &none, (vg_shape){1, 3, 64, 64},
                               &enc, &err);
    printf("missing weights -> %d: %s\n", rc, err.msg);
    CHECK(rc == VG_ERR_MISSING && enc == NULL);
    CHECK(strstr(err.msg, "resnet18: conv1: ") && strstr(err.msg, "'conv1.weight'"));
    rc = vg_encoder_create(ctx, VG_ENCODER_MOBILENET_V2, &none, (vg_shape){1, 3, 60, 64},
                           &enc, &err);
    printf("bad input -> %d: %s\n", rc, err.msg);
    CHECK(rc == VG_ERR_SHAPE && enc == NULL);
    vg_encoder_kind k;
    CHECK(vg_encoder_kind_parse("mobilenet_v2", &k, &err) == VG_OK &&
          k == VG_ENCODER_MOBILENET_V2);
    CHECK(vg_encoder_kind_parse("vgg16", &k, &err) == VG_ERR_ARG);
    float x[4];
    const int64_t odd[1] = {4};
    CHECK(vg_init_fixture_param("x.num_batches_tracked", 1, odd, SEED, x, &err) == VG_ERR_ARG);
    vg_encoder_free(NULL);
    vg_fixture_weights_free(NULL);
}

/* ---- timing ------------------------------------------------------------------------- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median and best of 20 forwards after 3 warm-up runs (primitive creation, caches). */
static void time_forward(vg_ctx *ctx, vg_encoder_kind kind, double gmac) {
    const vg_shape in = {1, 3, 224, 224};
    vg_error err = {0};
    vg_fixture_weights *fw = NULL;
    vg_encoder *enc = NULL;
    vg_tensor *frames = NULL;
    double ms[20];
    CHECK_OK(vg_fixture_weights_create(SEED, "encoder.", &fw, &err), &err);
    vg_weights w = vg_fixture_weights_source(fw);
    CHECK_OK(vg_encoder_create(ctx, kind, &w, in, &enc, &err), &err);
    CHECK_OK(vg_tensor_create(ctx, in, &frames, &err), &err);
    for (int i = 0; enc && frames && i < 23; i++) {
        double t0 = now_ms();
        CHECK_OK(vg_encoder_forward(enc, frames, &err), &err);
        if (i >= 3) ms[i - 3] = now_ms() - t0;
    }
    if (enc && frames) {
        qsort(ms, 20, sizeof ms[0], cmp_double);
        /* 447 GFLOP/s: the dev machine's fp32 FMA peak on 2 threads (SYSTEM.md); the best
         * run is shown too because the shared VM's neighbours inflate the median */
        double gflop = 2 * gmac, peak = 447;
        printf("time %s 1x3x224x224 forward: median %.2f ms (%.0f%% of peak), best %.2f ms "
               "(%.0f GFLOP/s, %.0f%% of peak)\n", vg_encoder_describe(kind).name, ms[10],
               gflop / ms[10] * 1e5 / peak, ms[0], gflop / ms[0] * 1e3,
               gflop / ms[0] * 1e5 / peak);
    }
    vg_tensor_free(frames);
    vg_encoder_free(enc);
    vg_fixture_weights_free(fw);
}

int main(void) {
    vg_error err = {0};
    vg_ctx *ctx = NULL;
    vg_tensorfile *tf = NULL;
    test_param_list(VG_ENCODER_RESNET18, 100, "conv1.weight", "layer4.1.bn2.running_var");
    test_param_list(VG_ENCODER_MOBILENET_V2, 104, "features.0.0.weight", "features.18.0.bias");
    CHECK_OK(vg_ctx_create(0, &ctx, &err), &err);
    if (!ctx) return test_result();
    test_errors(ctx);
    test_against_reference(ctx, VG_ENCODER_RESNET18, (vg_shape){1, 3, 64, 96});
    test_against_reference(ctx, VG_ENCODER_MOBILENET_V2, (vg_shape){2, 3, 96, 64});
    CHECK_OK(vg_tensorfile_open(VG_FIXTURES "/models.safetensors", &tf, &err), &err);
    for (size_t i = 0; tf && i < sizeof kinds / sizeof kinds[0]; i++)
        test_against_torch(ctx, tf, kinds[i]);
    vg_tensorfile_close(tf);
    time_forward(ctx, VG_ENCODER_RESNET18, 1.81);
    time_forward(ctx, VG_ENCODER_MOBILENET_V2, 0.30);
    vg_ctx_free(ctx);
    return test_result();
}
