/* augment.h - photometric and geometric augmentation of RGB24 frames (thesis Table 3.1).
 *
 * A transform is drawn once and applied to every frame of a chunk, so a sequence's inputs
 * and target move together and the encoder features of the chunk serve every sequence in
 * it. */
#ifndef VG_AUGMENT_H
#define VG_AUGMENT_H

#include <stdint.h>

#include "vigil/vigil.h"

typedef struct vg_aug_transform {
    float angle;      /* radians, rotation about the centre */
    float dx, dy;     /* pixels */
    float brightness; /* multiplier */
    float saturation; /* 1: unchanged, 0: grey */
} vg_aug_transform;

/* Transform number i of stream seed for augmentation kind (identity for VG_AUG_NONE). */
vg_aug_transform vg_aug_draw(vg_aug kind, uint64_t seed, uint64_t i);

/* dst = t(src), both height * width * 3 bytes; bilinear, edges replicated. */
void vg_aug_apply(const vg_aug_transform *t, const unsigned char *src, unsigned char *dst,
                  int width, int height);

#endif
