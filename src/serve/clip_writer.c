/* clip_writer.c - one MP4 clip (see clip_writer.h): RGB24 -> YUV 4:2:0 (libswscale) ->
 * encoder (libavcodec) -> MP4 muxer (libavformat) -> PATH.tmp -> sync -> rename to PATH.
 *
 * Packets stream with the send/receive API: each frame sent is followed by writing every
 * packet the encoder has ready; finishing sends nothing, which drains it. The encoder runs
 * single-threaded: it runs in a camera's thread beside other clips, on frames of the
 * model's size, where frame threads would add latency and memory rather than speed. */
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"
#include "serve/clip_writer.h"
#include "video/video.h"

#define TICKS 1000           /* timestamps in milliseconds */
#define KEYFRAME_SECONDS 2.0 /* players seek to keyframes: an operator scrubs a clip */

struct vg_clip_writer {
    char *path, *tmp;
    AVFormatContext *mux;
    AVCodecContext *enc;
    struct SwsContext *to_yuv;
    AVFrame *rgb, *yuv;     /* the frame, padded to the coded (even) size, and the
                               encoder's input */
    AVPacket *pkt;
    int width, height;      /* the frames' */
    int created, published; /* PATH.tmp exists / has become PATH */
    long long frames;
    double t0;              /* the first frame's time */
    int64_t last_pts;
    int64_t frame_ticks;    /* 1 / fps: the duration of the last frame */
};

/* A failure of FFmpeg (averr) while doing what. */
static int ff_fail(const vg_clip_writer *w, vg_error *err, int code, const char *what,
                   int averr) {
    return vg_fail(err, averr == AVERROR(ENOMEM) ? VG_ERR_NOMEM : code, "clip %s: %s (%s)",
                   w->path, what, av_err2str(averr));
}

/* Frees w; PATH.tmp is removed unless it was published. */
static void writer_free(vg_clip_writer *w) {
    if (w->mux && w->mux->pb) avio_closep(&w->mux->pb);
    if (w->created && !w->published) remove(w->tmp);
    avformat_free_context(w->mux);
    avcodec_free_context(&w->enc);
    sws_freeContext(w->to_yuv);
    av_frame_free(&w->rgb);
    av_frame_free(&w->yuv);
    av_packet_free(&w->pkt);
    free(w->path);
    free(w->tmp);
    free(w);
}

static int picture(const vg_clip_writer *w, AVFrame **f, int format, int width, int height,
                   vg_error *err) {
    *f = av_frame_alloc();
    if (!*f) return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory for a frame", w->path);
    (*f)->format = format;
    (*f)->width = width;
    (*f)->height = height;
    int e = av_frame_get_buffer(*f, 0);
    return e < 0 ? ff_fail(w, err, VG_ERR_NOMEM, "allocating a frame", e) : VG_OK;
}

/* The encoder vg_synth_encoder names (libx264 first), for MP4 (global headers). Options
 * an encoder does not know (x264's preset and crf, for MPEG-4) are left unused. */
static int open_encoder(vg_clip_writer *w, double fps, vg_error *err) {
    const char *name = vg_synth_encoder();
    const AVCodec *codec = name ? avcodec_find_encoder_by_name(name) : NULL;
    if (!codec)
        return vg_fail(err, VG_ERR_UNSUPPORTED,
                       "clip %s: this FFmpeg has no H.264 or MPEG-4 encoder", w->path);
    AVCodecContext *c = w->enc = avcodec_alloc_context3(codec);
    if (!c) return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory for an encoder", w->path);
    c->width = w->width + w->width % 2; /* 4:2:0 needs even sizes */
    c->height = w->height + w->height % 2;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){1, TICKS};
    c->framerate = av_d2q(fps, 65535);
    c->gop_size = (int)fmax(1, round(fps * KEYFRAME_SECONDS));
    c->thread_count = 1;
    c->colorspace = AVCOL_SPC_SMPTE170M; /* what swscale produces by default */
    c->color_primaries = AVCOL_PRI_SMPTE170M;
    c->color_trc = AVCOL_TRC_SMPTE170M;
    c->color_range = AVCOL_RANGE_MPEG;
    if (w->mux->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "preset", "veryfast", 0);
    av_dict_set(&opts, "crf", "28", 0);
    int e = avcodec_open2(c, codec, &opts);
    av_dict_free(&opts);
    if (e < 0)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "clip %s: cannot open the %s encoder for "
                       "%dx%d frames (%s)", w->path, codec->name, c->width, c->height,
                       av_err2str(e));
    return VG_OK;
}

