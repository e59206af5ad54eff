/* checkpoint.c - the optimiser state file beside a checkpointed model (checkpoint.h). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/tensorfile.h"
#include "models/model.h"
#include "train/checkpoint.h"

static void state_path(char *out, size_t size, const char *path) {
    snprintf(out, size, "%s.state", path);
}

int vg_checkpoint_save(const char *path, const vg_model *m, vg_trainer *t, int epoch,
                       int batch, vg_error *err) {
    char sp[4096], meta[160];
    state_path(sp, sizeof sp, path);
    float *mom, *vel;
    size_t n;
    long long *steps;
    vg_trainer_state(t, &mom, &vel, &n, &steps);
    vg_tensor_entry e[2] = {{"adam.m", 1, {(int64_t)n}, mom}, {"adam.v", 1, {(int64_t)n}, vel}};
    snprintf(meta, sizeof meta, "{\"epoch\":%d,\"batch\":%d,\"steps\":%lld}", epoch, batch,
             *steps);
    const char *key = "vigil_state", *val = meta;
    /* the model first: a state file never describes a model older than the one beside it */
    int rc = vg_model_save(m, path, err);
    if (!rc) rc = vg_safetensors_write(sp, e, 2, &key, &val, 1, err);
    return rc;
}

int vg_checkpoint_load_state(const char *path, vg_trainer *t, int *epoch, int *batch,
                             vg_error *err) {
    char sp[4096];
    if (!path) return vg_fail(err, VG_ERR_ARG, "resuming needs a checkpoint path");
    state_path(sp, sizeof sp, path);
    vg_tensorfile *tf = NULL;
    int rc = vg_tensorfile_open(sp, &tf, err);
    if (rc) return rc;
    cJSON *j = cJSON_Parse(vg_tensorfile_metadata(tf, "vigil_state"));
    float *mom, *vel;
    size_t n;
    long long *steps;
    vg_trainer_state(t, &mom, &vel, &n, &steps);
    int64_t shape[1] = {(int64_t)n};
    const float *m = vg_tensorfile_get(tf, "adam.m", 1, shape, err);
    const float *v = m ? vg_tensorfile_get(tf, "adam.v", 1, shape, err) : NULL;
    const cJSON *je = cJSON_GetObjectItem(j, "epoch"), *jb = cJSON_GetObjectItem(j, "batch"),
                *js = cJSON_GetObjectItem(j, "steps");
    if (!m || !v) rc = err->code;
    else if (!cJSON_IsNumber(je) || !cJSON_IsNumber(jb) || !cJSON_IsNumber(js) ||
             je->valuedouble < 0 || jb->valuedouble < 0 || js->valuedouble < 0)
        rc = vg_fail(err, VG_ERR_FORMAT, "%s: training state metadata is missing or corrupt", sp);
    if (!rc) {
        *epoch = je->valueint;
        *batch = jb->valueint;
        *steps = (long long)js->valuedouble;
    }
    cJSON_Delete(j);
    if (!rc) {
        memcpy(mom, m, n * sizeof *mom);
        memcpy(vel, v, n * sizeof *vel);
    }
    vg_tensorfile_close(tf);
    return rc;
}
