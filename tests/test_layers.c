/* test_layers.c - every backend layer and host layer against PyTorch (layers.safetensors,
 * made by tests/fixtures/gen_layers.py in float64). Inputs and weights are regenerated
 * here from the same seeds; each check prints the largest difference.
 *
 * Tolerance: atol 1e-5 + rtol 1e-5 of the largest reference value. A float32 dot product
 * of at most 8*49 terms of magnitude <= 1 errs by well under 1e-5; oneDNN's blocked
 * kernels sum in other orders than PyTorch, which stays inside that bound. */
#include <math.h>

#include "backend/backend.h"
#include "core/rng.h"
#include "io/tensorfile.h"
#include "nn/attention.h"
#include "nn/dropout.h"
#include "test.h"
#include "fixture.h"

#define SEED 42
#define ATOL 1e-5
#define RTOL 1e-5

static vg_error err;
static vg_tensorfile *fix;

/* A weight by the fixture rule: U(-b, b), b = sqrt(3 / fan_in) rounded from double. */
static float *draw_weight(const char *name, const int64_t *shape) {
    size_t n = (size_t)(shape[0] * shape[1] * shape[2] * shape[3]);
    float b = (float)sqrt(3.0 / (double)(shape[1] * shape[2] * shape[3]));
    return draw_range(SEED, name, n, -b, b);
}

static void compare(const char *name, const float *got, size_t n) {
    const float *w = fixture(fix, name, n);
    if (w) check_close(name, got, w, n, ATOL, RTOL);
}

static void compare_tensor(const char *name, const vg_tensor *t) {
    size_t n = vg_shape_count(vg_tensor_shape(t));
    float *h = malloc(n * sizeof *h);
    CHECK_OK(vg_tensor_read(t, h, &err), &err);
    compare(name, h, n);
    free(h);
}

static vg_tensor *make_tensor(vg_ctx *ctx, vg_shape s, const float *data) {
    vg_tensor *t = NULL;
    CHECK_OK(vg_tensor_create(ctx, s, &t, &err), &err);
    CHECK_OK(vg_tensor_write(t, data, &err), &err);
    return t;
}

typedef struct conv_case {
    const char *name;
    vg_shape x;
    vg_conv_params p;
} conv_case;

static void test_conv(vg_ctx *ctx, const conv_case *c) {
    char nm[64];
    const vg_conv_params *p = &c->p;
    int64_t ws[4] = {p->transposed ? p->in_c : p->out_c,
                     (p->transposed ? p->out_c : p->in_c) / p->groups, p->kh, p->kw};
    snprintf(nm, sizeof nm, "%s.x", c->name);
    float *x = draw_range(SEED, nm, vg_shape_count(c->x), -1, 1);
    snprintf(nm, sizeof nm, "%s.w", c->name);
    float *w = draw_weight(nm, ws);
    snprintf(nm, sizeof nm, "%s.b", c->name);
    float *b = draw_range(SEED, nm, (size_t)p->out_c, -0.1f, 0.1f);
    vg_conv *op = NULL;
    CHECK_OK(vg_conv_create(ctx, p, c->x, &op, &err), &err);
    if (!op) return;
    vg_shape ys = vg_conv_dst_shape(op);
    snprintf(nm, sizeof nm, "%s.dy", c->name);
    float *dy = draw_range(SEED, nm, vg_shape_count(ys), -1, 1);
    vg_tensor *tx = make_tensor(ctx, c->x, x), *tdy = make_tensor(ctx, ys, dy);
    CHECK_OK(vg_conv_set_weights(op, w, p->has_bias ? b : NULL, &err), &err);
    CHECK_OK(vg_conv_forward(op, tx, NULL, &err), &err);
    snprintf(nm, sizeof nm, "%s.y", c->name);
    compare_tensor(nm, vg_conv_dst(op));
    float *dw = calloc((size_t)(ws[0] * ws[1] * ws[2] * ws[3]), sizeof *dw);
    float *db = calloc((size_t)p->out_c, sizeof *db);
    CHECK_OK(vg_conv_backward(op, tdy, dw, db, 1, &err), &err);
    snprintf(nm, sizeof nm, "%s.dx", c->name);
    compare_tensor(nm, vg_conv_diff_src(op));
    snprintf(nm, sizeof nm, "%s.dw", c->name);
    compare(nm, dw, (size_t)(ws[0] * ws[1] * ws[2] * ws[3]));
    if (p->has_bias) {
        snprintf(nm, sizeof nm, "%s.db", c->name);
        compare(nm, db, (size_t)p->out_c);
    }
    vg_conv_free(op);
    vg_tensor_free(tx);
    vg_tensor_free(tdy);
    free(x), free(w), free(b), free(dy), free(dw), free(db);
}

static vg_conv_params conv(int ci, int co, int k, int s, int pt, int pl, int pb, int pr,
                           int groups, int bias) {
    vg_conv_params p = vg_conv_default_params(ci, co, k, s, 0);
    p.pad_t = pt, p.pad_l = pl, p.pad_b = pb, p.pad_r = pr;
    p.groups = groups;
    p.has_bias = bias;
    p.train = 1;
    return p;
}

