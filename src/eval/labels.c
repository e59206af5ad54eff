/* labels.c - ground truth per frame: the vg_labels object, its JSON form (that of
 * ../shared/data/ped2: {"clips": {"01": [0, 0, 1, ...], ...}}, one 0/1 per frame, 1 =
 * anomalous) and the lookup that gives a clip's labels for its frame count. The form is
 * told by content: JSON starts with '{', anything else is the intervals form (intervals.c). */
#include "eval/labels.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"

vg_clip_labels *vg_labels_find(const vg_labels *l, const char *name) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->clips[i].name, name)) return &l->clips[i];
    return NULL;
}

vg_clip_labels *vg_labels_add(vg_labels *l, const char *name, size_t len) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        vg_clip_labels *c = realloc(l->clips, (size_t)cap * sizeof *c);
        if (!c) return NULL;
        l->clips = c, l->cap = cap;
    }
    vg_clip_labels *c = &l->clips[l->n];
    memset(c, 0, sizeof *c);
    if (!(c->name = malloc(len + 1))) return NULL;
    memcpy(c->name, name, len);
    c->name[len] = 0;
    l->n++;
    return c;
}

/* Copies clip c (an array of 0s and 1s) into out. */
static int parse_clip(const char *path, const cJSON *c, vg_clip_labels *out, vg_error *err) {
    if (!cJSON_IsArray(c))
        return vg_fail(err, VG_ERR_FORMAT, "%s: clip '%s' is not an array of 0/1 labels", path,
                       c->string);
    out->n = cJSON_GetArraySize(c);
    out->label = malloc((size_t)out->n + 1);
    if (!out->label) return vg_fail(err, VG_ERR_NOMEM, "out of memory for labels");
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

static int parse_json(vg_labels *l, const char *text, vg_error *err) {
    cJSON *root = cJSON_Parse(text);
    const cJSON *clips = cJSON_GetObjectItemCaseSensitive(root, "clips"), *c;
    int rc = !root ? vg_fail(err, VG_ERR_FORMAT, "%s: not valid JSON", l->path)
             : !cJSON_IsObject(clips)
                 ? vg_fail(err, VG_ERR_FORMAT, "%s: no \"clips\" object of per-frame labels",
                           l->path)
                 : VG_OK;
    const cJSON *list = rc ? NULL : clips;
    cJSON_ArrayForEach(c, list) {
        vg_clip_labels *out = vg_labels_add(l, c->string, strlen(c->string));
        rc = out ? parse_clip(l->path, c, out, err)
                 : vg_fail(err, VG_ERR_NOMEM, "out of memory for labels");
        if (rc) break;
    }
    cJSON_Delete(root);
    return rc;
}

int vg_labels_load(const char *path, vg_labels **out, vg_error *err) {
    *out = NULL;
    size_t len = 0;
    char *text = vg_read_file(path, &len, err);
    if (!text) return err->code;
    vg_labels *l = calloc(1, sizeof *l);
    int rc = l && (l->path = strdup(path)) ? VG_OK
                                           : vg_fail(err, VG_ERR_NOMEM, "out of memory for labels");
    const char *first = text + strspn(text, " \t\r\n");
    if (!rc && *first == '{') rc = parse_json(l, text, err);
    else if (!rc) l->intervals = 1, rc = vg_intervals_parse(l, text, len, err);
    free(text);
    if (rc) {
        vg_labels_free(l);
        return rc;
    }
    *out = l;
    return VG_OK;
}

void vg_labels_free(vg_labels *l) {
    if (!l) return;
    for (int i = 0; i < l->n; i++)
        free(l->clips[i].name), free(l->clips[i].label), free(l->clips[i].spans);
    free(l->clips);
    free(l->path);
    free(l);
}

const unsigned char *vg_labels_clip(const vg_labels *l, const char *name, int *n) {
    const vg_clip_labels *c = l->intervals ? NULL : vg_labels_find(l, name);
    *n = c ? c->n : 0;
    return c ? c->label : NULL;
}

/* Intervals: frames not in a span are normal. */
static int spans_to_labels(const vg_labels *l, const vg_clip_labels *c, int n,
                           unsigned char *label, vg_error *err) {
    memset(label, 0, (size_t)n);
    for (int k = 0; c && k < c->n_spans; k++) {
        const vg_span *s = &c->spans[k];
        if (s->end >= n)
            return vg_fail(err, VG_ERR_SHAPE, "%s:%d: span %d..%d of clip '%s' ends past its "
                           "last frame, %d", l->path, s->line, s->start, s->end, c->name, n - 1);
        memset(label + s->start, 1, (size_t)(s->end - s->start + 1));
    }
    return VG_OK;
}

int vg_labels_get(const vg_labels *l, const char *name, int n, unsigned char *label,
                  vg_error *err) {
    const vg_clip_labels *c = vg_labels_find(l, name);
    if (l->intervals) return spans_to_labels(l, c, n, label, err);
    if (!c) return vg_fail(err, VG_ERR_MISSING, "%s: no labels for clip '%s'", l->path, name);
    if (c->n != n)
        return vg_fail(err, VG_ERR_SHAPE, "%s: the footage has %d frames, but the labels of "
                       "'%s' have %d", l->path, n, name, c->n);
    memcpy(label, c->label, (size_t)n);
    return VG_OK;
}
