/* test_store.c - the event store (src/serve/store.c): its file (migrations from nothing,
 * reopening, refusing newer, foreign, damaged and non-SQLite files), deliveries, events,
 * labels, the access log, retention, concurrent writers, and crash safety: a child
 * process killed while it adds messages loses none whose add returned OK. */
#include <cjson/cJSON.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "serve/store.h"
#include "test.h"

static const char *const SINKS[] = {"a", "b"};

/* One integer from a read-only query on the file at path (raw SQLite, beside the store);
 * -1 when it fails. */
static long long sql_int(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int sql_exec(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db) == SQLITE_OK ? sqlite3_exec(db, sql, NULL, NULL, NULL) : -1;
    sqlite3_close(db);
    return rc;
}

/* Adds an event message: the payload as vigil's events carry it. */
static long long add_event(vg_store *s, long long id, const char *camera, const char *type,
                           double start, double end, double peak, const char *snapshot,
                           int n_sinks) {
    char json[400];
    snprintf(json, sizeof json,
             "{\"id\":%lld,\"camera\":\"%s\",\"class\":\"prediction_error\",\"type\":\"%s\","
             "\"start_time\":%g,\"end_time\":%g,\"peak\":%g,\"severity\":\"%s\"}",
             id, camera, type, start, end, peak, peak > 2 ? "high" : "low");
    vg_message m = {.camera = camera, .event_id = id, .kind = "prediction_error",
                    .type = type, .time = end, .json = json, .snapshot = snapshot};
    vg_error err = {0};
    long long seq = 0;
    CHECK_OK(vg_store_add(s, &m, SINKS, n_sinks, &seq, &err), &err);
    return seq;
}

static long long add_status(vg_store *s, const char *camera, double time, int n_sinks) {
    vg_message m = {.camera = camera, .kind = "camera_lost", .type = "status", .time = time,
                    .json = "{\"type\":\"status\",\"status\":\"camera_lost\"}"};
    vg_error err = {0};
    long long seq = 0;
    CHECK_OK(vg_store_add(s, &m, SINKS, n_sinks, &seq, &err), &err);
    return seq;
}

/* Opening path fails with code and a message holding what. */
static void expect_open_error(const char *path, int code, const char *what) {
    vg_store *s = NULL;
    vg_error err = {0};
    int rc = vg_store_open(path, &s, &err);
    printf("open %-28s -> %d: %s\n", strrchr(path, '/') + 1, rc, err.msg);
    CHECK(rc == code);
    CHECK(s == NULL);
    CHECK(strstr(err.msg, what) != NULL);
    CHECK(strstr(err.msg, path) != NULL);
}

static void test_file(void) {
    const char *path = test_path("fresh.db");
    vg_store *s = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_open(path, &s, &err), &err);
    CHECK(vg_store_next_event_id(s) == 1);
    add_event(s, 7, "gate", "new", 100, 100, 1.5, NULL, 2);
    vg_store_close(s);
    CHECK(sql_int(path, "PRAGMA user_version") == 2);
    CHECK(sql_int(path, "PRAGMA application_id") == 0x5647494C);
    CHECK(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                        "('messages','events','deliveries','files','access_log',"
                        "'embeddings')") == 6);
    /* a version 1 store (before embeddings) is migrated forward, its data kept */
    CHECK(sql_exec(path, "DROP TABLE embeddings; DROP INDEX events_label; "
                         "PRAGMA user_version = 1") == SQLITE_OK);
    CHECK_OK(vg_store_open(path, &s, &err), &err);
    vg_store_close(s);
    CHECK(sql_int(path, "PRAGMA user_version") == 2);
    CHECK(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'embeddings'") == 1);
    /* reopening migrates nothing and keeps everything */
    CHECK_OK(vg_store_open(path, &s, &err), &err);
    CHECK(vg_store_next_event_id(s) == 8);
    CHECK(vg_store_owed(s, "a") == 1);
    vg_store_close(s);
    size_t len = 0;
    unsigned char *head = (unsigned char *)test_read_file(path, &len);
    CHECK(head && len >= 100 && head[18] == 2 && head[19] == 2); /* the header says WAL */
    free(head);
    CHECK(sql_exec(path, "PRAGMA user_version = 99") == SQLITE_OK);
    expect_open_error(path, VG_ERR_FORMAT, "newer than this vigil");

    const char *text = test_path("notes.db");
    test_write_file(text, "these are not the tables you are looking for\n", 45);
    expect_open_error(text, VG_ERR_FORMAT, "not a vigil event store");

    const char *foreign = test_path("foreign.db");
    CHECK(sql_exec(foreign, "CREATE TABLE songs (title TEXT)") == SQLITE_OK);
    expect_open_error(foreign, VG_ERR_FORMAT, "another program");

    expect_open_error(test_path("no/such/dir/x.db"), VG_ERR_IO, "cannot open");

    const char *empty = test_path("empty.db"); /* a 0-byte file is a new store */
    test_write_file(empty, "", 0);
    CHECK_OK(vg_store_open(empty, &s, &err), &err);
    vg_store_close(s);
    CHECK(sql_int(empty, "PRAGMA user_version") == 2);
}

