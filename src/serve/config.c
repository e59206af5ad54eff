/* config.c - vigil watch's configuration file (see config.h): the schema as tables of
 * fields, the checks that span several keys, the defaults, and the YAML document itself.
 * The cameras' own keys are read in config_camera.c. */
#include "serve/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/file.h"
#include "serve/config_camera.h"

/* ---- cross-key checks ------------------------------------------------------------------- */

/* A loopback address: no other machine can reach a server bound to it. */
static int is_loopback(const char *bind) {
    struct in_addr a4;
    struct in6_addr a6;
    if (!strcmp(bind, "localhost")) return 1;
    if (inet_pton(AF_INET, bind, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, bind, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static int check_http(vg_cfg_reader *r, yaml_node_t *map, const char *path, void *base) {
    const vg_watch_config *c = base;
    char sub[VG_CFG_PATH_MAX], q[VG_CFG_EXCERPT];
    if (!c->http_port || c->token || is_loopback(c->http_bind)) return VG_OK;
    yaml_node_t *bind = vg_cfg_find(r, map, "bind");
    return vg_cfg_fail(r, VG_ERR_MISSING, bind ? bind : map, vg_cfg_join(sub, path, "bind"),
                       "%s can be reached from other machines, so http.token is required "
                       "(without it anyone on the network could read events, snapshots and "
                       "clips): set token (e.g. token: ${VIGIL_TOKEN}) or bind 127.0.0.1",
                       vg_cfg_excerpt(q, c->http_bind));
}

static int check_webhook(vg_cfg_reader *r, yaml_node_t *map, const char *path, void *base) {
    const vg_watch_config *c = base;
    const char *url = c->webhook.url;
    if (!url || !strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8)) return VG_OK;
    char sub[VG_CFG_PATH_MAX], q[VG_CFG_EXCERPT];
    return vg_cfg_fail(r, VG_ERR_FORMAT, vg_cfg_find(r, map, "url"), vg_cfg_join(sub, path, "url"),
                       "'%s' is not an http:// or https:// URL", vg_cfg_excerpt(q, url));
}

static int check_mqtt(vg_cfg_reader *r, yaml_node_t *map, const char *path, void *base) {
    const vg_watch_config *c = base;
    char sub[VG_CFG_PATH_MAX], q[VG_CFG_EXCERPT];
    if (c->mqtt.prefix && strpbrk(c->mqtt.prefix, "+#"))
        return vg_cfg_fail(r, VG_ERR_FORMAT, vg_cfg_find(r, map, "prefix"),
                           vg_cfg_join(sub, path, "prefix"),
                           "'%s' holds an MQTT wildcard ('+' or '#'), which topics to "
                           "publish on may not", vg_cfg_excerpt(q, c->mqtt.prefix));
    if (c->mqtt.password && !c->mqtt.username)
        return vg_cfg_fail(r, VG_ERR_FORMAT, vg_cfg_find(r, map, "password"),
                           vg_cfg_join(sub, path, "password"),
                           "given without a username (MQTT sends a password only with one)");
    return VG_OK;
}

/* ---- the schema --------------------------------------------------------------------------- */

#define DAY 86400.0

static const vg_cfg_field webhook_fields[] = {
    {.key = "url", .kind = VG_CFG_OPTIONAL, .offset = offsetof(vg_watch_config, webhook.url)},
    {.key = "token", .kind = VG_CFG_OPTIONAL, .offset = offsetof(vg_watch_config, webhook.token)},
    {.key = "timeout", .kind = VG_CFG_DURATION,
     .offset = offsetof(vg_watch_config, webhook.timeout), .lo = 0.001, .hi = 3600},
    {.key = "backoff_max", .kind = VG_CFG_DURATION,
     .offset = offsetof(vg_watch_config, webhook.backoff_max), .lo = 1, .hi = DAY},
    {0}};

static const vg_cfg_field mqtt_fields[] = {
    {.key = "host", .kind = VG_CFG_OPTIONAL, .offset = offsetof(vg_watch_config, mqtt.host)},
    {.key = "port", .kind = VG_CFG_INT, .offset = offsetof(vg_watch_config, mqtt.port), .lo = 1,
     .hi = 65535},
    {.key = "prefix", .kind = VG_CFG_STRING, .offset = offsetof(vg_watch_config, mqtt.prefix)},
    {.key = "client_id", .kind = VG_CFG_OPTIONAL,
     .offset = offsetof(vg_watch_config, mqtt.client_id)},
    {.key = "username", .kind = VG_CFG_OPTIONAL,
     .offset = offsetof(vg_watch_config, mqtt.username)},
    {.key = "password", .kind = VG_CFG_OPTIONAL,
     .offset = offsetof(vg_watch_config, mqtt.password)},
    {.key = "scores", .kind = VG_CFG_BOOL, .offset = offsetof(vg_watch_config, mqtt.scores)},
    {0}};

static const vg_cfg_field sinks_fields[] = {
    {.key = "jsonl", .kind = VG_CFG_OPTIONAL, .offset = offsetof(vg_watch_config, jsonl)},
    {.key = "webhook", .kind = VG_CFG_SECTION, .fields = webhook_fields, .check = check_webhook},
    {.key = "mqtt", .kind = VG_CFG_SECTION, .fields = mqtt_fields, .check = check_mqtt},
    {0}};

static const vg_cfg_field retention_fields[] = {
    {.key = "max_age", .kind = VG_CFG_DURATION, .offset = offsetof(vg_watch_config, max_age),
     .lo = 0, .hi = 36500 * DAY},
    {.key = "max_size", .kind = VG_CFG_SIZE, .offset = offsetof(vg_watch_config, max_size),
     .lo = 0, .hi = 1e18},
    {0}};

static const vg_cfg_field evidence_fields[] = {
    {.key = "pre", .kind = VG_CFG_DURATION, .offset = offsetof(vg_watch_config, pre), .lo = 0,
     .hi = 600},
    {.key = "post", .kind = VG_CFG_DURATION, .offset = offsetof(vg_watch_config, post), .lo = 0,
     .hi = 600},
    {0}};

static const vg_cfg_field storage_fields[] = {
    {.key = "dir", .kind = VG_CFG_STRING, .offset = offsetof(vg_watch_config, dir)},
    {.key = "retention", .kind = VG_CFG_SECTION, .fields = retention_fields},
    {.key = "evidence", .kind = VG_CFG_SECTION, .fields = evidence_fields},
    {0}};

static const vg_cfg_field http_fields[] = {
    {.key = "port", .kind = VG_CFG_INT, .offset = offsetof(vg_watch_config, http_port), .lo = 0,
     .hi = 65535},
    {.key = "bind", .kind = VG_CFG_STRING, .offset = offsetof(vg_watch_config, http_bind)},
    {.key = "token", .kind = VG_CFG_OPTIONAL, .offset = offsetof(vg_watch_config, token)},
    {0}};

static const vg_cfg_field engine_fields[] = {
    {.key = "batch", .kind = VG_CFG_INT, .offset = offsetof(vg_watch_config, batch), .lo = 1,
     .hi = 1024},
    {.key = "queue", .kind = VG_CFG_INT, .offset = offsetof(vg_watch_config, queue), .lo = 1,
     .hi = 65536},
    {.key = "threads", .kind = VG_CFG_INT, .offset = offsetof(vg_watch_config, threads), .lo = 0,
     .hi = 1024},
    {.key = "bf16", .kind = VG_CFG_BOOL, .offset = offsetof(vg_watch_config, bf16)},
    {0}};

static const vg_cfg_field drift_fields[] = {
    {.key = "enabled", .kind = VG_CFG_BOOL, .offset = offsetof(vg_watch_config, drift)},
    {.key = "psi_alert", .kind = VG_CFG_NUMBER,
     .offset = offsetof(vg_watch_config, drift_psi_alert), .lo = 1e-6, .hi = 100},
    {.key = "psi_clear", .kind = VG_CFG_NUMBER,
     .offset = offsetof(vg_watch_config, drift_psi_clear), .lo = 1e-6, .hi = 100},
    {.key = "sustain", .kind = VG_CFG_DURATION,
     .offset = offsetof(vg_watch_config, drift_sustain), .lo = 0, .hi = 7 * DAY},
    {.key = "adaptive", .kind = VG_CFG_BOOL, .offset = offsetof(vg_watch_config, drift_adaptive)},
    {.key = "max_change", .kind = VG_CFG_NUMBER,
     .offset = offsetof(vg_watch_config, drift_max_change), .lo = 0, .hi = 0.99},
    {0}};

/* psi_clear must not exceed psi_alert: drift would end the moment it starts. */
static int check_drift(vg_cfg_reader *r, yaml_node_t *map, const char *path, void *base) {
    const vg_watch_config *c = base;
    if (c->drift_psi_clear <= c->drift_psi_alert) return VG_OK;
    return vg_cfg_fail(r, VG_ERR_FORMAT, map, path, "psi_clear %g is above psi_alert %g",
                       c->drift_psi_clear, c->drift_psi_alert);
}

static const vg_cfg_field top_fields[] = {
    {.key = "cameras", .kind = VG_CFG_CUSTOM, .required = 1, .read = vg_cfg_read_cameras},
    {.key = "sinks", .kind = VG_CFG_SECTION, .fields = sinks_fields},
    {.key = "storage", .kind = VG_CFG_SECTION, .fields = storage_fields},
    {.key = "http", .kind = VG_CFG_SECTION, .fields = http_fields, .check = check_http},
    {.key = "engine", .kind = VG_CFG_SECTION, .fields = engine_fields},
    {.key = "drift", .kind = VG_CFG_SECTION, .fields = drift_fields, .check = check_drift},
    {0}};

/* ---- loading ------------------------------------------------------------------------------ */

/* A configuration holding the defaults of config.h, or NULL when out of memory. */
static vg_watch_config *new_config(const char *path) {
    vg_watch_config *c = malloc(sizeof *c);
    if (!c) return NULL;
    *c = (vg_watch_config){.webhook = {.timeout = 5, .backoff_max = 60},
                           .mqtt = {.port = 1883, .scores = 1},
                           .max_age = 30 * DAY,
                           .max_size = 20e9,
                           .pre = 5,
                           .post = 5,
                           .http_port = 8080,
                           .batch = 8,
                           .queue = 16,
                           .drift = 1,
                           .drift_psi_alert = 0.25,
                           .drift_psi_clear = 0.1,
                           .drift_sustain = 600,
                           .drift_max_change = 0.5};
    c->path = strdup(path);
    c->mqtt.prefix = strdup("vigil");
    c->dir = strdup("vigil-data");
    c->http_bind = strdup("127.0.0.1");
    if (c->path && c->mqtt.prefix && c->dir && c->http_bind) return c;
    vg_watch_config_free(c);
    return NULL;
}

/* The number of lines of text: libyaml puts the end of the stream on a line of its own,
 * one past the last, which errors must not name. */
static unsigned long last_line(const char *text, size_t len) {
    unsigned long lines = 1;
    for (size_t i = 0; i + 1 < len; i++) lines += text[i] == '\n';
    return lines;
}

/* The byte at a mark (0-based line, column in characters), or 0 past the end. */
static char char_at(const char *text, size_t len, size_t line, size_t column) {
    size_t i = 0;
    for (; i < len && line; i++) line -= text[i] == '\n';
    for (; i < len && text[i] != '\n' && column; i++)
        column -= i + 1 == len || ((unsigned char)text[i + 1] & 0xc0) != 0x80;
    return i < len ? text[i] : 0;
}

/* libyaml's complaint as "FILE:LINE: bad YAML: problem (context from line N)". */
static int yaml_error(const yaml_parser_t *p, const char *file, const char *text, size_t len,
                      vg_error *err) {
    if (p->error == YAML_MEMORY_ERROR) return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", file);
    const char *problem = p->problem ? p->problem : "unreadable";
    unsigned long last = last_line(text, len), line = (unsigned long)p->problem_mark.line + 1;
    if (line > last) line = last;
    if (p->error == YAML_READER_ERROR) { /* bad UTF-8 or a control character: a byte offset */
        line = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) line += text[i] == '\n';
        return vg_fail(err, VG_ERR_FORMAT, "%s:%lu: bad YAML: %s (byte 0x%02x)", file, line,
                       problem, p->problem_value & 0xff);
    }
    const char *tab = char_at(text, len, p->problem_mark.line, p->problem_mark.column) == '\t'
                          ? "; YAML indents with spaces, not tabs" : "";
    if (p->context)
        return vg_fail(err, VG_ERR_FORMAT, "%s:%lu: bad YAML: %s (%s from line %lu)%s", file,
                       line, problem, p->context, (unsigned long)p->context_mark.line + 1, tab);
    return vg_fail(err, VG_ERR_FORMAT, "%s:%lu: bad YAML: %s%s", file, line, problem, tab);
}

/* The one YAML document of text into doc (yaml_document_delete it), or an error. */
static int parse_yaml(const char *file, const char *text, size_t len, yaml_document_t *doc,
                      vg_error *err) {
    yaml_parser_t p;
    yaml_document_t next;
    if (!yaml_parser_initialize(&p)) return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", file);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, doc)) {
        int rc = yaml_error(&p, file, text, len, err);
        yaml_parser_delete(&p);
        return rc;
    }
    /* Past the first document there must be nothing: a second one would be ignored. */
    int rc = yaml_parser_load(&p, &next) ? VG_OK : yaml_error(&p, file, text, len, err);
    if (!rc) {
        yaml_node_t *root = yaml_document_get_root_node(&next);
        if (root)
            rc = vg_fail(err, VG_ERR_FORMAT, "%s:%lu: a second YAML document; the configuration "
                         "is one document (remove the '---' line)", file,
                         (unsigned long)root->start_mark.line + 1);
        yaml_document_delete(&next);
    }
    if (rc) yaml_document_delete(doc);
    yaml_parser_delete(&p);
    return rc;
}