/* The video stream, PATH.tmp created and the header written into it. */
static int open_file(vg_clip_writer *w, vg_error *err) {
    AVStream *st = avformat_new_stream(w->mux, NULL);
    if (!st) return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory for a stream", w->path);
    st->time_base = w->enc->time_base; /* a hint: the muxer picks its own */
    int e = avcodec_parameters_from_context(st->codecpar, w->enc);
    if (e < 0) return ff_fail(w, err, VG_ERR_BACKEND, "describing the stream", e);
    e = avio_open(&w->mux->pb, w->tmp, AVIO_FLAG_WRITE);
    if (e < 0)
        return vg_fail(err, VG_ERR_IO, "clip %s: cannot create %s (%s)", w->path, w->tmp,
                       av_err2str(e));
    w->created = 1;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "movflags", "+faststart", 0); /* index first: plays while loading */
    e = avformat_write_header(w->mux, &opts);
    av_dict_free(&opts);
    return e < 0 ? ff_fail(w, err, VG_ERR_IO, "cannot write the header", e) : VG_OK;
}

static int writer_open(vg_clip_writer *w, double fps, vg_error *err) {
    size_t len = strlen(w->path);
    w->tmp = malloc(len + sizeof ".tmp");
    if (!w->tmp) return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory", w->path);
    memcpy(w->tmp, w->path, len);
    memcpy(w->tmp + len, ".tmp", sizeof ".tmp");
    int e = avformat_alloc_output_context2(&w->mux, NULL, "mp4", w->tmp);
    if (e < 0) return ff_fail(w, err, VG_ERR_UNSUPPORTED, "no MP4 muxer", e);
    int rc = open_encoder(w, fps, err);
    if (rc != VG_OK) return rc;
    int cw = w->enc->width, ch = w->enc->height; /* the coded size */
    rc = picture(w, &w->rgb, AV_PIX_FMT_RGB24, cw, ch, err);
    if (rc == VG_OK) rc = picture(w, &w->yuv, AV_PIX_FMT_YUV420P, cw, ch, err);
    if (rc != VG_OK) return rc;
    w->to_yuv = sws_getContext(cw, ch, AV_PIX_FMT_RGB24, cw, ch, AV_PIX_FMT_YUV420P,
                               SWS_BILINEAR | SWS_ACCURATE_RND, NULL, NULL, NULL);
    w->pkt = av_packet_alloc();
    if (!w->to_yuv || !w->pkt)
        return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory for the converter", w->path);
    return open_file(w, err);
}

int vg_clip_writer_open(const char *path, int width, int height, double fps,
                        vg_clip_writer **out, vg_error *err) {
    *out = NULL;
    vg_video_setup(); /* FFmpeg (x264 above all) logs to stderr unless silenced */
    vg_clip_writer *w = calloc(1, sizeof *w);
    if (w) w->path = strdup(path);
    if (!w || !w->path) {
        free(w);
        return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory", path);
    }
    w->width = width, w->height = height;
    w->frame_ticks = llround(fmax(1, TICKS / fps));
    int rc = writer_open(w, fps, err);
    if (rc != VG_OK) {
        writer_free(w);
        return rc;
    }
    *out = w;
    return VG_OK;
}

/* Copies frame rgb into w->rgb, whose odd width or height was rounded up: the last
 * column and row are repeated into the extra one, so that the chroma of the picture's
 * edge (averaged over 2x2 pixels) is its own. (synth_codec.c pads its frames the same
 * way, for the same reason.) */
static void pad(vg_clip_writer *w, const unsigned char *rgb) {
    AVFrame *p = w->rgb;
    size_t row = (size_t)w->width * 3;
    for (int y = 0; y < p->height; y++) {
        uint8_t *dst = p->data[0] + (size_t)y * p->linesize[0];
        memcpy(dst, rgb + (size_t)(y < w->height ? y : w->height - 1) * row, row);
        if (p->width > w->width) memcpy(dst + row, dst + row - 3, 3);
    }
}

