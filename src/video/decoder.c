/* decoder.c - one input (file, URL or device) through libavformat and libavcodec.
 *
 * The demuxer's packets of the best video stream go to the decoder with the send/receive
 * API: a frame is asked for first, and only when the decoder wants more input is a packet
 * read; at the end of input the decoder is flushed by sending it no packet, after which it
 * hands out what it still holds and then says end of stream. */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/time.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "video/video.h"

struct vg_decoder {
    char *uri; /* as the caller gave it, for messages */
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    int stream;         /* index of the decoded video stream in fmt */
    int network;        /* a URL: a failed read is a lost stream, not a damaged file */
    int64_t timeout_us; /* bound of each network wait, 0: none */
    int64_t deadline;   /* av_gettime_relative() past which FFmpeg's waits are interrupted */
    int timed_out;      /* the deadline passed */
    int (*abort)(void *user); /* the caller's stop, polled with the deadline (may be NULL) */
    void *abort_user;
    int aborted;        /* abort said stop */
    double origin;      /* seconds of the stream's first timestamp, NAN until known */
    double covered;     /* seconds: where the frames received so far (good or not) end */
    int read_failed;    /* reading the file failed before its end */
    int ended;          /* the decoder has said end of stream */
    vg_packet_tap_fn tap; /* sees each packet of the stream before the decoder (NULL: none) */
    void *tap_user;
    AVPacket **held;    /* packets read before a tap was set, for it (see vg_decoder_set_tap) */
    int nheld;
    int holding;        /* still keeping them: no tap set and not released yet */
};

/* Packets kept for a tap to come at most: enough for the first frame of any sane stream
 * (a GOP joined in its middle), not a whole undecodable file. */
#define HELD_MAX 512

/* FFmpeg polls this during blocking I/O and gives up when it returns non-zero. Protocol
 * timeouts do not bound every wait (an RTSP server that accepts the connection and never
 * answers the handshake), so this deadline is what guarantees timeout_ms. */
static int interrupted(void *opaque) {
    vg_decoder *d = opaque;
    if (d->timeout_us && av_gettime_relative() > d->deadline) d->timed_out = 1;
    if (d->abort && d->abort(d->abort_user)) d->aborted = 1;
    return d->timed_out || d->aborted;
}

static int aborted(const vg_decoder *d, vg_error *err) {
    return vg_fail(err, VG_ERR_ABORTED, "%s: interrupted (the reader was asked to stop)", d->uri);
}

/* Starts the clock of the next network wait. */
static void arm(vg_decoder *d) {
    d->deadline = av_gettime_relative() + d->timeout_us;
    d->timed_out = 0;
}

static const char *format_name(const AVInputFormat *f) {
    return f->long_name ? f->long_name : f->name;
}

/* FFmpeg takes the best-scoring demuxer however low its score, so a text or random file
 * opens as, say, MP3 and fails later with an unrelated message. A score at or below
 * AVPROBE_SCORE_RETRY is FFmpeg's own "misdetection possible" and is refused here. */
static int probe_file(const char *uri, const char *url, const AVInputFormat **ifmt,
                      vg_error *err) {
    AVIOContext *pb = NULL;
    int averr = avio_open(&pb, url, AVIO_FLAG_READ);
    if (averr < 0) return vg_fail(err, VG_ERR_IO, "%s: cannot open (%s)", uri, av_err2str(averr));
    int score = av_probe_input_buffer2(pb, ifmt, url, NULL, 0, 0);
    avio_closep(&pb);
    if (score <= AVPROBE_SCORE_RETRY)
        return vg_fail(err, VG_ERR_FORMAT, "%s: not a video or image (ffmpeg: %s)", uri,
                       av_err2str(score < 0 ? score : AVERROR_INVALIDDATA));
    return VG_OK;
}

/* The demuxer: probed and vetted for files, video4linux2 for devices, FFmpeg's choice (by
 * protocol and content) for URLs. */
static int input_format(const char *uri, const char *url, vg_uri_kind kind,
                        const AVInputFormat **ifmt, vg_error *err) {
    if (kind == VG_URI_FILE) return probe_file(uri, url, ifmt, err);
    if (kind != VG_URI_DEVICE) return VG_OK;
    *ifmt = av_find_input_format("video4linux2");
    if (!*ifmt)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "%s: this FFmpeg cannot read V4L2 devices", uri);
    return VG_OK;
}

