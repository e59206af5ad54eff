/* privacy.c - polygon masks rasterised at the output size (see privacy.h): each polygon is
 * mapped from source to output pixels, filled by the even-odd rule at pixel centres, and
 * the fill grown by one pixel. */
#include <stdlib.h>
#include <string.h>

#include "serve/privacy.h"

/* Is (x, y) inside polygon xy of n points (even-odd rule)? */
static int inside(const double *xy, int n, double x, double y) {
    int in = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
    }
    return in;
}

/* Polygon p in output pixels into xy (2 n doubles). */
static void map_polygon(const vg_polygon *p, vg_rect src, vg_rect dst, double *xy) {
    double sx = (double)dst.w / src.w, sy = (double)dst.h / src.h;
    for (int i = 0; i < p->n; i++) {
        xy[2 * i] = dst.x + (p->xy[2 * i] - src.x) * sx;
        xy[2 * i + 1] = dst.y + (p->xy[2 * i + 1] - src.y) * sy;
    }
}

static void fill(const double *xy, int n, int w, int h, unsigned char *core) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (inside(xy, n, x + .5, y + .5)) core[(size_t)y * w + x] = 1;
}

/* mask = core grown by one pixel (8-neighbourhood). */
static long long grow(const unsigned char *core, int w, int h, unsigned char *mask) {
    long long covered = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int on = 0;
            for (int dy = -1; dy <= 1 && !on; dy++)
                for (int dx = -1; dx <= 1 && !on; dx++) {
                    int u = x + dx, v = y + dy;
                    on = u >= 0 && v >= 0 && u < w && v < h && core[(size_t)v * w + u];
                }
            mask[(size_t)y * w + x] = (unsigned char)on;
            covered += on;
        }
    return covered;
}

long long vg_privacy_mask(const vg_polygon *poly, int n, vg_rect src, vg_rect dst, int out_w,
                          int out_h, unsigned char *mask) {
    size_t px = (size_t)out_w * out_h;
    unsigned char *core = calloc(px, 1);
    int most = 0;
    for (int i = 0; i < n; i++) most = poly[i].n > most ? poly[i].n : most;
    double *xy = malloc(2 * (size_t)(most ? most : 1) * sizeof *xy);
    long long covered = -1;
    if (core && xy && src.w > 0 && src.h > 0) {
        for (int i = 0; i < n; i++) {
            map_polygon(&poly[i], src, dst, xy);
            fill(xy, poly[i].n, out_w, out_h, core);
        }
        covered = grow(core, out_w, out_h, mask);
    }
    free(core), free(xy);
    return covered;
}

void vg_privacy_apply(unsigned char *rgb, const unsigned char *mask, int w, int h) {
    size_t px = (size_t)w * h;
    for (size_t i = 0; i < px; i++)
        if (mask[i]) memset(rgb + 3 * i, 0, 3);
}
