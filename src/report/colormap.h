/* colormap.h - the colour map of heat maps. */
#ifndef VG_COLORMAP_H
#define VG_COLORMAP_H

#define VG_COLORMAP_SIZE 256

/* Fills lut with matplotlib's "inferno" at t = i / 255, 8-bit RGB: perceptually uniform
 * and monotone in lightness, so brighter always means more error, also in grey print and
 * for colour-blind readers. */
void vg_colormap_inferno(unsigned char lut[VG_COLORMAP_SIZE][3]);

#endif
