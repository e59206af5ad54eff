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
                             .step = 1, .width = 224, .height = 224};
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
    if (n == 0) return VG_OK; /* the U-Net has no frozen encoder */
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

void vg_model_table(const vg_predictor_config *cfg, vg_param_table *out) {
    if (cfg->encoder == VG_ENCODER_UNET) vg_unet_params(cfg, out);
    else vg_predictor_params(cfg, out);
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
    vg_model_table(cfg, &m->table);
    m->params = malloc(m->table.total * sizeof *m->params);
    m->params_dirty = 1;
    rc = m->params ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "out of memory for parameters");
    if (!rc) rc = vg_ctx_create(threads, &m->ctx, err);
    if (!rc) rc = store_load(&m->enc, cfg->encoder, w, err);
    if (!rc && params) memcpy(m->params, params, m->table.total * sizeof *params);
    if (!rc && !params) vg_params_init(&m->table, m->params, seed);
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
    vg_net_free(&m->net_rt);
    vg_tensor_free(m->frames_rt);
    vg_encoder_free(m->enc_cache);
    vg_tensor_free(m->enc_cache_in);
    store_free(&m->enc);
    free(m->params);
    free(m->sections);
    vg_ctx_free(m->ctx);
    free(m);
}

static int config_from_params(const vg_model_params *p, vg_predictor_config *cfg,
                              vg_error *err) {
    int rc = vg_encoder_kind_parse(p->encoder, &cfg->encoder, err);
    if (!rc) rc = vg_variant_parse(p->variant ? p->variant : "", &cfg->variant, err);
    cfg->frames = p->frames;
    cfg->step = p->step;
    cfg->width = p->width;
    cfg->height = p->height;
    return rc ? rc : vg_predictor_config_check(cfg, err);
}

int vg_model_create(const vg_model_params *p, vg_model **out, vg_error *err) {
    *out = NULL;
    vg_predictor_config cfg;
    int rc = config_from_params(p, &cfg, err);
    if (rc) return rc;
    if (cfg.encoder == VG_ENCODER_UNET && p->encoder_weights)
        return vg_fail(err, VG_ERR_ARG, "the unet is trained from scratch and takes no encoder "
                       "weights (got '%s')", p->encoder_weights);
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
                       .frames = m->cfg.frames, .step = m->cfg.step,
                       .context = vg_predictor_context(&m->cfg), .width = m->cfg.width,
                       .height = m->cfg.height,
                       .trainable_params = (long long)m->table.trainable,
                       .frozen_params = m->enc.n ? (long long)m->enc.offset[m->enc.n] : 0};
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
    cJSON_AddNumberToObject(root, "step", i.step);
    cJSON_AddNumberToObject(root, "width", i.width);
    cJSON_AddNumberToObject(root, "height", i.height);
    cJSON *norm = cJSON_AddObjectToObject(root, "normalisation");
    cJSON_AddItemToObject(norm, "mean", cJSON_CreateFloatArray(i.mean, 3));
    cJSON_AddItemToObject(norm, "std", cJSON_CreateFloatArray(i.std, 3));
    cJSON *sections = m->sections ? cJSON_Parse(m->sections) : NULL, *it;
    cJSON_ArrayForEach(it, sections)
        cJSON_AddItemToObject(root, it->string, cJSON_Duplicate(it, 1));
    cJSON_Delete(sections);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

int vg_model_save(const vg_model *m, const char *path, vg_error *err) {
    int n = m->enc.n + m->table.n;
    vg_tensor_entry *e = calloc((size_t)n, sizeof *e);
    char (*names)[64] = calloc((size_t)m->enc.n + 1, sizeof *names); /* + 1: the U-Net's 0 */
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

/* The metadata keys that describe the architecture; every other key is a section. */
static int reserved_key(const char *key) {
    static const char *const keys[] = {"format", "encoder", "variant", "frames", "step",
                                       "width",  "height",  "normalisation"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strcmp(key, keys[i])) return 1;
    return 0;
}

/* The sections of a metadata object as a JSON object's text, or NULL when there are none. */
static char *sections_of(const cJSON *root) {
    cJSON *out = cJSON_CreateObject(), *it;
    cJSON_ArrayForEach(it, root)
        if (!reserved_key(it->string)) cJSON_AddItemToObject(out, it->string, cJSON_Duplicate(it, 1));
    char *s = cJSON_GetArraySize(out) ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    return s;
}

int vg_model_set_meta(vg_model *m, const char *section, const char *json, vg_error *err) {
    if (!section || !*section || reserved_key(section))
        return vg_fail(err, VG_ERR_ARG, "'%s' is not a metadata section name",
                       section ? section : "");
    cJSON *val = json ? cJSON_Parse(json) : NULL;
    if (json && !cJSON_IsObject(val)) {
        cJSON_Delete(val);
        return vg_fail(err, VG_ERR_ARG, "metadata section '%s' is not a JSON object", section);
    }
    cJSON *root = m->sections ? cJSON_Parse(m->sections) : cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(root, section);
    if (val) cJSON_AddItemToObject(root, section, val);
    char *s = sections_of(root);
    cJSON_Delete(root);
    free(m->sections);
    m->sections = s;
    return VG_OK;
}

char *vg_model_get_meta(const vg_model *m, const char *section) {
    cJSON *root = m->sections ? cJSON_Parse(m->sections) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, section);
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(root);
    return s;
}

static int json_int(const cJSON *o, const char *key, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return 0;
    *out = v->valueint;
    return 1;
}