/* A store cut short: every whole prefix of pages that loses data must be refused. */
static void test_truncated(void) {
    const char *path = test_path("cut.db");
    vg_store *s = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_open(path, &s, &err), &err);
    for (int i = 1; i <= 300; i++) add_event(s, i, "gate", "new", i, i, 1, "snap.png", 2);
    vg_store_close(s);
    size_t len = 0;
    char *bytes = test_read_file(path, &len);
    CHECK(bytes && len > 16 * 4096);
    /* cut mid-page, at a page boundary, inside SQLite's 100-byte header */
    const size_t cuts[] = {len / 2 + 1000, (len / 2) & ~(size_t)4095, 60};
    for (int i = 0; bytes && i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "cut-%zu.db", cuts[i]);
        const char *cut = test_path(name);
        test_write_file(cut, bytes, cuts[i]);
        expect_open_error(cut, VG_ERR_FORMAT, "damaged");
    }
    free(bytes);
}

static void test_messages_refused(vg_store *s) {
    vg_error err = {0};
    vg_message m = {.camera = "gate", .event_id = 1, .kind = "prediction_error", .type = "begin",
                    .time = 1, .json = "{}"};
    CHECK(vg_store_add(s, &m, SINKS, 2, NULL, &err) == VG_ERR_ARG);
    CHECK(strstr(err.msg, "'begin'"));
    m.type = "status";
    CHECK(vg_store_add(s, &m, SINKS, 2, NULL, &err) == VG_ERR_ARG);
    CHECK(strstr(err.msg, "event id 0"));
    m.type = "new", m.json = "{\"peak\": ";
    CHECK(vg_store_add(s, &m, SINKS, 2, NULL, &err) == VG_ERR_ARG);
    CHECK(strstr(err.msg, "not a JSON object"));
    m.json = "{}", m.camera = NULL;
    CHECK(vg_store_add(s, &m, SINKS, 2, NULL, &err) == VG_ERR_ARG);
    printf("refused: %s\n", err.msg);
}

static void test_deliveries(void) {
    vg_store *s = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_open(test_path("deliveries.db"), &s, &err), &err);
    test_messages_refused(s);
    long long seq[4];
    for (int i = 0; i < 3; i++)
        seq[i] = add_event(s, 1, "gate", i ? "update" : "new", 10, 10 + i, 1, NULL, 2);
    seq[3] = add_status(s, "gate", 20, 0); /* shadow: stored, owed to nobody */
    CHECK(seq[0] < seq[1] && seq[1] < seq[2] && seq[2] < seq[3]);
    CHECK(vg_store_owed(s, "a") == 3 && vg_store_owed(s, "b") == 3);

    vg_pending *p = NULL;
    int n = 0;
    CHECK_OK(vg_store_pending(s, "a", 1e12, 2, &p, &n, &err), &err); /* max 2 */
    CHECK(n == 2 && p[0].seq == seq[0] && p[1].seq == seq[1] && p[0].attempts == 0);
    CHECK(n == 2 && !strcmp(p[0].camera, "gate") && strstr(p[1].json, "\"type\":\"update\""));
    vg_pending_free(p, n);

    CHECK_OK(vg_store_delivered(s, "a", seq[0], &err), &err);
    CHECK(vg_store_delivered(s, "a", seq[0], &err) == VG_ERR_MISSING); /* not owed twice */
    CHECK(vg_store_delivered(s, "a", seq[3], &err) == VG_ERR_MISSING); /* shadow */
    CHECK_OK(vg_store_failed(s, "a", seq[1], "HTTP 500", 1000, &err), &err);
    /* strictly in order: the failed head holds back the message behind it */
    CHECK_OK(vg_store_pending(s, "a", 999, 10, &p, &n, &err), &err);
    CHECK(n == 0);
    vg_pending_free(p, n);
    CHECK_OK(vg_store_pending(s, "a", 1000, 10, &p, &n, &err), &err);
    CHECK(n == 2 && p[0].seq == seq[1] && p[0].attempts == 1 && p[1].seq == seq[2]);
    vg_pending_free(p, n);
    CHECK(vg_store_owed(s, "a") == 2 && vg_store_owed(s, "b") == 3 && vg_store_owed(s, "c") == 0);
    CHECK_OK(vg_store_delivered(s, "a", seq[1], &err), &err);
    CHECK_OK(vg_store_delivered(s, "a", seq[2], &err), &err);
    CHECK(vg_store_owed(s, "a") == 0);
    CHECK_OK(vg_store_pending(s, "a", 1e12, 10, &p, &n, &err), &err);
    CHECK(n == 0 && p == NULL);
    vg_store_close(s);
    CHECK(sql_int(test_path("deliveries.db"), "SELECT attempts FROM deliveries "
                                              "WHERE sink = 'a' AND seq = 2") == 1);
}

