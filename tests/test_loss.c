/* test_loss.c - the loss against PyTorch (tests/fixtures/loss.safetensors, written in
 * float64 by gen_loss.py) and against finite differences of a plain double reference.
 *
 * Tolerances (vigil computes in float32 and sums in double; observed errors in brackets):
 *   terms   rel 1e-6 (<= 1.7e-7): a few float32 ulp; the means are over float maps whose
 *           moments cancel (E[pp] - mu_p^2). PyTorch's own float32 loss is 5e-7 off its
 *           float64 value here.
 *   dpred   rel 4e-6 of max|ref| (<= 8e-7): a few ulp of the largest element; the SSIM
 *           part sums 3 * 121 float products of partials per element.
 *   window  atol 6e-8 (1.5e-8): an ulp of 0.27; PyTorch builds it in float32, vigil
 *           rounds a double.
 *   finite differences of a plain double reference (central, h = 1e-4, error O(h^2)):
 *           rel 1e-5 of max|grad| (<= 5e-7). */
#include "io/tensorfile.h"
#include "nn/loss.h"
#include "core/rng.h"
#include "test.h"

#include <stdint.h>

#define SEED 1234
#define FB 2
#define FH 32
#define FW 32
#define NOISE 0.3f

typedef struct loss_case {
    const char *name;
    float scale[3], shift[3], lo, hi;
} loss_case;

static const loss_case CASES[] = {
    {"imagenet", {0.229f, 0.224f, 0.225f}, {0.485f, 0.456f, 0.406f}, -2.0f, 2.2f},
    {"mobilenet", {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}, -1.0f, 1.0f},
};

/* pred and target as gen_loss.loss_inputs draws them. */
static void draw_inputs(float *pred, float *target, size_t n, const loss_case *c) {
    char name[64];
    snprintf(name, sizeof name, "%s.pred", c->name);
    vg_fill_uniform(pred, n, vg_seed_for(SEED, name), c->lo, c->hi);
    snprintf(name, sizeof name, "%s.noise", c->name);
    vg_fill_uniform(target, n, vg_seed_for(SEED, name), -NOISE, NOISE);
    for (size_t i = 0; i < n; i++) target[i] = pred[i] + target[i];
}

/* ---- the plain reference: torch_loss.py in double, direct 2-D windows ---------------- */

static double ref_ssim_plane(const double *p, const double *t, const double *g, int H, int W) {
    double sum = 0;
    for (int y = 0; y + VG_SSIM_WIN <= H; y++)
        for (int x = 0; x + VG_SSIM_WIN <= W; x++) {
            double mp = 0, mt = 0, pp = 0, tt = 0, pt = 0;
            for (int a = 0; a < VG_SSIM_WIN; a++)
                for (int b = 0; b < VG_SSIM_WIN; b++) {
                    double w = g[a] * g[b], u = p[(y + a) * W + x + b], v = t[(y + a) * W + x + b];
                    mp += w * u, mt += w * v, pp += w * u * u, tt += w * v * v, pt += w * u * v;
                }
            double num = (2 * mp * mt + VG_SSIM_C1) * (2 * (pt - mp * mt) + VG_SSIM_C2);
            double den = (mp * mp + mt * mt + VG_SSIM_C1) *
                         (pp - mp * mp + tt - mt * mt + VG_SSIM_C2);
            sum += num / den;
        }
    return sum;
}

/* total loss in double of pred (normalised space, double) vs target. */
static double ref_loss(const double *pred, const float *target, const float *scale,
                       const float *shift, int B, int H, int W, double *p, double *t) {
    double g[VG_SSIM_WIN], e[VG_SSIM_WIN], gsum = 0;
    for (int i = 0; i < VG_SSIM_WIN; i++) e[i] = exp(-(i - 5.0) * (i - 5.0) / 4.5), gsum += e[i];
    for (int i = 0; i < VG_SSIM_WIN; i++) g[i] = e[i] / gsum;
    double se = 0, ax = 0, ay = 0, ss = 0;
    for (int q = 0; q < B * 3; q++) {
        size_t o = (size_t)q * H * W;
        for (int i = 0; i < H * W; i++) {
            p[i] = pred[o + i] * scale[q % 3] + shift[q % 3];
            t[i] = (double)target[o + i] * scale[q % 3] + shift[q % 3];
            se += (p[i] - t[i]) * (p[i] - t[i]);
        }
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int i = y * W + x;
                if (x + 1 < W) ax += fabs((p[i + 1] - p[i]) - (t[i + 1] - t[i]));
                if (y + 1 < H) ay += fabs((p[i + W] - p[i]) - (t[i + W] - t[i]));
            }
        ss += ref_ssim_plane(p, t, g, H, W);
    }
    double n = (double)B * 3;
    double grad = ax / (n * H * (W - 1)) + ay / (n * (H - 1) * W);
    return 0.6 * se / (n * H * W) + 0.25 * grad + 0.15 * (1 - ss / (n * (H - 10) * (W - 10)));
}

