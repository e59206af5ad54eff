/* convert.c - from a decoded frame to RGB24 at the output size: ROI crop, fit, libswscale.
 *
 * Aspect ratio. The ROI (or the whole frame) is mapped onto the width x height output by
 * the fit mode:
 *   stretch  each axis is scaled on its own; a ROI of another aspect ratio than the output
 *            is distorted (what the thesis did, and what a model trained that way expects);
 *   crop     the largest centred part of the ROI with the output's aspect ratio is scaled
 *            to fill the output: no distortion, the ROI's excess edges are not seen;
 *   pad      the whole ROI is scaled to fit inside the output and centred, the rest of the
 *            output black: no distortion, nothing lost, bars on two sides.
 * Scaling is bilinear (swscale's, which widens its filter when shrinking, so it averages
 * instead of skipping pixels), with exact rounding: without SWS_ACCURATE_RND, same-size
 * YUV 4:2:0 to RGB takes a SIMD path that works in blocks of pixels and, on rows packed as
 * ours are, writes past the end of the last row or leaves the last pixels of each row
 * unwritten, depending on the width (FFmpeg 5.1; tests/test_video.c has such ROIs). And
 * chroma is interpolated at full horizontal resolution (SWS_FULL_CHR_H_INT): without it,
 * FFmpeg 5.1 turns YUV 4:2:0 greys up to 2 levels dark (43 -> 30... 205 -> 218 became
 * 31 and 218 for 43 and 205 in a round trip). */
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

#include "video/video.h"

/* a * b / c rounded, at least 1 (a pixel), for positive sizes */
static int scaled(long long a, long long b, long long c) {
    long long v = (a * b + c / 2) / c;
    return v > 0 ? (int)v : 1;
}

int vg_fit_rects(int frame_w, int frame_h, const vg_source_params *p, int out_w, int out_h,
                 vg_rect *src, vg_rect *dst, vg_error *err) {
    vg_rect roi = p->roi_w ? (vg_rect){p->roi_x, p->roi_y, p->roi_w, p->roi_h}
                           : (vg_rect){0, 0, frame_w, frame_h};
    if ((long long)roi.x + roi.w > frame_w || (long long)roi.y + roi.h > frame_h)
        return vg_fail(err, VG_ERR_ARG, "ROI x=%d y=%d w=%d h=%d is outside the %dx%d frame",
                       roi.x, roi.y, roi.w, roi.h, frame_w, frame_h);
    *src = roi;
    *dst = (vg_rect){0, 0, out_w, out_h};
    /* the ROI is wider than the output when roi.w / roi.h > out_w / out_h */
    long long wide = (long long)roi.w * out_h, tall = (long long)roi.h * out_w;
    if (p->fit == VG_FIT_CROP && wide > tall) {
        src->w = scaled(roi.h, out_w, out_h);
        src->x += (roi.w - src->w) / 2;
    } else if (p->fit == VG_FIT_CROP && wide < tall) {
        src->h = scaled(roi.w, out_h, out_w);
        src->y += (roi.h - src->h) / 2;
    } else if (p->fit == VG_FIT_PAD && wide > tall) {
        dst->h = scaled(out_w, roi.h, roi.w);
        dst->y = (out_h - dst->h) / 2;
    } else if (p->fit == VG_FIT_PAD && wide < tall) {
        dst->w = scaled(out_h, roi.w, roi.h);
        dst->x = (out_w - dst->w) / 2;
    }
    return VG_OK;
}

#define SWS_FLAGS (SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT)

/* One swscale context and the geometry and colours it was made for. */
typedef struct scaler {
    struct SwsContext *sws;
    int format, in_w, in_h, out_w, out_h, space, range;
} scaler;

struct vg_converter {
    scaler to_rgb;    /* whole frame to RGB24, when the ROI cannot be cut from the frame */
    scaler resize;    /* ROI to the output */
    AVFrame *staging; /* the whole frame in RGB24, for to_rgb */
    AVFrame *view;    /* a reference to the ROI of a frame */
    AVFrame *inner;   /* fit pad: the picture between the bars */
};

int vg_converter_create(vg_converter **out, vg_error *err) {
    vg_converter *c = calloc(1, sizeof *c);
    if (c) {
        c->staging = av_frame_alloc();
        c->view = av_frame_alloc();
        c->inner = av_frame_alloc();
    }
    if (!c || !c->staging || !c->view || !c->inner) {
        vg_converter_free(c);
        *out = NULL;
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for the frame converter");
    }
    *out = c;
    return VG_OK;
}

void vg_converter_free(vg_converter *c) {
    if (!c) return;
    sws_freeContext(c->to_rgb.sws);
    sws_freeContext(c->resize.sws);
    av_frame_free(&c->staging);
    av_frame_free(&c->view);
    av_frame_free(&c->inner);
    free(c);
}

/* swscale assumes BT.601 limited-range YUV (full range only for the old yuvj formats and
 * gray) unless told; decoders state the matrix and range, so say what they said, or HD
 * (BT.709) and full-range video come out with shifted colours. */
static void set_colours(struct SwsContext *sws, const AVFrame *f) {
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    int *inv, *table, src_range, dst_range, brightness, contrast, saturation;
    if (d->flags & AV_PIX_FMT_FLAG_RGB) return;
    if (sws_getColorspaceDetails(sws, &inv, &src_range, &table, &dst_range, &brightness,
                                 &contrast, &saturation) < 0)
        return;
    if (f->color_range != AVCOL_RANGE_UNSPECIFIED) src_range = f->color_range == AVCOL_RANGE_JPEG;
    const int *coefs = f->colorspace != AVCOL_SPC_UNSPECIFIED ? sws_getCoefficients(f->colorspace)
                                                              : inv;
    sws_setColorspaceDetails(sws, coefs, src_range, table, dst_range, brightness, contrast,
                             saturation);
}

