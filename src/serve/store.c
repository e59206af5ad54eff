/* store.c - the event store's operations (store.h) on one SQLite connection.
 *
 * Every statement is prepared once, at open, and each operation runs under the handle's
 * lock: a statement and a transaction belong to the connection, not to a thread, so two
 * threads sharing a handle must not interleave them. Writes that touch several rows run
 * in one BEGIN IMMEDIATE transaction (it takes the write lock up front, so a second
 * connection waits out the busy timeout instead of failing half-way). The file's layout
 * and migrations are in store_schema.c. */
#include "serve/store.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "serve/store_schema.h"

enum {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_ADD_MESSAGE, ST_ADD_DELIVERY, ST_UPSERT_EVENT, ST_NEXT_EVENT_ID,
    ST_PENDING, ST_DELIVERED, ST_FAILED, ST_OWED,
    ST_EVENTS, ST_EVENTS_CAMERA, ST_EVENT, ST_EVIDENCE, ST_LABEL, ST_LABELLED, ST_ACCESS,
    ST_EVENT_CAMERA, ST_EMBEDDING_DIM, ST_ADD_EMBEDDINGS, ST_EMBEDDINGS,
    ST_ADD_FILE, ST_FILES_TOTAL, ST_FILES_OLDEST, ST_FORGET_FILE, ST_FORGET_EVIDENCE,
    ST_EXPIRE_EVENTS, ST_EXPIRE_MESSAGES,
    ST_COUNT
};

/* The columns of an event as events_json gives it, in event_keys' order, then the latest
 * payload. */
#define EVENT_SELECT                                                                        \
    "SELECT e.id, e.camera, e.class, e.state, e.start_time, e.end_time, e.peak, e.severity, " \
    "e.label, e.note, e.snapshot, e.clip, m.json FROM events e "                            \
    "LEFT JOIN messages m ON m.seq = e.last_seq "
#define EVENT_ORDER " ORDER BY e.start_time DESC, e.id DESC LIMIT ?3"

static const char *const event_keys[] = {"id",       "camera", "class", "state", "start_time",
                                         "end_time", "peak",   "severity", "label", "note",
                                         "snapshot", "clip"};
#define EVENT_KEYS ((int)(sizeof event_keys / sizeof *event_keys))