/* Central differences of ref_loss at the elements idx[0..k-1] of pred, into fd. */
static void ref_fd(double *fd, const int *idx, int k, const float *pred, const float *target,
                   const loss_case *c, int B, int H, int W) {
    size_t n = (size_t)B * 3 * H * W;
    double *x = malloc(n * sizeof *x), *p = malloc((size_t)H * W * sizeof *p),
           *t = malloc((size_t)H * W * sizeof *t), h = 1e-4;
    for (size_t i = 0; i < n; i++) x[i] = pred[i];
    for (int j = 0; j < k; j++) {
        x[idx[j]] = pred[idx[j]] + h;
        double up = ref_loss(x, target, c->scale, c->shift, B, H, W, p, t);
        x[idx[j]] = pred[idx[j]] - h;
        double dn = ref_loss(x, target, c->scale, c->shift, B, H, W, p, t);
        x[idx[j]] = pred[idx[j]];
        fd[j] = (up - dn) / (2 * h);
    }
    free(x), free(p), free(t);
}

/* ---- the checks ---------------------------------------------------------------------- */

/* Runs the loss with scratch for nthreads threads (0: all). */
static int run_loss(float *dpred, vg_loss_terms *out, const float *pred, const float *target,
                    const loss_case *c, int B, int H, int W, int nthreads, vg_error *err) {
    size_t sz = vg_loss_scratch_size(B, W, nthreads);
    void *scratch = malloc(sz);
    int rc = vg_loss_forward_backward(dpred, out, pred, target, c->scale, c->shift, B, H, W,
                                      scratch, sz, err);
    free(scratch);
    return rc;
}

static void check_terms(const char *name, const vg_loss_terms *got, const float *want) {
    const char *what[] = {"total", "mse", "grad", "ssim"};
    const float g[] = {got->total, got->mse, got->grad, got->ssim};
    for (int k = 0; k < 4; k++) {
        char label[80];
        snprintf(label, sizeof label, "%s %s", name, what[k]);
        check_close(label, &g[k], &want[k], 1, 0, 1e-6);
    }
}

static void test_case(const vg_tensorfile *tf, const loss_case *c) {
    size_t n = (size_t)FB * 3 * FH * FW;
    float *pred = malloc(n * sizeof *pred), *target = malloc(n * sizeof *target);
    float *dpred = malloc(n * sizeof *dpred), *d1 = malloc(n * sizeof *d1);
    draw_inputs(pred, target, n, c);
    char name[80];
    vg_error err = {0};
    snprintf(name, sizeof name, "%s.terms", c->name);
    const float *terms = vg_tensorfile_get(tf, name, 1, (int64_t[]){4}, &err);
    snprintf(name, sizeof name, "%s.dpred", c->name);
    const float *want = vg_tensorfile_get(tf, name, 4, (int64_t[]){FB, 3, FH, FW}, &err);
    CHECK(terms && want);
    vg_loss_terms got, fwd, one;
    CHECK_OK(run_loss(dpred, &got, pred, target, c, FB, FH, FW, 0, &err), &err);
    if (terms && want) {
        check_terms(c->name, &got, terms);
        snprintf(name, sizeof name, "%s dpred", c->name);
        check_close(name, dpred, want, n, 0, 4e-6);
    }
    /* Forward only, and one thread: the same bits (per-plane sums in plane order). */
    CHECK_OK(run_loss(NULL, &fwd, pred, target, c, FB, FH, FW, 0, &err), &err);
    CHECK_OK(run_loss(d1, &one, pred, target, c, FB, FH, FW, 1, &err), &err);
    CHECK(memcmp(&fwd, &got, sizeof got) == 0);
    CHECK(memcmp(&one, &got, sizeof got) == 0 && memcmp(d1, dpred, n * sizeof *d1) == 0);
    printf("%-44s forward-only and 1-thread results identical\n", c->name);
    free(pred), free(target), free(dpred), free(d1);
}

/* Finite differences of the double reference, on a non-square batch (catches H/W mix-ups)
 * at every element, and on the fixture shape at its corners, edges and centre. */
