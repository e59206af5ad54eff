/* emit.c - tracks and the emitter (see emit.h). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/status.h"
#include "serve/emit.h"

int vg_track_init(vg_track *t, const vg_decide_params *p, vg_emitter *e, const char *camera,
                  vg_error *err) {
    *t = (vg_track){0};
    char labels[160];
    snprintf(labels, sizeof labels, "camera=\"%s\",class=\"%s\"", camera,
             vg_event_class_name(p->event_class));
    t->events = vg_metrics_counter(e->metrics, "vigil_events_total",
                                   "Events opened, by camera and class", labels);
    return vg_decider_create(p, &t->d, err);
}

void vg_track_free(vg_track *t) {
    vg_decider_free(t->d);
    t->d = NULL;
}

/* The store's id for the decider's event: a new one for a NEW. */
static void relabel(vg_track *t, vg_emitter *e, vg_event *ev) {
    if (ev->type == VG_EVENT_NEW) {
        t->local = ev->id;
        t->global = atomic_fetch_add(&e->next_id, 1);
        vg_metric_add(t->events, 1);
    }
    ev->id = t->global;
}

int vg_track_push(vg_track *t, vg_emitter *e, long long frame, double time, double value,
                  vg_event *ev, int *emitted, vg_error *err) {
    int rc = vg_decider_push(t->d, frame, time, value, ev, emitted, err);
    if (!rc && *emitted) relabel(t, e, ev);
    return rc;
}

void vg_track_flush(vg_track *t, vg_emitter *e, vg_event *ev, int *emitted) {
    vg_decider_flush(t->d, ev, emitted);
    if (*emitted) relabel(t, e, ev);
}

static const char *type_name(vg_event_type t) {
    return t == VG_EVENT_NEW ? "new" : t == VG_EVENT_UPDATE ? "update" : "end";
}

void vg_clip_path(char *buf, size_t size, const char *camera, long long id) {
    snprintf(buf, size, "clips/%s/%lld.mp4", camera, id);
}

int vg_emit_event(vg_emitter *e, const char *camera, int shadow, const vg_event *ev,
                  const char *snapshot, const char *clip, vg_error *err) {
    char *json = vg_event_json(ev, camera, snapshot, clip);
    if (!json) return vg_fail(err, VG_ERR_NOMEM, "out of memory for an event");
    vg_message m = {.camera = camera, .event_id = ev->id,
                    .kind = vg_event_class_name(ev->event_class), .type = type_name(ev->type),
                    .time = vg_wall_now(), .json = json, .snapshot = snapshot, .clip = clip};
    int rc = vg_outbox_post(e->outbox, &m, !shadow, err);
    free(json);
    return rc;
}

int vg_emit_status(vg_emitter *e, const char *camera, int shadow, const char *status,
                   const char *detail, vg_error *err) {
    double now = vg_wall_now();
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "camera", camera);
        cJSON_AddStringToObject(o, "type", "status");
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddStringToObject(o, "detail", detail ? detail : "");
        cJSON_AddNumberToObject(o, "time", now);
    }
    char *json = o && cJSON_GetArraySize(o) == 5 ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!json) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a status message");
    vg_message m = {.camera = camera, .kind = status, .type = "status", .time = now,
                    .json = json};
    int rc = vg_outbox_post(e->outbox, &m, !shadow, err);
    free(json);
    return rc;
}
