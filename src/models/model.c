/* model.c - creating, loading, saving and running a vigil model. */
#include "models/model.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "io/tensorfile.h"
#include "models/init.h"

#define MODEL_FORMAT 1

vg_model_params vg_model_default_params(void) {
    return (vg_model_params){.encoder = "resnet18", .variant = "base", .frames = 4,
                             .width = 224, .height = 224};
}

static void store_free(vg_encoder_store *s) {
    free(s->names);
    free(s->ndim);
    free(s->shape);
    free(s->offset);
    free(s->data);
}

/* Copies every encoder parameter of kind out of w. */
static int store_load(vg_encoder_store *s, vg_encoder_kind kind, const vg_weights *w,
                      vg_error *err) {
    int n = vg_encoder_param_count(kind);
    s->n = n;
    s->names = calloc((size_t)n, sizeof *s->names);
    s->ndim = calloc((size_t)n, sizeof *s->ndim);
    s->shape = calloc((size_t)n, sizeof *s->shape);
    s->offset = calloc((size_t)n + 1, sizeof *s->offset);
    if (!s->names || !s->ndim || !s->shape || !s->offset)
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for encoder weights");
    for (int i = 0; i < n; i++) {
        vg_encoder_param(kind, i, &s->names[i], &s->ndim[i], s->shape[i]);
        size_t count = 1;
        for (int d = 0; d < s->ndim[i]; d++) count *= (size_t)s->shape[i][d];
        s->offset[i + 1] = s->offset[i] + count;
    }
    s->data = malloc(s->offset[n] * sizeof *s->data);
    if (!s->data) return vg_fail(err, VG_ERR_NOMEM, "out of memory for encoder weights");
    for (int i = 0; i < n; i++) {
        const float *src = w->get(w->user, s->names[i], s->ndim[i], s->shape[i], err);
        if (!src) return err ? err->code : VG_ERR_MISSING;
        memcpy(s->data + s->offset[i], src, (s->offset[i + 1] - s->offset[i]) * sizeof *src);
    }
    return VG_OK;
}

static const float *store_get(void *user, const char *name, int ndim, const int64_t *shape,
                              vg_error *err) {
    const vg_encoder_store *s = user;
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], name)) continue;
        if (s->ndim[i] != ndim || memcmp(s->shape[i], shape, (size_t)ndim * sizeof *shape))
            break;
        return s->data + s->offset[i];
    }
    vg_fail(err, VG_ERR_MISSING, "encoder tensor '%s' is missing", name);
    return NULL;
}

vg_weights vg_model_encoder_weights(vg_model *m) {
    return (vg_weights){.get = store_get, .user = &m->enc};
}

int vg_model_create_from(const vg_predictor_config *cfg, const vg_weights *w,
                         const float *params, uint64_t seed, int threads, vg_model **out,
                         vg_error *err) {
    *out = NULL;
    int rc = vg_predictor_config_check(cfg, err);
    if (rc) return rc;
    vg_model *m = calloc(1, sizeof *m);
    if (!m) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a model");
    m->cfg = *cfg;
    vg_predictor_params(cfg, &m->table);
    m->params = malloc(m->table.total * sizeof *m->params);
    m->params_dirty = 1;
    rc = m->params ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "out of memory for parameters");
    if (!rc) rc = vg_ctx_create(threads, &m->ctx, err);
    if (!rc) rc = store_load(&m->enc, cfg->encoder, w, err);
    if (!rc && params) memcpy(m->params, params, m->table.total * sizeof *params);
    if (!rc && !params) vg_predictor_init(&m->table, m->params, seed);
    if (rc) {
        vg_model_free(m);
        return rc;
    }
    *out = m;
    return VG_OK;
}

void vg_model_free(vg_model *m) {
    if (!m) return;
    vg_encoder_free(m->enc_rt);
    vg_head_free(m->head_rt);
    vg_tensor_free(m->frames_rt);
    store_free(&m->enc);
    free(m->params);
    free(m->training_json);
    vg_ctx_free(m->ctx);
    free(m);
}

static int config_from_params(const vg_model_params *p, vg_predictor_config *cfg,
                              vg_error *err) {
    int rc = vg_encoder_kind_parse(p->encoder, &cfg->encoder, err);
    if (!rc) rc = vg_variant_parse(p->variant ? p->variant : "", &cfg->variant, err);
    cfg->frames = p->frames;
    cfg->width = p->width;
    cfg->height = p->height;
    return rc ? rc : vg_predictor_config_check(cfg, err);
}