/* Scales the whole picture of in onto out_w x out_h RGB24 at dst (stride bytes a row),
 * making a new context only when the input or output changes. */
static int scale(scaler *s, const AVFrame *in, uint8_t *dst, int stride, int out_w, int out_h,
                 vg_error *err) {
    if (!s->sws || s->format != in->format || s->in_w != in->width || s->in_h != in->height ||
        s->out_w != out_w || s->out_h != out_h || s->space != (int)in->colorspace ||
        s->range != (int)in->color_range) {
        sws_freeContext(s->sws);
        *s = (scaler){sws_getContext(in->width, in->height, in->format, out_w, out_h,
                                     AV_PIX_FMT_RGB24, SWS_FLAGS, NULL, NULL, NULL),
                      in->format, in->width, in->height, out_w, out_h, (int)in->colorspace,
                      (int)in->color_range};
        if (!s->sws)
            return vg_fail(err, VG_ERR_UNSUPPORTED, "cannot convert %s %dx%d frames to RGB %dx%d",
                           av_get_pix_fmt_name(in->format), in->width, in->height, out_w, out_h);
        set_colours(s->sws, in);
    }
    uint8_t *planes[4] = {dst, NULL, NULL, NULL};
    int strides[4] = {stride, 0, 0, 0};
    sws_scale(s->sws, (const uint8_t *const *)in->data, in->linesize, 0, in->height, planes,
              strides);
    return VG_OK;
}

/* Whether the ROI can be cut by moving plane pointers: not inside the bytes of a bit-packed
 * format, and on the chroma grid of subsampled YUV so colour stays registered with luma. */
static int croppable(const AVFrame *f, vg_rect r) {
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    if (d->flags & (AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL)) return 0;
    return r.x % (1 << d->log2_chroma_w) == 0 && r.y % (1 << d->log2_chroma_h) == 0;
}

/* Gives f an RGB24 picture of w x h (a new one only when the size changes). */
static int rgb_frame(AVFrame *f, int w, int h, vg_error *err) {
    if (f->width == w && f->height == h) return VG_OK;
    av_frame_unref(f);
    f->format = AV_PIX_FMT_RGB24;
    f->width = w;
    f->height = h;
    if (av_frame_get_buffer(f, 0) < 0) {
        av_frame_unref(f); /* back to 0x0, so the next call retries */
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for a %dx%d frame", w, h);
    }
    return VG_OK;
}

/* The whole frame in RGB24, in which any ROI can be cut exactly. */
static int to_staging(vg_converter *c, const AVFrame *f, vg_error *err) {
    int rc = rgb_frame(c->staging, f->width, f->height, err);
    if (rc != VG_OK) return rc;
    return scale(&c->to_rgb, f, c->staging->data[0], c->staging->linesize[0], f->width,
                 f->height, err);
}

/* Scales v onto region dst of rgb, black around it. swscale may write anywhere within the
 * destination stride of each row it outputs (its packed copy moves whole strides), so
 * the picture is scaled into a frame of its own and copied between the bars row by row. */
static int scale_padded(vg_converter *c, const AVFrame *v, vg_rect dst, unsigned char *rgb,
                        int out_w, int out_h, vg_error *err) {
    int rc = rgb_frame(c->inner, dst.w, dst.h, err);
    if (rc == VG_OK)
        rc = scale(&c->resize, v, c->inner->data[0], c->inner->linesize[0], dst.w, dst.h, err);
    if (rc != VG_OK) return rc;
    memset(rgb, 0, (size_t)out_w * (size_t)out_h * 3);
    for (int y = 0; y < dst.h; y++)
        memcpy(rgb + ((size_t)(dst.y + y) * (size_t)out_w + (size_t)dst.x) * 3,
               c->inner->data[0] + (size_t)y * (size_t)c->inner->linesize[0], (size_t)dst.w * 3);
    return VG_OK;
}

int vg_convert(vg_converter *c, const AVFrame *f, vg_rect src, vg_rect dst, unsigned char *rgb,
               int out_w, int out_h, vg_error *err) {
    const AVFrame *in = f;
    if (!croppable(f, src)) {
        int rc = to_staging(c, f, err);
        if (rc != VG_OK) return rc;
        in = c->staging;
    }
    /* a reference whose planes start at the ROI: no pixels are copied */
    AVFrame *v = c->view;
    if (av_frame_ref(v, in) < 0) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a frame");
    v->crop_left = (size_t)src.x;
    v->crop_top = (size_t)src.y;
    v->crop_right = (size_t)(in->width - src.x - src.w);
    v->crop_bottom = (size_t)(in->height - src.y - src.h);
    int rc = VG_OK;
    if (av_frame_apply_cropping(v, AV_FRAME_CROP_UNALIGNED) < 0)
        rc = vg_fail(err, VG_ERR_ARG, "cannot cut x=%d y=%d w=%d h=%d from a %dx%d frame", src.x,
                     src.y, src.w, src.h, in->width, in->height);
    if (rc == VG_OK && (dst.w != out_w || dst.h != out_h))
        rc = scale_padded(c, v, dst, rgb, out_w, out_h, err);
    else if (rc == VG_OK)
        rc = scale(&c->resize, v, rgb, out_w * 3, out_w, out_h, err); /* rows packed: the
                                                                          stride is the row */
    av_frame_unref(v);
    return rc;
}
