/* pickle.h - a restricted unpickler for PyTorch state dicts.
 *
 * torch.save pickles a state dict as an OrderedDict whose values are calls to
 * torch._utils._rebuild_tensor_v2 on persistent ids naming storages in the archive. This
 * reader understands only the opcodes and the few globals that such a pickle uses; it
 * never runs anything. The "calls" are evaluated here into tensor descriptions (storage
 * key, dtype, offset, size, stride); torch_pth.c fetches the data. Any other global is
 * refused by name. Private to src/io. */
#ifndef VG_IO_PICKLE_H
#define VG_IO_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "io/dtype.h"
#include "io/tensorfile.h"

typedef enum vg_pk_kind {
    VG_PK_NONE,
    VG_PK_BOOL,    /* i */
    VG_PK_INT,     /* i */
    VG_PK_FLOAT,   /* f */
    VG_PK_STR,     /* s, slen (bytes inside the pickle, not NUL-terminated) */
    VG_PK_TUPLE,   /* items, n */
    VG_PK_LIST,    /* items, n */
    VG_PK_DICT,    /* items, n: key, value, key, value, ... in insertion order */
    VG_PK_GLOBAL,  /* global, dtype (storage classes) */
    VG_PK_STORAGE, /* s, slen = key; dtype; i = element count */
    VG_PK_TENSOR   /* storage, offset, ndim, size, stride */
} vg_pk_kind;

typedef struct vg_pk_value vg_pk_value;
struct vg_pk_value {
    vg_pk_kind kind;
    int64_t i;
    double f;
    const char *s;
    size_t slen;
    vg_pk_value **items;
    size_t n, cap;
    int global;
    vg_dtype dtype;
    const vg_pk_value *storage;
    int64_t offset;
    int ndim;
    int64_t size[VG_MAX_DIMS], stride[VG_MAX_DIMS];
    vg_pk_value *next_alloc; /* every value, for freeing */
};

typedef struct vg_pickle vg_pickle;

/* Unpickles the len bytes at buf (which must outlive the result); *root is the
 * unpickled object, owned by *out. */
int vg_pickle_load(const uint8_t *buf, size_t len, vg_pickle **out, const vg_pk_value **root,
                   vg_error *err);
void vg_pickle_free(vg_pickle *pk); /* accepts NULL */

#endif
