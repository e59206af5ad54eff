/* synth_codec.c - compression artefacts: frames encoded as one H.264 stream at a starved
 * bitrate and decoded back with libavcodec, RGB24 <-> YUV 4:2:0 through libswscale.
 *
 * Data flows with the send/receive API: each frame sent to the encoder is followed by
 * draining every packet it has ready into the decoder, and every decoded frame out of
 * that; at the end both are flushed by sending nothing. Decoded frames come out in display
 * order, so the k-th one is the k-th frame sent.
 *
 * The span is encoded as the middle of a stream: LEAD_IN frames before it go first, so
 * that the rate control has settled (a stream opens with an intra frame that takes much
 * of the first second's bits, and a guess of the quantiser; at the 1 Mbps class a span
 * right after the start of a stream comes out 5 dB worse than one 50 frames in, on Ped2).
 * Where the clip has fewer frames before the span, the lead-in runs back and forth over
 * the frames there are (mirrored at frame 0 and at the span's end), so the motion stays
 * continuous and the damage does not depend on where the span sits.
 *
 * The encoder runs single-threaded: x264's output depends on its thread count, and a
 * calibration must give the same frames on every machine. Both conversions use BT.601
 * limited range, swscale's default; the way back to RGB interpolates chroma at full
 * horizontal resolution (SWS_FULL_CHR_H_INT): FFmpeg 5.1's other YUV 4:2:0 to RGB24 path
 * comes out up to 2 levels too dark, which alone would cap a perfect round trip at 43 dB.
 *
 * YUV 4:2:0 needs even sizes: an odd width or height is encoded with the last column or
 * row repeated and cut off again after decoding. */
#include <libavcodec/avcodec.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "calib/synth.h"
#include "video/video.h"

/* Frames encoded before the span (see above). */
#define LEAD_IN 50

/* libx264; else a software H.264 encoder (hardware ones need devices and other pixel
 * formats); else MPEG-4 part 2, which every FFmpeg build has unless stripped. */
static const AVCodec *find_encoder(void) {
    const AVCodec *c = avcodec_find_encoder_by_name("libx264");
    void *it = NULL;
    while (!c && (c = av_codec_iterate(&it)))
        if (!av_codec_is_encoder(c) || c->id != AV_CODEC_ID_H264 ||
            (c->capabilities & (AV_CODEC_CAP_HARDWARE | AV_CODEC_CAP_EXPERIMENTAL)))
            c = NULL;
    return c ? c : avcodec_find_encoder(AV_CODEC_ID_MPEG4);
}

const char *vg_synth_encoder(void) {
    const AVCodec *c = find_encoder();
    return c ? c->name : NULL;
}

/* One round trip in progress. */
typedef struct trip {
    AVCodecContext *enc, *dec;
    struct SwsContext *to_yuv, *to_rgb;
    AVFrame *padded;  /* the clip's frame in RGB24 at even size: encoded, then decoded */
    AVFrame *yuv;     /* the encoder's input */
    AVFrame *decoded;
    AVPacket *pkt;
    int width, height; /* the clip's */
    int got, skip, n;  /* frames decoded so far; the first skip are not kept, the next n are */
    unsigned char *out;
} trip;

/* A failure of FFmpeg in the middle of the round trip. */
static int ff_fail(vg_error *err, const char *what, int averr) {
    return vg_fail(err, averr == AVERROR(ENOMEM) ? VG_ERR_NOMEM : VG_ERR_BACKEND,
                   "re-encoding: %s failed (%s)", what, av_err2str(averr));
}

static void trip_free(trip *t) {
    avcodec_free_context(&t->enc);
    avcodec_free_context(&t->dec);
    sws_freeContext(t->to_yuv);
    sws_freeContext(t->to_rgb);
    av_frame_free(&t->padded);
    av_frame_free(&t->yuv);
    av_frame_free(&t->decoded);
    av_packet_free(&t->pkt);
}

static int picture(AVFrame **f, int format, int w, int h, vg_error *err) {
    *f = av_frame_alloc();
    if (!*f) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a frame");
    (*f)->format = format;
    (*f)->width = w;
    (*f)->height = h;
    int e = av_frame_get_buffer(*f, 0);
    return e < 0 ? ff_fail(err, "allocating a frame", e) : VG_OK;
}

/* libx264 takes whole kbit/s and truncates, so the target is rounded to them here; below
 * 1 kbit/s it would get 0 and switch to constant quality, so 1 is the least. Frames under
 * about 46x46 pixels at 25 fps are therefore spared a little at the 1 Mbps class. */
