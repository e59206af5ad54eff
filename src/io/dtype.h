/* dtype.h - element types a weights file may store, and their conversion to float32.
 *
 * vigil computes in float32, so every stored type is widened or narrowed to float32 on
 * load (int64 counters such as BN's num_batches_tracked included). Stored bytes are
 * little-endian in both formats. Private to src/io. */
#ifndef VG_IO_DTYPE_H
#define VG_IO_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum vg_dtype {
    VG_DT_F32,
    VG_DT_F64,
    VG_DT_F16,
    VG_DT_BF16,
    VG_DT_I64,
    VG_DT_I32,
    VG_DT_I16,
    VG_DT_I8,
    VG_DT_U8,
    VG_DT_BOOL,
    VG_DT_COUNT
} vg_dtype;

/* Bytes per element. */
size_t vg_dtype_size(vg_dtype dt);

/* The safetensors spelling ("F32", "BF16", ...). */
const char *vg_dtype_name(vg_dtype dt);

/* The type spelled name in a safetensors header; returns 0, or -1 when unknown. */
int vg_dtype_from_name(const char *name, vg_dtype *out);

/* The element stored at p, as float32. */
float vg_dtype_load(vg_dtype dt, const uint8_t *p);

/* Converts n contiguous elements at src to float32 in dst. */
void vg_dtype_convert(float *dst, vg_dtype dt, const uint8_t *src, size_t n);

#endif