static int read_document(const char *file, yaml_document_t *doc, vg_watch_config *c,
                         vg_error *err) {
    vg_cfg_loader l = {.r = {.file = file, .doc = doc, .err = err}};
    yaml_node_t *root = yaml_document_get_root_node(doc);
    int rc = root ? vg_cfg_read_map(&l.r, root, "", top_fields, NULL, c)
                  : vg_fail(err, VG_ERR_MISSING, "%s:1: the file is empty; it needs at least a "
                            "'cameras' list", file);
    free(l.r.text);
    return rc;
}

int vg_watch_config_load(const char *path, vg_watch_config **out, vg_error *err) {
    vg_error ignored;
    if (!err) err = &ignored;
    if (!path || !out)
        return vg_fail(err, VG_ERR_ARG, "vg_watch_config_load: path and out must not be NULL");
    *out = NULL;
    size_t len = 0;
    char *text = vg_read_file(path, &len, err);
    if (!text) return err->code;
    yaml_document_t doc;
    int rc = parse_yaml(path, text, len, &doc, err);
    free(text);
    if (rc) return rc;
    vg_watch_config *c = new_config(path);
    rc = c ? read_document(path, &doc, c, err)
           : vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", path);
    yaml_document_delete(&doc);
    if (rc) {
        vg_watch_config_free(c);
        return rc;
    }
    *out = c;
    return VG_OK;
}

void vg_watch_config_free(vg_watch_config *c) {
    if (!c) return;
    for (int i = 0; i < c->n_cameras; i++) vg_cfg_camera_clear(&c->cameras[i]);
    free(c->cameras);
    free(c->path);
    free(c->jsonl);
    free(c->webhook.url);
    free(c->webhook.token);
    free(c->mqtt.host);
    free(c->mqtt.prefix);
    free(c->mqtt.client_id);
    free(c->mqtt.username);
    free(c->mqtt.password);
    free(c->dir);
    free(c->http_bind);
    free(c->token);
    free(c);
}
