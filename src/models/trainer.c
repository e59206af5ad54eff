/* trainer.c - one training step: network forward, loss, network backward, Adam.
 *
 * The encoder is frozen, so a step either encodes its input frames (vg_trainer_step) or
 * takes features from a cache (vg_trainer_step_features); from there both are the same.
 * The U-Net has no encoder: its "features" are the frames. */
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "nn/adam.h"
#include "nn/loss.h"

struct vg_trainer {
    vg_model *m;
    vg_train_params p;
    vg_net net;
    vg_encoder *enc;        /* made on the first vg_trainer_step; NULL for the U-Net */
    vg_tensor *frames;      /* (B*T, 3, H, W), the encoder's input */
    float *grads, *adam_m, *adam_v;
    float *pred, *dpred, *target, *inputs;
    void *scratch;
    size_t scratch_size;
    long long steps;
};

vg_train_params vg_train_default_params(void) {
    vg_adam_params a = vg_adam_default_params();
    return (vg_train_params){.batch = 32, .lr = a.lr, .beta1 = a.beta1, .beta2 = a.beta2,
                             .eps = a.eps};
}

int vg_trainer_create(vg_model *m, const vg_train_params *p, vg_trainer **out,
                      vg_error *err) {
    *out = NULL;
    vg_trainer *t = calloc(1, sizeof *t);
    if (!t) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a trainer");
    t->m = m;
    t->p = *p;
    size_t n = m->table.trainable, img = (size_t)p->batch * 3 * m->cfg.height * m->cfg.width;
    /* the precision is a planning-time setting of the context: only this network gets it */
    int rc = vg_net_create(m, p->batch, 1, p->bf16, &t->net, err);
    if (!rc) {
        t->grads = calloc(n, sizeof *t->grads);
        t->adam_m = calloc(n, sizeof *t->adam_m);
        t->adam_v = calloc(n, sizeof *t->adam_v);
        t->pred = malloc(img * sizeof *t->pred);
        t->dpred = malloc(img * sizeof *t->dpred);
        t->scratch_size = vg_loss_scratch_size(p->batch, m->cfg.width, 0);
        t->scratch = malloc(t->scratch_size);
        if (!t->grads || !t->adam_m || !t->adam_v || !t->pred || !t->dpred || !t->scratch)
            rc = vg_fail(err, VG_ERR_NOMEM, "out of memory for training buffers");
    }
    if (rc) {
        vg_trainer_free(t);
        return rc;
    }
    *out = t;
    return VG_OK;
}

void vg_trainer_free(vg_trainer *t) {
    if (!t) return;
    vg_net_free(&t->net);
    vg_encoder_free(t->enc);
    vg_tensor_free(t->frames);
    free(t->grads), free(t->adam_m), free(t->adam_v);
    free(t->pred), free(t->dpred), free(t->target), free(t->inputs);
    free(t->scratch);
    free(t);
}

long long vg_trainer_steps(const vg_trainer *t) { return t->steps; }

/* Everything after the network's inputs are filled. */
static int step(vg_trainer *t, const float *target, float *loss, vg_error *err) {
    vg_model *m = t->m;
    vg_encoder_info e = vg_encoder_describe(m->cfg.encoder);
    vg_adam_params hp = {t->p.lr, t->p.beta1, t->p.beta2, t->p.eps};
    vg_loss_terms terms;
    int rc = vg_net_set_params(&t->net, m->params, err);
    if (!rc) rc = vg_net_forward(&t->net, m->params, t->p.seed, t->steps + 1, err);
    if (!rc) rc = vg_tensor_read(vg_net_output(&t->net), t->pred, err);
    if (!rc)
        rc = vg_loss_forward_backward(t->dpred, &terms, t->pred, target, e.std, e.mean,
                                      t->p.batch, m->cfg.height, m->cfg.width, t->scratch,
                                      t->scratch_size, err);
    if (!rc) rc = vg_net_backward(&t->net, m->params, t->dpred, t->grads, err);
    if (!rc)
        rc = vg_adam_step(m->params, t->adam_m, t->adam_v, t->grads, m->table.trainable, hp,
                          (int)(t->steps + 1), err);
    if (rc) return rc;
    t->steps++;
    m->params_dirty = 1;
    if (loss) *loss = terms.total;
    return VG_OK;
}

