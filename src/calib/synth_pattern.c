/* synth_pattern.c - test patterns that stand for content outside the broadcast format. */
#include "calib/synth.h"

void vg_synth_colour_bars(unsigned char *out, int width, int height) {
    /* 75% of full scale: 191 of 255; each bar lists which of R, G, B are lit */
    static const unsigned char lit[7][3] = {{1, 1, 1}, {1, 1, 0}, {0, 1, 1}, {0, 1, 0},
                                            {1, 0, 1}, {1, 0, 0}, {0, 0, 1}};
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            const unsigned char *bar = lit[(long long)x * 7 / width];
            unsigned char *px = out + ((size_t)y * width + x) * 3;
            for (int c = 0; c < 3; c++) px[c] = bar[c] ? 191 : 0;
        }
}
