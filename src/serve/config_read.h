/* config_read.h - reading a YAML document (libyaml's document API) into C structs through
 * tables of fields, with one-line errors "FILE:LINE: KEY.PATH: problem".
 *
 * A table lists the keys a mapping may hold: each key's kind, where its value goes
 * (offsetof into the struct being filled) and its range. vg_cfg_read_map walks a mapping
 * against a table: unknown keys (with a "did you mean" when one is close), keys given
 * twice, missing required keys and values of the wrong form are errors. Every scalar value
 * has its "${NAME}" references expanded from the environment before it is parsed.
 * Paths name a value the way a user finds it in the file: "http.port", "cameras[2].roi",
 * "cameras[0].privacy_masks[1][2].x"; the top level's path is "". */
#ifndef VG_SERVE_CONFIG_READ_H
#define VG_SERVE_CONFIG_READ_H

#include <stddef.h>
#include <yaml.h>

#include "core/status.h"

#define VG_CFG_PATH_MAX 128 /* bytes of a path: room for the deepest key of the schema */

typedef struct vg_cfg_reader {
    const char *file;     /* named in every error */
    yaml_document_t *doc;
    vg_error *err;
    char *text;           /* the last scalar read, expanded; owned (free()) */
    size_t cap;
} vg_cfg_reader;

typedef enum vg_cfg_kind {
    VG_CFG_STRING,   /* char *, not empty (a new copy; the old value is freed) */
    VG_CFG_OPTIONAL, /* char *, or NULL for a null value (~ or nothing) */
    VG_CFG_INT,      /* int in [lo, hi] */
    VG_CFG_NUMBER,   /* double in [lo, hi] */
    VG_CFG_BOOL,     /* int, 0 or 1 */
    VG_CFG_DURATION, /* double seconds in [lo, hi] */
    VG_CFG_SIZE,     /* double bytes in [lo, hi] */
    VG_CFG_SECTION,  /* a nested mapping of `fields` into the same struct, then `check`; a
                        null value is an empty mapping (all defaults) */
    VG_CFG_CUSTOM    /* `read` does it */
} vg_cfg_kind;

typedef struct vg_cfg_field vg_cfg_field;

/* Reads value (the node of the key at path) into base, the struct of the table. */
typedef int (*vg_cfg_read_fn)(vg_cfg_reader *r, yaml_node_t *value, const char *path,
                              void *base);
/* Checks what a mapping (node map, at path) put into base, across its keys. */
typedef int (*vg_cfg_check_fn)(vg_cfg_reader *r, yaml_node_t *map, const char *path,
                               void *base);

struct vg_cfg_field {
    const char *key;              /* NULL ends a table */
    vg_cfg_kind kind;
    size_t offset;                /* of the value in base */
    int required;                 /* a missing key is VG_ERR_MISSING */
    double lo, hi;                /* INT, NUMBER, DURATION, SIZE */
    const vg_cfg_field *fields;   /* SECTION */
    vg_cfg_check_fn check;        /* SECTION (may be NULL) */
    vg_cfg_read_fn read;          /* CUSTOM */
};

/* Fills r->err with "FILE:LINE: PATH: message" (LINE of node at; "PATH: " left out when
 * path is NULL or empty) and returns code. */
int vg_cfg_fail(vg_cfg_reader *r, int code, const yaml_node_t *at, const char *path,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Reads the mapping map (path) into base through fields, then runs check (may be NULL). */
int vg_cfg_read_map(vg_cfg_reader *r, yaml_node_t *map, const char *path,
                    const vg_cfg_field *fields, vg_cfg_check_fn check, void *base);

/* The value of key in mapping map, or NULL (also when map is not a mapping). */
yaml_node_t *vg_cfg_find(vg_cfg_reader *r, yaml_node_t *map, const char *key);

/* Node index's node; the items of a sequence node (*n of them: 0 for other nodes). */
yaml_node_t *vg_cfg_node(vg_cfg_reader *r, int index);
yaml_node_item_t *vg_cfg_items(yaml_node_t *seq, int *n);

/* A null scalar: plain "", "~", "null", "Null" or "NULL". */
int vg_cfg_is_null(const yaml_node_t *n);

/* "PATH: expected EXPECTED, got a list" (a mapping, nothing, 'TEXT' as written): the
 * error for a value of the wrong form; returns VG_ERR_FORMAT. */
int vg_cfg_expected(vg_cfg_reader *r, const yaml_node_t *n, const char *path,
                    const char *expected);

#define VG_CFG_EXCERPT 72 /* bytes of an excerpt buffer */

/* s as a message may quote it: on one line (line breaks and tabs as \n and \t, other
 * control characters as '?'), cut after 60 bytes with "...". Into buf (VG_CFG_EXCERPT). */
const char *vg_cfg_excerpt(char *buf, const char *s);

/* path + "." + key, or key at the top level; path + "[i]". Into buf (VG_CFG_PATH_MAX). */
const char *vg_cfg_join(char *buf, const char *path, const char *key);
const char *vg_cfg_index(char *buf, const char *path, int i);

/* The expanded text of a scalar (r->text), or NULL after an error saying it expected
 * `expected` (e.g. "an integer"): a list, a mapping, a null or an unset ${NAME}. */
const char *vg_cfg_text(vg_cfg_reader *r, yaml_node_t *n, const char *path,
                        const char *expected);

/* Values of one kind (see vg_cfg_kind), for custom readers too. */
int vg_cfg_read_string(vg_cfg_reader *r, yaml_node_t *n, const char *path, int optional,
                       char **out);
int vg_cfg_read_int(vg_cfg_reader *r, yaml_node_t *n, const char *path, long long lo,
                    long long hi, int *out);
int vg_cfg_read_number(vg_cfg_reader *r, yaml_node_t *n, const char *path, double lo,
                       double hi, double *out);
/* One of n names; *out gets its index. */
int vg_cfg_read_choice(vg_cfg_reader *r, yaml_node_t *n, const char *path,
                       const char *const *names, int n_names, int *out);

#endif