void vg_model_feature_sizes(const vg_model *m, long long sizes[3]) {
    vg_encoder_info e = vg_encoder_describe(m->cfg.encoder);
    long long hw = (long long)(m->cfg.height / 32) * (m->cfg.width / 32);
    int skip = m->cfg.variant == VG_VARIANT_SKIPTWICE;
    /* the U-Net's network takes the frames as they are: they are its cache */
    sizes[0] = vg_model_is_unet(m) ? 3LL * m->cfg.height * m->cfg.width : e.c32 * hw;
    sizes[1] = skip ? e.c16 * hw * 4 : 0;
    sizes[2] = skip ? e.c8 * hw * 16 : 0;
}

int vg_trainer_step_features(vg_trainer *t, const float *const feats[3], const float *target,
                             float *loss, vg_error *err) {
    static const char *const kinds[3] = {"f32", "f16", "f8"};
    int rc = VG_OK;
    for (int k = 0; k < 3 && !rc; k++) {
        vg_tensor *in = vg_net_input(&t->net, k);
        if (!in) continue;
        if (!feats[k]) return vg_fail(err, VG_ERR_ARG, "the %s features are missing", kinds[k]);
        rc = vg_tensor_write(in, feats[k], err);
    }
    return rc ? rc : step(t, target, loss, err);
}

int vg_model_encode(vg_model *m, const float *frames, int n, float *f32, float *f16,
                    float *f8, vg_error *err) {
    if (vg_model_is_unet(m)) { /* the U-Net's features are the frames */
        if (f32) memcpy(f32, frames, (size_t)n * 3 * m->cfg.height * m->cfg.width * sizeof *f32);
        return VG_OK;
    }
    int rc = VG_OK;
    if (m->enc_cache_n != n) {
        vg_encoder_free(m->enc_cache);
        vg_tensor_free(m->enc_cache_in);
        m->enc_cache = NULL, m->enc_cache_in = NULL, m->enc_cache_n = 0;
        rc = vg_model_plan_encoder(m, n, &m->enc_cache, err);
        if (!rc)
            rc = vg_tensor_create(m->ctx, (vg_shape){n, 3, m->cfg.height, m->cfg.width},
                                  &m->enc_cache_in, err);
        if (!rc) m->enc_cache_n = n;
    }
    if (!rc) rc = vg_tensor_write(m->enc_cache_in, frames, err);
    if (!rc) rc = vg_encoder_forward(m->enc_cache, m->enc_cache_in, err);
    float *out[3] = {f32, f16, f8};
    static const int strides[3] = {32, 16, 8};
    for (int k = 0; k < 3 && !rc; k++)
        if (out[k]) rc = vg_tensor_read(vg_encoder_tap(m->enc_cache, strides[k]), out[k], err);
    return rc;
}

/* Splits (B, T+1, 3, H, W) sequences into encoder inputs (B*T frames) and targets. */
static void split_sequences(vg_trainer *t, const float *frames) {
    int B = t->p.batch, T = t->m->cfg.frames;
    size_t img = (size_t)3 * t->m->cfg.height * t->m->cfg.width;
    for (int b = 0; b < B; b++) {
        const float *seq = frames + (size_t)b * (T + 1) * img;
        memcpy(t->inputs + (size_t)b * T * img, seq, (size_t)T * img * sizeof *seq);
        memcpy(t->target + (size_t)b * img, seq + (size_t)T * img, img * sizeof *seq);
    }
}

int vg_trainer_step(vg_trainer *t, const float *frames, float *loss, vg_error *err) {
    vg_model *m = t->m;
    int B = t->p.batch, n = B * m->cfg.frames, rc = VG_OK;
    size_t img = (size_t)3 * m->cfg.height * m->cfg.width;
    if (!t->inputs) {
        if (!vg_model_is_unet(m)) rc = vg_model_plan_encoder(m, n, &t->enc, err);
        if (!rc && t->enc)
            rc = vg_tensor_create(m->ctx, (vg_shape){n, 3, m->cfg.height, m->cfg.width},
                                  &t->frames, err);
        t->inputs = malloc((size_t)n * img * sizeof *t->inputs);
        t->target = malloc((size_t)B * img * sizeof *t->target);
        if (!rc && (!t->inputs || !t->target))
            rc = vg_fail(err, VG_ERR_NOMEM, "out of memory for training frames");
        if (rc) return rc;
    }
    split_sequences(t, frames);
    rc = vg_model_set_inputs(m, &t->net, t->enc, t->frames, t->inputs, B, err);
    return rc ? rc : step(t, t->target, loss, err);
}

const float *vg_trainer_grads(const vg_trainer *t) { return t->grads; }

void vg_trainer_state(vg_trainer *t, float **m, float **v, size_t *n, long long **steps) {
    *m = t->adam_m;
    *v = t->adam_v;
    *n = t->m->table.trainable;
    *steps = &t->steps;
}
