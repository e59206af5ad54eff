/* tensorfile_internal.h - what the format readers share with the tensorfile handle.
 *
 * A reader (safetensors.c, torch_pth.c) parses the bytes of a whole file and adds each
 * tensor through vg_tf_add, which owns all memory; the handle checks names for duplicates
 * afterwards. Readers' messages do not name the file: vg_tensorfile_open prefixes the
 * path once. Private to src/io. */
#ifndef VG_IO_TENSORFILE_INTERNAL_H
#define VG_IO_TENSORFILE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "io/tensorfile.h"

/* Adds a tensor named by the name_len bytes at name (not NUL-terminated) and returns
 * its float32 buffer of numel(shape) elements for the reader to fill, owned by tf; NULL
 * with err set when the name or shape is invalid or memory runs out. */
float *vg_tf_add(vg_tensorfile *tf, const char *name, size_t name_len, int ndim,
                 const int64_t *shape, vg_error *err);

/* Adds a string metadata pair (copied). */
int vg_tf_add_meta(vg_tensorfile *tf, const char *key, const char *value, vg_error *err);

/* The element count of a shape in *numel; returns 0, or -1 when a dimension is negative
 * or the count (or its float32 byte size) would overflow. */
int vg_shape_numel(int ndim, const int64_t *shape, int64_t *numel);

/* The readers: parse the len bytes at buf (the whole file) into tf. */
int vg_safetensors_parse(vg_tensorfile *tf, const uint8_t *buf, size_t len, vg_error *err);
int vg_torch_pth_parse(vg_tensorfile *tf, const uint8_t *buf, size_t len, vg_error *err);

#endif