/* The events list as parsed JSON, with its length checked. */
static cJSON *events(vg_store *s, const char *camera, double since, int limit, int want) {
    char *json = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_events_json(s, camera, since, limit, &json, &err), &err);
    cJSON *list = json ? cJSON_Parse(json) : NULL;
    free(json);
    CHECK(cJSON_GetArraySize(list) == want);
    return list;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key) {
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void test_events(void) {
    vg_store *s = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_open(test_path("events.db"), &s, &err), &err);
    add_event(s, 1, "gate", "new", 100, 101, 1.2, NULL, 2);
    add_event(s, 1, "gate", "update", 100, 105, 2.5, "snapshots/1.png", 2);
    add_event(s, 1, "gate", "end", 100, 107, 2.5, NULL, 2);
    add_event(s, 2, "dock", "new", 200, 200, 1.1, NULL, 2);
    add_event(s, 3, "gate", "new", 300, 300, 1.3, NULL, 2);
    add_status(s, "gate", 301, 2);
    CHECK(vg_store_next_event_id(s) == 4);

    cJSON *all = events(s, NULL, 0, 10, 3);
    const cJSON *e1 = cJSON_GetArrayItem(all, 2), *e3 = cJSON_GetArrayItem(all, 0);
    CHECK(num(e3, "id") == 3 && num(cJSON_GetArrayItem(all, 1), "id") == 2 && num(e1, "id") == 1);
    CHECK(str(e1, "state") && !strcmp(str(e1, "state"), "ended"));
    CHECK(str(e3, "state") && !strcmp(str(e3, "state"), "open"));
    CHECK(num(e1, "start_time") == 100 && num(e1, "end_time") == 107 && num(e1, "peak") == 2.5);
    CHECK(str(e1, "severity") && !strcmp(str(e1, "severity"), "high"));
    CHECK(str(e1, "class") && !strcmp(str(e1, "class"), "prediction_error"));
    /* evidence given once stays; the latest payload comes whole */
    CHECK(str(e1, "snapshot") && !strcmp(str(e1, "snapshot"), "snapshots/1.png"));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e1, "clip")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e1, "label")));
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(e1, "last");
    CHECK(str(last, "type") && !strcmp(str(last, "type"), "end"));
    cJSON_Delete(all);
    cJSON_Delete(events(s, "gate", 0, 10, 2));
    cJSON_Delete(events(s, "gate", 150, 10, 1));
    cJSON_Delete(events(s, NULL, 0, 1, 1));
    cJSON_Delete(events(s, "nowhere", 0, 10, 0));
    char *json = NULL;
    CHECK(vg_store_events_json(s, NULL, 0, 0, &json, &err) == VG_ERR_ARG && !json);

    CHECK_OK(vg_store_event_json(s, 2, &json, &err), &err);
    cJSON *one = json ? cJSON_Parse(json) : NULL;
    CHECK(num(one, "id") == 2 && str(one, "camera") && !strcmp(str(one, "camera"), "dock"));
    cJSON_Delete(one);
    free(json);
    CHECK(vg_store_event_json(s, 99, &json, &err) == VG_ERR_MISSING && !json);
    CHECK(strstr(err.msg, "no event 99"));

    char *snap = NULL, *clip = NULL;
    CHECK_OK(vg_store_event_evidence(s, 1, &snap, &clip, &err), &err);
    CHECK(snap && !strcmp(snap, "snapshots/1.png") && !clip);
    free(snap);
    CHECK(vg_store_event_evidence(s, 99, &snap, &clip, &err) == VG_ERR_MISSING);

    /* labels */
    CHECK_OK(vg_store_set_label(s, 1, "normal", "the sponsor card", &err), &err);
    CHECK(vg_store_set_label(s, 1, "maybe", NULL, &err) == VG_ERR_ARG);
    CHECK(strstr(err.msg, "'maybe'"));
    CHECK(vg_store_set_label(s, 42, "anomaly", NULL, &err) == VG_ERR_MISSING);
    CHECK_OK(vg_store_event_json(s, 1, &json, &err), &err);
    one = json ? cJSON_Parse(json) : NULL;
    CHECK(str(one, "label") && !strcmp(str(one, "label"), "normal"));
    CHECK(str(one, "note") && !strcmp(str(one, "note"), "the sponsor card"));
    cJSON_Delete(one);
    free(json);

    /* the allowlist's source: labelled events and their frames' embeddings */
    long long *ids = NULL;
    int n_ids = 0;
    CHECK_OK(vg_store_set_label(s, 3, "normal", NULL, &err), &err);
    CHECK_OK(vg_store_set_label(s, 2, "normal", NULL, &err), &err);
    CHECK_OK(vg_store_labelled(s, "gate", "normal", &ids, &n_ids, &err), &err);
    CHECK(n_ids == 2 && ids[0] == 1 && ids[1] == 3);
    free(ids);
    CHECK_OK(vg_store_labelled(s, NULL, "normal", &ids, &n_ids, &err), &err);
    CHECK(n_ids == 3 && ids[1] == 2);
    free(ids);
    CHECK_OK(vg_store_labelled(s, "gate", "anomaly", &ids, &n_ids, &err), &err);
    CHECK(n_ids == 0 && !ids);
    const float e[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    CHECK_OK(vg_store_add_embeddings(s, 1, e, 4, 2, &err), &err);
    CHECK_OK(vg_store_add_embeddings(s, 1, e + 8, 4, 1, &err), &err);
    CHECK(vg_store_add_embeddings(s, 1, e, 3, 1, &err) == VG_ERR_SHAPE);
    printf("refused: %s\n", err.msg);
    CHECK(vg_store_add_embeddings(s, 99, e, 4, 1, &err) == VG_ERR_MISSING);
    CHECK(vg_store_add_embeddings(s, 1, e, 4, 0, &err) == VG_ERR_ARG);
    char *camera = NULL;
    float *v = NULL;
    int dim = 0, nv = 0;
    CHECK_OK(vg_store_event_embeddings(s, 1, &camera, &v, &dim, &nv, &err), &err);
    CHECK(camera && !strcmp(camera, "gate") && dim == 4 && nv == 3);
    CHECK(v && !memcmp(v, e, sizeof e));
    free(camera), free(v);
    CHECK_OK(vg_store_event_embeddings(s, 2, &camera, &v, &dim, &nv, &err), &err);
    CHECK(camera && !strcmp(camera, "dock") && !v && dim == 0 && nv == 0);
    free(camera);
    CHECK(vg_store_event_embeddings(s, 99, &camera, &v, &dim, &nv, &err) == VG_ERR_MISSING);
    CHECK(!camera && !v);

    /* access log */
    CHECK_OK(vg_store_log_access(s, "127.0.0.1", "snapshots/1.png", 500, &err), &err);
    CHECK(vg_store_log_access(s, NULL, "x", 500, &err) == VG_ERR_ARG);
    vg_store_close(s);
    CHECK(sql_int(test_path("events.db"), "SELECT count(*) FROM access_log "
                                          "WHERE who = '127.0.0.1' AND time = 500") == 1);
}

