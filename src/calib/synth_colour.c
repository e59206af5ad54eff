/* synth_colour.c - colour-space drift as a per-channel lookup table followed by a channel
 * order: gamma shifts and white-balance gains change the tables, channel swaps the order.
 * Tables keep every transform exact on 8-bit values and cost one load per byte. */
#include <math.h>

#include "calib/synth.h"

static unsigned char clamp_u8(double v) {
    return v <= 0 ? 0 : v >= 255 ? 255 : (unsigned char)lround(v);
}

vg_synth_colour vg_synth_colour_identity(void) {
    vg_synth_colour t = {.order = {0, 1, 2}};
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) t.lut[c][v] = (unsigned char)v;
    return t;
}

void vg_synth_colour_gamma(vg_synth_colour *t, double gamma) {
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            t->lut[c][v] = clamp_u8(255 * pow(t->lut[c][v] / 255.0, gamma));
}

void vg_synth_colour_gains(vg_synth_colour *t, const double gains[3]) {
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) t->lut[c][v] = clamp_u8(t->lut[c][v] * gains[c]);
}

void vg_synth_colour_order(vg_synth_colour *t, const char *order) {
    for (int c = 0; c < 3; c++) t->order[c] = order[c] == 'R' ? 0 : order[c] == 'G' ? 1 : 2;
}

void vg_synth_colour_apply(const vg_synth_colour *t, const unsigned char *src, size_t pixels,
                           unsigned char *out) {
    for (size_t i = 0; i < pixels; i++, src += 3, out += 3)
        for (int c = 0; c < 3; c++) out[c] = t->lut[c][src[t->order[c]]];
}