static vg_conv_params deconv(int ci, int co) {
    vg_conv_params p = conv(ci, co, 3, 2, 1, 1, 1, 1, 1, 1);
    p.transposed = 1;
    p.out_pad = 1;
    return p;
}

static void test_bn(vg_ctx *ctx, const char *name, int relu) {
    vg_shape s = {2, 8, 6, 7};
    size_t n = vg_shape_count(s);
    char nm[64];
    snprintf(nm, sizeof nm, "%s.x", name);
    float *x = draw_range(SEED, nm, n, -1, 1);
    snprintf(nm, sizeof nm, "%s.dy", name);
    float *dy = draw_range(SEED, nm, n, -1, 1);
    snprintf(nm, sizeof nm, "%s.weight", name);
    float *g = draw_range(SEED, nm, 8, 0.5f, 1.5f);
    snprintf(nm, sizeof nm, "%s.bias", name);
    float *b = draw_range(SEED, nm, 8, -0.1f, 0.1f);
    snprintf(nm, sizeof nm, "%s.running_mean", name);
    float *rm = draw_range(SEED, nm, 8, -0.1f, 0.1f);
    snprintf(nm, sizeof nm, "%s.running_var", name);
    float *rv = draw_range(SEED, nm, 8, 0.5f, 1.5f);
    float dg[8], dbeta[8];
    vg_bn *op = NULL;
    CHECK_OK(vg_bn_create(ctx, s, 1e-5f, 0.1f, relu, &op, &err), &err);
    vg_tensor *tx = make_tensor(ctx, s, x), *tdy = make_tensor(ctx, s, dy);
    CHECK_OK(vg_bn_forward(op, tx, g, b, rm, rv, &err), &err);
    CHECK_OK(vg_bn_backward(op, tdy, g, b, dg, dbeta, &err), &err);
    const char *names[] = {"y", "dx", "dweight", "dbias", "new_running_mean", "new_running_var"};
    for (int i = 0; i < 6; i++) {
        snprintf(nm, sizeof nm, "%s.%s", name, names[i]);
        if (i == 0) compare_tensor(nm, vg_bn_dst(op));
        if (i == 1) compare_tensor(nm, vg_bn_diff_src(op));
        float *v[] = {NULL, NULL, dg, dbeta, rm, rv};
        if (i >= 2) compare(nm, v[i], 8);
    }
    vg_bn_free(op);
    vg_tensor_free(tx);
    vg_tensor_free(tdy);
    free(x), free(dy), free(g), free(b), free(rm), free(rv);
}

static void test_act(vg_ctx *ctx, const char *name, vg_act act, float range) {
    vg_shape s = {2, 8, 6, 7};
    size_t n = vg_shape_count(s);
    char nm[64];
    snprintf(nm, sizeof nm, "%s.x", name);
    float *x = draw_range(SEED, nm, n, -range, range);
    snprintf(nm, sizeof nm, "%s.dy", name);
    float *dy = draw_range(SEED, nm, n, -1, 1);
    vg_act_op *op = NULL;
    CHECK_OK(vg_act_create(ctx, s, act, 1, &op, &err), &err);
    vg_tensor *tx = make_tensor(ctx, s, x), *tdy = make_tensor(ctx, s, dy);
    CHECK_OK(vg_act_forward(op, tx, &err), &err);
    CHECK_OK(vg_act_backward(op, tdy, &err), &err);
    snprintf(nm, sizeof nm, "%s.y", name);
    compare_tensor(nm, vg_act_dst(op));
    snprintf(nm, sizeof nm, "%s.dx", name);
    compare_tensor(nm, vg_act_diff_src(op));
    vg_act_free(op);
    vg_tensor_free(tx);
    vg_tensor_free(tdy);
    free(x), free(dy);
}

/* Max pool forward and backward, then backward again adding a second gradient (x itself,
 * as a U-Net's skip connection adds its own): the result less x must be the same dx. */
static void test_pool(vg_ctx *ctx, const char *name, vg_shape s, int k, int stride, int pad) {
    size_t n = vg_shape_count(s);
    char nm[64];
    snprintf(nm, sizeof nm, "%s.x", name);
    float *x = draw_range(SEED, nm, n, -1, 1), *dx = malloc(n * sizeof *dx);
    vg_pool *op = NULL;
    CHECK_OK(vg_pool_create(ctx, s, k, stride, pad, 1, &op, &err), &err);
    if (!op) return;
    vg_shape ds = vg_pool_dst_shape(op);
    snprintf(nm, sizeof nm, "%s.dy", name);
    float *dy = draw_range(SEED, nm, vg_shape_count(ds), -1, 1);
    vg_tensor *tx = make_tensor(ctx, s, x), *tdy = make_tensor(ctx, ds, dy);
    CHECK_OK(vg_pool_forward(op, tx, &err), &err);
    CHECK_OK(vg_pool_backward(op, tdy, NULL, &err), &err);
    snprintf(nm, sizeof nm, "%s.y", name);
    compare_tensor(nm, vg_pool_dst(op));
    snprintf(nm, sizeof nm, "%s.dx", name);
    compare_tensor(nm, vg_pool_diff_src(op));
    CHECK_OK(vg_pool_backward(op, tdy, tx, &err), &err);
    CHECK_OK(vg_tensor_read(vg_pool_diff_src(op), dx, &err), &err);
    for (size_t i = 0; i < n; i++) dx[i] -= x[i];
    const float *w = fixture(fix, nm, n);
    snprintf(nm, sizeof nm, "%s.dx (adding x)", name);
    if (w) check_close(nm, dx, w, n, ATOL, RTOL);
    vg_pool_free(op);
    vg_tensor_free(tx);
    vg_tensor_free(tdy);
    free(x), free(dx), free(dy);
}