static void test_fd(const loss_case *c, int B, int H, int W, int all) {
    size_t n = (size_t)B * 3 * H * W;
    float *pred = malloc(n * sizeof *pred), *target = malloc(n * sizeof *target);
    float *dpred = malloc(n * sizeof *dpred);
    draw_inputs(pred, target, n, c);
    vg_error err = {0};
    vg_loss_terms got;
    CHECK_OK(run_loss(dpred, &got, pred, target, c, B, H, W, 0, &err), &err);
    int fixed[] = {0, W - 1, (H - 1) * W, H * W - 1, (H / 2) * W + W / 2, 5 * W + 27 % W,
                   (int)n - 1, (int)n - H * W + (H - 4) * W + 3, (int)(n / 2) + W + 1};
    int k = all ? (int)n : (int)(sizeof fixed / sizeof *fixed);
    int *idx = malloc((size_t)k * sizeof *idx);
    for (int j = 0; j < k; j++) idx[j] = all ? j : fixed[j];
    double *fd = malloc((size_t)k * sizeof *fd);
    float *want = malloc((size_t)k * sizeof *want), *have = malloc((size_t)k * sizeof *have);
    ref_fd(fd, idx, k, pred, target, c, B, H, W);
    double *x = malloc(n * sizeof *x), *p = malloc((size_t)H * W * sizeof *p),
           *t = malloc((size_t)H * W * sizeof *t);
    for (size_t i = 0; i < n; i++) x[i] = pred[i];
    float total = (float)ref_loss(x, target, c->scale, c->shift, B, H, W, p, t);
    for (int j = 0; j < k; j++) want[j] = (float)fd[j], have[j] = dpred[idx[j]];
    char label[80];
    snprintf(label, sizeof label, "%s %dx%dx%d total vs double ref", c->name, B, H, W);
    check_close(label, &got.total, &total, 1, 0, 1e-6);
    snprintf(label, sizeof label, "%s %dx%dx%d dpred vs finite diff", c->name, B, H, W);
    check_close(label, have, want, (size_t)k, 0, 1e-5);
    free(pred), free(target), free(dpred), free(idx), free(fd), free(want), free(have);
    free(x), free(p), free(t);
}

static void test_window(const vg_tensorfile *tf) {
    vg_error err = {0};
    const float *want = vg_tensorfile_get(tf, "window", 1, (int64_t[]){VG_SSIM_WIN}, &err);
    CHECK(want != NULL);
    float g[VG_SSIM_WIN];
    vg_ssim_window(g);
    if (want) check_close("ssim window", g, want, VG_SSIM_WIN, 6e-8, 0);
}

static void test_args(void) {
    const loss_case *c = &CASES[0];
    float x[3 * 11 * 12] = {0}, d[3 * 11 * 12];
    vg_loss_terms out;
    vg_error err = {0};
    CHECK(run_loss(d, &out, x, x, c, 1, 10, 12, 0, &err) == VG_ERR_ARG && err.msg[0]);
    CHECK(run_loss(d, &out, x, x, c, 1, 12, 10, 0, &err) == VG_ERR_ARG);
    CHECK(vg_loss_forward_backward(d, &out, x, x, c->scale, c->shift, 0, 11, 12, d, sizeof d,
                                   &err) == VG_ERR_ARG);
    size_t need = vg_loss_scratch_size(1, 12, 1);
    void *small = malloc(need - 1);
    CHECK(vg_loss_forward_backward(d, &out, x, x, c->scale, c->shift, 1, 11, 12, small,
                                   need - 1, &err) == VG_ERR_ARG);
    free(small);
    /* The smallest valid image: a 1x1 SSIM map; identical inputs give loss 0, SSIM 1. */
    CHECK_OK(run_loss(d, &out, x, x, c, 1, 11, 12, 0, &err), &err);
    CHECK(out.total == 0 && out.ssim == 1 && out.mse == 0);
    printf("%-44s H/W < 11, B < 1, short scratch rejected; 11x12 ok\n", "arguments");
}

int main(void) {
    vg_error err = {0};
    vg_tensorfile *tf = NULL;
    CHECK_OK(vg_tensorfile_open(VG_FIXTURES "/loss.safetensors", &tf, &err), &err);
    if (!tf) return test_result();
    test_window(tf);
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) test_case(tf, &CASES[i]);
    vg_tensorfile_close(tf);
    test_fd(&CASES[0], FB, FH, FW, 0);
    test_fd(&CASES[1], 1, 13, 20, 1);
    test_args();
    return test_result();
}
