/* colormap.c - inferno as a 256-entry 8-bit table.
 *
 * Source: the degree-6 least-squares polynomial fit of matplotlib's inferno by Matt Zucker,
 * "Polynomial fits of matplotlib colormaps", Shadertoy WlfXRN (2019, CC0). Against
 * matplotlib's table (_cm_listed.py, _inferno_data) it is off by up to about 3.5/255 at the
 * points checked (t = 0, 0.5, 1; clamped to [0, 1]), the largest at the black end, which the
 * heat-map overlay draws nearly transparent. Generated at run time: 7x3 coefficients are
 * easier to check against their source than 768 numbers. */
#include "report/colormap.h"

static const double INFERNO[7][3] = {
    {0.0002189403691192265, 0.001651004631001012, -0.01948089843709184},
    {0.1065134194856116, 0.5639564367884091, 3.932712388889277},
    {11.60249308247187, -3.972853965665698, -15.9423941062914},
    {-41.70399613139459, 17.43639888205313, 44.35414519872813},
    {77.162935699427, -33.40235894210092, -81.80730925738993},
    {-71.31942824499214, 32.62606426397723, 73.20951985803202},
    {25.13112622477341, -12.24266895238567, -23.07032500287172},
};

void vg_colormap_inferno(unsigned char lut[VG_COLORMAP_SIZE][3]) {
    for (int i = 0; i < VG_COLORMAP_SIZE; i++) {
        double t = i / (double)(VG_COLORMAP_SIZE - 1);
        for (int c = 0; c < 3; c++) {
            double v = INFERNO[6][c];
            for (int k = 5; k >= 0; k--) v = v * t + INFERNO[k][c]; /* Horner */
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            lut[i][c] = (unsigned char)(v * 255 + 0.5);
        }
    }
}
