/* evidence.h - what the tests of evidence clips (test_clip, test_remux) share: frames that
 * carry their index painted in (black, with a white 8x8 block at place k of a grid of
 * w / 8 columns), so that a clip read back says which frames it holds, and the record of
 * what a clip's done callback reported, and what a clip decodes to. Include after test.h. */
#ifndef VG_TEST_EVIDENCE_H
#define VG_TEST_EVIDENCE_H

#include "vigil/vigil.h"

/* Frame k, w x h RGB24: black with a white block at grid place k (k < (w/8) * (h/8)). */
static inline void paint_index(unsigned char *rgb, int w, int h, int k) {
    int cols = w / 8, x0 = (k % cols) * 8, y0 = (k / cols) * 8;
    memset(rgb, 0, (size_t)w * h * 3);
    for (int y = y0; y < y0 + 8; y++) memset(rgb + ((size_t)y * w + x0) * 3, 255, 8 * 3);
}

/* The index painted into a decoded frame: the grid place of its bright pixels' centroid;
 * -1 when there are none. */
static inline int painted_index(const unsigned char *rgb, int w, int h) {
    double sx = 0, sy = 0, n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (rgb[((size_t)y * w + x) * 3 + 1] > 128) sx += x, sy += y, n++;
    if (n == 0) return -1;
    return (int)(sy / n / 8) * (w / 8) + (int)(sx / n / 8);
}

/* What done reported for a clip. */
typedef struct outcome {
    int calls;
    long long key, bytes;
    int ok;
    char path[512], why[512];
} outcome;

/* A vg_clip_done that fills the outcome at user. */
static inline void on_done(void *user, long long key, const char *path, long long bytes,
                           const vg_error *failure) {
    outcome *o = user;
    o->calls++;
    o->key = key, o->bytes = bytes, o->ok = failure == NULL;
    snprintf(o->path, sizeof o->path, "%s", path);
    snprintf(o->why, sizeof o->why, "%s", failure ? failure->msg : "");
}

/* What a clip file decodes to, read with vg_source_open at its own size: its frames'
 * painted indices (first, last; -2 for a frame not w x h), whether they are consecutive,
 * the size, the first and last timestamps. */
typedef struct decoded {
    int rc, frames, first, last, consecutive, width, height;
    double t_first, t_last;
} decoded;

static inline decoded decode_clip(const char *path, int w, int h) {
    decoded d = {.first = -1, .last = -1, .consecutive = 1};
    vg_source_params sp = vg_source_default_params();
    vg_source *s = NULL;
    vg_error err = {0};
    d.rc = vg_source_open(path, &sp, &s, &err);
    if (d.rc != VG_OK) {
        fprintf(stderr, "  %s\n", err.msg);
        return d;
    }
    vg_frame f;
    while ((d.rc = vg_source_read(s, &f, &err)) == VG_OK) {
        d.width = f.width, d.height = f.height;
        int k = f.width == w && f.height == h ? painted_index(f.rgb, w, h) : -2;
        if (d.frames == 0) d.first = k, d.t_first = f.pts;
        else if (k != d.last + 1) d.consecutive = 0;
        d.last = k, d.t_last = f.pts;
        d.frames++;
    }
    if (d.rc == VG_END) d.rc = VG_OK;
    vg_source_close(s);
    return d;
}

#endif
