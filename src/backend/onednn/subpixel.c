/* subpixel.c - the forward pass of ConvTranspose2d(k3, s2, p1, output_padding 1) as four
 * stride-1 convolutions.
 *
 * Output pixel (2y+a, 2x+b) of that transposed convolution sums input pixels (y+dy, x+dx)
 * for dy <= a and dx <= b only, each through a single tap of the 3x3 kernel. So the output
 * splits into four phase images, and phase (a, b) is an ordinary convolution of the input
 * with a (1+a) x (1+b) slice of the kernel, padded by one at the bottom/right when the
 * slice has two rows/columns. The phases do exactly the transposed convolution's
 * multiply-adds, in oneDNN's direct convolution kernels; one pass interleaves them.
 *
 * Why: oneDNN 2.6 runs a deconvolution's forward as a strided backward-data pass, 5-10x
 * slower than its direct convolutions on the decoder's shapes (6.3 ms against about 0.6 ms
 * per frame for the 64->32 block at 56x56; at batch 32 the 32->3 output layer took 56 ms,
 * its 3 channels padded to a block of 16). The backward passes of the same layer are fast
 * and stay on the deconvolution primitives (conv.c). Everything here is NHWC, the layout
 * the direct kernels prefer and the interleave needs.
 *
 * Few output channels (the decoder's last layer has 3) would waste most of each phase's
 * 16-channel SIMD blocks, so below 16 the phases are packed into one convolution with
 * 4 * out_c channels and 2x2 kernels, the taps a phase does not use set to zero: 16 taps
 * computed for 9 used, still about 3x faster than four thin convolutions there. */
#include <stdlib.h>
#include <string.h>

#include "backend/onednn/onednn.h"

#define PHASES 4
#define PACK_BELOW 16 /* output channels */

/* TAP[a][d]: the kernel row (or column) that input offset d feeds into output phase a;
 * -1 where it feeds none. From o = 2i - 1 + k: o = 2y takes k = 1 at i = y; o = 2y + 1
 * takes k = 2 at i = y and k = 0 at i = y + 1. */
static const int TAP[2][2] = {{1, -1}, {2, 0}};

struct vg_subpixel {
    vg_ctx *ctx;
    int ic, oc;
    vg_shape src_shape;
    int packed, nconv;         /* packed: one convolution for all four phases */
    vg_prim conv[PHASES];      /* phase a * 2 + b, or the packed one */
    dnnl_memory_desc_t user_w[PHASES];
    vg_staged src, w[PHASES], b;
    dnnl_memory_t out[PHASES]; /* NHWC [N, H, W, oc], packed [N, H, W, 4, oc]; their data
                                  lives in the context's scratch while forward runs (the
                                  interleave consumes it at once, so layers share it) */
    size_t out_size;           /* bytes of one */
    float *wbuf, *bbuf;        /* one convolution's weights (OIHW) and bias, while set */
};

int vg_subpixel_applies(const vg_conv_params *p) {
    return p->transposed && p->groups == 1 && p->kh == 3 && p->kw == 3 && p->stride == 2 &&
           p->pad_t == 1 && p->pad_l == 1 && p->pad_b == 1 && p->pad_r == 1 &&
           p->out_pad == 1 && !p->residual;
}

/* Kernel rows and columns of convolution k: phase k's, or 2x2 for the packed one. */
static int conv_kh(const vg_subpixel *sp, int k) { return sp->packed ? 2 : 1 + k / 2; }
static int conv_kw(const vg_subpixel *sp, int k) { return sp->packed ? 2 : 1 + k % 2; }

