/* synth_scale.c - resolution mismatch (scaled down and back up) and out-of-format framing
 * (letterbox, pillarbox), both through the same libswscale conversion the video sources
 * use (bilinear, widened when shrinking so it averages: src/video/convert.c). */
#include <libavutil/frame.h>
#include <math.h>
#include <stdlib.h>

#include "calib/synth.h"
#include "video/video.h"

/* Wraps w x h RGB24 pixels, rows packed, in frame f without copying them (vg_convert
 * copies an unowned picture into a padded buffer of its own before swscale reads it). */
static void wrap(AVFrame *f, const unsigned char *rgb, int w, int h) {
    f->format = AV_PIX_FMT_RGB24;
    f->width = w;
    f->height = h;
    f->data[0] = (uint8_t *)rgb;
    f->linesize[0] = w * 3;
}

/* Scales the w x h picture src onto region dst of out (out_w x out_h, black around dst). */
static int scale(vg_converter *c, AVFrame *f, const unsigned char *src, int w, int h,
                 vg_rect dst, unsigned char *out, int out_w, int out_h, vg_error *err) {
    wrap(f, src, w, h);
    return vg_convert(c, f, (vg_rect){0, 0, w, h}, dst, out, out_w, out_h, err);
}

static int side(int size, double factor) {
    long v = lround(size * factor);
    return v > 0 ? (int)v : 1;
}

int vg_synth_rescale(const unsigned char *src, int n, int width, int height, double factor,
                     unsigned char *out, vg_error *err) {
    int sw = side(width, factor), sh = side(height, factor);
    size_t frame = (size_t)width * height * 3;
    unsigned char *small = malloc((size_t)sw * sh * 3);
    AVFrame *f = av_frame_alloc();
    vg_converter *c = NULL;
    int rc = small && f ? vg_converter_create(&c, err)
                        : vg_fail(err, VG_ERR_NOMEM, "out of memory for a %dx%d frame", sw, sh);
    for (int i = 0; i < n && rc == VG_OK; i++) {
        rc = scale(c, f, src + i * frame, width, height, (vg_rect){0, 0, sw, sh}, small, sw, sh,
                   err);
        if (rc == VG_OK)
            rc = scale(c, f, small, sw, sh, (vg_rect){0, 0, width, height}, out + i * frame,
                       width, height, err);
    }
    vg_converter_free(c);
    av_frame_free(&f);
    free(small);
    return rc;
}

int vg_synth_box(const unsigned char *src, int n, int width, int height, int wide,
                 double fraction, unsigned char *out, vg_error *err) {
    vg_rect dst = {0, 0, width, height};
    if (wide) {
        dst.h = side(height, fraction);
        dst.y = (height - dst.h) / 2;
    } else {
        dst.w = side(width, fraction);
        dst.x = (width - dst.w) / 2;
    }
    size_t frame = (size_t)width * height * 3;
    AVFrame *f = av_frame_alloc();
    vg_converter *c = NULL;
    int rc = f ? vg_converter_create(&c, err)
               : vg_fail(err, VG_ERR_NOMEM, "out of memory for a frame");
    for (int i = 0; i < n && rc == VG_OK; i++)
        rc = scale(c, f, src + i * frame, width, height, dst, out + i * frame, width, height, err);
    vg_converter_free(c);
    av_frame_free(&f);
    return rc;
}