static int parse_metadata(const char *path, const char *json, vg_predictor_config *cfg,
                          char **sections, vg_error *err) {
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
    /* models written before the step existed saw consecutive frames */
    if (!rc && !cJSON_HasObjectItem(root, "step")) cfg->step = 1;
    else if (!rc && !json_int(root, "step", &cfg->step))
        rc = vg_fail(err, VG_ERR_FORMAT, "%s: model metadata 'step' is not a number", path);
    if (!rc) rc = vg_encoder_kind_parse(enc->valuestring, &cfg->encoder, err);
    if (!rc) rc = vg_variant_parse(var->valuestring, &cfg->variant, err);
    if (!rc) rc = vg_predictor_config_check(cfg, err);
    if (!rc) *sections = sections_of(root);
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
    char *sections = NULL;
    rc = parse_metadata(path, vg_tensorfile_metadata(tf, "vigil"), &cfg, &sections, err);
    vg_param_table t;
    float *params = NULL;
    if (!rc) {
        vg_model_table(&cfg, &t);
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
    if (!rc) (*out)->sections = sections;
    else free(sections);
    free(params);
    vg_tensorfile_close(tf);
    return rc;
}

/* ---- inference ------------------------------------------------------------------------- */

int vg_model_plan_encoder(vg_model *m, int n, vg_encoder **out, vg_error *err) {
    vg_weights w = vg_model_encoder_weights(m);
    vg_shape s = {n, 3, m->cfg.height, m->cfg.width};
    int rc = vg_ctx_set_precision(m->ctx, m->bf16 ? VG_PRECISION_BF16 : VG_PRECISION_FP32, err);
    if (!rc) rc = vg_encoder_create(m->ctx, m->cfg.encoder, &w, s, out, err);
    vg_ctx_set_precision(m->ctx, VG_PRECISION_FP32, NULL);
    return rc;
}

int vg_model_set_bf16(vg_model *m, int on, vg_error *err) {
    if (on) {
        /* refuse now rather than at the first plan */
        int rc = vg_ctx_set_precision(m->ctx, VG_PRECISION_BF16, err);
        vg_ctx_set_precision(m->ctx, VG_PRECISION_FP32, NULL);
        if (rc) return rc;
    }
    if (m->bf16 != !!on) {
        /* plans made in the other precision go; the next use makes new ones */
        vg_encoder_free(m->enc_rt), vg_encoder_free(m->enc_cache);
        vg_tensor_free(m->frames_rt), vg_tensor_free(m->enc_cache_in);
        vg_net_free(&m->net_rt);
        m->enc_rt = m->enc_cache = NULL, m->frames_rt = m->enc_cache_in = NULL;
        m->rt_batch = m->enc_cache_n = 0;
    }
    m->bf16 = !!on;
    return VG_OK;
}

/* Copies frame t of sequence b's taps (encoder batch index b*T + t) into the head inputs. */
static int fill_head(const vg_model *m, vg_net *net, const vg_encoder *enc, int batch,
                     vg_error *err) {
    static const int strides[3] = {32, 16, 8};
    int T = m->cfg.frames, rc = VG_OK;
    for (int k = 0; k < 3 && !rc; k++) {
        vg_tensor *dst = vg_net_input(net, k);
        if (!dst) continue;
        const vg_tensor *src = vg_encoder_tap(enc, strides[k]);
        int c = vg_tensor_shape(src).c;
        for (int b = 0; b < batch && !rc; b++)
            for (int t = 0; t < T && !rc; t++)
                rc = vg_tensor_copy_region(dst, b, t * c, src, b * T + t, 0, 1, c, err);
    }
    return rc;
}

int vg_model_set_inputs(const vg_model *m, vg_net *net, vg_encoder *enc, vg_tensor *in,
                        const float *frames, int batch, vg_error *err) {
    if (vg_model_is_unet(m)) return vg_tensor_write(vg_net_input(net, 0), frames, err);
    int rc = vg_tensor_write(in, frames, err);
    if (!rc) rc = vg_encoder_forward(enc, in, err);
    return rc ? rc : fill_head(m, net, enc, batch, err);
}

/* Plans encoder and network for batch sequences, reusing the plans of the last call. */
static int plan_inference(vg_model *m, int batch, vg_error *err) {
    if (m->rt_batch == batch) return VG_OK;
    vg_encoder_free(m->enc_rt);
    vg_net_free(&m->net_rt);
    vg_tensor_free(m->frames_rt);
    vg_encoder_free(m->enc_cache);
    vg_tensor_free(m->enc_cache_in);
    m->enc_rt = NULL, m->frames_rt = NULL;
    int n = batch * m->cfg.frames, rc = vg_net_create(m, batch, 0, m->bf16, &m->net_rt, err);
    if (!rc && !vg_model_is_unet(m)) {
        rc = vg_model_plan_encoder(m, n, &m->enc_rt, err);
        if (!rc)
            rc = vg_tensor_create(m->ctx, (vg_shape){n, 3, m->cfg.height, m->cfg.width},
                                  &m->frames_rt, err);
    }
    m->rt_batch = rc ? 0 : batch;
    m->params_dirty = 1;
    return rc;
}

int vg_model_predict(vg_model *m, const float *frames, int batch, float *pred, vg_error *err) {
    if (batch < 1) return vg_fail(err, VG_ERR_ARG, "batch size %d is not positive", batch);
    int rc = plan_inference(m, batch, err);
    if (!rc && m->params_dirty) rc = vg_net_set_params(&m->net_rt, m->params, err);
    if (rc) return rc;
    m->params_dirty = 0;
    rc = vg_model_set_inputs(m, &m->net_rt, m->enc_rt, m->frames_rt, frames, batch, err);
    if (!rc) rc = vg_net_forward(&m->net_rt, m->params, 0, 0, err);
    return rc ? rc : vg_tensor_read(vg_net_output(&m->net_rt), pred, err);
}
