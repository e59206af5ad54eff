/* augment.c - the thesis's augmentations (Table 3.1): "general" is +-5 degrees of
 * rotation, +-2 px of translation and +-10% of brightness and saturation; "lighting" is
 * +-15% of global brightness. */
#include <math.h>
#include <string.h>

#include "core/rng.h"
#include "train/augment.h"

static float uniform(uint64_t seed, uint64_t i, int k, float lo, float hi) {
    return lo + (hi - lo) * vg_rand_unit(seed, i * 8 + (uint64_t)k);
}

vg_aug_transform vg_aug_draw(vg_aug kind, uint64_t seed, uint64_t i) {
    vg_aug_transform t = {0, 0, 0, 1, 1};
    const float deg = 3.14159265f / 180.f;
    if (kind == VG_AUG_GENERAL) {
        t.angle = uniform(seed, i, 0, -5 * deg, 5 * deg);
        t.dx = uniform(seed, i, 1, -2, 2);
        t.dy = uniform(seed, i, 2, -2, 2);
        t.brightness = uniform(seed, i, 3, 0.9f, 1.1f);
        t.saturation = uniform(seed, i, 4, 0.9f, 1.1f);
    } else if (kind == VG_AUG_LIGHTING) {
        t.brightness = uniform(seed, i, 3, 0.85f, 1.15f);
    }
    return t;
}

static unsigned char clamp_u8(float v) {
    return v <= 0.f ? 0 : v >= 255.f ? 255 : (unsigned char)(v + .5f);
}

/* Bilinear sample of channel-interleaved src at (x, y), edges replicated. */
static void sample(const unsigned char *src, int w, int h, float x, float y, float out[3]) {
    x = fminf(fmaxf(x, 0.f), (float)(w - 1));
    y = fminf(fmaxf(y, 0.f), (float)(h - 1));
    int x0 = (int)x, y0 = (int)y, x1 = x0 + (x0 < w - 1), y1 = y0 + (y0 < h - 1);
    float fx = x - (float)x0, fy = y - (float)y0;
    const unsigned char *a = src + ((size_t)y0 * w + x0) * 3, *b = src + ((size_t)y0 * w + x1) * 3;
    const unsigned char *c = src + ((size_t)y1 * w + x0) * 3, *d = src + ((size_t)y1 * w + x1) * 3;
    for (int k = 0; k < 3; k++)
        out[k] = (1 - fy) * ((1 - fx) * a[k] + fx * b[k]) + fy * ((1 - fx) * c[k] + fx * d[k]);
}

void vg_aug_apply(const vg_aug_transform *t, const unsigned char *src, unsigned char *dst,
                  int width, int height) {
    int geometric = t->angle != 0.f || t->dx != 0.f || t->dy != 0.f;
    if (!geometric && t->brightness == 1.f && t->saturation == 1.f) {
        memcpy(dst, src, (size_t)width * height * 3);
        return;
    }
    /* dst(p) = src(R^-1 (p - c - d) + c): the inverse map, so every output pixel is set */
    float cs = cosf(t->angle), sn = sinf(t->angle);
    float cx = 0.5f * (float)(width - 1), cy = 0.5f * (float)(height - 1);
#pragma omp parallel for schedule(static)
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            float u = (float)x - cx - t->dx, v = (float)y - cy - t->dy, px[3];
            if (geometric) {
                sample(src, width, height, cs * u + sn * v + cx, -sn * u + cs * v + cy, px);
            } else {
                for (int k = 0; k < 3; k++) px[k] = src[((size_t)y * width + x) * 3 + k];
            }
            /* saturation blends with the pixel's luma (Rec. 601), then brightness scales */
            float luma = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
            unsigned char *o = dst + ((size_t)y * width + x) * 3;
            for (int k = 0; k < 3; k++)
                o[k] = clamp_u8(t->brightness * (luma + t->saturation * (px[k] - luma)));
        }
}