static const char *const sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_ADD_MESSAGE] = "INSERT INTO messages (event_id, camera, kind, type, time, json) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_ADD_DELIVERY] = "INSERT INTO deliveries (seq, sink) VALUES (?1, ?2)",
    /* ?5..?8: the payload's start_time, end_time, peak, severity (NULL when absent);
     * ?11: the message's time, ?12: its seq */
    [ST_UPSERT_EVENT] =
        "INSERT INTO events (id, camera, class, state, start_time, end_time, peak, severity, "
        "snapshot, clip, first_seq, last_seq, last_time) "
        "VALUES (?1, ?2, ?3, ?4, coalesce(?5, ?11), coalesce(?6, ?11), ?7, ?8, ?9, ?10, "
        "?12, ?12, ?11) "
        "ON CONFLICT (id) DO UPDATE SET state = ?4, start_time = coalesce(?5, start_time), "
        "end_time = coalesce(?6, ?11), peak = coalesce(?7, peak), "
        "severity = coalesce(?8, severity), snapshot = coalesce(?9, snapshot), "
        "clip = coalesce(?10, clip), last_seq = ?12, last_time = ?11",
    [ST_NEXT_EVENT_ID] =
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1",
    [ST_PENDING] = "SELECT d.seq, d.attempts, d.next_try, m.json, m.camera "
                   "FROM deliveries d JOIN messages m ON m.seq = d.seq "
                   "WHERE d.sink = ?1 AND d.done = 0 ORDER BY d.seq LIMIT ?2",
    [ST_DELIVERED] = "UPDATE deliveries SET done = 1, last_error = NULL "
                     "WHERE seq = ?1 AND sink = ?2 AND done = 0",
    [ST_FAILED] = "UPDATE deliveries SET attempts = attempts + 1, last_error = ?3, "
                  "next_try = ?4 WHERE seq = ?1 AND sink = ?2 AND done = 0",
    [ST_OWED] = "SELECT count(*) FROM deliveries WHERE sink = ?1 AND done = 0",
    [ST_EVENTS] = EVENT_SELECT "WHERE e.start_time >= ?2" EVENT_ORDER,
    [ST_EVENTS_CAMERA] = EVENT_SELECT "WHERE e.camera = ?1 AND e.start_time >= ?2" EVENT_ORDER,
    [ST_EVENT] = EVENT_SELECT "WHERE e.id = ?1",
    [ST_EVIDENCE] = "SELECT snapshot, clip FROM events WHERE id = ?1",
    [ST_LABEL] = "UPDATE events SET label = ?2, note = ?3 WHERE id = ?1",
    [ST_LABELLED] = "SELECT id FROM events WHERE label = ?2 AND (?1 IS NULL OR camera = ?1) "
                    "ORDER BY id",
    [ST_EVENT_CAMERA] = "SELECT camera FROM events WHERE id = ?1",
    [ST_EMBEDDING_DIM] = "SELECT dim FROM embeddings WHERE event_id = ?1 LIMIT 1",
    [ST_ADD_EMBEDDINGS] = "INSERT INTO embeddings (event_id, dim, n, data) VALUES (?1, ?2, ?3, ?4)",
    [ST_EMBEDDINGS] = "SELECT dim, n, data FROM embeddings WHERE event_id = ?1 ORDER BY id",
    [ST_ACCESS] = "INSERT INTO access_log (who, what, time) VALUES (?1, ?2, ?3)",
    [ST_ADD_FILE] = "INSERT OR REPLACE INTO files (path, bytes, time) VALUES (?1, ?2, ?3)",
    [ST_FILES_TOTAL] = "SELECT total(bytes) FROM files",
    [ST_FILES_OLDEST] = "SELECT path, bytes, time FROM files ORDER BY time, path",
    [ST_FORGET_FILE] = "DELETE FROM files WHERE path = ?1",
    [ST_FORGET_EVIDENCE] = "UPDATE events SET snapshot = nullif(snapshot, ?1), "
                           "clip = nullif(clip, ?1) WHERE snapshot = ?1 OR clip = ?1",
    /* events labelled normal stay: they are the allowlist's source */
    [ST_EXPIRE_EVENTS] = "DELETE FROM events WHERE state = 'ended' AND last_time < ?1 "
                         "AND label IS NOT 'normal'",
    [ST_EXPIRE_MESSAGES] = "DELETE FROM messages WHERE time < ?1 "
                           "AND event_id NOT IN (SELECT id FROM events)",
};

struct vg_store {
    sqlite3 *db;
    char *path;
    pthread_mutex_t lock; /* one operation, with its statements, at a time */
    sqlite3_stmt *st[ST_COUNT];
};

/* ---- open, close ------------------------------------------------------------------------ */

static int prepare_all(vg_store *s, vg_error *err) {
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL))
            return vg_sqlite_fail(s->db, s->path, "cannot prepare a statement", err);
    return VG_OK;
}

int vg_store_open(const char *path, vg_store **out, vg_error *err) {
    *out = NULL;
    if (!path || !*path) return vg_fail(err, VG_ERR_ARG, "store: no database path given");
    vg_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory for the event store", path);
    }
    pthread_mutex_init(&s->lock, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL) == SQLITE_OK ? VG_OK
             : s->db ? vg_sqlite_fail(s->db, path, "cannot open the event store", err)
                     : vg_fail(err, VG_ERR_NOMEM, "%s: out of memory for SQLite", path);
    if (!rc) rc = vg_store_schema_open(s->db, path, err);
    if (!rc) rc = prepare_all(s, err);
    if (rc) {
        vg_store_close(s);
        return rc;
    }
    *out = s;
    return VG_OK;
}

void vg_store_close(vg_store *s) {
    if (!s) return;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db); /* the last connection checkpoints the log into the file */
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}

/* ---- statements ------------------------------------------------------------------------- */

