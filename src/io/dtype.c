/* dtype.c - stored element types and their conversion to float32. */
#include "io/dtype.h"

#include <math.h>
#include <string.h>

#include "io/bytes.h"

static const struct {
    const char *name;
    size_t size;
} dtype_info[VG_DT_COUNT] = {
    [VG_DT_F32] = {"F32", 4}, [VG_DT_F64] = {"F64", 8}, [VG_DT_F16] = {"F16", 2},
    [VG_DT_BF16] = {"BF16", 2}, [VG_DT_I64] = {"I64", 8}, [VG_DT_I32] = {"I32", 4},
    [VG_DT_I16] = {"I16", 2}, [VG_DT_I8] = {"I8", 1}, [VG_DT_U8] = {"U8", 1},
    [VG_DT_BOOL] = {"BOOL", 1},
};

size_t vg_dtype_size(vg_dtype dt) {
    return (unsigned)dt < VG_DT_COUNT ? dtype_info[dt].size : 0;
}

const char *vg_dtype_name(vg_dtype dt) {
    return (unsigned)dt < VG_DT_COUNT ? dtype_info[dt].name : "?";
}

int vg_dtype_from_name(const char *name, vg_dtype *out) {
    for (int i = 0; i < VG_DT_COUNT; i++) {
        if (strcmp(name, dtype_info[i].name) == 0) {
            *out = (vg_dtype)i;
            return 0;
        }
    }
    return -1;
}

/* Reinterprets IEEE bits; memcpy is the defined way to do it in C. */
static float f32_from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* IEEE half to float: every half (subnormals, infinities, NaN) is exact in float32. */
static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0) { /* zero or subnormal: man * 2^-24, computed exactly in float */
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    if (exp == 31) return f32_from_bits(sign | 0x7f800000u | man << 13);
    return f32_from_bits(sign | (exp + 112) << 23 | man << 13);
}

float vg_dtype_load(vg_dtype dt, const uint8_t *p) {
    switch (dt) {
    case VG_DT_F32: return f32_from_bits(vg_rd32(p));
    case VG_DT_F64: {
        uint64_t bits = vg_rd64(p);
        double d;
        memcpy(&d, &bits, sizeof d);
        return (float)d;
    }
    case VG_DT_F16: return f16_to_f32(vg_rd16(p));
    case VG_DT_BF16: return f32_from_bits((uint32_t)vg_rd16(p) << 16);
    case VG_DT_I64: return (float)(int64_t)vg_rd64(p);
    case VG_DT_I32: return (float)(int32_t)vg_rd32(p);
    case VG_DT_I16: return (float)(int16_t)vg_rd16(p);
    case VG_DT_I8: return (float)(int8_t)p[0];
    case VG_DT_U8: return (float)p[0];
    case VG_DT_BOOL: return p[0] ? 1.0f : 0.0f;
    default: return NAN;
    }
}

/* The common types get their own loops (the compiler turns the byte reads into plain
 * loads); the rest go element by element through vg_dtype_load. */
void vg_dtype_convert(float *dst, vg_dtype dt, const uint8_t *src, size_t n) {
    size_t step = vg_dtype_size(dt);
    switch (dt) {
    case VG_DT_F32:
        for (size_t i = 0; i < n; i++) dst[i] = f32_from_bits(vg_rd32(src + 4 * i));
        break;
    case VG_DT_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = f32_from_bits((uint32_t)vg_rd16(src + 2 * i) << 16);
        break;
    case VG_DT_F16:
        for (size_t i = 0; i < n; i++) dst[i] = f16_to_f32(vg_rd16(src + 2 * i));
        break;
    default:
        for (size_t i = 0; i < n; i++) dst[i] = vg_dtype_load(dt, src + i * step);
        break;
    }
}
