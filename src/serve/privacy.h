/* privacy.h - privacy masks: polygons drawn on the source's frames, blacked out of every
 * frame at ingest, before scoring, snapshots or clips see it. */
#ifndef VG_SERVE_PRIVACY_H
#define VG_SERVE_PRIVACY_H

#include "serve/config.h"
#include "video/video.h"

/* The mask (out_w x out_h bytes, 1 = black out) of n polygons in source pixels, for frames
 * taken from source region src onto output region dst (vg_source_rects). A pixel is
 * covered when its centre is inside a polygon, and then its neighbours too: scaling
 * blends each output pixel from source pixels around it, so the margin keeps covered
 * content from bleeding into the picture. Returns the pixels covered. */
long long vg_privacy_mask(const vg_polygon *poly, int n, vg_rect src, vg_rect dst, int out_w,
                          int out_h, unsigned char *mask);

/* Blacks out the masked pixels of rgb (w x h x 3 bytes). */
void vg_privacy_apply(unsigned char *rgb, const unsigned char *mask, int w, int h);

#endif