/* Statement id, ready for its bindings. */
static sqlite3_stmt *use(vg_store *s, int id) {
    sqlite3_stmt *st = s->st[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* A number, or NULL for NaN and infinities (absent payload fields). */
static void bind_number(sqlite3_stmt *st, int i, double v) {
    if (isfinite(v)) sqlite3_bind_double(st, i, v);
    else sqlite3_bind_null(st, i);
}

static void bind_text(sqlite3_stmt *st, int i, const char *text) {
    sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC); /* NULL text binds NULL */
}

/* Steps a statement that returns no rows to its end; what names it in an error. A
 * finished statement is reset at once, so that it holds no read snapshot. */
static int run(vg_store *s, sqlite3_stmt *st, const char *what, vg_error *err) {
    int rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : vg_sqlite_fail(s->db, s->path, what, err);
    sqlite3_reset(st);
    return rc;
}

static int run_plain(vg_store *s, int id, const char *what, vg_error *err) {
    return run(s, use(s, id), what, err);
}

static void rollback(vg_store *s) {
    sqlite3_step(use(s, ST_ROLLBACK));
    sqlite3_reset(s->st[ST_ROLLBACK]);
}

/* The one integer a statement gives, or -1 when it fails. */
static long long query_count(sqlite3_stmt *st) {
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return v;
}

static char *column_dup(sqlite3_stmt *st, int col) {
    const char *text = (const char *)sqlite3_column_text(st, col);
    return text ? strdup(text) : NULL;
}

/* ---- messages --------------------------------------------------------------------------- */

static int is_event_type(const char *type) {
    return !strcmp(type, "new") || !strcmp(type, "update") || !strcmp(type, "end");
}

static int check_message(const vg_message *m, const char *const *sinks, int n, vg_error *err) {
    if (!m || !m->camera || !*m->camera || !m->kind || !*m->kind || !m->type || !m->json)
        return vg_fail(err, VG_ERR_ARG,
                       "store: a message needs a camera, a kind, a type and a payload");
    int status = !strcmp(m->type, "status");
    if (!status && !is_event_type(m->type))
        return vg_fail(err, VG_ERR_ARG,
                       "store: message type '%s' is not new, update, end or status", m->type);
    if (status ? m->event_id != 0 : m->event_id < 1)
        return vg_fail(err, VG_ERR_ARG, "store: a '%s' message needs event id %s, not %lld",
                       m->type, status ? "0" : ">= 1", m->event_id);
    if (!isfinite(m->time))
        return vg_fail(err, VG_ERR_ARG, "store: message time %g is not a finite number",
                       m->time);
    if (n < 0 || (n && !sinks))
        return vg_fail(err, VG_ERR_ARG, "store: %d sinks given", n);
    for (int i = 0; i < n; i++)
        if (!sinks[i] || !*sinks[i])
            return vg_fail(err, VG_ERR_ARG, "store: sink %d has no name", i);
    return VG_OK;
}

/* A number field of the payload, or NaN when absent. */
static double payload_number(const cJSON *payload, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The event's row follows its latest message: state, times, peak and severity as the
 * payload gives them (the message's time where it gives none); evidence once known. */
static int upsert_event(vg_store *s, const vg_message *m, const cJSON *payload, long long seq,
                        vg_error *err) {
    sqlite3_stmt *st = use(s, ST_UPSERT_EVENT);
    sqlite3_bind_int64(st, 1, m->event_id);
    bind_text(st, 2, m->camera);
    bind_text(st, 3, m->kind);
    bind_text(st, 4, strcmp(m->type, "end") ? "open" : "ended");
    bind_number(st, 5, payload_number(payload, "start_time"));
    bind_number(st, 6, payload_number(payload, "end_time"));
    bind_number(st, 7, payload_number(payload, "peak"));
    bind_text(st, 8, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "severity")));
    bind_text(st, 9, m->snapshot);
    bind_text(st, 10, m->clip);
    sqlite3_bind_double(st, 11, m->time);
    sqlite3_bind_int64(st, 12, seq);
    return run(s, st, "cannot update the event", err);
}

static int add_locked(vg_store *s, const vg_message *m, const cJSON *payload,
                      const char *const *sinks, int n, long long *seq, vg_error *err) {
    int rc = run_plain(s, ST_BEGIN, "cannot start a transaction", err);
    if (!rc) {
        sqlite3_stmt *st = use(s, ST_ADD_MESSAGE);
        sqlite3_bind_int64(st, 1, m->event_id);
        bind_text(st, 2, m->camera);
        bind_text(st, 3, m->kind);
        bind_text(st, 4, m->type);
        sqlite3_bind_double(st, 5, m->time);
        bind_text(st, 6, m->json);
        rc = run(s, st, "cannot store the message", err);
    }
    long long id = rc ? 0 : sqlite3_last_insert_rowid(s->db);
    for (int i = 0; !rc && i < n; i++) {
        sqlite3_stmt *st = use(s, ST_ADD_DELIVERY);
        sqlite3_bind_int64(st, 1, id);
        bind_text(st, 2, sinks[i]);
        rc = run(s, st, "cannot store a delivery", err);
    }
    if (!rc && m->event_id) rc = upsert_event(s, m, payload, id, err);
    if (!rc) rc = run_plain(s, ST_COMMIT, "cannot commit the message", err);
    if (rc) rollback(s);
    else if (seq) *seq = id;
    return rc;
}

int vg_store_add(vg_store *s, const vg_message *m, const char *const *sinks, int n,
                 long long *seq, vg_error *err) {
    if (seq) *seq = 0;
    int rc = check_message(m, sinks, n, err);
    cJSON *payload = rc ? NULL : cJSON_Parse(m->json);
    if (!rc && !cJSON_IsObject(payload))
        rc = vg_fail(err, VG_ERR_ARG, "store: the payload of a '%s' message from camera '%s' "
                     "is not a JSON object", m->type, m->camera);
    if (!rc) {
        pthread_mutex_lock(&s->lock);
        rc = add_locked(s, m, payload, sinks, n, seq, err);
        pthread_mutex_unlock(&s->lock);
    }
    cJSON_Delete(payload);
    return rc;
}

long long vg_store_next_event_id(vg_store *s) {
    pthread_mutex_lock(&s->lock);
    long long id = query_count(use(s, ST_NEXT_EVENT_ID));
    pthread_mutex_unlock(&s->lock);
    return id;
}

/* ---- deliveries ------------------------------------------------------------------------- */

void vg_pending_free(vg_pending *p, int n) {
    for (int i = 0; p && i < n; i++) {
        free(p[i].json);
        free(p[i].camera);
    }
    free(p);
}

/* Appends the delivery in st's row to *p (*n of *cap). */
static int push_pending(sqlite3_stmt *st, vg_pending **p, int *n, int *cap) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 16;
        vg_pending *grown = realloc(*p, (size_t)c * sizeof *grown);
        if (!grown) return VG_ERR_NOMEM;
        *p = grown, *cap = c;
    }
    vg_pending *d = &(*p)[*n];
    d->seq = sqlite3_column_int64(st, 0);
    d->attempts = sqlite3_column_int(st, 1);
    d->json = column_dup(st, 3);
    d->camera = column_dup(st, 4);
    ++*n;
    return d->json && d->camera ? VG_OK : VG_ERR_NOMEM;
}

