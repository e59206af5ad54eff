/* onednn.h - what the oneDNN engine's files share: the context and tensor records and
 * small helpers around primitive creation, execution and layout changes. */
#ifndef VG_ONEDNN_H
#define VG_ONEDNN_H

#include <dnnl.h>

#include "backend/backend.h"

struct vg_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int threads;
    dnnl_data_type_t dt; /* activations and weights of operations planned from now on */
    void *scratch;       /* vg_ctx_scratch's buffer */
    size_t scratch_size;
};

struct vg_tensor {
    vg_ctx *ctx;
    vg_shape shape;
    dnnl_memory_desc_t md;
    dnnl_memory_t mem;
};

/* A primitive with its descriptor (kept for layout queries). */
typedef struct vg_prim {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
} vg_prim;

/* A memory in a layout a primitive asked for, filled by reordering when needed. */
typedef struct vg_staged {
    dnnl_memory_desc_t md;
    dnnl_memory_t mem; /* allocated on first use */
} vg_staged;

/* Turns a failed oneDNN status into VG_ERR_BACKEND with "what: <oneDNN text>". */
int vg_dnnl_check(dnnl_status_t st, const char *what, vg_error *err);

/* Creates pd and primitive from an op descriptor (attr and hint may be NULL). */
int vg_prim_create(vg_ctx *ctx, const void *op_desc, const_dnnl_primitive_attr_t attr,
                   const_dnnl_primitive_desc_t hint, vg_prim *out, const char *what,
                   vg_error *err);
void vg_prim_destroy(vg_prim *p);
const dnnl_memory_desc_t *vg_prim_md(const vg_prim *p, dnnl_query_t what);

/* Runs a primitive with n (arg, memory) pairs and waits for it. */
int vg_prim_run(vg_ctx *ctx, const vg_prim *p, int n, const dnnl_exec_arg_t *args,
                vg_error *err);

/* A 4-D float32 descriptor in layout tag (dnnl_format_tag_any lets a primitive choose);
 * vg_md4_dt of type dt. */
dnnl_memory_desc_t vg_md4(vg_shape s, dnnl_format_tag_t tag);
dnnl_memory_desc_t vg_md4_dt(vg_shape s, dnnl_format_tag_t tag, dnnl_data_type_t dt);

/* An activation descriptor in the context's compute type. Inside the network that is NHWC
 * (dnnl_nhwc), the layout oneDNN's direct convolution kernels run fastest on. */
dnnl_memory_desc_t vg_act_md(const vg_ctx *ctx, vg_shape s, dnnl_format_tag_t tag);

/* A buffer of at least size bytes (64-byte aligned) that any operation may use while it
 * runs and must not keep: valid until the next call. NULL when out of memory. */
void *vg_ctx_scratch(vg_ctx *ctx, size_t size);

/* Allocates a memory of descriptor md (zero-filled). */
int vg_mem_create(vg_ctx *ctx, const dnnl_memory_desc_t *md, dnnl_memory_t *out,
                  vg_error *err);

/* Copies src (descriptor src_md) into dst (descriptor dst_md) through a reorder. */
int vg_reorder(vg_ctx *ctx, const dnnl_memory_desc_t *src_md, dnnl_memory_t src,
               const dnnl_memory_desc_t *dst_md, dnnl_memory_t dst, vg_error *err);

/* A tensor whose descriptor is md (the layout a primitive produces). */
int vg_tensor_create_md(vg_ctx *ctx, vg_shape shape, const dnnl_memory_desc_t *md,
                        vg_tensor **out, vg_error *err);

/* The memory holding t in layout s->md: t itself when the layouts agree, else s->mem
 * after a reorder. */
int vg_stage(vg_ctx *ctx, vg_staged *s, const vg_tensor *t, dnnl_memory_t *use,
             vg_error *err);

/* Copies a host array in layout user_md into staged memory s (weights). */
int vg_stage_host(vg_ctx *ctx, vg_staged *s, const dnnl_memory_desc_t *user_md,
                  const float *host, vg_error *err);

/* Copies staged memory s out to a host array in layout user_md (weight gradients). */
int vg_unstage_host(vg_ctx *ctx, const vg_staged *s, const dnnl_memory_desc_t *user_md,
                    float *host, vg_error *err);

void vg_staged_free(vg_staged *s);

/* ConvTranspose2d(k3, s2, p1, output_padding 1) forward as four sub-pixel convolutions
 * (subpixel.c), NHWC in and out; conv.c uses it where vg_subpixel_applies. */
typedef struct vg_subpixel vg_subpixel;
int vg_subpixel_applies(const vg_conv_params *p);
int vg_subpixel_create(vg_ctx *ctx, const vg_conv_params *p, vg_shape src,
                       const_dnnl_primitive_attr_t attr, vg_subpixel **out, vg_error *err);
void vg_subpixel_free(vg_subpixel *sp);
int vg_subpixel_set_weights(vg_subpixel *sp, const float *w, const float *b, vg_error *err);
int vg_subpixel_forward(vg_subpixel *sp, const vg_tensor *src, vg_tensor *dst,
                        vg_error *err);

#endif
