/* synth.h - what the files of src/calib share to make synthetic anomalies. Each maker
 * writes the new frames of a span into out (one frame after another, height * width * 3
 * bytes each) from frames it only reads; synth.c compares them with the originals, sets
 * the truth and copies them in. The public face (vg_synth_*) is in include/vigil/vigil.h. */
#ifndef VG_SYNTH_H
#define VG_SYNTH_H

#include <stddef.h>

#include "core/status.h"

/* ---- the H.264 round trip (synth_codec.c) ---- */

/* Frames start .. start+len-1 of clip (frames of width x height, fps a second) encoded at
 * bits_per_pixel per pixel and frame as the middle of a stream, whose lead-in comes from
 * the frames before, and decoded back into out. Reads frames 0 .. start+len-1. */
int vg_synth_reencode(const unsigned char *clip, int width, int height, double fps, int start,
                      int len, double bits_per_pixel, unsigned char *out, vg_error *err);

/* ---- scaling with libswscale (synth_scale.c) ---- */

/* Each of n frames scaled down by factor (at least 1 pixel a side) and back up. */
int vg_synth_rescale(const unsigned char *src, int n, int width, int height, double factor,
                     unsigned char *out, vg_error *err);

/* Each of n frames squeezed to fraction of its height (wide = 1: letterbox) or of its
 * width (wide = 0: pillarbox), centred between black bars. */
int vg_synth_box(const unsigned char *src, int n, int width, int height, int wide,
                 double fraction, unsigned char *out, vg_error *err);

/* ---- colour (synth_colour.c) ---- */

/* Per-channel lookup tables and a channel order: out channel c = lut[c][in channel
 * order[c]]. Identity: lut[c][v] = v, order {0, 1, 2}. */
typedef struct vg_synth_colour {
    unsigned char lut[3][256];
    int order[3];
} vg_synth_colour;

/* The identity transform. */
vg_synth_colour vg_synth_colour_identity(void);

/* v' = 255 (v/255)^gamma on every channel. */
void vg_synth_colour_gamma(vg_synth_colour *t, double gamma);

/* Channel c multiplied by gains[c], clamped to 255. */
void vg_synth_colour_gains(vg_synth_colour *t, const double gains[3]);

/* Channels reordered: order names the input channel of each output channel, as a word of
 * 'R', 'G', 'B' ("BGR": red and blue swapped). */
void vg_synth_colour_order(vg_synth_colour *t, const char *order);

void vg_synth_colour_apply(const vg_synth_colour *t, const unsigned char *src, size_t pixels,
                           unsigned char *out);

/* ---- test patterns (synth_pattern.c) ---- */

/* A frame of seven vertical bars at 75%: white, yellow, cyan, green, magenta, red, blue
 * (the top of SMPTE ECR 1-1978 and EBU bars). */
void vg_synth_colour_bars(unsigned char *out, int width, int height);

#endif