static int pending_locked(vg_store *s, const char *sink, double now, int max, vg_pending **out,
                          int *n, vg_error *err) {
    sqlite3_stmt *st = use(s, ST_PENDING);
    bind_text(st, 1, sink);
    sqlite3_bind_int(st, 2, max);
    int cap = 0, step = SQLITE_DONE, rc = VG_OK;
    /* Oldest first, and a message that is not due yet holds back those after it: a sink
     * delivers strictly in order (a receiver must not see an event's end before its new). */
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_double(st, 2) <= now)
        if (push_pending(st, out, n, &cap))
            rc = vg_fail(err, VG_ERR_NOMEM, "store: out of memory for deliveries");
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = vg_sqlite_fail(s->db, s->path, "cannot read deliveries", err);
    sqlite3_reset(st);
    return rc;
}

int vg_store_pending(vg_store *s, const char *sink, double now, int max, vg_pending **out,
                     int *n, vg_error *err) {
    *out = NULL, *n = 0;
    if (!sink || max < 1)
        return vg_fail(err, VG_ERR_ARG, "store: pending deliveries need a sink and max >= 1");
    pthread_mutex_lock(&s->lock);
    int rc = pending_locked(s, sink, now, max, out, n, err);
    pthread_mutex_unlock(&s->lock);
    if (rc) {
        vg_pending_free(*out, *n);
        *out = NULL, *n = 0;
    }
    return rc;
}

