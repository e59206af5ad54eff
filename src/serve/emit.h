/* emit.h - how vigil watch's threads hand events on: a track is one camera's decider of
 * one event class, whose events get ids unique in the store; the emitter turns them into
 * payloads, posts them to the outbox (alerts unless the camera is in shadow mode) and
 * counts them. Camera threads and the inference worker share one emitter. */
#ifndef VG_SERVE_EMIT_H
#define VG_SERVE_EMIT_H

#include <stdatomic.h>

#include "core/clock.h"
#include "serve/metrics.h"
#include "serve/outbox.h"

typedef struct vg_emitter {
    vg_outbox *outbox;
    vg_metrics *metrics;
    atomic_llong next_id;  /* the next event id (vg_store_next_event_id at start) */
} vg_emitter;

typedef struct vg_track {
    vg_decider *d;
    long long local, global; /* the open event's id from the decider, and in the store */
    vg_metric *events;       /* vigil_events_total{camera, class} */
} vg_track;

int vg_track_init(vg_track *t, const vg_decide_params *p, vg_emitter *e, const char *camera,
                  vg_error *err);
void vg_track_free(vg_track *t);

/* Pushes a value; *emitted = 1 and *ev filled (its id the store's) when an event came. */
int vg_track_push(vg_track *t, vg_emitter *e, long long frame, double time, double value,
                  vg_event *ev, int *emitted, vg_error *err);
/* Ends the open event, if any, as vg_decider_flush does. */
void vg_track_flush(vg_track *t, vg_emitter *e, vg_event *ev, int *emitted);

/* Posts an event of camera (snapshot: its heat map, clip: its video, relative to the
 * store's folder, or NULL). */
int vg_emit_event(vg_emitter *e, const char *camera, int shadow, const vg_event *ev,
                  const char *snapshot, const char *clip, vg_error *err);

/* Where the evidence clip of event id of camera goes, relative to the store's folder. */
void vg_clip_path(char *buf, size_t size, const char *camera, long long id);

/* Posts a camera status ("camera_lost", "camera_found", "drift", ...) with a one-line
 * detail: {"camera", "type": "status", "status", "detail", "time"}. */
int vg_emit_status(vg_emitter *e, const char *camera, int shadow, const char *status,
                   const char *detail, vg_error *err);

#endif
