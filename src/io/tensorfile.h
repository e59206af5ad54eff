/* tensorfile.h - named float32 tensors read from a weights file.
 *
 * One reader for the two formats users hand vigil: safetensors, and PyTorch's zip
 * archives written by torch.save (torchvision's resnet18-f37072fd.pth). The format is
 * told by the file's first bytes, not its name. Every tensor is converted to contiguous
 * float32 on load; the file is not kept open. Errors name the file and the tensor. */
#ifndef VG_TENSORFILE_H
#define VG_TENSORFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define VG_MAX_DIMS 8

typedef struct vg_tensorfile vg_tensorfile;

/* One tensor as stored: name, shape and contiguous float32 data (row-major). */
typedef struct vg_tensor_entry {
    const char *name;
    int ndim;
    int64_t shape[VG_MAX_DIMS];
    const float *data;
} vg_tensor_entry;

/* Opens and fully reads path; *out is NULL on failure. */
int vg_tensorfile_open(const char *path, vg_tensorfile **out, vg_error *err);
void vg_tensorfile_close(vg_tensorfile *tf); /* accepts NULL */

/* The tensor called name with exactly the given shape, or NULL with err set to
 * "PATH: tensor 'NAME' is missing" or "... has shape [a,b], expected [c,d]". */
const float *vg_tensorfile_get(const vg_tensorfile *tf, const char *name, int ndim,
                               const int64_t *shape, vg_error *err);

/* The tensor called name, or NULL when absent (no error recorded). */
const vg_tensor_entry *vg_tensorfile_find(const vg_tensorfile *tf, const char *name);

int vg_tensorfile_count(const vg_tensorfile *tf);
const vg_tensor_entry *vg_tensorfile_entry(const vg_tensorfile *tf, int i);

/* A string of the safetensors "__metadata__" map, or NULL (always NULL for .pth). */
const char *vg_tensorfile_metadata(const vg_tensorfile *tf, const char *key);

const char *vg_tensorfile_path(const vg_tensorfile *tf);

/* Writes tensors and string metadata (n_meta key/value pairs, may be 0) as a safetensors
 * file. Writes PATH.tmp and renames it, so an existing file is never left half-written. */
int vg_safetensors_write(const char *path, const vg_tensor_entry *tensors, int n,
                         const char *const *meta_keys, const char *const *meta_values,
                         int n_meta, vg_error *err);

#endif
