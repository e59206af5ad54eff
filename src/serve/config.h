/* config.h - what `vigil watch` runs, as read from its YAML configuration file.
 *
 * The file (annotated example: examples/watch.yaml) has six top-level sections:
 *   cameras  a list; each: id, source, model, roi, fit, privacy_masks, threshold,
 *            score, decide (exit, smooth, debounce, min_duration, merge_gap,
 *            update_every), allowlist_radius, shadow, realtime, loop
 *   sinks    jsonl, webhook, mqtt
 *   storage  dir, retention (max_age, max_size), evidence (pre, post)
 *   http     port, bind, token
 *   engine   batch, queue, threads, bf16
 *   drift    enabled, psi_alert, psi_clear, sustain, adaptive, max_change
 * Durations are numbers of seconds or strings with a unit ("500ms", "10s", "5m", "2h",
 * "30d"); sizes are bytes or strings with a unit, any case: kB, MB, GB, TB are powers of
 * 1000, KiB, MiB, GiB, TiB powers of 1024 ("512MB", "20GB", "1.5GiB"); booleans are true,
 * false, yes, no. "${NAME}" anywhere in a value is replaced by the environment variable
 * NAME (an error when unset), so tokens and passwords need not sit in the file. Counts of
 * frames (decide) are integers. */
#ifndef VG_SERVE_CONFIG_H
#define VG_SERVE_CONFIG_H

#include "vigil/vigil.h"

#define VG_ALLOWLIST_RADIUS 0.02 /* see examples/watch.yaml */
#define VG_CAMERA_ID_MAX 64 /* bytes of a camera id: [A-Za-z0-9_-], unique in the file */

/* A privacy mask: a polygon of n points in source-frame pixels (before the ROI), blacked
 * out at ingest so that no score, picture or clip ever holds what it covers. */
typedef struct vg_polygon {
    int n;      /* >= 3 */
    double *xy; /* x0, y0, x1, y1, ... */
} vg_polygon;

typedef struct vg_camera_config {
    char *id;
    char *source;               /* a path, folder, URL or device, as vg_source_open takes */
    char *model;                /* a model file (vg_model_load) */
    int roi[4];                 /* x, y, w, h in source pixels; w = 0: the model's (its
                                   training's) */
    int has_fit;                /* fit was given; else the model's (its training's) */
    vg_fit fit;                 /* stretch, crop, pad */
    vg_polygon *masks;
    int n_masks;
    double threshold;           /* NAN (default): the model's calibration; else > 0, in the
                                   score's own units (patch score, or PSNR dB: anomalous at
                                   or below), as vg_operating_overrides takes it */
    int has_score;              /* score below was given */
    vg_score_kind score;        /* with threshold: the score it applies to (patch) */
    double exit;                /* NAN: the threshold; else in the threshold's units */
    int smooth, debounce, min_duration, merge_gap, update_every; /* -1: the model's
                                   calibration (smooth) or the class defaults */
    double allowlist_radius;    /* cosine distance within which a frame matches one an
                                   operator marked normal; VG_ALLOWLIST_RADIUS */
    int shadow;                 /* 1: score and store, send no alert */
    int realtime;               /* files: play at the stream's rate; default 1 */
    int loop;                   /* files: start over at the end (demos, tests); default 0 */
} vg_camera_config;

typedef struct vg_webhook_config {
    char *url;                  /* NULL: no webhook */
    char *token;                /* sent as "Authorization: Bearer TOKEN"; may be NULL */
    double timeout;             /* seconds per request, 5 */
    double backoff_max;         /* seconds between retries at most, 60 (starts at 1, x2) */
} vg_webhook_config;

typedef struct vg_mqtt_config {
    char *host;                 /* NULL: no MQTT */
    int port;                   /* 1883 */
    char *prefix;               /* topic prefix, "vigil": PREFIX/events, PREFIX/<camera>/score,
                                   PREFIX/available ("online", last will "offline") */
    char *client_id;            /* "vigil-<hostname>" when NULL */
    char *username, *password;  /* may be NULL */
    int scores;                 /* publish every scored frame's score, default 1 */
} vg_mqtt_config;

typedef struct vg_watch_config {
    char *path;                 /* the file it was read from */
    vg_camera_config *cameras;
    int n_cameras;              /* >= 1 */
    char *jsonl;                /* JSON Lines events: a file path, "-" (stdout) or NULL */
    vg_webhook_config webhook;
    vg_mqtt_config mqtt;
    char *dir;                  /* storage: events.db, snapshots/, clips/; "vigil-data" */
    double max_age;             /* retention: seconds, 30 days; 0: keep forever */
    double max_size;            /* retention: bytes of evidence, 20 GB; 0: no limit */
    double pre, post;           /* evidence clip seconds before and after an event: 5, 5 */
    int http_port;              /* 0: no HTTP server (default 8080) */
    char *http_bind;            /* "127.0.0.1" */
    char *token;                /* HTTP bearer token; NULL: no auth (only allowed on
                                   loopback binds) */
    int batch;                  /* frames per inference call at most, 8 */
    int queue;                  /* frames queued per camera at most (drop oldest), 16 */
    int threads;                /* compute threads, 0: all cores */
    int bf16;                   /* 0 */
    int drift;                  /* drift control on (1, default): needs a model calibrated
                                   with a reference distribution */
    double drift_psi_alert;     /* 0.25: the hour's PSI against calibration that is a shift */
    double drift_psi_clear;     /* 0.1: drift ends below it */
    double drift_sustain;       /* 600 s: how long a shift must hold */
    int drift_adaptive;         /* 0: the threshold follows slow normal drift when 1 */
    double drift_max_change;    /* 0.5: the adaptive threshold stays within x(1 +- it) */
} vg_watch_config;

/* Reads and checks path. Errors say "PATH:LINE: problem" (VG_ERR_IO for an unreadable file,
 * VG_ERR_FORMAT for bad YAML or a bad value, VG_ERR_MISSING for a missing required key, an
 * unset ${NAME}, or http.token missing on a non-loopback bind); unknown keys are errors,
 * not ignored. Does not open sources or models, so what needs the model (the score a
 * threshold without `score` applies to) is checked when the camera starts. */
int vg_watch_config_load(const char *path, vg_watch_config **out, vg_error *err);
void vg_watch_config_free(vg_watch_config *c); /* accepts NULL */

#endif
