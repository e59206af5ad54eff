/* source.c - vg_source: frames from a video file, URL or device (one decoder over the
 * whole input) or from a folder of images (one decoder per image, in natural order),
 * converted to RGB24 at the requested size (convert.c). */
#include <libavutil/mem.h>
#include <libavutil/time.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "video/video.h"

struct vg_source {
    char *uri;
    vg_source_params p;
    vg_uri_kind kind;
    vg_decoder *dec;  /* the input; for a folder, the current image */
    char **images;    /* a folder's image paths in natural order */
    int nimages, next_image;
    vg_error image_error; /* why the last unreadable image of a folder was skipped */
    vg_converter *conv;
    unsigned char *rgb; /* the frame delivered last, or about to be */
    int width, height;  /* of rgb */
    int pending;        /* rgb holds the frame converted at open, not delivered yet */
    double pts;         /* of the frame in rgb */
    double fps;
    long long index, errors;
    int64_t clock0; /* realtime: when the frame of timestamp pts0 was delivered */
    double pts0;
    vg_rect src, dst; /* where the last frame came from and went (vg_fit_rects) */
};

const char *vg_fit_name(vg_fit f) {
    static const char *const names[] = {"stretch", "crop", "pad"};
    return f >= VG_FIT_STRETCH && f <= VG_FIT_PAD ? names[f] : "?";
}

vg_source_params vg_source_default_params(void) {
    return (vg_source_params){.fit = VG_FIT_STRETCH, .timeout_ms = 10000, .folder_fps = 25.0};
}

static int check_params(const char *uri, const vg_source_params *p, vg_error *err) {
    if (p->width < 0 || p->height < 0 || (p->width == 0) != (p->height == 0))
        return vg_fail(err, VG_ERR_ARG,
                       "%s: output size %dx%d: give both width and height, or 0x0 for the "
                       "source's size", uri, p->width, p->height);
    if (p->roi_x < 0 || p->roi_y < 0 || p->roi_w < 0 || p->roi_h < 0 ||
        (p->roi_w == 0) != (p->roi_h == 0))
        return vg_fail(err, VG_ERR_ARG,
                       "%s: ROI x=%d y=%d w=%d h=%d: x and y must be >= 0 and w and h > 0 "
                       "(w = h = 0: no ROI)", uri, p->roi_x, p->roi_y, p->roi_w, p->roi_h);
    if (p->fit != VG_FIT_STRETCH && p->fit != VG_FIT_CROP && p->fit != VG_FIT_PAD)
        return vg_fail(err, VG_ERR_ARG, "%s: fit %d is not stretch (0), crop (1) or pad (2)", uri,
                       (int)p->fit);
    if (p->timeout_ms < 0)
        return vg_fail(err, VG_ERR_ARG, "%s: timeout_ms %d is negative", uri, p->timeout_ms);
    if (!(p->folder_fps > 0 && isfinite(p->folder_fps)))
        return vg_fail(err, VG_ERR_ARG, "%s: folder_fps %g is not a positive frame rate", uri,
                       p->folder_fps);
    return VG_OK;
}

static int open_folder(vg_source *s, vg_error *err) {
    int rc = vg_list_folder(s->uri, vg_keep_image, &s->images, &s->nimages, err);
    if (rc == VG_OK && s->nimages == 0)
        rc = vg_fail(err, VG_ERR_FORMAT,
                     "%s: no images (jpg, jpeg, png, tif, tiff, bmp) in the folder", s->uri);
    s->fps = s->p.folder_fps;
    return rc;
}

static int open_input(vg_source *s, vg_error *err) {
    int errnum = 0;
    s->kind = vg_uri_classify(s->uri, &errnum);
    if (s->kind == VG_URI_MISSING) return vg_uri_missing(s->uri, errnum, err);
    if (s->kind == VG_URI_FOLDER) return open_folder(s, err);
    int rc = vg_decoder_open(s->uri, s->kind, s->p.timeout_ms, s->p.abort, s->p.abort_user,
                             &s->dec, err);
    if (rc == VG_OK) s->fps = vg_decoder_fps(s->dec);
    return rc;
}

/* Decodes the folder's next readable image; one that cannot be opened or decoded is counted
 * and skipped. Its timestamp is its place in the folder, so a skipped image leaves a gap
 * as a skipped frame of a video does. */
static int next_image(vg_source *s, AVFrame **f, vg_error *err) {
    while (s->next_image < s->nimages) {
        int k = s->next_image++;
        vg_decoder_close(s->dec);
        s->dec = NULL;
        long long damaged = 0; /* the image is counted once, however it failed */
        double pts;
        int rc = vg_decoder_open(s->images[k], VG_URI_FILE, 0, NULL, NULL, &s->dec,
                                 &s->image_error);
        if (rc == VG_OK) rc = vg_decoder_next(s->dec, f, &pts, &damaged, &s->image_error);
        if (rc == VG_OK) {
            s->pts = k / s->p.folder_fps;
            return VG_OK;
        }
        if (rc == VG_ERR_NOMEM) return vg_fail(err, rc, "%s", s->image_error.msg);
        if (rc == VG_END)
            vg_fail(&s->image_error, VG_ERR_FORMAT, "%s: cannot be decoded", s->images[k]);
        s->errors++;
    }
    return VG_END;
}

/* The next decoded frame and its timestamp (s->pts). A stream without timestamps gets
 * evenly spaced ones at its stated rate (25 fps when it states none). */
