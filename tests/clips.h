/* clips.h - synthetic footage for the tests: folders of PNG frames (000.png, 001.png, ...)
 * whose pixels a painter function draws, as vg_footage_load and vg_source_open read them,
 * and the small U-Net the footage tests train on them. Include after test.h. */
#ifndef VG_TEST_CLIPS_H
#define VG_TEST_CLIPS_H

#include <sys/stat.h>

#include "vigil/vigil.h"

/* Draws frame k of clip c into rgb: w*h RGB pixels, row by row. */
typedef void clip_painter(unsigned char *rgb, int w, int h, int c, int k);

/* Makes folder and writes frames w x h PNGs into it, frame k painted by paint(rgb, w, h, c,
 * k), or black when paint is NULL. Each failure is a failed check. */
static inline void test_write_clip(const char *folder, int c, int frames, int w, int h,
                                   clip_painter *paint) {
    unsigned char *rgb = calloc((size_t)w * h * 3, 1);
    char f[700]; /* folder: a test_path (under 512) or a test_write_clips clip */
    vg_error err = {0};
    CHECK(rgb && mkdir(folder, 0777) == 0);
    for (int k = 0; rgb && k < frames; k++) {
        if (paint) paint(rgb, w, h, c, k);
        snprintf(f, sizeof f, "%s/%03d.png", folder, k);
        CHECK_OK(vg_png_write(f, rgb, w, h, &err), &err);
    }
    free(rgb);
}

/* Makes folder holding clips clip0 .. clip<clips - 1>, each a test_write_clip of frames. */
static inline void test_write_clips(const char *folder, int clips, int frames, int w, int h,
                                    clip_painter *paint) {
    char sub[600];
    CHECK(mkdir(folder, 0777) == 0);
    for (int c = 0; c < clips; c++) {
        snprintf(sub, sizeof sub, "%s/clip%d", folder, c);
        test_write_clip(sub, c, frames, w, h, paint);
    }
}

/* An untrained U-Net of T = frames at w x h, as the footage tests train it. A failure is a
 * failed check and NULL. */
static inline vg_model *test_unet_model(int w, int h, int frames, int step, int threads,
                                        unsigned long long seed) {
    vg_model_params p = vg_model_default_params();
    p.encoder = "unet", p.frames = frames, p.step = step, p.width = w, p.height = h;
    p.threads = threads, p.seed = seed;
    vg_model *m = NULL;
    vg_error err = {0};
    CHECK_OK(vg_model_create(&p, &m, &err), &err);
    return m;
}

#endif
