/* model.h - the model record behind the public vg_model, shared by the model file,
 * streaming and training code. */
#ifndef VG_MODEL_H
#define VG_MODEL_H

#include "models/encoder.h"
#include "models/predictor.h"

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
    char *training_json;     /* training configuration, carried into the file; may be NULL */
    /* inference plans, made on first use for one batch size */
    vg_encoder *enc_rt;
    vg_head *head_rt;
    vg_tensor *frames_rt;
    int rt_batch;
    int params_dirty;        /* params changed since head_rt last saw them */
};

/* A model from a config, encoder weights from w and predictor parameters from params
 * (copied; NULL: PyTorch's default initialisation from seed). */
int vg_model_create_from(const vg_predictor_config *cfg, const vg_weights *w,
                         const float *params, uint64_t seed, int threads, vg_model **out,
                         vg_error *err);

/* The stored encoder weights as a weights source. */
vg_weights vg_model_encoder_weights(vg_model *m);

/* Plans the model's encoder for batches of n frames. */
int vg_model_plan_encoder(vg_model *m, int n, vg_encoder **out, vg_error *err);

/* Copies frame t of sequence b's taps (encoder batch index b*T + t) into the head inputs. */
int vg_model_fill_head(const vg_model *m, vg_head *h, const vg_encoder *enc, int batch,
                       vg_error *err);

/* The gradients of the last step (the trainable prefix of the parameter table). */
const float *vg_trainer_grads(const vg_trainer *t);

#endif