static int has_path(char **paths, int n, const char *p) {
    for (int i = 0; i < n; i++)
        if (!strcmp(paths[i], p)) return 1;
    return 0;
}

static void free_paths(char **paths, int n) {
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

static void test_expire(void) {
    const char *path = test_path("expire.db");
    vg_store *s = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_open(path, &s, &err), &err);
    add_event(s, 1, "gate", "new", 10, 10, 1, "s1.png", 2);
    add_event(s, 1, "gate", "end", 10, 20, 1, NULL, 2);    /* ended at 20 */
    add_event(s, 2, "gate", "new", 30, 30, 1, "s2.png", 2); /* still open */
    add_event(s, 3, "gate", "new", 500, 500, 1, "s3.png", 0);
    add_status(s, "gate", 40, 2);
    add_status(s, "gate", 600, 2);
    CHECK_OK(vg_store_add_file(s, "s1.png", 1000, 10, &err), &err);
    CHECK_OK(vg_store_add_file(s, "s2.png", 2000, 30, &err), &err);
    CHECK_OK(vg_store_add_file(s, "s3.png", 4000, 500, &err), &err);
    CHECK(vg_store_add_file(s, "", 1, 1, &err) == VG_ERR_ARG);

    char **paths = NULL;
    int n = -1;
    CHECK_OK(vg_store_expire(s, 0, 0, &paths, &n, &err), &err); /* no limits: nothing */
    CHECK(n == 0 && !paths);
    CHECK_OK(vg_store_expire(s, 0, 6000, &paths, &n, &err), &err); /* 7000 bytes > 6000 */
    CHECK(n == 1 && has_path(paths, n, "s1.png"));
    free_paths(paths, n);
    CHECK_OK(vg_store_expire(s, 100, 0, &paths, &n, &err), &err);
    CHECK(n == 1 && has_path(paths, n, "s2.png"));
    free_paths(paths, n);
    char *json = NULL, *snap = NULL, *clip = NULL;
    /* event 1 ended before 100: gone with its messages; event 2 is open: kept, without
     * its expired snapshot; event 3 is recent */
    CHECK(vg_store_event_json(s, 1, &json, &err) == VG_ERR_MISSING);
    CHECK_OK(vg_store_event_evidence(s, 2, &snap, &clip, &err), &err);
    CHECK(!snap && !clip);
    CHECK_OK(vg_store_event_evidence(s, 3, &snap, &clip, &err), &err);
    CHECK(snap && !strcmp(snap, "s3.png"));
    free(snap);
    free(clip);
    CHECK(vg_store_owed(s, "a") == 2); /* event 2's new, the recent status */
    CHECK(vg_store_expire(s, -1, 0, &paths, &n, &err) == VG_ERR_ARG);
    vg_store_close(s);
    CHECK(sql_int(path, "SELECT count(*) FROM messages") == 3);
    CHECK(sql_int(path, "SELECT count(*) FROM deliveries") == 4);

    /* everything ends and expires, but for the event labelled normal (the allowlist's);
     * the next event id still follows the largest ever */
    CHECK_OK(vg_store_open(path, &s, &err), &err);
    add_event(s, 2, "gate", "end", 30, 700, 1, NULL, 2);
    add_event(s, 3, "gate", "end", 500, 700, 1, NULL, 0);
    const float e[2] = {1, 2};
    CHECK_OK(vg_store_add_embeddings(s, 2, e, 2, 1, &err), &err);
    CHECK_OK(vg_store_add_embeddings(s, 3, e, 2, 1, &err), &err);
    CHECK_OK(vg_store_set_label(s, 3, "normal", NULL, &err), &err);
    CHECK_OK(vg_store_expire(s, 1e9, 0, &paths, &n, &err), &err);
    CHECK(n == 1 && has_path(paths, n, "s3.png"));
    free_paths(paths, n);
    char *list = NULL;
    CHECK_OK(vg_store_events_json(s, NULL, 0, 10, &list, &err), &err);
    cJSON *kept = list ? cJSON_Parse(list) : NULL;
    CHECK(cJSON_GetArraySize(kept) == 1 && num(cJSON_GetArrayItem(kept, 0), "id") == 3);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(kept, 0),
                                                        "snapshot"))); /* its file went */
    cJSON_Delete(kept);
    free(list);
    CHECK(vg_store_next_event_id(s) == 4);
    CHECK(vg_store_owed(s, "a") == 0);
    vg_store_close(s);
    CHECK(sql_int(path, "SELECT count(*) FROM embeddings") == 1); /* event 2's went with it */
}

