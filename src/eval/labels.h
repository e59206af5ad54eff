/* labels.h - what labels.c (the object, JSON files) and intervals.c (the text format)
 * share: per clip, either one label per frame (JSON) or anomalous spans (intervals). */
#ifndef VG_EVAL_LABELS_H
#define VG_EVAL_LABELS_H

#include <stddef.h>

#include "core/status.h"

typedef struct vg_span {
    int start, end, line; /* frames start..end (inclusive); the line that gave them */
} vg_span;

typedef struct vg_clip_labels {
    char *name;
    int n;                /* JSON: frames labelled */
    unsigned char *label; /* JSON: n labels */
    vg_span *spans;       /* intervals: the clip's spans, n_spans of them */
    int n_spans, cap;
} vg_clip_labels;

struct vg_labels {
    char *path;
    int intervals; /* the file is in the intervals form */
    int n, cap;
    vg_clip_labels *clips;
};

/* The clip called name, or NULL. */
vg_clip_labels *vg_labels_find(const vg_labels *l, const char *name);

/* A new clip called name (len bytes) at the end of l, or NULL (out of memory). */
vg_clip_labels *vg_labels_add(vg_labels *l, const char *name, size_t len);

/* Parses text (the whole intervals file, 0-terminated, len bytes) into l. */
int vg_intervals_parse(vg_labels *l, const char *text, size_t len, vg_error *err);

#endif