/* Sends f (NULL: the end) to the encoder and writes every packet it has ready. */
static int encode(vg_clip_writer *w, const AVFrame *f, vg_error *err) {
    int e = avcodec_send_frame(w->enc, f);
    if (e < 0) return ff_fail(w, err, VG_ERR_BACKEND, "encoding failed", e);
    AVStream *st = w->mux->streams[0];
    for (;;) {
        e = avcodec_receive_packet(w->enc, w->pkt);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return VG_OK;
        if (e < 0) return ff_fail(w, err, VG_ERR_BACKEND, "encoding failed", e);
        /* MP4 times each frame by the next one's timestamp; the last has no next, and one
         * of duration 0 falls outside the clip's edit list, which players then drop */
        if (w->pkt->duration <= 0) w->pkt->duration = w->frame_ticks;
        av_packet_rescale_ts(w->pkt, w->enc->time_base, st->time_base);
        w->pkt->stream_index = st->index;
        e = av_interleaved_write_frame(w->mux, w->pkt); /* takes the packet's data */
        av_packet_unref(w->pkt);
        if (e < 0) return ff_fail(w, err, VG_ERR_IO, "cannot write", e);
    }
}

int vg_clip_writer_add(vg_clip_writer *w, const unsigned char *rgb, double t, vg_error *err) {
    int e = av_frame_make_writable(w->yuv); /* the encoder may still hold the last one */
    if (e < 0) return ff_fail(w, err, VG_ERR_NOMEM, "allocating a frame", e);
    pad(w, rgb);
    e = sws_scale(w->to_yuv, (const uint8_t *const *)w->rgb->data, w->rgb->linesize, 0,
                  w->rgb->height, w->yuv->data, w->yuv->linesize);
    if (e <= 0)
        return ff_fail(w, err, VG_ERR_BACKEND, "converting to YUV", e < 0 ? e : AVERROR_BUG);
    if (w->frames == 0) w->t0 = t;
    int64_t pts = llround((t - w->t0) * TICKS);
    if (w->frames > 0 && pts <= w->last_pts) pts = w->last_pts + 1; /* MP4 needs them rising */
    w->yuv->pts = w->last_pts = pts;
    w->frames++;
    return encode(w, w->yuv, err);
}

/* Syncs PATH.tmp to the disk (a crash after the rename must not find a clip still in a
 * cache), renames it to PATH and reads its size. */
static int publish(vg_clip_writer *w, long long *bytes, vg_error *err) {
    struct stat st;
    int fd = open(w->tmp, O_RDONLY);
    int ok = fd >= 0 && fsync(fd) == 0 && fstat(fd, &st) == 0;
    int errnum = errno;
    if (fd >= 0) close(fd);
    if (ok && rename(w->tmp, w->path) != 0) ok = 0, errnum = errno;
    if (!ok)
        return vg_fail(err, VG_ERR_IO, "clip %s: cannot write (%s)", w->path,
                       av_err2str(AVERROR(errnum)));
    w->published = 1;
    *bytes = (long long)st.st_size;
    return VG_OK;
}

int vg_clip_writer_finish(vg_clip_writer *w, long long *bytes, vg_error *err) {
    *bytes = 0;
    int rc = w->frames ? encode(w, NULL, err)
                       : vg_fail(err, VG_ERR_ARG, "clip %s: no frames to write", w->path);
    if (rc == VG_OK) {
        int e = av_write_trailer(w->mux);
        if (e < 0) rc = ff_fail(w, err, VG_ERR_IO, "cannot write the index", e);
    }
    if (rc == VG_OK) {
        int e = avio_closep(&w->mux->pb);
        if (e < 0) rc = ff_fail(w, err, VG_ERR_IO, "cannot write", e);
    }
    if (rc == VG_OK) rc = publish(w, bytes, err);
    writer_free(w);
    return rc;
}

void vg_clip_writer_abort(vg_clip_writer *w) {
    if (w) writer_free(w);
}
