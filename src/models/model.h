/* model.h - the model record behind the public vg_model, shared by the model file,
 * streaming and training code. */
#ifndef VG_MODEL_H
#define VG_MODEL_H

#include "models/encoder.h"
#include "models/predictor.h"
#include "models/unet.h"

/* The trainable network of a model, planned for one batch size and mode: the predictor
 * head over encoder features or, for encoder "unet", the U-Net over the frames. One of the
 * two is set; the vg_net functions pass each call on to it. */
typedef struct vg_net {
    vg_head *head;
    vg_unet *unet;
} vg_net;

int vg_net_create(const vg_model *m, int batch, int train, int bf16, vg_net *out,
                  vg_error *err);
void vg_net_free(vg_net *n); /* frees what create made; accepts a zeroed record */

/* Input k, filled with feature block k of vg_model_feature_sizes: 0 the stride-32 maps
 * (the frames for the U-Net), 1 and 2 the stride-16 and stride-8 maps; NULL when unused. */
vg_tensor *vg_net_input(const vg_net *n, int k);

int vg_net_set_params(vg_net *n, const float *params, vg_error *err);
int vg_net_forward(vg_net *n, float *params, uint64_t seed, int64_t step, vg_error *err);
const vg_tensor *vg_net_output(const vg_net *n);
int vg_net_backward(vg_net *n, const float *params, const float *dpred, float *grads,
                    vg_error *err);

/* Encoder weights as loaded (unfolded, torchvision's names): kept so that encoders can
 * be planned for any batch size and the model file can carry them. */
typedef struct vg_encoder_store {
    int n;
    const char **names;  /* static strings from vg_encoder_param */
    int *ndim;
    int64_t (*shape)[4];
    size_t *offset;
    float *data;
} vg_encoder_store;

struct vg_model {
    vg_ctx *ctx;
    vg_predictor_config cfg;
    vg_param_table table;
    float *params;           /* table.total floats */
    vg_encoder_store enc;
    char *sections;          /* JSON object of metadata sections beyond the architecture
                                ("training", "validation", ...), carried into the file;
                                may be NULL */
    /* inference plans, made on first use for one batch size */
    vg_encoder *enc_rt;      /* NULL for the U-Net */
    vg_net net_rt;
    vg_tensor *frames_rt;    /* encoder input */
    int rt_batch;
    int params_dirty;        /* params changed since net_rt last saw them */
    int bf16;                /* inference plans compute in bfloat16 */
    /* vg_model_encode's plan, kept for the batch size of its last call: filling a feature
     * cache calls it thousands of times, and planning costs more than encoding */
    vg_encoder *enc_cache;
    vg_tensor *enc_cache_in;
    int enc_cache_n;
};

static inline int vg_model_is_unet(const vg_model *m) {
    return m->cfg.encoder == VG_ENCODER_UNET;
}

/* The parameter table of a model built with cfg. */
void vg_model_table(const vg_predictor_config *cfg, vg_param_table *out);

/* A model from a config, encoder weights from w and predictor parameters from params
 * (copied; NULL: PyTorch's default initialisation from seed). */
int vg_model_create_from(const vg_predictor_config *cfg, const vg_weights *w,
                         const float *params, uint64_t seed, int threads, vg_model **out,
                         vg_error *err);

/* The stored encoder weights as a weights source. */
vg_weights vg_model_encoder_weights(vg_model *m);

/* Plans the model's encoder for batches of n frames. */
int vg_model_plan_encoder(vg_model *m, int n, vg_encoder **out, vg_error *err);

/* Sets the network's inputs from batch sequences of T frames (host, (batch, T, 3, H, W)):
 * the U-Net takes them as they are, (B, T, 3, H, W) being its (B, 3T, H, W) input; the
 * predictor head takes the taps of encoder enc, run on them through its input tensor in
 * (enc and in are unused for the U-Net). */
int vg_model_set_inputs(const vg_model *m, vg_net *net, vg_encoder *enc, vg_tensor *in,
                        const float *frames, int batch, vg_error *err);

/* The gradients of the last step (the trainable prefix of the parameter table). */
const float *vg_trainer_grads(const vg_trainer *t);

/* The optimiser's state, for checkpoints: Adam's moments (n floats each, the trainable
 * prefix of the parameter table) and the step count, all writable. */
void vg_trainer_state(vg_trainer *t, float **m, float **v, size_t *n, long long **steps);

#endif