static int64_t bitrate(double bits_per_second) {
    double kbits = round(bits_per_second / 1000);
    return kbits < 1 ? 1000 : kbits > 1e9 ? (int64_t)1e12 : (int64_t)kbits * 1000;
}

static int open_encoder(trip *t, const AVCodec *codec, int w, int h, double fps, double bpp,
                        vg_error *err) {
    AVCodecContext *c = t->enc = avcodec_alloc_context3(codec);
    if (!c) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the %s encoder", codec->name);
    c->width = w;
    c->height = h;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->framerate = av_d2q(fps, 65535);
    c->time_base = av_inv_q(c->framerate);
    c->bit_rate = bitrate(bpp * w * h * fps);
    /* a one-second buffer capped at the target: a starved stream cannot borrow bits from
     * the frames around the span */
    c->rc_max_rate = c->bit_rate;
    c->rc_buffer_size = (int)(c->bit_rate < INT_MAX ? c->bit_rate : INT_MAX);
    c->thread_count = 1;
    c->colorspace = AVCOL_SPC_SMPTE170M;
    c->color_primaries = AVCOL_PRI_SMPTE170M;
    c->color_trc = AVCOL_TRC_SMPTE170M;
    c->color_range = AVCOL_RANGE_MPEG;
    int e = avcodec_open2(c, codec, NULL);
    if (e < 0)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "re-encoding: cannot open the %s encoder for "
                       "%dx%d frames (%s)", codec->name, w, h, av_err2str(e));
    return VG_OK;
}

static int open_decoder(trip *t, enum AVCodecID id, vg_error *err) {
    const AVCodec *codec = avcodec_find_decoder(id);
    if (!codec)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "re-encoding: this FFmpeg has no %s decoder",
                       avcodec_get_name(id));
    t->dec = avcodec_alloc_context3(codec);
    if (!t->dec) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the %s decoder", codec->name);
    t->dec->thread_count = 1;
    int e = avcodec_open2(t->dec, codec, NULL);
    if (e < 0)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "re-encoding: cannot open the %s decoder (%s)",
                       codec->name, av_err2str(e));
    return VG_OK;
}

static int trip_open(trip *t, int width, int height, double fps, double bpp, vg_error *err) {
    vg_video_setup(); /* FFmpeg (x264 above all) logs to stderr unless silenced */
    const AVCodec *codec = find_encoder();
    if (!codec)
        return vg_fail(err, VG_ERR_UNSUPPORTED,
                       "re-encoding: this FFmpeg has no H.264 or MPEG-4 encoder");
    int w = width + width % 2, h = height + height % 2;
    int rc = open_encoder(t, codec, w, h, fps, bpp, err);
    if (rc == VG_OK) rc = open_decoder(t, codec->id, err);
    if (rc == VG_OK) rc = picture(&t->padded, AV_PIX_FMT_RGB24, w, h, err);
    if (rc == VG_OK) rc = picture(&t->yuv, AV_PIX_FMT_YUV420P, w, h, err);
    if (rc != VG_OK) return rc;
    int flags = SWS_BILINEAR | SWS_ACCURATE_RND;
    t->to_yuv = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, AV_PIX_FMT_YUV420P, flags, NULL,
                               NULL, NULL);
    t->to_rgb = sws_getContext(w, h, AV_PIX_FMT_YUV420P, w, h, AV_PIX_FMT_RGB24,
                               flags | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
    t->decoded = av_frame_alloc();
    t->pkt = av_packet_alloc();
    if (!t->to_yuv || !t->to_rgb || !t->decoded || !t->pkt)
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for re-encoding %dx%d frames", w, h);
    return VG_OK;
}

/* Copies the clip's frame into t->padded, repeating the last column and row into the
 * padding. */
static void pad(trip *t, const unsigned char *rgb) {
    AVFrame *p = t->padded;
    size_t row = (size_t)t->width * 3;
    for (int y = 0; y < p->height; y++) {
        uint8_t *dst = p->data[0] + (size_t)y * p->linesize[0];
        memcpy(dst, rgb + (y < t->height ? y : t->height - 1) * row, row);
        if (p->width > t->width) memcpy(dst + row, dst + row - 3, 3);
    }
}

