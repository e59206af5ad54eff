/* footage.h - the record behind vg_footage, for the training and validation code. */
#ifndef VG_FOOTAGE_H
#define VG_FOOTAGE_H

#include "vigil/vigil.h"

typedef struct vg_clip {
    char *name;          /* path or URL it came from */
    int frames, width, height;
    long long errors;    /* frames skipped for decode errors */
    unsigned char *rgb;  /* frames * height * width * 3 */
} vg_clip;

struct vg_footage {
    int n;
    vg_clip *clips;
};

static inline const unsigned char *vg_clip_frame(const vg_clip *c, int k) {
    return c->rgb + (size_t)k * c->width * c->height * 3;
}

#endif
