/* rng.h - counter-based random numbers (SplitMix64 of seed + counter).
 *
 * Value i of a stream depends only on (seed, i), so any element can be drawn in any order,
 * across threads, and reproduced exactly by the NumPy twin in tests/fixtures/vgfix.py that
 * makes the PyTorch fixtures: tests regenerate the same random weights instead of
 * committing them. */
#ifndef VG_RNG_H
#define VG_RNG_H

#include <stddef.h>
#include <stdint.h>

/* The SplitMix64 finaliser of seed + (i+1)*golden gamma. */
static inline uint64_t vg_rand_u64(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform float in [0, 1) from the top 24 bits: exact in float32. */
static inline float vg_rand_unit(uint64_t seed, uint64_t i) {
    return (float)(vg_rand_u64(seed, i) >> 40) * (1.0f / 16777216.0f);
}

/* A stream seed for a named tensor: FNV-1a of the name, mixed with base. */
uint64_t vg_seed_for(uint64_t base, const char *name);

/* x[i] = lo + (hi - lo) * unit(seed, i) for i < n, computed in float32. */
void vg_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);

#endif
