/* video.h - what the files of src/video share: naming a source, listing folders, decoding
 * one input with FFmpeg, and turning decoded frames into RGB24 at the requested geometry.
 * The public face (vg_source_*, vg_clips_*) is in include/vigil/vigil.h. */
#ifndef VG_VIDEO_H
#define VG_VIDEO_H

#include <libavcodec/packet.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

#include "core/status.h"

/* Process-wide FFmpeg setup, done once whatever the thread: silences FFmpeg's logging (the
 * library never prints) and registers the capture devices (video4linux2). */
void vg_video_setup(void);

/* ---- what a source string names (uri.c) ---- */

typedef enum vg_uri_kind {
    VG_URI_MISSING, /* nothing there (*errnum says why) */
    VG_URI_URL,     /* scheme://... : a network stream, opened as FFmpeg sees fit */
    VG_URI_DEVICE,  /* a character device: a V4L2 camera */
    VG_URI_FOLDER,  /* a folder (of images, or of clips) */
    VG_URI_FILE     /* anything else on disk: a video file or an image */
} vg_uri_kind;

/* Classifies uri; for VG_URI_MISSING, *errnum is stat's errno. */
vg_uri_kind vg_uri_classify(const char *uri, int *errnum);

/* The message for a path that is not there: "no such file", "no such device" (for
 * /dev/video*), or strerror of errnum when it is not ENOENT. */
int vg_uri_missing(const char *uri, int errnum, vg_error *err);

/* ---- folders (listing.c) ---- */

/* Natural order: runs of digits compare as numbers ("2.png" < "10.png"), the rest bytewise. */
int vg_natcmp(const char *a, const char *b);

/* By extension, case-insensitive: jpg jpeg png tif tiff bmp / the usual video containers. */
int vg_is_image_name(const char *name);
int vg_is_video_name(const char *name);

/* Whether folder dir holds at least one image file. */
int vg_folder_has_images(const char *dir);

/* The entries of folder dir (hidden ones excluded) for which keep(path, name) is true, as
 * "dir/name" paths in natural order of name. *paths is NULL and *n 0 when none; free with
 * vg_clips_free. */
int vg_list_folder(const char *dir, int (*keep)(const char *path, const char *name),
                   char ***paths, int *n, vg_error *err);

/* keep() for vg_list_folder: a regular file named like an image. */
int vg_keep_image(const char *path, const char *name);

/* ---- one input through libavformat + libavcodec (decoder.c) ---- */

typedef struct vg_decoder vg_decoder;

/* Opens the best video stream of uri (a file, URL or device, per kind) and its decoder.
 * timeout_ms bounds each network wait (open, and every read after; 0: none); abort (may be
 * NULL) is polled during them, and nonzero gives up the wait with VG_ERR_ABORTED. *out is
 * NULL on failure; the message names uri. */
int vg_decoder_open(const char *uri, vg_uri_kind kind, int timeout_ms, int (*abort)(void *),
                    void *abort_user, vg_decoder **out, vg_error *err);

/* The next decoded frame (VG_OK), valid until the next call; *pts in seconds from the
 * stream's start, NAN when the stream gives none. VG_END after the last frame. Frames that
 * fail to decode or come out damaged are skipped and added to *errors, and so, at the end,
 * are the frames missing from a file cut short; a network stream that breaks returns
 * VG_ERR_IO. */
int vg_decoder_next(vg_decoder *d, AVFrame **frame, double *pts, long long *errors,
                    vg_error *err);

/* A packet tap: called with each packet of the decoded video stream as it is read, before
 * it is decoded (whether or not it then decodes). pkt is valid during the call only
 * (av_packet_ref keeps it); st is its stream: codec parameters and time base. It must not
 * call the decoder or source it came from. */
typedef void (*vg_packet_tap_fn)(void *user, const AVPacket *pkt, const AVStream *st);

/* Sets d's tap (fn NULL: none). From open until a tap is set or vg_decoder_release_held,
 * d keeps the packets it reads (at most 512; past that none), and a tap set then is first
 * given those, in order: so a tap set after the first frame was decoded misses nothing. */
void vg_decoder_set_tap(vg_decoder *d, vg_packet_tap_fn fn, void *user);

/* Lets go of the packets kept for a tap and keeps no more: no tap is coming. */
void vg_decoder_release_held(vg_decoder *d);

/* Sets s's tap (see vg_decoder_set_tap; fn NULL: none) on its video stream: a tap set
 * before the first vg_source_read is also given the packets vg_source_open read to decode
 * the first frame; one set later starts with the next packet read. A folder of images has
 * no stream to tap: it never calls fn. */
void vg_source_set_packet_tap(vg_source *s, vg_packet_tap_fn fn, void *user);

double vg_decoder_fps(const vg_decoder *d); /* as the stream states it, 0: unknown */
void vg_decoder_close(vg_decoder *d);       /* accepts NULL */

/* ---- geometry and conversion to RGB24 (convert.c) ---- */

typedef struct vg_rect {
    int x, y, w, h;
} vg_rect;

/* Where a frame_w x frame_h frame goes in an out_w x out_h output under p's ROI and fit:
 * the pixels of *src (frame coordinates) are scaled onto *dst (output coordinates); the
 * output outside *dst is black. Fails (VG_ERR_ARG) when the ROI does not lie inside the frame. */
int vg_fit_rects(int frame_w, int frame_h, const vg_source_params *p, int out_w, int out_h,
                 vg_rect *src, vg_rect *dst, vg_error *err);

/* Where the frame a source delivered last came from (source pixels) and went (output
 * pixels), as vg_fit_rects gave them: e.g. to map privacy masks drawn on source frames. */
void vg_source_rects(const vg_source *s, vg_rect *src, vg_rect *dst);

typedef struct vg_converter vg_converter;

int vg_converter_create(vg_converter **out, vg_error *err);
void vg_converter_free(vg_converter *c); /* accepts NULL */

/* Scales region src of f onto region dst of rgb (out_w x out_h x 3 bytes, rows packed),
 * blacking the rest. */
int vg_convert(vg_converter *c, const AVFrame *f, vg_rect src, vg_rect dst, unsigned char *rgb,
               int out_w, int out_h, vg_error *err);

#endif