int vg_model_create(const vg_model_params *p, vg_model **out, vg_error *err) {
    *out = NULL;
    vg_predictor_config cfg;
    int rc = config_from_params(p, &cfg, err);
    if (rc) return rc;
    if (!p->encoder_weights) {
        /* random encoder by the fixture rule: speed measurements and tests only */
        vg_fixture_weights *fw = NULL;
        rc = vg_fixture_weights_create(p->seed, "encoder.", &fw, err);
        vg_weights w = rc ? (vg_weights){0} : vg_fixture_weights_source(fw);
        if (!rc) rc = vg_model_create_from(&cfg, &w, NULL, p->seed, p->threads, out, err);
        vg_fixture_weights_free(fw);
        return rc;
    }
    vg_tensorfile *tf = NULL;
    rc = vg_tensorfile_open(p->encoder_weights, &tf, err);
    if (rc) return rc;
    vg_file_weights fw = {tf, ""};
    vg_weights w = vg_weights_from_file(&fw);
    rc = vg_model_create_from(&cfg, &w, NULL, p->seed, p->threads, out, err);
    vg_tensorfile_close(tf);
    return rc;
}

vg_model_info vg_model_describe(const vg_model *m) {
    vg_encoder_info e = vg_encoder_describe(m->cfg.encoder);
    vg_model_info i = {.encoder = e.name, .variant = vg_variant_name(m->cfg.variant),
                       .frames = m->cfg.frames, .width = m->cfg.width,
                       .height = m->cfg.height,
                       .trainable_params = (long long)m->table.trainable,
                       .frozen_params = (long long)m->enc.offset[m->enc.n]};
    memcpy(i.mean, e.mean, sizeof i.mean);
    memcpy(i.std, e.std, sizeof i.std);
    return i;
}

/* ---- model file ------------------------------------------------------------------------ */

static char *metadata_json(const vg_model *m) {
    vg_model_info i = vg_model_describe(m);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "format", MODEL_FORMAT);
    cJSON_AddStringToObject(root, "encoder", i.encoder);
    cJSON_AddStringToObject(root, "variant", i.variant);
    cJSON_AddNumberToObject(root, "frames", i.frames);
    cJSON_AddNumberToObject(root, "width", i.width);
    cJSON_AddNumberToObject(root, "height", i.height);
    cJSON *norm = cJSON_AddObjectToObject(root, "normalisation");
    cJSON_AddItemToObject(norm, "mean", cJSON_CreateFloatArray(i.mean, 3));
    cJSON_AddItemToObject(norm, "std", cJSON_CreateFloatArray(i.std, 3));
    if (m->training_json) cJSON_AddItemToObject(root, "training", cJSON_Parse(m->training_json));
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

int vg_model_save(const vg_model *m, const char *path, vg_error *err) {
    int n = m->enc.n + m->table.n;
    vg_tensor_entry *e = calloc((size_t)n, sizeof *e);
    char (*names)[64] = calloc((size_t)m->enc.n, sizeof *names);
    char *meta = metadata_json(m);
    int rc = e && names && meta ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "out of memory saving");
    for (int i = 0; !rc && i < m->enc.n; i++) {
        snprintf(names[i], sizeof names[i], "encoder.%s", m->enc.names[i]);
        e[i] = (vg_tensor_entry){names[i], m->enc.ndim[i], {0}, m->enc.data + m->enc.offset[i]};
        memcpy(e[i].shape, m->enc.shape[i], sizeof m->enc.shape[i]);
    }
    for (int i = 0; !rc && i < m->table.n; i++) {
        const vg_param *p = &m->table.p[i];
        vg_tensor_entry *t = &e[m->enc.n + i];
        *t = (vg_tensor_entry){p->name, p->ndim, {0}, m->params + p->offset};
        memcpy(t->shape, p->shape, sizeof p->shape);
    }
    const char *key = "vigil";
    const char *val = meta;
    if (!rc) rc = vg_safetensors_write(path, e, n, &key, &val, 1, err);
    free(e);
    free(names);
    cJSON_free(meta);
    return rc;
}

static int json_int(const cJSON *o, const char *key, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return 0;
    *out = v->valueint;
    return 1;
}

static int parse_metadata(const char *path, const char *json, vg_predictor_config *cfg,
                          char **training, vg_error *err) {
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    int format = 0, rc = VG_OK;
    if (!root || !json_int(root, "format", &format))
        rc = vg_fail(err, VG_ERR_FORMAT, "%s: not a vigil model (no 'vigil' metadata)", path);
    else if (format != MODEL_FORMAT)
        rc = vg_fail(err, VG_ERR_UNSUPPORTED, "%s: model format %d, this vigil reads %d", path,
                     format, MODEL_FORMAT);
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(root, "encoder");
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(root, "variant");
    if (!rc && (!cJSON_IsString(enc) || !cJSON_IsString(var) ||
                !json_int(root, "frames", &cfg->frames) ||
                !json_int(root, "width", &cfg->width) ||
                !json_int(root, "height", &cfg->height)))
        rc = vg_fail(err, VG_ERR_FORMAT, "%s: model metadata lacks encoder, variant, frames, "
                     "width or height", path);
    if (!rc) rc = vg_encoder_kind_parse(enc->valuestring, &cfg->encoder, err);
    if (!rc) rc = vg_variant_parse(var->valuestring, &cfg->variant, err);
    if (!rc) rc = vg_predictor_config_check(cfg, err);
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "training");
    if (!rc && tr) *training = cJSON_PrintUnformatted(tr);
    cJSON_Delete(root);
    if (rc && rc != VG_ERR_FORMAT && rc != VG_ERR_UNSUPPORTED) vg_wrap(err, path);
    return rc;
}

