/* heatmap.c - the operator's picture: the frame with its prediction error laid over it. The
 * thesis (Fig. 4.1) shows the error map as a panel beside the frame; laid over the frame,
 * the error sits on the object that caused it.
 *
 * Each pixel, with e its error and rgb its colour:
 *   a = clamp(e / vmax, 0, 1),  c = inferno(a),  out = rgb + a (c - rgb)
 * The opacity is linear in e on purpose: e is already a squared difference, i.e. a gamma of
 * 2 on the pixel difference, so faint errors (the decoder's blur around moving edges) stay
 * faint; a further gamma would also fade the moderate errors an operator should see.
 * vmax <= 0 (or NaN) picks the 99.9th percentile of the map's finite values: a few hot
 * pixels do not wash the rest out, and the worst 0.1 % saturate. A NaN error draws nothing,
 * +inf draws opaque. */
#include "report/atomic.h"
#include "report/colormap.h"

#include <math.h>
#include <png.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define AUTO_PERCENTILE 0.999

typedef struct overlay {
    const unsigned char *rgb; /* (H, W, 3) */
    const float *error_map;   /* (H, W) */
    int width, height;
    float inv_vmax;           /* 1 / vmax; 0: nothing to overlay */
    unsigned char lut[VG_COLORMAP_SIZE][3];
    unsigned char *row;       /* W * 3 bytes: one blended row */
} overlay;

/* The k-th smallest (0-based) of v[0..n-1], reordering v: Hoare's selection in Wirth's
 * form, O(n) on average. */
static float select_kth(float *v, ptrdiff_t n, ptrdiff_t k) {
    ptrdiff_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = v[k];
        ptrdiff_t i = lo, j = hi;
        do {
            while (v[i] < pivot) i++;
            while (pivot < v[j]) j--;
            if (i <= j) {
                float s = v[i];
                v[i++] = v[j];
                v[j--] = s;
            }
        } while (i <= j);
        if (j < k) lo = i;
        if (k < i) hi = j;
    }
    return v[k];
}

/* *vmax = the AUTO_PERCENTILE quantile (lower nearest rank) of the finite values of e[0..n),
 * 0 when there are none. */
static int auto_vmax(const char *path, const float *e, size_t n, float *vmax, vg_error *err) {
    float *v = malloc(n * sizeof *v);
    if (!v) return vg_fail(err, VG_ERR_NOMEM, "%s: no memory to rank %zu errors", path, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(e[i])) v[m++] = e[i];
    *vmax = m ? select_kth(v, (ptrdiff_t)m, (ptrdiff_t)(AUTO_PERCENTILE * (double)(m - 1))) : 0;
    free(v);
    return VG_OK;
}

/* Blends row y of the frame with its errors into o->row (the frame alone without a map). */
static void blend_row(overlay *o, int y) {
    const unsigned char *src = o->rgb + (size_t)y * o->width * 3;
    if (!o->error_map) {
        memcpy(o->row, src, (size_t)o->width * 3);
        return;
    }
    const float *e = o->error_map + (size_t)y * o->width;
    for (int x = 0; x < o->width; x++) {
        float a = e[x] * o->inv_vmax;
        a = a > 0 ? (a < 1 ? a : 1) : 0; /* NaN (0 * inf too) -> 0 */
        const unsigned char *c = o->lut[(int)(a * (VG_COLORMAP_SIZE - 1) + 0.5f)];
        for (int k = 0; k < 3; k++) {
            float f = src[3 * x + k];
            o->row[3 * x + k] = (unsigned char)(f + a * (c[k] - f) + 0.5f); /* a 0: f exactly */
        }
    }
}

/* libpng's error handler: keeps the message and jumps back to encode's setjmp. */
static void on_png_error(png_structp png, png_const_charp msg) {
    snprintf(png_get_error_ptr(png), VG_WHY_LEN, "PNG encoder: %s", msg);
    png_longjmp(png, 1);
}

/* libpng would print warnings to stderr; the library does not print. */
static void on_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* Everything between setjmp and the end of the image; kept out of encode so that no local
 * of the setjmp frame changes after the jump point. */
static void write_image(png_structp png, png_infop info, FILE *f, overlay *o) {
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)o->width, (png_uint_32)o->height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < o->height; y++) {
        blend_row(o, y);
        png_write_row(png, o->row);
    }
    png_write_end(png, NULL);
}

/* vg_write_fn: the blended picture as an 8-bit RGB PNG. */
static int encode(FILE *f, void *ctx, char why[VG_WHY_LEN]) {
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, why, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(why, VG_WHY_LEN, "PNG encoder: out of memory");
        return -1;
    }
    /* libpng reports errors by longjmp to here. png and info do not change after setjmp and
     * the row buffer belongs to the caller, so destroying the two leaks nothing. */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    write_image(png, info, f, ctx);
    png_destroy_write_struct(&png, &info);
    return 0;
}

static int check_heatmap_args(const char *path, const unsigned char *rgb,
                              const float *error_map, int width, int height, vg_error *err) {
    if (!path) return vg_fail(err, VG_ERR_ARG, "vg_heatmap_png: no path");
    if (!rgb || !error_map)
        return vg_fail(err, VG_ERR_ARG, "%s: rgb and error_map must not be NULL", path);
    if (width < 1 || height < 1)
        return vg_fail(err, VG_ERR_ARG, "%s: image size %dx%d, expected at least 1x1", path,
                       width, height);
    return VG_OK;
}

/* The picture, with error_map overlaid when it is not NULL. */
static int write_png(const char *path, const unsigned char *rgb, const float *error_map,
                     int width, int height, float vmax, vg_error *err) {
    if (error_map && !(vmax > 0)) {
        int rc = auto_vmax(path, error_map, (size_t)width * height, &vmax, err);
        if (rc != VG_OK) return rc;
    }
    overlay o = {.rgb = rgb, .error_map = error_map, .width = width, .height = height,
                 .inv_vmax = vmax > 0 ? 1 / vmax : 0, .row = malloc((size_t)width * 3)};
    if (!o.row) return vg_fail(err, VG_ERR_NOMEM, "%s: no memory for a %d-pixel row", path, width);
    vg_colormap_inferno(o.lut);
    int rc = vg_write_atomic(path, encode, &o, err);
    free(o.row);
    return rc;
}

int vg_png_write(const char *path, const unsigned char *rgb, int width, int height,
                 vg_error *err) {
    static const float none = 0;
    int rc = check_heatmap_args(path, rgb, &none, width, height, err);
    return rc ? rc : write_png(path, rgb, NULL, width, height, 0, err);
}

int vg_heatmap_png(const char *path, const unsigned char *rgb, const float *error_map,
                   int width, int height, float vmax, vg_error *err) {
    int rc = check_heatmap_args(path, rgb, error_map, width, height, err);
    return rc ? rc : write_png(path, rgb, error_map, width, height, vmax, err);
}