static void test_dropout(void) {
    size_t n = 2 * 8 * 6 * 7;
    float *x = draw_range(SEED, "dropout.x", n, -1, 1), *dy = draw_range(SEED, "dropout.dy", n, -1, 1);
    uint64_t seed = vg_seed_for(SEED, "dropout.mask");
    vg_dropout_forward(x, x, n, 0.2f, seed);
    compare("dropout.y", x, n);
    vg_dropout_backward(dy, dy, n, 0.2f, seed);
    compare("dropout.dx", dy, n);
    free(x), free(dy);
}

static void test_attention(vg_ctx *ctx) {
    vg_shape s = {2, 8, 6, 7};
    size_t n = vg_shape_count(s);
    int64_t ws[4] = {1, 2, 7, 7};
    float *x = draw_range(SEED, "attention.x", n, -1, 1), *dy = draw_range(SEED, "attention.dy", n, -1, 1);
    float *w = draw_weight("attention.w", ws), dw[98];
    vg_attention *op = NULL;
    CHECK_OK(vg_attention_create(ctx, s, 1, &op, &err), &err);
    vg_tensor *tx = make_tensor(ctx, s, x), *tdy = make_tensor(ctx, s, dy);
    CHECK_OK(vg_attention_set_weights(op, w, &err), &err);
    CHECK_OK(vg_attention_forward(op, tx, &err), &err);
    CHECK_OK(vg_attention_backward(op, tdy, dw, &err), &err);
    compare_tensor("attention.y", vg_attention_dst(op));
    compare_tensor("attention.dx", vg_attention_diff_src(op));
    compare("attention.dw", dw, 98);
    vg_attention_free(op);
    vg_tensor_free(tx);
    vg_tensor_free(tdy);
    free(x), free(dy), free(w);
}

int main(void) {
    vg_ctx *ctx = NULL;
    if (vg_tensorfile_open(VG_FIXTURES "/layers.safetensors", &fix, &err)) {
        fprintf(stderr, "FAIL %s\n", err.msg);
        return 1;
    }
    CHECK_OK(vg_ctx_create(2, &ctx, &err), &err);
    const conv_case convs[] = {
        {"conv3x3", {2, 8, 10, 12}, conv(8, 16, 3, 1, 1, 1, 1, 1, 1, 1)},
        {"conv3x3s2", {2, 8, 11, 12}, conv(8, 16, 3, 2, 1, 1, 1, 1, 1, 1)},
        {"conv_same_s2", {2, 8, 12, 12}, conv(8, 16, 3, 2, 0, 0, 1, 1, 1, 1)},
        {"dwconv", {2, 16, 9, 10}, conv(16, 16, 3, 1, 1, 1, 1, 1, 16, 1)},
        {"dwconv_same_s2", {2, 16, 12, 12}, conv(16, 16, 3, 2, 0, 0, 1, 1, 16, 1)},
        {"conv1x1", {2, 32, 5, 6}, conv(32, 16, 1, 1, 0, 0, 0, 0, 1, 1)},
        {"conv7x7s2", {2, 3, 16, 18}, conv(3, 8, 7, 2, 3, 3, 3, 3, 1, 0)},
        {"deconv", {2, 16, 5, 6}, deconv(16, 8)},
        {"deconv_out", {2, 8, 6, 7}, deconv(8, 3)},
    };
    for (size_t i = 0; i < sizeof convs / sizeof *convs; i++) test_conv(ctx, &convs[i]);
    test_bn(ctx, "bn_train", 0);
    test_bn(ctx, "bn_relu_train", 1);
    test_act(ctx, "relu", VG_ACT_RELU, 1);
    test_act(ctx, "relu6", VG_ACT_RELU6, 8);
    test_act(ctx, "sigmoid", VG_ACT_SIGMOID, 1);
    test_pool(ctx, "maxpool", (vg_shape){2, 4, 9, 10}, 3, 2, 1);
    test_pool(ctx, "maxpool2", (vg_shape){2, 4, 8, 10}, 2, 2, 0);
    test_dropout();
    test_attention(ctx);
    vg_ctx_free(ctx);
    vg_tensorfile_close(fix);
    return test_result();
}