static int plan_conv(vg_subpixel *sp, int k, const_dnnl_primitive_attr_t attr, int bias,
                     vg_error *err) {
    vg_shape s = sp->src_shape;
    int oc = sp->packed ? PHASES * sp->oc : sp->oc, kh = conv_kh(sp, k), kw = conv_kw(sp, k);
    dnnl_memory_desc_t src = vg_act_md(sp->ctx, s, dnnl_nhwc);
    dnnl_memory_desc_t dst = vg_act_md(sp->ctx, (vg_shape){s.n, oc, s.h, s.w}, dnnl_nhwc);
    dnnl_dims_t wd = {oc, sp->ic, kh, kw}, bd = {oc};
    dnnl_memory_desc_t w;
    dnnl_memory_desc_init_by_tag(&w, 4, wd, sp->ctx->dt, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&sp->user_w[k], 4, wd, dnnl_f32, dnnl_oihw);
    dnnl_memory_desc_init_by_tag(&sp->b.md, 1, bd, dnnl_f32, dnnl_x);
    dnnl_dims_t strides = {1, 1}, pad_l = {0, 0}, pad_r = {kh - 1, kw - 1};
    dnnl_convolution_desc_t d;
    int rc = vg_dnnl_check(dnnl_convolution_forward_desc_init(
                               &d, dnnl_forward_inference, dnnl_convolution_direct, &src, &w,
                               bias ? &sp->b.md : NULL, &dst, strides, pad_l, pad_r),
                           "sub-pixel convolution descriptor", err);
    vg_prim *c = &sp->conv[k];
    if (!rc) rc = vg_prim_create(sp->ctx, &d, attr, NULL, c, "sub-pixel convolution", err);
    if (!rc)
        rc = vg_dnnl_check(dnnl_memory_create(&sp->out[k], &dst, sp->ctx->engine, DNNL_MEMORY_NONE),
                           "sub-pixel output", err);
    sp->out_size = dnnl_memory_desc_get_size(&dst);
    if (!rc) sp->w[k].md = *vg_prim_md(c, dnnl_query_weights_md);
    return rc;
}

int vg_subpixel_create(vg_ctx *ctx, const vg_conv_params *p, vg_shape src,
                       const_dnnl_primitive_attr_t attr, vg_subpixel **out, vg_error *err) {
    *out = NULL;
    vg_subpixel *sp = calloc(1, sizeof *sp);
    if (!sp) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a transposed convolution");
    int packed = p->out_c < PACK_BELOW;
    *sp = (vg_subpixel){.ctx = ctx, .ic = p->in_c, .oc = p->out_c, .src_shape = src,
                        .packed = packed, .nconv = packed ? 1 : PHASES};
    sp->src.md = vg_act_md(ctx, src, dnnl_nhwc);
    /* the packed convolution's weights: 4 phases x 4 taps; a phase's at most 4 taps */
    sp->wbuf = malloc((size_t)p->out_c * p->in_c * PHASES * (packed ? PHASES : 1) *
                      sizeof *sp->wbuf);
    sp->bbuf = malloc((size_t)p->out_c * PHASES * sizeof *sp->bbuf);
    int rc = sp->wbuf && sp->bbuf ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "out of memory for weights");
    for (int k = 0; k < sp->nconv && !rc; k++) rc = plan_conv(sp, k, attr, p->has_bias, err);
    if (rc) {
        vg_subpixel_free(sp);
        return rc;
    }
    *out = sp;
    return VG_OK;
}

void vg_subpixel_free(vg_subpixel *sp) {
    if (!sp) return;
    for (int ph = 0; ph < PHASES; ph++) {
        vg_prim_destroy(&sp->conv[ph]);
        vg_staged_free(&sp->w[ph]);
        if (sp->out[ph]) dnnl_memory_destroy(sp->out[ph]);
    }
    vg_staged_free(&sp->src);
    vg_staged_free(&sp->b);
    free(sp->wbuf);
    free(sp->bbuf);
    free(sp);
}

/* Appends phase ph's kernel slice, as OIHW rows of a kh x kw convolution, to *dst. w is
 * PyTorch's [in, out, 3, 3]; taps the phase does not use are zero. */
static void slice_phase(float **dst, const float *w, int ph, int ic, int oc, int kh, int kw) {
    int a = ph / 2, b = ph % 2;
    for (int o = 0; o < oc; o++)
        for (int i = 0; i < ic; i++)
            for (int dy = 0; dy < kh; dy++)
                for (int dx = 0; dx < kw; dx++) {
                    int ty = dy < 2 ? TAP[a][dy] : -1, tx = dx < 2 ? TAP[b][dx] : -1;
                    *(*dst)++ = ty < 0 || tx < 0 ? 0.f
                                                 : w[(((size_t)i * oc + o) * 3 + ty) * 3 + tx];
                }
}