int vg_model_load(const char *path, int threads, vg_model **out, vg_error *err) {
    *out = NULL;
    vg_tensorfile *tf = NULL;
    int rc = vg_tensorfile_open(path, &tf, err);
    if (rc) return rc;
    vg_predictor_config cfg;
    char *training = NULL;
    rc = parse_metadata(path, vg_tensorfile_metadata(tf, "vigil"), &cfg, &training, err);
    vg_param_table t;
    float *params = NULL;
    if (!rc) {
        vg_predictor_params(&cfg, &t);
        params = malloc(t.total * sizeof *params);
        if (!params) rc = vg_fail(err, VG_ERR_NOMEM, "out of memory loading %s", path);
    }
    for (int i = 0; !rc && i < t.n; i++) {
        const float *src = vg_tensorfile_get(tf, t.p[i].name, t.p[i].ndim, t.p[i].shape, err);
        if (!src) rc = err ? err->code : VG_ERR_MISSING;
        else memcpy(params + t.p[i].offset, src, t.p[i].count * sizeof *src);
    }
    vg_file_weights fw = {tf, "encoder."};
    vg_weights w = vg_weights_from_file(&fw);
    if (!rc) rc = vg_model_create_from(&cfg, &w, params, 0, threads, out, err);
    if (!rc) (*out)->training_json = training;
    else free(training);
    free(params);
    vg_tensorfile_close(tf);
    return rc;
}

/* ---- inference ------------------------------------------------------------------------- */

int vg_model_plan_encoder(vg_model *m, int n, vg_encoder **out, vg_error *err) {
    vg_weights w = vg_model_encoder_weights(m);
    vg_shape s = {n, 3, m->cfg.height, m->cfg.width};
    return vg_encoder_create(m->ctx, m->cfg.encoder, &w, s, out, err);
}

int vg_model_fill_head(const vg_model *m, vg_head *h, const vg_encoder *enc, int batch,
                       vg_error *err) {
    static const int strides[3] = {32, 16, 8};
    int T = m->cfg.frames, rc = VG_OK;
    for (int k = 0; k < 3 && !rc; k++) {
        vg_tensor *dst = vg_head_input(h, strides[k]);
        if (!dst) continue;
        const vg_tensor *src = vg_encoder_tap(enc, strides[k]);
        int c = vg_tensor_shape(src).c;
        for (int b = 0; b < batch && !rc; b++)
            for (int t = 0; t < T && !rc; t++)
                rc = vg_tensor_copy_region(dst, b, t * c, src, b * T + t, 0, 1, c, err);
    }
    return rc;
}

/* Plans encoder and head for batch sequences, reusing the plans of the last call. */
static int plan_inference(vg_model *m, int batch, vg_error *err) {
    if (m->head_rt && m->rt_batch == batch) return VG_OK;
    vg_encoder_free(m->enc_rt);
    vg_head_free(m->head_rt);
    vg_tensor_free(m->frames_rt);
    m->enc_rt = NULL, m->head_rt = NULL, m->frames_rt = NULL;
    int n = batch * m->cfg.frames;
    int rc = vg_model_plan_encoder(m, n, &m->enc_rt, err);
    if (!rc) rc = vg_head_create(m->ctx, &m->cfg, batch, 0, &m->head_rt, err);
    if (!rc)
        rc = vg_tensor_create(m->ctx, (vg_shape){n, 3, m->cfg.height, m->cfg.width},
                              &m->frames_rt, err);
    m->rt_batch = rc ? 0 : batch;
    m->params_dirty = 1;
    return rc;
}

int vg_model_predict(vg_model *m, const float *frames, int batch, float *pred, vg_error *err) {
    if (batch < 1) return vg_fail(err, VG_ERR_ARG, "batch size %d is not positive", batch);
    int rc = plan_inference(m, batch, err);
    if (!rc && m->params_dirty) rc = vg_head_set_params(m->head_rt, m->params, err);
    if (rc) return rc;
    m->params_dirty = 0;
    rc = vg_tensor_write(m->frames_rt, frames, err);
    if (!rc) rc = vg_encoder_forward(m->enc_rt, m->frames_rt, err);
    if (!rc) rc = vg_model_fill_head(m, m->head_rt, m->enc_rt, batch, err);
    if (!rc) rc = vg_head_forward(m->head_rt, m->params, 0, 0, err);
    return rc ? rc : vg_tensor_read(vg_head_output(m->head_rt), pred, err);
}
