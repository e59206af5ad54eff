/* clip_writer.c - one clip (see clip_writer.h): RGB24 -> YUV 4:2:0 (libswscale) ->
 * encoder (libavcodec) -> MP4 muxer (libavformat) -> PATH.tmp -> sync -> rename to PATH;
 * or, copying, a source's packets -> MP4 or Matroska muxer -> PATH.tmp -> ... the same.
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
    int64_t last_pts;       /* encoding: the last frame's pts; copying: the last dts */
    int64_t frame_ticks;    /* 1 / fps: the duration of a packet that states none */
    AVRational tb;          /* of the packets: the encoder's, or the copied stream's */
    int64_t origin;         /* copying: the first packet's dts, which becomes 0 */
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

/* The clip's one stream, its time base w->tb (a hint: the muxer picks its own). */
static int new_stream(vg_clip_writer *w, AVStream **st, vg_error *err) {
    *st = avformat_new_stream(w->mux, NULL);
    if (!*st) return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory for a stream", w->path);
    (*st)->time_base = w->tb;
    return VG_OK;
}

/* PATH.tmp created and the header written into it. */
static int open_file(vg_clip_writer *w, vg_error *err) {
    int e = avio_open(&w->mux->pb, w->tmp, AVIO_FLAG_WRITE);
    if (e < 0)
        return vg_fail(err, VG_ERR_IO, "clip %s: cannot create %s (%s)", w->path, w->tmp,
                       av_err2str(e));
    w->created = 1;
    AVDictionary *opts = NULL;
    /* index first: plays while loading (an MP4 option; Matroska leaves it unused) */
    av_dict_set(&opts, "movflags", "+faststart", 0);
    e = avformat_write_header(w->mux, &opts);
    av_dict_free(&opts);
    return e < 0 ? ff_fail(w, err, VG_ERR_IO, "cannot write the header", e) : VG_OK;
}

/* The encoder's stream, its parameters described. */
static int encoded_stream(vg_clip_writer *w, vg_error *err) {
    AVStream *st = NULL;
    w->tb = w->enc->time_base;
    int rc = new_stream(w, &st, err);
    if (rc != VG_OK) return rc;
    int e = avcodec_parameters_from_context(st->codecpar, w->enc);
    return e < 0 ? ff_fail(w, err, VG_ERR_BACKEND, "describing the stream", e) : VG_OK;
}

static int writer_open(vg_clip_writer *w, double fps, vg_error *err) {
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
    rc = encoded_stream(w, err);
    return rc == VG_OK ? open_file(w, err) : rc;
}

/* A writer for path, its names set (PATH and PATH.tmp), nothing opened; NULL when out of
 * memory. */
static vg_clip_writer *writer_new(const char *path) {
    vg_clip_writer *w = calloc(1, sizeof *w);
    size_t len = strlen(path);
    if (w) w->path = strdup(path), w->tmp = malloc(len + sizeof ".tmp");
    if (!w || !w->path || !w->tmp) {
        if (w) free(w->path);
        free(w);
        return NULL;
    }
    memcpy(w->tmp, path, len);
    memcpy(w->tmp + len, ".tmp", sizeof ".tmp");
    return w;
}

int vg_clip_writer_open(const char *path, int width, int height, double fps,
                        vg_clip_writer **out, vg_error *err) {
    *out = NULL;
    vg_video_setup(); /* FFmpeg (x264 above all) logs to stderr unless silenced */
    vg_clip_writer *w = writer_new(path);
    if (!w) return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory", path);
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

/* The copied stream: the source's parameters, less its container's tag for the codec
 * (the new container writes its own). */
static int copied_stream(vg_clip_writer *w, const AVCodecParameters *par, vg_error *err) {
    const AVOutputFormat *ofmt = av_guess_format(NULL, w->path, NULL);
    if (!ofmt)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "clip %s: no muxer for this file name's "
                       "extension", w->path);
    int e = avformat_alloc_output_context2(&w->mux, ofmt, NULL, w->tmp);
    if (e < 0) return ff_fail(w, err, VG_ERR_NOMEM, "starting the muxer", e);
    if (avformat_query_codec(ofmt, par->codec_id, FF_COMPLIANCE_NORMAL) != 1)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "clip %s: %s video cannot go into %s (use the "
                       "extension vg_remux_extension gives)", w->path,
                       avcodec_get_name(par->codec_id), ofmt->name);
    AVStream *st = NULL;
    int rc = new_stream(w, &st, err);
    if (rc != VG_OK) return rc;
    e = avcodec_parameters_copy(st->codecpar, par);
    if (e < 0) return ff_fail(w, err, VG_ERR_NOMEM, "describing the stream", e);
    st->codecpar->codec_tag = 0;
    return VG_OK;
}