/* Runs st (a delivery update whose ?1 is seq and ?2 sink) and insists it changed a row. */
static int update_delivery(vg_store *s, sqlite3_stmt *st, const char *sink, long long seq,
                           vg_error *err) {
    sqlite3_bind_int64(st, 1, seq);
    bind_text(st, 2, sink);
    int rc = run(s, st, "cannot update a delivery", err);
    if (!rc && sqlite3_changes(s->db) == 0)
        rc = vg_fail(err, VG_ERR_MISSING, "store: sink '%s' owes no message %lld", sink, seq);
    return rc;
}

int vg_store_delivered(vg_store *s, const char *sink, long long seq, vg_error *err) {
    if (!sink) return vg_fail(err, VG_ERR_ARG, "store: no sink named");
    pthread_mutex_lock(&s->lock);
    int rc = update_delivery(s, use(s, ST_DELIVERED), sink, seq, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int vg_store_failed(vg_store *s, const char *sink, long long seq, const char *why,
                    double retry_at, vg_error *err) {
    if (!sink) return vg_fail(err, VG_ERR_ARG, "store: no sink named");
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = use(s, ST_FAILED);
    bind_text(st, 3, why);
    bind_number(st, 4, retry_at);
    int rc = update_delivery(s, st, sink, seq, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

long long vg_store_owed(vg_store *s, const char *sink) {
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = use(s, ST_OWED);
    bind_text(st, 1, sink);
    long long n = query_count(st);
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---- events ----------------------------------------------------------------------------- */

/* Column col of st as a JSON value: number, string or null. */
static cJSON *column_json(sqlite3_stmt *st, int col) {
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: return cJSON_CreateNumber(sqlite3_column_double(st, col));
    case SQLITE_TEXT: return cJSON_CreateString((const char *)sqlite3_column_text(st, col));
    default: return cJSON_CreateNull();
    }
}

/* The event in st's row as a JSON object, or NULL when out of memory. */
static cJSON *event_object(sqlite3_stmt *st) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < EVENT_KEYS; i++)
        cJSON_AddItemToObject(o, event_keys[i], column_json(st, i));
    /* the latest payload as the object it is; text that is not JSON (the store refuses
     * such payloads, but a file edited by hand may hold one) as a string */
    const char *last = (const char *)sqlite3_column_text(st, EVENT_KEYS);
    cJSON *payload = last ? cJSON_Parse(last) : cJSON_CreateNull();
    if (last && !payload) payload = cJSON_CreateString(last);
    if (o) cJSON_AddItemToObject(o, "last", payload);
    else cJSON_Delete(payload);
    if (o && cJSON_GetArraySize(o) != EVENT_KEYS + 1) { /* an item could not be made */
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The events st gives, as a JSON array into *json; one: the single event (VG_ERR_MISSING
 * when there is none). */
static int events_locked(vg_store *s, sqlite3_stmt *st, int one, long long id, char **json,
                         vg_error *err) {
    cJSON *list = cJSON_CreateArray(), *item = NULL;
    int step = SQLITE_DONE, rc = list ? VG_OK : VG_ERR_NOMEM;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!(item = event_object(st))) rc = VG_ERR_NOMEM;
        else cJSON_AddItemToArray(list, item);
    }
    if (!rc && step != SQLITE_DONE) rc = vg_sqlite_fail(s->db, s->path, "cannot read events", err);
    sqlite3_reset(st);
    cJSON *root = one ? cJSON_GetArrayItem(list, 0) : list;
    if (!rc && one && !root)
        rc = vg_fail(err, VG_ERR_MISSING, "store: no event %lld", id);
    if (!rc && !(*json = cJSON_PrintUnformatted(root))) rc = VG_ERR_NOMEM;
    if (rc == VG_ERR_NOMEM) vg_fail(err, rc, "store: out of memory for events");
    cJSON_Delete(list);
    return rc;
}

int vg_store_events_json(vg_store *s, const char *camera, double since, int limit,
                         char **json, vg_error *err) {
    *json = NULL;
    if (limit < 1) return vg_fail(err, VG_ERR_ARG, "store: events limit %d is below 1", limit);
    if (isnan(since)) return vg_fail(err, VG_ERR_ARG, "store: events 'since' is not a number");
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = use(s, camera ? ST_EVENTS_CAMERA : ST_EVENTS);
    bind_text(st, 1, camera);
    sqlite3_bind_double(st, 2, since);
    sqlite3_bind_int(st, 3, limit);
    int rc = events_locked(s, st, 0, 0, json, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int vg_store_event_json(vg_store *s, long long id, char **json, vg_error *err) {
    *json = NULL;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = use(s, ST_EVENT);
    sqlite3_bind_int64(st, 1, id);
    int rc = events_locked(s, st, 1, id, json, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int vg_store_event_evidence(vg_store *s, long long id, char **snapshot, char **clip,
                            vg_error *err) {
    *snapshot = *clip = NULL;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = use(s, ST_EVIDENCE);
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st), rc = VG_OK;
    if (step == SQLITE_ROW) {
        *snapshot = column_dup(st, 0);
        *clip = column_dup(st, 1);
        if ((!*snapshot && sqlite3_column_type(st, 0) != SQLITE_NULL) ||
            (!*clip && sqlite3_column_type(st, 1) != SQLITE_NULL))
            rc = vg_fail(err, VG_ERR_NOMEM, "store: out of memory for evidence paths");
    } else {
        rc = step == SQLITE_DONE ? vg_fail(err, VG_ERR_MISSING, "store: no event %lld", id)
                                 : vg_sqlite_fail(s->db, s->path, "cannot read an event", err);
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->lock);
    if (rc) {
        free(*snapshot), free(*clip);
        *snapshot = *clip = NULL;
    }
    return rc;
}

int vg_store_set_label(vg_store *s, long long id, const char *label, const char *note,
                       vg_error *err) {
    if (!label || (strcmp(label, "normal") && strcmp(label, "anomaly")))
        return vg_fail(err, VG_ERR_ARG, "store: label '%s' is not 'normal' or 'anomaly'",
                       label ? label : "(none)");
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = use(s, ST_LABEL);
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, label);
    bind_text(st, 3, note);
    int rc = run(s, st, "cannot label the event", err);
    if (!rc && sqlite3_changes(s->db) == 0)
        rc = vg_fail(err, VG_ERR_MISSING, "store: no event %lld", id);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int vg_store_labelled(vg_store *s, const char *camera, const char *label, long long **ids,
                      int *n, vg_error *err) {
    *ids = NULL, *n = 0;
    if (!label) return vg_fail(err, VG_ERR_ARG, "store: no label given");
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = use(s, ST_LABELLED);
    bind_text(st, 1, camera);
    bind_text(st, 2, label);
    int step = SQLITE_DONE, cap = 0, rc = VG_OK;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            long long *grown = realloc(*ids, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *grown);
            if (!grown) rc = vg_fail(err, VG_ERR_NOMEM, "store: out of memory for event ids");
            else *ids = grown;
        }
        if (!rc) (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (!rc && step != SQLITE_DONE) rc = vg_sqlite_fail(s->db, s->path, "cannot read labels", err);
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->lock);
    if (rc) {
        free(*ids);
        *ids = NULL, *n = 0;
    }
    return rc;
}

/* ---- embeddings ------------------------------------------------------------------------- */

/* The event's camera into *camera (may be NULL: only whether it exists); VG_ERR_MISSING
 * when there is no such event. */
static int event_camera(vg_store *s, long long id, char **camera, vg_error *err) {
    sqlite3_stmt *st = use(s, ST_EVENT_CAMERA);
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st), rc = VG_OK;
    if (step == SQLITE_ROW && camera && !(*camera = column_dup(st, 0)))
        rc = vg_fail(err, VG_ERR_NOMEM, "store: out of memory");
    else if (step == SQLITE_DONE) rc = vg_fail(err, VG_ERR_MISSING, "store: no event %lld", id);
    else if (step != SQLITE_ROW) rc = vg_sqlite_fail(s->db, s->path, "cannot read an event", err);
    sqlite3_reset(st);
    return rc;
}

static int add_embeddings_locked(vg_store *s, long long id, const float *v, int dim, int n,
                                 vg_error *err) {
    int rc = event_camera(s, id, NULL, err);
    sqlite3_stmt *st = rc ? NULL : use(s, ST_EMBEDDING_DIM);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_int(st, 0) != dim)
            rc = vg_fail(err, VG_ERR_SHAPE, "store: event %lld has embeddings of %d values, "
                         "not %d", id, sqlite3_column_int(st, 0), dim);
        else if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = vg_sqlite_fail(s->db, s->path, "cannot read embeddings", err);
        sqlite3_reset(st);
    }
    if (!rc) {
        st = use(s, ST_ADD_EMBEDDINGS);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, dim);
        sqlite3_bind_int(st, 3, n);
        sqlite3_bind_blob64(st, 4, v, (sqlite3_uint64)dim * (sqlite3_uint64)n * sizeof *v,
                            SQLITE_STATIC);
        rc = run(s, st, "cannot store embeddings", err);
    }
    return rc;
}

