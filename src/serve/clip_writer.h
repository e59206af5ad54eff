/* clip_writer.h - one MP4 clip being written with libavcodec + libavformat: RGB24 frames
 * with their times are converted to YUV 4:2:0, encoded and muxed into PATH.tmp, which
 * becomes PATH when finished. The recorder (clip.h) decides which frames go in; the
 * encoder and format choices are described there. Messages start "clip PATH: ". */
#ifndef VG_SERVE_CLIP_WRITER_H
#define VG_SERVE_CLIP_WRITER_H

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

/* Completes the file: drains the encoder, writes the index (moved to the front), syncs the
 * file and renames PATH.tmp to PATH; *bytes gets its size. A clip without frames fails
 * (VG_ERR_ARG). On failure PATH.tmp is removed. Frees w either way. */
int vg_clip_writer_finish(vg_clip_writer *w, long long *bytes, vg_error *err);

/* Abandons the clip: PATH.tmp is removed and w freed. Accepts NULL. */
void vg_clip_writer_abort(vg_clip_writer *w);

#endif
