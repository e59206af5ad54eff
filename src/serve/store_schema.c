/* store_schema.c - a store's SQLite file: settings, identity, migrations.
 *
 * The schema's version is the file's PRAGMA user_version: the number of migrations
 * applied. Migration k (0-based) takes version k to k + 1 in one transaction that also
 * bumps user_version, so a crash leaves the file at a version, never between two. A vigil
 * store carries PRAGMA application_id "VGIL", so another program's SQLite file is refused
 * instead of having vigil's tables added to it. Migrations are only ever appended. */
#include "serve/store_schema.h"

#include <stdio.h>
#include <string.h>

#define VIGIL_APPLICATION_ID 1447512396 /* "VGIL" as a big-endian 32-bit integer */
#define BUSY_TIMEOUT_MS 5000            /* another connection's write we wait out */
#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const migrations[] = {
    /* 1: the first schema. messages: every payload, in order. events: one row per event
     * id, kept current by each of its messages (AUTOINCREMENT: sqlite_sequence remembers
     * the largest id ever stored, so ids stay unique after old events expire); indexed
     * for listing (by start, per camera), retention and forgetting evidence. deliveries:
     * what each sink owes; the partial index keeps the owed ones at hand however many are
     * done. files: evidence on disk, for retention. access_log: append-only. */
    "PRAGMA application_id = " STR(VIGIL_APPLICATION_ID) ";"
    "CREATE TABLE messages ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  event_id INTEGER NOT NULL,"
    "  camera TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  time REAL NOT NULL,"
    "  json TEXT NOT NULL);"
    "CREATE INDEX messages_time ON messages (time);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  camera TEXT NOT NULL,"
    "  class TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('open', 'ended')),"
    "  start_time REAL NOT NULL,"
    "  end_time REAL NOT NULL,"
    "  peak REAL,"
    "  severity TEXT,"
    "  snapshot TEXT,"
    "  clip TEXT,"
    "  label TEXT CHECK (label IN ('normal', 'anomaly')),"
    "  note TEXT,"
    "  first_seq INTEGER NOT NULL,"
    "  last_seq INTEGER NOT NULL,"
    "  last_time REAL NOT NULL);"
    "CREATE INDEX events_start ON events (start_time);"
    "CREATE INDEX events_camera ON events (camera, start_time);"
    "CREATE INDEX events_ended ON events (last_time) WHERE state = 'ended';"
    "CREATE INDEX events_snapshot ON events (snapshot) WHERE snapshot IS NOT NULL;"
    "CREATE INDEX events_clip ON events (clip) WHERE clip IS NOT NULL;"
    "CREATE TABLE deliveries ("
    "  seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,"
    "  sink TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_try REAL NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  done INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (seq, sink)) WITHOUT ROWID;"
    "CREATE INDEX deliveries_owed ON deliveries (sink, seq) WHERE done = 0;"
    "CREATE TABLE files ("
    "  path TEXT PRIMARY KEY,"
    "  bytes INTEGER NOT NULL,"
    "  time REAL NOT NULL);"
    "CREATE INDEX files_time ON files (time, path);"
    "CREATE TABLE access_log ("
    "  id INTEGER PRIMARY KEY,"
    "  who TEXT NOT NULL,"
    "  what TEXT NOT NULL,"
    "  time REAL NOT NULL);",
    /* 2: embeddings of events' frames (one row per add: n vectors of dim float32), the
     * allowlist's source; labelled events at hand per label. */
    "CREATE TABLE embeddings ("
    "  id INTEGER PRIMARY KEY,"
    "  event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,"
    "  dim INTEGER NOT NULL CHECK (dim > 0),"
    "  n INTEGER NOT NULL CHECK (n > 0),"
    "  data BLOB NOT NULL);"
    "CREATE INDEX embeddings_event ON embeddings (event_id);"
    "CREATE INDEX events_label ON events (label, camera) WHERE label IS NOT NULL;",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof *migrations))

