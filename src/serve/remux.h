/* remux.h - evidence clips without re-encoding: per event, the source's own compressed
 * packets (its resolution and quality, no decoder, no encoder) from about `pre` seconds
 * before the event started to `post` seconds after it ended, copied into an MP4 (or a
 * Matroska file for codecs MP4 cannot hold: see vg_remux_extension).
 *
 * The remuxer has vg_recorder's shape (clip.h) and rules (PATH.tmp renamed once complete,
 * max_open, the 10-minute cut, done called once per begun clip), but takes packets from a
 * source's packet tap (vg_source_set_packet_tap) instead of frames. A clip must begin at
 * a keyframe to decode from its first packet, so it starts at the last keyframe at or
 * before start - pre: up to one GOP (keyframe interval) early. One remuxer belongs to one
 * camera and one thread (the tap's).
 *
 *     vg_remuxer_params p = vg_remuxer_default_params();
 *     vg_remuxer_create(&p, &rx, &err);
 *     tap (per packet):  vg_remuxer_packet(rx, pkt, st, wall_time_of(pkt), &err);
 *     event opens:       vg_remuxer_begin(rx, id, "clips/7.mp4", start, on_done, ctx, &err);
 *     event ends:        vg_remuxer_end(rx, id, end);  ... on_done(ctx, id, path, bytes, NULL)
 *     vg_remuxer_free(rx); */
#ifndef VG_SERVE_REMUX_H
#define VG_SERVE_REMUX_H

#include <libavformat/avformat.h>

#include "serve/clip.h"

typedef struct vg_remuxer vg_remuxer;

typedef struct vg_remuxer_params {
    double pre, post, lag; /* as vg_recorder_params: default 5, 5, 2 */
    int max_open;          /* clips recorded at once at most, default 4 */
    long long max_bytes;   /* the ring's bound on packet data, default 64 MB (see
                              vg_remuxer_packet) */
} vg_remuxer_params;

vg_remuxer_params vg_remuxer_default_params(void);

/* The file extension (no dot) to give a remuxed clip of a stream of parameters par: "mp4"
 * when this FFmpeg's MP4 muxer takes its codec (H.264, H.265, MPEG-4, MJPEG among them),
 * else "mkv" when Matroska does; NULL when the stream should be re-encoded instead: raw
 * (uncompressed) video, whose copy would be as large as decoded frames, or a codec
 * neither muxer takes. */
const char *vg_remux_extension(const AVCodecParameters *par);

/* A remuxer with an empty ring. VG_ERR_ARG for pre, post, lag or max_open as
 * vg_recorder_create refuses them, max_bytes below 1; VG_ERR_NOMEM. *out is NULL on
 * failure. */
int vg_remuxer_create(const vg_remuxer_params *p, vg_remuxer **out, vg_error *err);

/* Finishes the open clips as if their post time had passed now (each one's done is
 * called), then frees r. Accepts NULL. */
void vg_remuxer_free(vg_remuxer *r);

/* The source's next packet, in the order read (decode order), of stream st, shown at
 * wall time t (seconds, any origin, as the frames' times given to vg_remuxer_end /
 * begin: the caller maps the packet's pts to it; with B-frames t goes back and forth a
 * little). It is written into each open clip (a clip that has no packet yet waits for a
 * keyframe) unless it finishes the clip: a packet whose decoding time (t less its pts -
 * dts) is past the clip's end + post, or VG_CLIP_MAX_SECONDS past its first packet; a
 * clip that fails to write ends with its failure, the others go on. Then it goes into the
 * ring (a reference, not a copy), which keeps the packets from the last keyframe at or
 * before the newest t - (pre + lag) on, and never starts with anything but a keyframe.
 * When the ring's packets exceed max_bytes its oldest GOPs are dropped whole (clips then
 * start later than start - pre); a GOP larger than max_bytes on its own empties it until
 * the next keyframe. A packet of another stream than the last (another source, or a
 * change of codec, size or time base) first finishes the open clips and empties the ring.
 * VG_ERR_ARG for a missing packet or stream or a non-finite t (nothing changes then);
 * VG_ERR_NOMEM when the ring cannot keep it (the open clips have it, the ring not). */
int vg_remuxer_packet(vg_remuxer *r, const AVPacket *pkt, const AVStream *st, double t,
                      vg_error *err);

/* An event began at time start: opens a clip at path (its folder must exist; its
 * extension as vg_remux_extension says) and writes into it the ring's packets from the
 * last keyframe at or before start - pre (the oldest one when the ring holds none that
 * early), then each packet until the event's end + post (vg_remuxer_end) or
 * VG_CLIP_MAX_SECONDS. With an empty ring the clip starts at the next keyframe. key, done
 * and user as in vg_recorder_begin. On failure done is never called and nothing is left
 * on disk: VG_ERR_ARG for a key or path already being recorded, an empty path, a
 * non-finite start, or no packet seen yet (the stream is not known); VG_ERR_UNSUPPORTED
 * when max_open clips are being recorded already or path's extension names no muxer for
 * the codec; VG_ERR_IO when PATH.tmp cannot be created or written; VG_ERR_NOMEM. */
int vg_remuxer_begin(vg_remuxer *r, long long key, const char *path, double start,
                     vg_clip_done done, void *user, vg_error *err);

/* The event of key ended at time end (finite): its clip goes on until end + post. An
 * unknown key is ignored. */
void vg_remuxer_end(vg_remuxer *r, long long key, double end);

/* Packets held in the ring now, and their bytes: for metrics and tests. */
int vg_remuxer_buffered(const vg_remuxer *r);
long long vg_remuxer_buffered_bytes(const vg_remuxer *r);

/* Clips being recorded now. */
int vg_remuxer_open_clips(const vg_remuxer *r);

#endif
