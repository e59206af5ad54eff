/* store.h - the event store: every event message vigil emits, the deliveries still owed
 * to each sink, operators' feedback, evidence files and an access log, in one SQLite
 * database (WAL mode, so readers never block the writer; a committed message survives a
 * crash of the process). The schema carries its version (PRAGMA user_version) and is
 * migrated forward on open, one step per version; a database from a newer vigil is
 * refused. A store is safe to use from several threads: each call holds the handle's lock
 * for its statements (one connection per handle), so calls on one handle take turns;
 * separate handles on the same file (a thread that writes often) only wait for each
 * other's commits (busy timeout 5 s). */
#ifndef VG_SERVE_STORE_H
#define VG_SERVE_STORE_H

#include "vigil/vigil.h"

typedef struct vg_store vg_store;

/* Opens or creates the database at path and migrates it. VG_ERR_IO when it cannot be
 * opened, VG_ERR_FORMAT for a file that is not a vigil store (not SQLite, or another
 * program's database), is damaged (a quick integrity check runs on open) or is newer than
 * this build. */
int vg_store_open(const char *path, vg_store **out, vg_error *err);
void vg_store_close(vg_store *s); /* accepts NULL */

/* One message: a lifecycle step of an event (new, update, end) or a camera status
 * (camera_lost, camera_found, drift). */
typedef struct vg_message {
    const char *camera;
    long long event_id;         /* 0 for a status message */
    const char *kind;           /* event class ("prediction_error", ...) or status name */
    const char *type;           /* "new", "update", "end" or "status" */
    double time;                /* wall clock, Unix seconds */
    const char *json;           /* the payload, sent as is */
    const char *snapshot, *clip;/* evidence paths relative to the store's folder, or NULL */
} vg_message;

/* Commits m and a pending delivery of it for each of the n sinks named (0 sinks: stored
 * only, as in shadow mode) in one transaction; *seq (may be NULL) gets its sequence
 * number (increasing). Once this returns VG_OK the message survives a crash of the
 * process. The event's row follows: state (open; ended by "end"), start_time, end_time,
 * peak and severity from the payload (the message's time when the payload has no times),
 * the evidence paths once given. VG_ERR_ARG for a message without camera, kind, type or
 * payload, a type other than new/update/end/status, an event id < 1 (0 for status), a
 * payload that is not a JSON object. */
int vg_store_add(vg_store *s, const vg_message *m, const char *const *sinks, int n,
                 long long *seq, vg_error *err);

/* The id after the largest event id ever stored (1 for an empty store; expired events
 * count too), so ids stay unique across restarts. -1 when the store cannot be read. */
long long vg_store_next_event_id(vg_store *s);

/* A message owed to a sink. */
typedef struct vg_pending {
    long long seq;
    char *json;
    char *camera;
    int attempts;                /* failed deliveries so far */
} vg_pending;

/* Up to max messages owed to sink that are due (next attempt time <= now), oldest first,
 * into a new array *out of *n (vg_pending_free). Strictly in order: an owed message that
 * is not due yet holds back every later one (so a receiver never sees an event's end
 * before its new); pass now = INFINITY for everything owed. */
int vg_store_pending(vg_store *s, const char *sink, double now, int max, vg_pending **out,
                     int *n, vg_error *err);
void vg_pending_free(vg_pending *p, int n); /* accepts NULL */

/* The sink delivered seq: its delivery is done. VG_ERR_MISSING when sink owes no seq (for
 * both calls). */
int vg_store_delivered(vg_store *s, const char *sink, long long seq, vg_error *err);
/* The sink failed to deliver seq (why: one line): attempts + 1, next attempt at retry_at. */
int vg_store_failed(vg_store *s, const char *sink, long long seq, const char *why,
                    double retry_at, vg_error *err);
/* Deliveries owed to sink (all, due or not); -1 when the store cannot be read. */
long long vg_store_owed(vg_store *s, const char *sink);

/* Events, newest (largest start_time) first, as a JSON array of objects {"id", "camera",
 * "class", "state": "open"|"ended", "start_time", "end_time", "peak", "severity", "label",
 * "note", "snapshot", "clip", "last": <the latest message's payload>} (null where unknown);
 * camera NULL: all; since: start_time >= since (0: any); limit >= 1. Free *json with
 * free(). */
int vg_store_events_json(vg_store *s, const char *camera, double since, int limit,
                         char **json, vg_error *err);
/* One event in the same form; VG_ERR_MISSING when there is no such id. */
int vg_store_event_json(vg_store *s, long long id, char **json, vg_error *err);
/* The evidence of an event: snapshot and clip paths (relative; NULL when none), free(). */
int vg_store_event_evidence(vg_store *s, long long id, char **snapshot, char **clip,
                            vg_error *err);

/* An operator's verdict on event id: label "normal" (a false alarm: its frames are
 * rare-but-normal) or "anomaly" (confirmed), with a note (may be NULL); VG_ERR_MISSING
 * for an unknown id. */
int vg_store_set_label(vg_store *s, long long id, const char *label, const char *note,
                       vg_error *err);

/* The allowlist's source: the embeddings (vg_scorer_embedding) of an event's frames, kept
 * so that an operator's "normal" verdict can allowlist them, now and after a restart. */

/* Stores n embeddings of dim floats each (v: n * dim, in this machine's byte order) for
 * event id, after those it has. VG_ERR_MISSING for an unknown event, VG_ERR_SHAPE for a
 * dim other than the event's earlier embeddings', VG_ERR_ARG for n or dim below 1. */
int vg_store_add_embeddings(vg_store *s, long long id, const float *v, int dim, int n,
                            vg_error *err);
/* Event id's camera (*camera) and embeddings (*v: *n * *dim floats; NULL, 0, 0 when it has
 * none); free *camera and *v. VG_ERR_MISSING for an unknown event. */
int vg_store_event_embeddings(vg_store *s, long long id, char **camera, float **v, int *dim,
                              int *n, vg_error *err);
/* The ids of camera's events (NULL: every camera's) labelled label, oldest first, into a
 * new array *ids of *n (free; NULL when none). */
int vg_store_labelled(vg_store *s, const char *camera, const char *label, long long **ids,
                      int *n, vg_error *err);

/* Someone (who: token holder or address) read what (a snapshot or clip path) at time. */
int vg_store_log_access(vg_store *s, const char *who, const char *what, double time,
                        vg_error *err);

/* An evidence file written (path relative to the store's folder, its bytes), for
 * retention. */
int vg_store_add_file(vg_store *s, const char *path, long long bytes, double time,
                      vg_error *err);
/* Retention: the files older than before (0: none) and then the oldest ones until the
 * total is at most max_bytes (0: no limit) are forgotten, and the events that pointed to
 * them lose that snapshot or clip path; *paths gets them (*n of them, free each and the
 * array; NULL and 0 when none) for the caller to delete. With before > 0 the records go
 * too: events that ended with their last message before it, their messages and
 * embeddings, status messages older than it, and those messages' deliveries, owed or not
 * (nothing is kept past retention). Kept: events labelled "normal", which feed the
 * allowlist (their evidence files still go), and the access log, the audit trail. */
int vg_store_expire(vg_store *s, double before, double max_bytes, char ***paths, int *n,
                    vg_error *err);

#endif
