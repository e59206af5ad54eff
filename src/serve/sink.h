/* sink.h - one alert sink: it sends one payload to its receiver and says whether the
 * receiver has it. Order, retries, backoff and bookkeeping are the outbox's (outbox.c),
 * which runs each sink on a thread of its own; a sink only talks to its receiver. The
 * implementations are sink_jsonl.c, sink_webhook.c and sink_mqtt.c. */
#ifndef VG_SERVE_SINK_H
#define VG_SERVE_SINK_H

#include "serve/config.h"

/* Seconds between retries at most for the sinks without a setting of their own (jsonl,
 * mqtt): an outage costs at most a minute of delay once it ends. */
#define VG_SINK_BACKOFF_MAX 60.0

typedef struct vg_sink vg_sink;

struct vg_sink {
    const char *name;   /* "jsonl", "webhook", "mqtt": its deliveries' name in the store */
    double backoff_max; /* seconds between retries at most */
    /* Sends json (one payload) taking at most timeout seconds (INFINITY: the sink's own
     * limit): VG_OK once the receiver has it, else an error saying why in one line.
     * Called from one thread at a time. */
    int (*send)(vg_sink *s, const char *json, double timeout, vg_error *err);
    void (*free)(vg_sink *s);
};

static inline void vg_sink_free(vg_sink *s) {
    if (s) s->free(s);
}

/* Appends each payload as one line to path ("-": standard output), flushed and, for a
 * file, synced to disk before it counts as delivered. VG_ERR_IO when path cannot be opened
 * for appending. */
int vg_sink_jsonl_create(const char *path, vg_sink **out, vg_error *err);

/* POSTs each payload to c->url (libcurl; Content-Type application/json, the token as a
 * bearer); a 2xx answer within c->timeout is a delivery. VG_ERR_ARG for a URL that is
 * malformed or not http(s), a token with control characters. The first call initialises
 * libcurl for the whole process (curl_global_init, never undone): a program that uses
 * libcurl itself should call curl_global_init before it starts threads. */
int vg_sink_webhook_create(const vg_webhook_config *c, vg_sink **out, vg_error *err);

/* Publishes each payload to PREFIX/events at QoS 1 (libmosquitto, its own network
 * thread); a delivery is the broker's PUBACK. Connects in the background and reconnects
 * with a growing delay (libmosquitto's: 1 s, 4 s, 9 s ... at most 60 s).
 * PREFIX/available is "online" (retained) while connected, and the broker publishes the
 * last will "offline" (retained) when the connection dies; a clean stop publishes
 * "offline" itself. wake(user) (may be NULL) is called from the network thread each time
 * the connection comes up, so owed messages need not wait out their backoff. VG_ERR_ARG
 * for a missing host, a port out of 1..65535, a prefix with MQTT wildcards. The first call
 * runs mosquitto_lib_init for the process. */
int vg_sink_mqtt_create(const vg_mqtt_config *c, void (*wake)(void *user), void *user,
                        vg_sink **out, vg_error *err);

/* Publishes a frame's score to PREFIX/<camera>/score, {"t", "score", "threshold"} at QoS
 * 0, when connected; otherwise it is dropped. Safe from any thread; never waits. */
void vg_sink_mqtt_score(vg_sink *s, const char *camera, double t, double score,
                        double threshold);

#endif