/* ---- two writers ------------------------------------------------------------------------ */

typedef struct writer {
    const char *path;
    vg_store *shared; /* NULL: the writer opens a handle of its own */
    int camera, failures;
} writer;

static void *writer_main(void *arg) {
    writer *w = arg;
    vg_store *s = w->shared;
    vg_error err = {0};
    if (!s && vg_store_open(w->path, &s, &err)) {
        w->failures++;
        return NULL;
    }
    char camera[16];
    snprintf(camera, sizeof camera, "cam%d", w->camera);
    for (int i = 0; i < 200; i++) {
        vg_message m = {.camera = camera, .kind = "tick", .type = "status", .time = i,
                        .json = "{\"tick\":1}"};
        w->failures += vg_store_add(s, &m, SINKS, 1, NULL, &err) != VG_OK;
    }
    if (!w->shared) vg_store_close(s);
    return NULL;
}

/* Two threads on one handle, and two on handles of their own, add at once: nothing is
 * lost and nobody fails (the handle's lock; the busy timeout between connections). */
static void test_writers(void) {
    const char *path = test_path("writers.db");
    vg_store *s = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_open(path, &s, &err), &err);
    writer w[4] = {{path, s, 0, 0}, {path, s, 1, 0}, {path, NULL, 2, 0}, {path, NULL, 3, 0}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, writer_main, &w[i]) == 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) CHECK(w[i].failures == 0);
    CHECK(vg_store_owed(s, "a") == 800);
    vg_store_close(s);
    CHECK(sql_int(path, "SELECT count(DISTINCT seq) FROM messages") == 800);
}

