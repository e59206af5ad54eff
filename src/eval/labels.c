/* labels.c - ground truth per frame, from the JSON form of ../shared/data/ped2:
 * {"clips": {"01": [0, 0, 1, ...], ...}}, one 0/1 per frame, 1 = anomalous. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

typedef struct clip_labels {
    char *name;
    int n;
    unsigned char *label;
} clip_labels;

struct vg_labels {
    int n;
    clip_labels *clips;
};

static char *read_all(const char *path, vg_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        vg_fail(err, VG_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *b = realloc(buf, cap *= 2);
        if (!b) free(buf);
        buf = b;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        vg_fail(err, bad ? VG_ERR_IO : VG_ERR_NOMEM, "%s: cannot read", path);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* Copies clip c (an array of 0s and 1s) into out. */
static int parse_clip(const char *path, const cJSON *c, clip_labels *out, vg_error *err) {
    if (!cJSON_IsArray(c))
        return vg_fail(err, VG_ERR_FORMAT, "%s: clip '%s' is not an array of 0/1 labels", path,
                       c->string);
    out->n = cJSON_GetArraySize(c);
    out->name = strdup(c->string);
    out->label = malloc((size_t)out->n + 1);
    if (!out->name || !out->label) return vg_fail(err, VG_ERR_NOMEM, "out of memory for labels");
    const cJSON *v;
    int i = 0;
    cJSON_ArrayForEach(v, c) {
        if (!cJSON_IsNumber(v) || (v->valuedouble != 0 && v->valuedouble != 1))
            return vg_fail(err, VG_ERR_FORMAT, "%s: clip '%s' frame %d: label is not 0 or 1",
                           path, c->string, i);
        out->label[i++] = (unsigned char)v->valueint;
    }
    return VG_OK;
}

int vg_labels_load(const char *path, vg_labels **out, vg_error *err) {
    *out = NULL;
    char *text = read_all(path, err);
    if (!text) return err->code;
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *clips = cJSON_GetObjectItemCaseSensitive(root, "clips"), *c;
    vg_labels *l = calloc(1, sizeof *l);
    int rc = !l ? vg_fail(err, VG_ERR_NOMEM, "out of memory for labels")
             : !root ? vg_fail(err, VG_ERR_FORMAT, "%s: not valid JSON", path)
             : !cJSON_IsObject(clips)
                 ? vg_fail(err, VG_ERR_FORMAT, "%s: no \"clips\" object of per-frame labels", path)
                 : VG_OK;
    if (!rc && !(l->clips = calloc((size_t)cJSON_GetArraySize(clips) + 1, sizeof *l->clips)))
        rc = vg_fail(err, VG_ERR_NOMEM, "out of memory for labels");
    if (!rc) {
        cJSON_ArrayForEach(c, clips) {
            if ((rc = parse_clip(path, c, &l->clips[l->n++], err))) break;
        }
    }
    cJSON_Delete(root);
    if (rc) {
        vg_labels_free(l);
        return rc;
    }
    *out = l;
    return VG_OK;
}

void vg_labels_free(vg_labels *l) {
    if (!l) return;
    for (int i = 0; i < l->n; i++) free(l->clips[i].name), free(l->clips[i].label);
    free(l->clips);
    free(l);
}

const unsigned char *vg_labels_clip(const vg_labels *l, const char *clip, int *n) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->clips[i].name, clip)) {
            *n = l->clips[i].n;
            return l->clips[i].label;
        }
    *n = 0;
    return NULL;
}