static void set_options(AVDictionary **o, const char *uri, vg_uri_kind kind, int timeout_ms) {
    /* image2 would read a name such as "frame%03d.png" as a numbered sequence */
    if (kind == VG_URI_FILE) av_dict_set(o, "pattern_type", "none", 0);
    if (kind != VG_URI_URL) return;
    if (timeout_ms > 0) {
        /* FFmpeg 5 reads "timeout" (microseconds) as the socket I/O timeout of rtsp, http,
         * tcp and udp (it replaced rtsp's "stimeout", and rtsp's old "timeout" meant listen);
         * "rw_timeout" bounds the reads of any protocol. */
        av_dict_set_int(o, "timeout", timeout_ms * 1000LL, 0);
        av_dict_set_int(o, "rw_timeout", timeout_ms * 1000LL, 0);
    }
    /* RTP over the RTSP connection: no packets lost to UDP, and it passes NAT and firewalls */
    if (av_strstart(uri, "rtsp://", NULL) || av_strstart(uri, "rtsps://", NULL))
        av_dict_set(o, "rtsp_transport", "tcp", 0);
}

static int open_failure(const vg_decoder *d, vg_uri_kind kind, const AVInputFormat *ifmt,
                        int averr, vg_error *err) {
    if (d->aborted) return aborted(d, err);
    if (d->timed_out)
        return vg_fail(err, VG_ERR_IO, "%s: cannot connect (no answer within %lld ms)", d->uri,
                       (long long)(d->timeout_us / 1000));
    if (kind == VG_URI_URL && averr == AVERROR_INVALIDDATA)
        return vg_fail(err, VG_ERR_FORMAT, "%s: not a video stream (ffmpeg: %s)", d->uri,
                       av_err2str(averr));
    if (kind == VG_URI_URL)
        return vg_fail(err, VG_ERR_IO, "%s: cannot connect (%s)", d->uri, av_err2str(averr));
    if (kind == VG_URI_DEVICE)
        return vg_fail(err, VG_ERR_IO, "%s: cannot open the device (%s)", d->uri,
                       av_err2str(averr));
    return vg_fail(err, VG_ERR_FORMAT, "%s: cannot read this %s file (ffmpeg: %s)", d->uri,
                   format_name(ifmt), av_err2str(averr));
}

/* Opens the demuxer on url and reads the streams' parameters. */
static int open_url(vg_decoder *d, const char *url, vg_uri_kind kind, const AVInputFormat *ifmt,
                    int timeout_ms, vg_error *err) {
    d->fmt = avformat_alloc_context();
    if (!d->fmt) return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", d->uri);
    d->fmt->interrupt_callback = (AVIOInterruptCB){interrupted, d};
    AVDictionary *opts = NULL;
    set_options(&opts, d->uri, kind, timeout_ms);
    arm(d);
    int averr = avformat_open_input(&d->fmt, url, ifmt, &opts); /* frees fmt on failure */
    av_dict_free(&opts);
    if (averr < 0) return open_failure(d, kind, ifmt, averr, err);
    arm(d);
    averr = avformat_find_stream_info(d->fmt, NULL);
    if (averr < 0 && d->aborted) return aborted(d, err);
    if (averr < 0 && d->timed_out)
        return vg_fail(err, VG_ERR_IO, "%s: no data within %lld ms", d->uri,
                       (long long)(d->timeout_us / 1000));
    if (averr < 0)
        return vg_fail(err, VG_ERR_FORMAT, "%s: cannot read its streams (ffmpeg: %s)", d->uri,
                       av_err2str(averr));
    return VG_OK;
}

static int open_input(vg_decoder *d, vg_uri_kind kind, int timeout_ms, vg_error *err) {
    /* "file:" keeps a local name with a colon in it from being taken for a protocol */
    char *url = kind == VG_URI_FILE ? av_asprintf("file:%s", d->uri) : av_strdup(d->uri);
    if (!url) return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", d->uri);
    const AVInputFormat *ifmt = NULL;
    int rc = input_format(d->uri, url, kind, &ifmt, err);
    if (rc == VG_OK) rc = open_url(d, url, kind, ifmt, timeout_ms, err);
    av_free(url);
    return rc;
}

/* Picks the best video stream (other streams are discarded unread where the demuxer can)
 * and opens its decoder. */
