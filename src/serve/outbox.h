/* outbox.h - alert delivery. Every message is committed to the store first, with a
 * delivery owed to each alert sink; one thread per sink then sends what it owes, oldest
 * first, and records the result. A sink that fails (a webhook down, a broker gone) is
 * retried with capped exponential backoff from the store, never blocks detection or the
 * other sinks, and after a restart picks up what it still owed (at once).
 * Each sink is strictly in order: while its oldest owed message fails, nothing after it
 * is sent (a receiver never sees an event's end before its new). Delivery is at least
 * once: a send whose answer is lost (a timeout after the receiver took it) is sent again.
 * Sinks (vg_watch_config): "jsonl" (a file or stdout, one payload per line, synced),
 * "webhook" (HTTP POST of the payload, libcurl; 2xx = delivered), "mqtt" (libmosquitto,
 * QoS 1 to PREFIX/events, delivered when the broker's PUBACK arrives; PREFIX/available
 * "online" retained, with the last will "offline"). Backoff starts at 1 s and doubles up
 * to webhook.backoff_max for the webhook, 60 s for the others; the MQTT connection itself
 * is retried with a growing delay (at most 60 s), and owed messages go as soon as it is
 * back.
 * Process-wide: the first webhook sink runs curl_global_init and the first mqtt sink
 * mosquitto_lib_init (once each, never undone); see serve/sink.h. */
#ifndef VG_SERVE_OUTBOX_H
#define VG_SERVE_OUTBOX_H

#include "serve/config.h"
#include "serve/store.h"

typedef struct vg_outbox vg_outbox;

/* Starts a delivery thread for each sink cfg configures. The store must outlive the
 * outbox. Fails (naming the sink) only for what no retry can mend: an unwritable JSON Lines
 * file, a malformed URL; an unreachable webhook or broker is retried. */
int vg_outbox_create(const vg_watch_config *cfg, vg_store *store, vg_outbox **out,
                     vg_error *err);

/* Commits m to the store, owed to every sink when alert is 1 (0: stored only, shadow
 * mode), and wakes the sinks. Returns the store's status; never waits for a sink. Safe
 * from any thread, but not once vg_outbox_free has begun. */
int vg_outbox_post(vg_outbox *o, const vg_message *m, int alert, vg_error *err);

/* A scored frame's values for live dashboards: MQTT PREFIX/<camera>/score, payload
 * {"t", "score", "threshold"}, QoS 0, not stored; dropped when the broker is down. */
void vg_outbox_score(vg_outbox *o, const char *camera, double t, double score,
                     double threshold);

typedef struct vg_sink_stats {
    const char *name;            /* "jsonl", "webhook", "mqtt" */
    long long delivered, failed; /* since start */
    long long owed;              /* deliveries waiting (the store's count) */
    int up;                      /* the last attempt succeeded (1 before any) */
    char error[200];             /* why the last attempt failed, "" after a delivery */
} vg_sink_stats;

/* The sinks' counters: *n of them (at most 3) into stats. */
void vg_outbox_stats(vg_outbox *o, vg_sink_stats stats[3], int *n);

/* Stops: each sink gets until deadline seconds from now to deliver what it owes (what
 * remains stays owed in the store), then its thread ends; a send already under way when
 * this is called may run to its own timeout (webhook.timeout, 10 s for an MQTT PUBACK).
 * The mqtt sink then publishes "offline" and disconnects. Accepts NULL. */
void vg_outbox_free(vg_outbox *o, double deadline);

#endif