static int next_decoded(vg_source *s, AVFrame **f, vg_error *err) {
    if (s->kind == VG_URI_FOLDER) return next_image(s, f, err);
    double pts;
    int rc = vg_decoder_next(s->dec, f, &pts, &s->errors, err);
    if (rc == VG_OK && isnan(pts)) pts = s->index ? s->pts + 1.0 / (s->fps > 0 ? s->fps : 25) : 0;
    if (rc == VG_OK) s->pts = pts;
    return rc;
}

/* Converts f into s->rgb; a message is prefixed with the image or the source. */
static int convert(vg_source *s, const AVFrame *f, vg_error *err) {
    int rc = vg_fit_rects(f->width, f->height, &s->p, s->width, s->height, &s->src, &s->dst, err);
    if (rc == VG_OK) rc = vg_convert(s->conv, f, s->src, s->dst, s->rgb, s->width, s->height, err);
    if (rc != VG_OK) vg_wrap(err, s->kind == VG_URI_FOLDER ? s->images[s->next_image - 1] : s->uri);
    return rc;
}

/* Decodes and converts the first frame while opening, so that a source that opens can be
 * read: its size is known (width = height = 0 take it, after the ROI), the ROI is checked
 * against it, and an input that decodes nothing fails here rather than at the first read. */
static int prime(vg_source *s, vg_error *err) {
    AVFrame *f = NULL;
    int rc = next_decoded(s, &f, err);
    if (rc == VG_END && s->kind == VG_URI_FOLDER)
        return vg_fail(err, VG_ERR_FORMAT, "%s: none of its %d images could be read (last: %s)",
                       s->uri, s->nimages, s->image_error.msg);
    if (rc == VG_END)
        return vg_fail(err, VG_ERR_FORMAT, "%s: no frame could be decoded (%lld errors)", s->uri,
                       s->errors);
    if (rc != VG_OK) return rc;
    s->width = s->p.width ? s->p.width : (s->p.roi_w ? s->p.roi_w : f->width);
    s->height = s->p.height ? s->p.height : (s->p.roi_h ? s->p.roi_h : f->height);
    s->rgb = av_malloc((size_t)s->width * (size_t)s->height * 3);
    if (!s->rgb)
        return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory for %dx%d frames", s->uri, s->width,
                       s->height);
    rc = convert(s, f, err);
    s->pending = rc == VG_OK;
    return rc;
}

int vg_source_open(const char *uri, const vg_source_params *p, vg_source **out,
                   vg_error *err) {
    *out = NULL;
    if (!uri || !*uri) return vg_fail(err, VG_ERR_ARG, "video source: no path or URL given");
    int rc = check_params(uri, p, err);
    if (rc != VG_OK) return rc;
    vg_source *s = calloc(1, sizeof *s);
    if (s) s->uri = strdup(uri);
    if (!s || !s->uri) {
        free(s);
        return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", uri);
    }
    s->p = *p;
    rc = open_input(s, err);
    if (rc == VG_OK) rc = vg_converter_create(&s->conv, err);
    if (rc == VG_OK) rc = prime(s, err);
    if (rc != VG_OK) {
        vg_source_close(s);
        return rc;
    }
    *out = s;
    return VG_OK;
}

/* Realtime delivery: each frame waits until its timestamp comes, counted from when the
 * first was delivered. A gap of more than a second either way (a timestamp jump, or a
 * reader that fell behind) restarts the count rather than stalling or bursting. */
static void pace(vg_source *s) {
    int64_t now = av_gettime_relative();
    int64_t due = s->clock0 + (int64_t)((s->pts - s->pts0) * 1e6);
    if (s->index == 0 || llabs((long long)(due - now)) > 1000000) {
        s->clock0 = now;
        s->pts0 = s->pts;
    } else if (due > now) {
        av_usleep((unsigned)(due - now));
    }
}

int vg_source_read(vg_source *s, vg_frame *f, vg_error *err) {
    if (!s->pending) {
        AVFrame *frame = NULL;
        int rc = next_decoded(s, &frame, err);
        if (rc == VG_END) return vg_fail(err, VG_END, "%s: end of stream", s->uri);
        if (rc == VG_OK) rc = convert(s, frame, err);
        if (rc != VG_OK) return rc;
    }
    if (s->index == 0 && s->kind != VG_URI_FOLDER) vg_decoder_release_held(s->dec);
    s->pending = 0;
    /* live sources and devices are paced by whoever sends the frames */
    if (s->p.realtime && (s->kind == VG_URI_FILE || s->kind == VG_URI_FOLDER)) pace(s);
    *f = (vg_frame){s->index++, s->pts, s->width, s->height, s->rgb};
    return VG_OK;
}

void vg_source_set_packet_tap(vg_source *s, vg_packet_tap_fn fn, void *user) {
    if (s->kind != VG_URI_FOLDER) vg_decoder_set_tap(s->dec, fn, user);
}

void vg_source_rects(const vg_source *s, vg_rect *src, vg_rect *dst) {
    *src = s->src, *dst = s->dst;
}

double vg_source_fps(const vg_source *s) {
    return s->fps;
}

long long vg_source_errors(const vg_source *s) {
    return s->errors;
}

void vg_source_close(vg_source *s) {
    if (!s) return;
    vg_decoder_close(s->dec);
    vg_converter_free(s->conv);
    vg_clips_free(s->images, s->nimages);
    av_free(s->rgb);
    free(s->uri);
    free(s);
}