int vg_store_add_embeddings(vg_store *s, long long id, const float *v, int dim, int n,
                            vg_error *err) {
    if (!v || dim < 1 || n < 1)
        return vg_fail(err, VG_ERR_ARG, "store: %d embeddings of %d values given", n, dim);
    pthread_mutex_lock(&s->lock);
    int rc = run_plain(s, ST_BEGIN, "cannot start a transaction", err);
    if (!rc) rc = add_embeddings_locked(s, id, v, dim, n, err);
    if (!rc) rc = run_plain(s, ST_COMMIT, "cannot commit embeddings", err);
    if (rc) rollback(s);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Appends the embeddings in st's row to *v (*n of *dim values so far). */
static int append_embeddings(vg_store *s, sqlite3_stmt *st, long long id, float **v, int *dim,
                             int *n, vg_error *err) {
    int d = sqlite3_column_int(st, 0), k = sqlite3_column_int(st, 1);
    size_t bytes = (size_t)sqlite3_column_bytes(st, 2);
    if (d < 1 || k < 1 || (*dim && d != *dim) || bytes != (size_t)d * (size_t)k * sizeof **v)
        return vg_fail(err, VG_ERR_FORMAT, "%s: event %lld's embeddings are damaged", s->path,
                       id);
    float *grown = realloc(*v, ((size_t)*n + (size_t)k) * (size_t)d * sizeof *grown);
    if (!grown) return vg_fail(err, VG_ERR_NOMEM, "store: out of memory for embeddings");
    memcpy(grown + (size_t)*n * (size_t)d, sqlite3_column_blob(st, 2), bytes);
    *v = grown, *dim = d, *n += k;
    return VG_OK;
}

static int embeddings_locked(vg_store *s, long long id, float **v, int *dim, int *n,
                             vg_error *err) {
    sqlite3_stmt *st = use(s, ST_EMBEDDINGS);
    sqlite3_bind_int64(st, 1, id);
    int step = SQLITE_DONE, rc = VG_OK;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = append_embeddings(s, st, id, v, dim, n, err);
    if (!rc && step != SQLITE_DONE)
        rc = vg_sqlite_fail(s->db, s->path, "cannot read embeddings", err);
    sqlite3_reset(st);
    return rc;
}

int vg_store_event_embeddings(vg_store *s, long long id, char **camera, float **v, int *dim,
                              int *n, vg_error *err) {
    *camera = NULL, *v = NULL, *dim = *n = 0;
    pthread_mutex_lock(&s->lock);
    int rc = event_camera(s, id, camera, err);
    if (!rc) rc = embeddings_locked(s, id, v, dim, n, err);
    pthread_mutex_unlock(&s->lock);
    if (rc) {
        free(*camera), free(*v);
        *camera = NULL, *v = NULL, *dim = *n = 0;
    }
    return rc;
}

/* ---- access log, files, retention ------------------------------------------------------- */

int vg_store_log_access(vg_store *s, const char *who, const char *what, double time,
                        vg_error *err) {
    if (!who || !what || !isfinite(time))
        return vg_fail(err, VG_ERR_ARG, "store: an access needs who, what and a finite time");
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = use(s, ST_ACCESS);
    bind_text(st, 1, who);
    bind_text(st, 2, what);
    sqlite3_bind_double(st, 3, time);
    int rc = run(s, st, "cannot log an access", err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int vg_store_add_file(vg_store *s, const char *path, long long bytes, double time,
                      vg_error *err) {
    if (!path || !*path || bytes < 0 || !isfinite(time))
        return vg_fail(err, VG_ERR_ARG,
                       "store: an evidence file needs a path, bytes >= 0 and a finite time");
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = use(s, ST_ADD_FILE);
    bind_text(st, 1, path);
    sqlite3_bind_int64(st, 2, bytes);
    sqlite3_bind_double(st, 3, time);
    int rc = run(s, st, "cannot record an evidence file", err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

typedef struct path_list {
    char **paths;
    int n, cap;
} path_list;

static int push_path(path_list *l, const char *path) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **grown = realloc(l->paths, (size_t)cap * sizeof *grown);
        if (!grown) return VG_ERR_NOMEM;
        l->paths = grown, l->cap = cap;
    }
    return (l->paths[l->n] = strdup(path)) ? (l->n++, VG_OK) : VG_ERR_NOMEM;
}

static void path_list_free(path_list *l) {
    for (int i = 0; i < l->n; i++) free(l->paths[i]);
    free(l->paths);
}

/* The files to forget, oldest first: those older than before, then more until the rest
 * fit in max_bytes. */
static int choose_files(vg_store *s, double before, double max_bytes, path_list *l,
                        vg_error *err) {
    sqlite3_stmt *total_st = use(s, ST_FILES_TOTAL);
    int step = sqlite3_step(total_st);
    double total = step == SQLITE_ROW ? sqlite3_column_double(total_st, 0) : 0;
    sqlite3_reset(total_st);
    if (step != SQLITE_ROW) return vg_sqlite_fail(s->db, s->path, "cannot sum file sizes", err);
    sqlite3_stmt *st = use(s, ST_FILES_OLDEST);
    int rc = VG_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int old = before > 0 && sqlite3_column_double(st, 2) < before;
        if (!old && !(max_bytes > 0 && total > max_bytes)) break;
        if ((rc = push_path(l, (const char *)sqlite3_column_text(st, 0)))) break;
        total -= (double)sqlite3_column_int64(st, 1);
    }
    if (rc) vg_fail(err, rc, "store: out of memory for expired paths");
    else if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = vg_sqlite_fail(s->db, s->path, "cannot list evidence files", err);
    sqlite3_reset(st);
    return rc;
}

/* Forgets one evidence file: its row, and its path in the events that pointed to it. */
static int forget_file(vg_store *s, const char *path, vg_error *err) {
    sqlite3_stmt *st = use(s, ST_FORGET_FILE);
    bind_text(st, 1, path);
    int rc = run(s, st, "cannot forget an evidence file", err);
    if (!rc) {
        st = use(s, ST_FORGET_EVIDENCE);
        bind_text(st, 1, path);
        rc = run(s, st, "cannot forget an event's evidence", err);
    }
    return rc;
}

static int expire_locked(vg_store *s, double before, double max_bytes, path_list *l,
                         vg_error *err) {
    int rc = run_plain(s, ST_BEGIN, "cannot start a transaction", err);
    if (!rc) rc = choose_files(s, before, max_bytes, l, err);
    for (int i = 0; !rc && i < l->n; i++) rc = forget_file(s, l->paths[i], err);
    if (!rc && before > 0) {
        sqlite3_stmt *st = use(s, ST_EXPIRE_EVENTS);
        sqlite3_bind_double(st, 1, before);
        rc = run(s, st, "cannot expire events", err);
        if (!rc) {
            st = use(s, ST_EXPIRE_MESSAGES);
            sqlite3_bind_double(st, 1, before);
            rc = run(s, st, "cannot expire messages", err);
        }
    }
    if (!rc) rc = run_plain(s, ST_COMMIT, "cannot commit the expiry", err);
    if (rc) rollback(s);
    return rc;
}

int vg_store_expire(vg_store *s, double before, double max_bytes, char ***paths, int *n,
                    vg_error *err) {
    *paths = NULL, *n = 0;
    if (!(before >= 0) || !(max_bytes >= 0))
        return vg_fail(err, VG_ERR_ARG, "store: expiry needs before >= 0 and max_bytes >= 0");
    path_list l = {0};
    pthread_mutex_lock(&s->lock);
    int rc = expire_locked(s, before, max_bytes, &l, err);
    pthread_mutex_unlock(&s->lock);
    if (rc) {
        path_list_free(&l);
        return rc;
    }
    *paths = l.paths, *n = l.n;
    return VG_OK;
}