int vg_subpixel_set_weights(vg_subpixel *sp, const float *w, const float *b, vg_error *err) {
    int rc = VG_OK;
    for (int k = 0; k < sp->nconv && !rc; k++) {
        float *dst = sp->wbuf;
        for (int ph = sp->packed ? 0 : k; ph < (sp->packed ? PHASES : k + 1); ph++)
            slice_phase(&dst, w, ph, sp->ic, sp->oc, conv_kh(sp, k), conv_kw(sp, k));
        rc = vg_stage_host(sp->ctx, &sp->w[k], &sp->user_w[k], sp->wbuf, err);
    }
    if (rc || !b) return rc;
    int copies = sp->packed ? PHASES : 1;
    for (int ph = 0; ph < copies; ph++) memcpy(sp->bbuf + (size_t)ph * sp->oc, b, sp->oc * sizeof *b);
    return vg_stage_host(sp->ctx, &sp->b, &sp->b.md, sp->bbuf, err);
}

static char *data(dnnl_memory_t m) {
    void *h = NULL;
    dnnl_memory_get_data_handle(m, &h);
    return h;
}

/* dst[n, 2y+a, 2x+b, :] = phase[a*2+b][n, y, x, :]: runs of c elements of `size` bytes,
 * pixels of the phase images `pitch` elements apart. */
static void interleave(char *dst, char *const phase[PHASES], int pitch, vg_shape s, int c,
                       size_t size) {
    size_t run = (size_t)c * size, step = (size_t)pitch * size;
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s.n; n++)
        for (int y = 0; y < s.h; y++)
            for (int a = 0; a < 2; a++) {
                size_t in_row = ((size_t)n * s.h + y) * s.w * step;
                char *row = dst + (((size_t)n * 2 * s.h + 2 * y + a) * 2 * s.w) * run;
                const char *p0 = phase[a * 2] + in_row, *p1 = phase[a * 2 + 1] + in_row;
                for (int x = 0; x < s.w; x++) {
                    memcpy(row + (size_t)(2 * x) * run, p0 + (size_t)x * step, run);
                    memcpy(row + (size_t)(2 * x + 1) * run, p1 + (size_t)x * step, run);
                }
            }
}

int vg_subpixel_forward(vg_subpixel *sp, const vg_tensor *src, vg_tensor *dst,
                        vg_error *err) {
    dnnl_memory_desc_t nhwc = sp->src.md; /* the input's layout and type, at the output size */
    dnnl_dims_t dims = {dst->shape.n, dst->shape.c, dst->shape.h, dst->shape.w};
    dnnl_memory_desc_init_by_tag(&nhwc, 4, dims, sp->src.md.data_type, dnnl_nhwc);
    if (!dnnl_memory_desc_equal(&dst->md, &nhwc))
        return vg_fail(err, VG_ERR_BACKEND, "sub-pixel output must be NHWC of the compute type");
    if (!sp->w[0].mem) return vg_fail(err, VG_ERR_ARG, "convolution weights were never set");
    dnnl_memory_t s;
    int rc = vg_stage(sp->ctx, &sp->src, src, &s, err);
    char *scratch = rc ? NULL : vg_ctx_scratch(sp->ctx, (size_t)sp->nconv * sp->out_size);
    if (!rc && !scratch) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a transposed convolution");
    for (int k = 0; k < sp->nconv && !rc; k++)
        dnnl_memory_set_data_handle(sp->out[k], scratch + (size_t)k * sp->out_size);
    for (int k = 0; k < sp->nconv && !rc; k++) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, sp->w[k].mem},
                                   {DNNL_ARG_DST, sp->out[k]}, {DNNL_ARG_BIAS, sp->b.mem}};
        rc = vg_prim_run(sp->ctx, &sp->conv[k], sp->b.mem ? 4 : 3, args, err);
    }
    if (rc) return rc;
    size_t size = dnnl_data_type_size(nhwc.data_type);
    char *phase[PHASES];
    for (int ph = 0; ph < PHASES; ph++)
        phase[ph] = sp->packed ? data(sp->out[0]) + (size_t)ph * sp->oc * size
                               : data(sp->out[ph]);
    interleave(data(dst->mem), phase, sp->packed ? PHASES * sp->oc : sp->oc, sp->src_shape,
               sp->oc, size);
    return VG_OK;
}
