/* store_schema.h - a store's SQLite file: its settings, the check that it is a vigil store,
 * the migrations that bring its schema to this build's version, and SQLite's errors as
 * vigil's. Internal to the store (store.c). */
#ifndef VG_SERVE_STORE_SCHEMA_H
#define VG_SERVE_STORE_SCHEMA_H

#include <sqlite3.h>

#include "core/status.h"

/* Records SQLite's latest error on db as "PATH: what: SQLite's message" with the code that
 * fits (VG_ERR_FORMAT for a damaged or foreign file, VG_ERR_NOMEM, else VG_ERR_IO); returns
 * the code. The caller must hold the connection (its error is per connection). */
int vg_sqlite_fail(sqlite3 *db, const char *path, const char *what, vg_error *err);

/* Prepares the freshly opened db at path: write-ahead log, synchronous=NORMAL, a busy
 * timeout, foreign keys; refuses a file that is not a vigil store, is damaged or is newer
 * than this build (VG_ERR_FORMAT), then applies the missing migrations, each in its own
 * transaction. */
int vg_store_schema_open(sqlite3 *db, const char *path, vg_error *err);

#endif
