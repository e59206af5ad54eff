/* net.c - a model's trainable network: the predictor head or the U-Net (see model.h). */
#include "models/model.h"

int vg_net_create(const vg_model *m, int batch, int train, int bf16, vg_net *out,
                  vg_error *err) {
    *out = (vg_net){0};
    /* the precision is a planning-time setting of the context: only this network gets it */
    int rc = vg_ctx_set_precision(m->ctx, bf16 ? VG_PRECISION_BF16 : VG_PRECISION_FP32, err);
    if (!rc && vg_model_is_unet(m))
        rc = vg_unet_create(m->ctx, &m->cfg, batch, train, &out->unet, err);
    else if (!rc)
        rc = vg_head_create(m->ctx, &m->cfg, batch, train, &out->head, err);
    vg_ctx_set_precision(m->ctx, VG_PRECISION_FP32, NULL);
    return rc;
}

void vg_net_free(vg_net *n) {
    vg_head_free(n->head);
    vg_unet_free(n->unet);
    *n = (vg_net){0};
}

vg_tensor *vg_net_input(const vg_net *n, int k) {
    static const int strides[3] = {32, 16, 8};
    if (n->unet) return k == 0 ? vg_unet_input(n->unet) : NULL;
    return vg_head_input(n->head, strides[k]);
}

int vg_net_set_params(vg_net *n, const float *params, vg_error *err) {
    return n->unet ? vg_unet_set_params(n->unet, params, err)
                   : vg_head_set_params(n->head, params, err);
}

int vg_net_forward(vg_net *n, float *params, uint64_t seed, int64_t step, vg_error *err) {
    /* the U-Net has no dropout, so no masks to draw */
    return n->unet ? vg_unet_forward(n->unet, params, err)
                   : vg_head_forward(n->head, params, seed, step, err);
}

const vg_tensor *vg_net_output(const vg_net *n) {
    return n->unet ? vg_unet_output(n->unet) : vg_head_output(n->head);
}

int vg_net_backward(vg_net *n, const float *params, const float *dpred, float *grads,
                    vg_error *err) {
    return n->unet ? vg_unet_backward(n->unet, params, dpred, grads, err)
                   : vg_head_backward(n->head, params, dpred, grads, err);
}
