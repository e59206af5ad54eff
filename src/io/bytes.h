/* bytes.h - little-endian integers read from unaligned bytes.
 *
 * Both weight formats are little-endian whatever the host; reading byte by byte keeps the
 * readers correct on any host and free of unaligned access. Private to src/io. */
#ifndef VG_IO_BYTES_H
#define VG_IO_BYTES_H

#include <stdint.h>

static inline uint16_t vg_rd16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t vg_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t vg_rd64(const uint8_t *p) {
    return (uint64_t)vg_rd32(p) | (uint64_t)vg_rd32(p + 4) << 32;
}

static inline void vg_wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void vg_wr64(uint8_t *p, uint64_t v) {
    vg_wr32(p, (uint32_t)v);
    vg_wr32(p + 4, (uint32_t)(v >> 32));
}

#endif