int vg_sqlite_fail(sqlite3 *db, const char *path, const char *what, vg_error *err) {
    int rc = sqlite3_errcode(db) & 0xff;
    int code = rc == SQLITE_NOMEM                           ? VG_ERR_NOMEM
               : rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? VG_ERR_FORMAT
                                                             : VG_ERR_IO;
    return vg_fail(err, code, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

/* The integer a one-value statement (a pragma, a count) gives, into *value. */
static int query_int(sqlite3 *db, const char *path, const char *sql, long long *value,
                     vg_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *value = sqlite3_column_int64(st, 0);
    int status = rc == SQLITE_ROW ? VG_OK : vg_sqlite_fail(db, path, sql, err);
    sqlite3_finalize(st);
    return status;
}

/* One text value a statement gives (the first row's first column) into out. */
static int query_text(sqlite3 *db, const char *path, const char *sql, char *out, size_t size,
                      vg_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    int status = rc == SQLITE_ROW ? VG_OK : vg_sqlite_fail(db, path, sql, err);
    sqlite3_finalize(st);
    return status;
}

static int exec(sqlite3 *db, const char *path, const char *sql, const char *what,
                vg_error *err) {
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK
               ? VG_OK
               : vg_sqlite_fail(db, path, what, err);
}

/* Whether the file at path starts as every SQLite database does: a file SQLite cannot
 * read is then damaged (cut short, overwritten), not a file of another kind. */
static int has_sqlite_header(const char *path) {
    char head[16] = "";
    FILE *f = fopen(path, "rb");
    int ok = f && fread(head, 1, sizeof head, f) == sizeof head &&
             !memcmp(head, "SQLite format 3", sizeof head);
    if (f) fclose(f);
    return ok;
}

/* The connection's settings. WAL: readers (the HTTP API) never block the writer, and a
 * commit is one append to the log; synchronous=NORMAL then syncs only at checkpoints, so a
 * committed message survives a crash of the process (not necessarily of the machine). */
static int configure(sqlite3 *db, const char *path, vg_error *err) {
    char mode[16] = "";
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    int rc = query_text(db, path, "PRAGMA journal_mode = WAL", mode, sizeof mode, err);
    if (rc == VG_ERR_FORMAT)
        return has_sqlite_header(path)
                   ? vg_fail(err, rc, "%s: the event store is damaged (%s)", path,
                             sqlite3_errmsg(db))
                   : vg_fail(err, rc, "%s: not a vigil event store (not an SQLite database)",
                             path);
    if (rc) return rc;
    if (strcmp(mode, "wal"))
        return vg_fail(err, VG_ERR_IO, "%s: cannot use a write-ahead log (journal mode '%s')",
                       path, mode);
    return exec(db, path, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                "cannot configure", err);
}

/* Refuses a foreign, damaged or newer file; *version gets the schema version (0: new). */
static int check_identity(sqlite3 *db, const char *path, long long *version, vg_error *err) {
    long long app = 0, tables = 0;
    int rc = query_int(db, path, "PRAGMA application_id", &app, err);
    if (!rc) rc = query_int(db, path, "PRAGMA user_version", version, err);
    if (!rc) rc = query_int(db, path, "SELECT count(*) FROM sqlite_schema", &tables, err);
    if (rc) return rc;
    if (app != VIGIL_APPLICATION_ID && (app || *version || tables))
        return vg_fail(err, VG_ERR_FORMAT,
                       "%s: not a vigil event store (an SQLite database of another program)",
                       path);
    if (*version > SCHEMA_VERSION)
        return vg_fail(err, VG_ERR_FORMAT,
                       "%s: event store schema version %lld is newer than this vigil's (%d): "
                       "use a newer vigil or another storage dir",
                       path, *version, SCHEMA_VERSION);
    if (!*version) return VG_OK;
    /* A damaged file (truncated, overwritten) is found now rather than mid-run. quick_check
     * reads every page once: milliseconds for a store of thousands of events. */
    char verdict[200] = "";
    rc = query_text(db, path, "PRAGMA quick_check(1)", verdict, sizeof verdict, err);
    if (rc == VG_ERR_FORMAT || (!rc && strcmp(verdict, "ok")))
        return vg_fail(err, VG_ERR_FORMAT, "%s: the event store is damaged (%s)", path,
                       rc ? sqlite3_errmsg(db) : verdict);
    return rc;
}

/* Applies the next migration, unless another connection got there first: the version is
 * read again inside the write transaction. *version gets the version reached. */
static int migrate_step(sqlite3 *db, const char *path, long long *version, vg_error *err) {
    int rc = exec(db, path, "BEGIN IMMEDIATE", "cannot start a migration", err);
    if (!rc) rc = query_int(db, path, "PRAGMA user_version", version, err);
    if (!rc && *version < SCHEMA_VERSION) {
        char what[64], bump[48];
        snprintf(what, sizeof what, "migration to schema version %lld", *version + 1);
        snprintf(bump, sizeof bump, "PRAGMA user_version = %lld", *version + 1);
        rc = exec(db, path, migrations[*version], what, err);
        if (!rc) rc = exec(db, path, bump, what, err);
        if (!rc) ++*version;
    }
    if (!rc) rc = exec(db, path, "COMMIT", "cannot commit a migration", err);
    if (rc) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int vg_store_schema_open(sqlite3 *db, const char *path, vg_error *err) {
    long long version = 0;
    int rc = configure(db, path, err);
    if (!rc) rc = check_identity(db, path, &version, err);
    while (!rc && version < SCHEMA_VERSION) rc = migrate_step(db, path, &version, err);
    return rc;
}
