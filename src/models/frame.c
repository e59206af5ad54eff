/* frame.c - frames between the pixels of a video and the model's normalised input space. */
#include <stddef.h>

#include "vigil/vigil.h"

void vg_model_frame_from_rgb(const vg_model *m, const unsigned char *rgb, float *chw) {
    vg_model_info i = vg_model_describe(m);
    size_t plane = (size_t)i.width * i.height;
    for (int c = 0; c < 3; c++) {
        /* x = (p / 255 - mean) / std as one multiply-add per pixel */
        float a = 1.f / (255.f * i.std[c]), b = -i.mean[c] / i.std[c];
        float *dst = chw + c * plane;
        for (size_t p = 0; p < plane; p++) dst[p] = a * rgb[3 * p + c] + b;
    }
}

void vg_model_frame_to_unit(const vg_model *m, const float *chw, float *unit) {
    vg_model_info i = vg_model_describe(m);
    size_t plane = (size_t)i.width * i.height;
    for (int c = 0; c < 3; c++)
        for (size_t p = 0; p < plane; p++) {
            float v = chw[c * plane + p] * i.std[c] + i.mean[c];
            unit[c * plane + p] = v < 0.f ? 0.f : v > 1.f ? 1.f : v;
        }
}
