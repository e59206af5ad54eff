/* clip_writer.h - one clip being written with libavcodec + libavformat into PATH.tmp,
 * which becomes PATH when finished: either RGB24 frames with their times, converted to
 * YUV 4:2:0, encoded and muxed into an MP4 (vg_clip_writer_open), or a source's own
 * compressed packets copied as they are (vg_clip_writer_open_copy). The recorders (clip.h,
 * remux.h) decide what goes in; the encoder and format choices are described there.
 * Messages start "clip PATH: ". */
#ifndef VG_SERVE_CLIP_WRITER_H
#define VG_SERVE_CLIP_WRITER_H

#include <libavcodec/avcodec.h>

#include "vigil/vigil.h"

typedef struct vg_clip_writer vg_clip_writer;

/* Opens the encoder for width x height frames at the nominal rate fps, creates PATH.tmp
 * and writes the MP4 header into it. *out is NULL on failure, and then nothing is left on
 * disk. */
int vg_clip_writer_open(const char *path, int width, int height, double fps,
                        vg_clip_writer **out, vg_error *err);

/* Encodes frame rgb (width * height * 3 bytes) shown at time t in seconds; its timestamp
 * is t less the first frame's, in milliseconds, moved up to 1 ms after the previous one's
 * when it is not later. */
int vg_clip_writer_add(vg_clip_writer *w, const unsigned char *rgb, double t, vg_error *err);

/* Opens a clip of packets copied from a stream of parameters par and time base tb, with
 * no encoder: the muxer is the one path's extension names (.mp4, .mkv: see
 * vg_remux_extension), VG_ERR_UNSUPPORTED when there is none or it cannot hold par's
 * codec. fps (0: unknown) times a packet that states no duration. Creates PATH.tmp and
 * writes the header. *out is NULL on failure, and then nothing is left on disk. */
int vg_clip_writer_open_copy(const char *path, const AVCodecParameters *par, AVRational tb,
                             double fps, vg_clip_writer **out, vg_error *err);

/* Writes pkt (its data referenced, never changed; timestamps in the tb given at open),
 * shown at time t in seconds. Timestamps are shifted so that the first packet's dts is 0; a packet
 * with none gets them from t; dts are kept rising (a repeated or earlier one becomes 1
 * tick after the last). For a writer from vg_clip_writer_open_copy only. */
int vg_clip_writer_add_packet(vg_clip_writer *w, const AVPacket *pkt, double t,
                              vg_error *err);

/* Completes the file: drains the encoder (if any), writes the index (moved to the front), syncs the
 * file and renames PATH.tmp to PATH; *bytes gets its size. A clip without frames fails
 * (VG_ERR_ARG). On failure PATH.tmp is removed. Frees w either way. */
int vg_clip_writer_finish(vg_clip_writer *w, long long *bytes, vg_error *err);

/* Abandons the clip: PATH.tmp is removed and w freed. Accepts NULL. */
void vg_clip_writer_abort(vg_clip_writer *w);

#endif