/* A decoded frame: back to RGB, cut to the clip's size into out, when it is one to keep. */
static int keep(trip *t, const AVFrame *f, vg_error *err) {
    int k = t->got++ - t->skip;
    if (k < 0) return VG_OK;
    if (k >= t->n)
        return vg_fail(err, VG_ERR_BACKEND, "re-encoding: the decoder gave more frames than sent");
    if (f->width != t->padded->width || f->height != t->padded->height ||
        f->format != AV_PIX_FMT_YUV420P)
        return vg_fail(err, VG_ERR_BACKEND, "re-encoding: the decoder gave a %dx%d %s frame",
                       f->width, f->height, av_get_pix_fmt_name(f->format));
    int e = sws_scale(t->to_rgb, (const uint8_t *const *)f->data, f->linesize, 0, f->height,
                  t->padded->data, t->padded->linesize);
    if (e <= 0) return ff_fail(err, "converting to RGB", e < 0 ? e : AVERROR_BUG);
    size_t row = (size_t)t->width * 3;
    unsigned char *dst = t->out + (size_t)k * row * t->height;
    for (int y = 0; y < t->height; y++)
        memcpy(dst + y * row, t->padded->data[0] + (size_t)y * t->padded->linesize[0], row);
    return VG_OK;
}

/* Sends pkt (NULL: end of stream) to the decoder and keeps what comes out. */
static int decode(trip *t, const AVPacket *pkt, vg_error *err) {
    int e = avcodec_send_packet(t->dec, pkt);
    if (e < 0) return ff_fail(err, "decoding", e);
    for (;;) {
        e = avcodec_receive_frame(t->dec, t->decoded);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return VG_OK;
        if (e < 0) return ff_fail(err, "decoding", e);
        int rc = keep(t, t->decoded, err);
        av_frame_unref(t->decoded);
        if (rc != VG_OK) return rc;
    }
}

/* Sends rgb (NULL: end of stream) to the encoder and decodes every packet it has ready. */
static int encode(trip *t, const unsigned char *rgb, int64_t pts, vg_error *err) {
    AVFrame *in = NULL;
    if (rgb) {
        int e = av_frame_make_writable(t->yuv); /* the encoder may still hold the last one */
        if (e < 0) return ff_fail(err, "allocating a frame", e);
        pad(t, rgb);
        e = sws_scale(t->to_yuv, (const uint8_t *const *)t->padded->data, t->padded->linesize,
                      0, t->padded->height, t->yuv->data, t->yuv->linesize);
        if (e <= 0) return ff_fail(err, "converting to YUV", e < 0 ? e : AVERROR_BUG);
        t->yuv->pts = pts;
        in = t->yuv;
    }
    int e = avcodec_send_frame(t->enc, in);
    if (e < 0) return ff_fail(err, "encoding", e);
    for (;;) {
        e = avcodec_receive_packet(t->enc, t->pkt);
        if (e == AVERROR(EAGAIN)) return VG_OK;
        if (e == AVERROR_EOF) return decode(t, NULL, err);
        if (e < 0) return ff_fail(err, "encoding", e);
        int rc = decode(t, t->pkt, err);
        av_packet_unref(t->pkt);
        if (rc != VG_OK) return rc;
    }
}

/* The clip frame shown at position v of the stream (v < 0: the lead-in), v mirrored into
 * 0 .. n-1 as often as it takes: ... 2 1 | 0 1 2 ... n-1 | n-2 ... */
static int mirror(int v, int n) {
    int period = 2 * (n - 1);
    if (period == 0) return 0;
    int m = ((v % period) + period) % period;
    return m < n ? m : period - m;
}

int vg_synth_reencode(const unsigned char *clip, int width, int height, double fps, int start,
                      int len, double bits_per_pixel, unsigned char *out, vg_error *err) {
    trip t = {.width = width, .height = height, .skip = LEAD_IN, .n = len, .out = out};
    size_t frame = (size_t)width * height * 3;
    int rc = trip_open(&t, width, height, fps, bits_per_pixel, err);
    for (int v = start - LEAD_IN; v < start + len && rc == VG_OK; v++)
        rc = encode(&t, clip + mirror(v, start + len) * frame, v - start + LEAD_IN, err);
    if (rc == VG_OK) rc = encode(&t, NULL, 0, err);
    if (rc == VG_OK && t.got != LEAD_IN + len)
        rc = vg_fail(err, VG_ERR_BACKEND, "re-encoding: %d frames sent, %d decoded",
                     LEAD_IN + len, t.got);
    trip_free(&t);
    return rc;
}
