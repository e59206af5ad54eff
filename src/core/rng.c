/* rng.c - seeded fills shared by weight initialisation, dropout masks and tests. */
#include "core/rng.h"

uint64_t vg_seed_for(uint64_t base, const char *name) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 0x100000001B3ull;
    }
    return vg_rand_u64(base ^ h, 0);
}

void vg_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi) {
    float span = hi - lo;
    for (size_t i = 0; i < n; i++) x[i] = lo + span * vg_rand_unit(seed, i);
}