/* ---- crash safety ----------------------------------------------------------------------- */

/* The child: adds status messages {"i": i} as fast as it can, reporting (i, seq) through
 * fd after each add returned OK, until it is killed. */
static void crash_child(const char *path, int fd) {
    vg_store *s = NULL;
    vg_error err = {0};
    if (vg_store_open(path, &s, &err)) _exit(2);
    for (long long i = 1;; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"i\":%lld}", i);
        vg_message m = {.camera = "gate", .kind = "tick", .type = "status", .time = (double)i,
                        .json = json};
        long long rec[2] = {i, 0};
        if (vg_store_add(s, &m, SINKS, 1, &rec[1], &err)) _exit(3);
        if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec) _exit(4);
    }
}

/* Reads whole records from fd into rec (up to max) until want have come, the pipe closes
 * or the deadline passes; returns the count. */
static int read_records(int fd, long long (*rec)[2], int have, int want, int max, double secs) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *buf = (char *)rec;
    size_t got = (size_t)have * sizeof *rec, cap = (size_t)max * sizeof *rec;
    while (got / sizeof *rec < (size_t)want && got < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) < 0) break;
        ssize_t k = p.revents ? read(fd, buf + got, cap - got) : 0;
        if (p.revents && k <= 0) break;
        got += (size_t)(k > 0 ? k : 0);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) * 1e-9 > secs) break;
    }
    return (int)(got / sizeof *rec);
}

static void test_crash(void) {
    enum { MAX = 1 << 16 };
    const char *path = test_path("crash.db");
    static long long rec[MAX][2];
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        crash_child(path, fds[1]);
    }
    close(fds[1]);
    /* kill it at an arbitrary moment once it has committed a few hundred messages */
    int n = read_records(fds[0], rec, 0, 300, MAX, 60);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    n = read_records(fds[0], rec, n, MAX, MAX, 10); /* what it reported before dying */
    close(fds[0]);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    printf("crash: the child reported %d committed messages before SIGKILL\n", n);
    CHECK(n >= 300);

    vg_store *s = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_open(path, &s, &err), &err);
    if (!s) return;
    vg_pending *p = NULL;
    int np = 0;
    CHECK_OK(vg_store_pending(s, "a", INFINITY, MAX, &p, &np, &err), &err);
    /* every reported message is there, in order; at most one more (committed, killed
     * before it could report) */
    int lost = 0;
    for (int i = 0; i < n; i++) {
        char want[64];
        snprintf(want, sizeof want, "{\"i\":%lld}", rec[i][0]);
        if (i >= np || p[i].seq != rec[i][1] || strcmp(p[i].json, want)) lost++;
    }
    printf("crash: %d of %d found after reopening (%d more unreported)\n", n - lost, n, np - n);
    CHECK(lost == 0);
    CHECK(np == n || np == n + 1);
    vg_pending_free(p, np);
    CHECK(add_status(s, "gate", 1, 1) > 0); /* and it goes on */
    vg_store_close(s);
}

int main(void) {
    test_tmpdir("store");
    test_file();
    test_truncated();
    test_deliveries();
    test_events();
    test_expire();
    test_writers();
    test_crash();
    if (!test_failures) test_tmpdir_remove();
    return test_result();
}