static int open_codec(vg_decoder *d, vg_error *err) {
    int idx = av_find_best_stream(d->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (idx < 0) return vg_fail(err, VG_ERR_FORMAT, "%s: no video stream", d->uri);
    for (unsigned i = 0; i < d->fmt->nb_streams; i++)
        if ((int)i != idx) d->fmt->streams[i]->discard = AVDISCARD_ALL;
    const AVStream *st = d->fmt->streams[idx];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "%s: no decoder for its %s video", d->uri,
                       avcodec_get_name(st->codecpar->codec_id));
    d->dec = avcodec_alloc_context3(codec);
    d->pkt = av_packet_alloc();
    d->frame = av_frame_alloc();
    if (!d->dec || !d->pkt || !d->frame)
        return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", d->uri);
    int averr = avcodec_parameters_to_context(d->dec, st->codecpar);
    d->dec->pkt_timebase = st->time_base; /* lets the decoder compute best-effort timestamps */
    if (averr >= 0) averr = avcodec_open2(d->dec, codec, NULL);
    if (averr < 0)
        return vg_fail(err, VG_ERR_FORMAT, "%s: cannot start the %s decoder (ffmpeg: %s)", d->uri,
                       codec->name, av_err2str(averr));
    d->stream = idx;
    d->origin = st->start_time != AV_NOPTS_VALUE ? (double)st->start_time * av_q2d(st->time_base)
                                                 : NAN;
    return VG_OK;
}

int vg_decoder_open(const char *uri, vg_uri_kind kind, int timeout_ms, int (*abort)(void *),
                    void *abort_user, vg_decoder **out, vg_error *err) {
    *out = NULL;
    vg_video_setup();
    vg_decoder *d = calloc(1, sizeof *d);
    if (d) d->uri = strdup(uri);
    if (!d || !d->uri) {
        free(d);
        return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", uri);
    }
    d->network = kind == VG_URI_URL;
    d->holding = 1;
    d->timeout_us = d->network ? timeout_ms * 1000LL : 0;
    d->abort = abort, d->abort_user = abort_user;
    int rc = open_input(d, kind, timeout_ms, err);
    if (rc == VG_OK) rc = open_codec(d, err);
    if (rc != VG_OK) {
        vg_decoder_close(d);
        return rc;
    }
    *out = d;
    return VG_OK;
}

/* Where the container says the video ends, in seconds, or NAN when it does not say it
 * reliably: the stream's own duration, or the file's when the video is its only stream
 * and that duration comes from the header (not an estimate from the bit rate). */
static double stated_end(const vg_decoder *d) {
    const AVFormatContext *f = d->fmt;
    const AVStream *st = f->streams[d->stream];
    if (st->duration != AV_NOPTS_VALUE && st->start_time != AV_NOPTS_VALUE)
        return (double)(st->start_time + st->duration) * av_q2d(st->time_base);
    if (f->nb_streams == 1 && f->duration != AV_NOPTS_VALUE && f->start_time != AV_NOPTS_VALUE &&
        f->duration_estimation_method == AVFMT_DURATION_FROM_STREAM)
        return (double)(f->start_time + f->duration) / AV_TIME_BASE;
    return NAN;
}

/* Frames lost at the end of a file: one per frame period between the end of the last
 * frame received and the end the header states (a copy that stopped, a recording that
 * crashed: Matroska's demuxer, for one, only logs that and reports a plain end of file),
 * rounded so that timestamp jitter counts nothing; else one for a failed read. */
static long long shortfall(const vg_decoder *d) {
    if (d->network) return 0;
    double fps = vg_decoder_fps(d), end = stated_end(d);
    double missing = fps > 0 && !isnan(end) ? floor((end - d->covered) * fps + 0.5) : 0;
    return missing > 0 ? (long long)missing : d->read_failed;
}

static int lost_stream(const vg_decoder *d, int averr, vg_error *err) {
    if (d->aborted) return aborted(d, err);
    if (d->timed_out)
        return vg_fail(err, VG_ERR_IO, "%s: stream lost (no data for %lld ms)", d->uri,
                       (long long)(d->timeout_us / 1000));
    return vg_fail(err, VG_ERR_IO, "%s: stream lost (%s)", d->uri, av_err2str(averr));
}

void vg_decoder_release_held(vg_decoder *d) {
    for (int i = 0; i < d->nheld; i++) av_packet_free(&d->held[i]);
    av_freep(&d->held);
    d->nheld = 0;
    d->holding = 0;
}

/* Keeps a reference to pkt for the tap to come; past HELD_MAX packets, or out of memory,
 * it stops keeping them (the tap then starts from a later packet, which a tap that needs a
 * keyframe copes with anyway). */