int vg_clip_writer_open_copy(const char *path, const AVCodecParameters *par, AVRational tb,
                             double fps, vg_clip_writer **out, vg_error *err) {
    *out = NULL;
    vg_video_setup();
    vg_clip_writer *w = writer_new(path);
    if (!w) return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory", path);
    w->width = par->width, w->height = par->height;
    w->tb = tb;
    w->frame_ticks = fps > 0 ? llround(fmax(1, 1 / (fps * av_q2d(tb)))) : 0;
    w->pkt = av_packet_alloc();
    int rc = w->pkt ? copied_stream(w, par, err)
                    : vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory", path);
    if (rc == VG_OK) rc = open_file(w, err);
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

/* Writes w->pkt (timestamps in w->tb) into the file, and lets go of it. */
static int write_packet(vg_clip_writer *w, vg_error *err) {
    /* MP4 times each frame by the next one's timestamp; the last has no next, and one
     * of duration 0 falls outside the clip's edit list, which players then drop */
    if (w->pkt->duration <= 0) w->pkt->duration = w->frame_ticks;
    AVStream *st = w->mux->streams[0];
    av_packet_rescale_ts(w->pkt, w->tb, st->time_base);
    w->pkt->stream_index = st->index;
    int e = av_interleaved_write_frame(w->mux, w->pkt); /* takes the packet's data */
    av_packet_unref(w->pkt);
    return e < 0 ? ff_fail(w, err, VG_ERR_IO, "cannot write", e) : VG_OK;
}

/* Sends f (NULL: the end) to the encoder and writes every packet it has ready. */
static int encode(vg_clip_writer *w, const AVFrame *f, vg_error *err) {
    int e = avcodec_send_frame(w->enc, f);
    if (e < 0) return ff_fail(w, err, VG_ERR_BACKEND, "encoding failed", e);
    for (;;) {
        e = avcodec_receive_packet(w->enc, w->pkt);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return VG_OK;
        if (e < 0) return ff_fail(w, err, VG_ERR_BACKEND, "encoding failed", e);
        int rc = write_packet(w, err);
        if (rc != VG_OK) return rc;
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

/* Gives w->pkt timestamps from the first packet's dts on: a packet without any gets them
 * from its time t; dts rise strictly (MP4 needs it: a source that restarts its clock
 * goes on 1 tick after the last) and pts never fall below dts. */
static void shift_timestamps(vg_clip_writer *w, double t) {
    AVPacket *p = w->pkt;
    if (p->dts == AV_NOPTS_VALUE) p->dts = p->pts;
    if (w->frames == 0) w->t0 = t, w->origin = p->dts == AV_NOPTS_VALUE ? 0 : p->dts;
    if (p->dts == AV_NOPTS_VALUE) p->dts = w->origin + llround((t - w->t0) / av_q2d(w->tb));
    if (p->pts == AV_NOPTS_VALUE) p->pts = p->dts;
    p->dts -= w->origin;
    p->pts -= w->origin;
    if (w->frames > 0 && p->dts <= w->last_pts) p->dts = w->last_pts + 1;
    if (p->pts < p->dts) p->pts = p->dts;
    w->last_pts = p->dts;
}

int vg_clip_writer_add_packet(vg_clip_writer *w, const AVPacket *pkt, double t,
                              vg_error *err) {
    int e = av_packet_ref(w->pkt, pkt);
    if (e < 0) return ff_fail(w, err, VG_ERR_NOMEM, "copying a packet", e);
    shift_timestamps(w, t);
    w->frames++;
    return write_packet(w, err);
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
    int rc = !w->frames ? vg_fail(err, VG_ERR_ARG, "clip %s: no frames to write", w->path)
             : w->enc   ? encode(w, NULL, err)
                        : VG_OK;
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
