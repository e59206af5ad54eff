/* test_adam.c - vg_adam_step against 3 steps of torch.optim.Adam (PyTorch 1.13,
 * tests/fixtures/adam.safetensors from gen_loss.py).
 *
 * Inputs are redrawn from the fixture's (seed, name) pairs; gradients span 1 .. 1e-7 so
 * that eps matters for the smallest. Tolerances, in units of each element's gradient
 * magnitude mag (compared as x / mag, x / mag^2 for exp_avg_sq):
 *   exp_avg, exp_avg_sq   rel 1e-6 of the largest: a few ulp (seen: 1 ulp; PyTorch's
 *                         AVX kernels fuse some multiply-adds, adam.c does not);
 *   params                atol 2.4e-7 = 2 ulp of |p| <= 1 after 3 rounded updates
 *                         (seen: bit-identical). */
#include "io/tensorfile.h"
#include "nn/adam.h"
#include "core/rng.h"
#include "test.h"

#include <stdint.h>

#define SEED 7
#define N 64
#define STEPS 3

static const float MAG[8] = {1, 1e-1f, 1e-2f, 1e-3f, 1e-4f, 1e-5f, 1e-6f, 1e-7f};

/* x[i] / mag[i]^power, so that elements of every magnitude are compared alike. */
static void scaled(float *out, const float *x, int power) {
    for (int i = 0; i < N; i++) {
        double m = MAG[i % 8];
        out[i] = (float)(x[i] / (power == 2 ? m * m : m));
    }
}

static void compare(const vg_tensorfile *tf, const char *name, const float *got, int power,
                    double atol, double rtol) {
    vg_error err = {0};
    const float *want = vg_tensorfile_get(tf, name, 1, (int64_t[]){N}, &err);
    CHECK(want != NULL);
    if (!want) return;
    float a[N], b[N];
    if (power) {
        scaled(a, got, power);
        scaled(b, want, power);
    } else {
        memcpy(a, got, sizeof a);
        memcpy(b, want, sizeof b);
    }
    check_close(name, a, b, N, atol, rtol);
}

static void test_torch(void) {
    vg_error err = {0};
    vg_tensorfile *tf = NULL;
    CHECK_OK(vg_tensorfile_open(VG_FIXTURES "/adam.safetensors", &tf, &err), &err);
    if (!tf) return;
    float p[N], m[N] = {0}, v[N] = {0}, g[N];
    vg_fill_uniform(p, N, vg_seed_for(SEED, "adam.param"), -1, 1);
    vg_adam_params hp = vg_adam_default_params();
    for (int t = 1; t <= STEPS; t++) {
        char name[32];
        snprintf(name, sizeof name, "adam.grad%d", t - 1);
        vg_fill_uniform(g, N, vg_seed_for(SEED, name), -1, 1);
        for (int i = 0; i < N; i++) g[i] *= MAG[i % 8];
        CHECK_OK(vg_adam_step(p, m, v, g, N, hp, t, &err), &err);
    }
    compare(tf, "adam.exp_avg", m, 1, 0, 1e-6);
    compare(tf, "adam.exp_avg_sq", v, 2, 0, 1e-6);
    compare(tf, "adam.param", p, 0, 2.4e-7, 0);
    vg_tensorfile_close(tf);
}

/* The first step from zero moments moves each parameter by lr * g / (|g| + eps): bias
 * correction makes it ~lr for every gradient far above eps, whatever its scale. */
static void test_first_step(void) {
    float p[4] = {0}, m[4] = {0}, v[4] = {0}, g[4] = {1e3f, -1, 1e-4f, 1e-8f}, want[4];
    vg_adam_params hp = vg_adam_default_params();
    vg_error err = {0};
    CHECK_OK(vg_adam_step(p, m, v, g, 4, hp, 1, &err), &err);
    for (int i = 0; i < 4; i++) want[i] = (float)(-hp.lr * g[i] / (fabs(g[i]) + hp.eps));
    check_close("first step = -lr * g / (|g| + eps)", p, want, 4, 0, 1e-6);
}

static void test_args(void) {
    float p[1] = {0}, m[1] = {0}, v[1] = {0}, g[1] = {1};
    vg_adam_params hp = vg_adam_default_params();
    vg_error err = {0};
    CHECK(vg_adam_step(p, m, v, g, 1, hp, 0, &err) == VG_ERR_ARG && err.msg[0]);
    hp.beta2 = 1;
    CHECK(vg_adam_step(p, m, v, g, 1, hp, 1, &err) == VG_ERR_ARG);
    hp = vg_adam_default_params();
    hp.eps = 0;
    CHECK(vg_adam_step(p, m, v, g, 1, hp, 1, &err) == VG_ERR_ARG);
    CHECK(p[0] == 0 && m[0] == 0 && v[0] == 0); /* nothing touched on failure */
    hp = vg_adam_default_params();
    CHECK(hp.lr == 3e-4 && hp.beta1 == 0.9 && hp.beta2 == 0.999 && hp.eps == 1e-8);
    CHECK_OK(vg_adam_step(p, m, v, g, 0, hp, 1, &err), &err); /* n = 0 is a no-op */
    printf("%-44s t < 1, beta2 = 1, eps = 0 rejected; defaults\n", "arguments");
}

int main(void) {
    test_torch();
    test_first_step();
    test_args();
    return test_result();
}