static void hold(vg_decoder *d, const AVPacket *pkt) {
    if (!d->held) d->held = av_calloc(HELD_MAX, sizeof *d->held);
    AVPacket *ref = d->held && d->nheld < HELD_MAX ? av_packet_clone(pkt) : NULL;
    if (!ref) {
        vg_decoder_release_held(d);
        return;
    }
    d->held[d->nheld++] = ref;
}

/* Hands a packet of the decoded stream to the tap, or keeps it for the tap to come. */
static void tap(vg_decoder *d, const AVPacket *pkt) {
    if (d->tap) d->tap(d->tap_user, pkt, d->fmt->streams[d->stream]);
    else if (d->holding) hold(d, pkt);
}

void vg_decoder_set_tap(vg_decoder *d, vg_packet_tap_fn fn, void *user) {
    d->tap = fn;
    d->tap_user = user;
    for (int i = 0; fn && i < d->nheld; i++) fn(user, d->held[i], d->fmt->streams[d->stream]);
    vg_decoder_release_held(d);
}

/* Gives the decoder the next packet of the video stream, or, when the input ends, the
 * empty packet that flushes it. A file that fails to read is taken to end there. */
static int feed(vg_decoder *d, long long *errors, vg_error *err) {
    arm(d);
    int averr = av_read_frame(d->fmt, d->pkt);
    if (averr < 0 && averr != AVERROR_EOF && d->network) return lost_stream(d, averr, err);
    if (averr < 0) {
        d->read_failed = averr != AVERROR_EOF;
        avcodec_send_packet(d->dec, NULL);
        return VG_OK;
    }
    if (d->pkt->stream_index == d->stream) {
        tap(d, d->pkt);
        if (avcodec_send_packet(d->dec, d->pkt) < 0) ++*errors;
    }
    av_packet_unref(d->pkt);
    return VG_OK;
}

/* Decoders mark frames they patched up (a missing reference, concealed slices); such a
 * frame holds guesses that an anomaly detector would flag, so it counts as an error. */
static int damaged(const AVFrame *f) {
    return (f->flags & AV_FRAME_FLAG_CORRUPT) || f->decode_error_flags;
}

/* Seconds of the current frame from the stream's first timestamp. */
static double frame_seconds(vg_decoder *d) {
    int64_t ts = d->frame->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE) return NAN;
    double t = (double)ts * av_q2d(d->fmt->streams[d->stream]->time_base);
    if (isnan(d->origin)) d->origin = t;
    return t - d->origin;
}

/* Moves covered to the end of the frame just received, which lasts a frame period. */
static void note_frame_end(vg_decoder *d) {
    int64_t ts = d->frame->best_effort_timestamp;
    double fps = vg_decoder_fps(d);
    if (ts == AV_NOPTS_VALUE || !(fps > 0)) return;
    double end = (double)ts * av_q2d(d->fmt->streams[d->stream]->time_base) + 1 / fps;
    if (end > d->covered) d->covered = end;
}

int vg_decoder_next(vg_decoder *d, AVFrame **frame, double *pts, long long *errors,
                    vg_error *err) {
    av_frame_unref(d->frame);
    for (;;) {
        int averr = avcodec_receive_frame(d->dec, d->frame);
        if (averr == AVERROR(EAGAIN)) {
            int rc = feed(d, errors, err);
            if (rc != VG_OK) return rc;
            continue;
        }
        if (averr == AVERROR_EOF) {
            if (!d->ended) *errors += shortfall(d);
            d->ended = 1;
            return VG_END;
        }
        if (averr == 0) note_frame_end(d);
        if (averr < 0 || damaged(d->frame)) {
            ++*errors;
            av_frame_unref(d->frame);
            continue;
        }
        *frame = d->frame;
        *pts = frame_seconds(d);
        return VG_OK;
    }
}

double vg_decoder_fps(const vg_decoder *d) {
    const AVStream *st = d->fmt->streams[d->stream];
    AVRational r = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate
                                                                              : st->r_frame_rate;
    return r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
}

void vg_decoder_close(vg_decoder *d) {
    if (!d) return;
    vg_decoder_release_held(d);
    avcodec_free_context(&d->dec);
    av_packet_free(&d->pkt);
    av_frame_free(&d->frame);
    avformat_close_input(&d->fmt);
    free(d->uri);
    free(d);
}
