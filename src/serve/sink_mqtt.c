/* sink_mqtt.c - the MQTT sink (libmosquitto).
 *
 * libmosquitto's own thread (mosquitto_loop_start) runs the connection: it connects in the
 * background, reconnects with backoff, and calls on_connect, on_disconnect and on_publish.
 * A payload counts as delivered when its PUBACK arrives: send publishes at QoS 1 and
 * waits for on_publish with the same message id. send holds the sink's lock from the
 * publish until the wait, so the PUBACK cannot be seen before the id is recorded; that is
 * safe because libmosquitto's publish never runs a callback, and callbacks take this lock
 * only after libmosquitto's callback lock (one lock order). A send that times out is
 * retried by the outbox: at-least-once, a receiver may see a payload twice.
 *
 * libmosquitto's thread reconnects by itself, but only once a first connect got under
 * way: one refused at once (a broker on this machine not up yet, a name that does not
 * resolve yet) leaves it waiting for a connect call that never comes. The connector
 * thread makes that call again, with the same backoff, until it is under way. */
#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/status.h"
#include "core/clock.h" /* vg_mono_now */
#include "serve/sink.h"

#define KEEPALIVE 30        /* seconds between pings on an idle connection */
#define ACK_TIMEOUT 10.0    /* seconds a PUBACK may take before the send counts as failed */
#define OFFLINE_TIMEOUT 2.0 /* seconds a clean stop waits for its "offline" to be acked */

typedef struct mqtt_sink {
    vg_sink base;
    struct mosquitto *mosq;
    char *prefix, *events_topic, *available_topic;
    char where[300];           /* "host:port", for messages */
    void (*wake)(void *user);
    void *user;
    int looping;               /* the network thread runs */
    pthread_t connector;
    int connecting;            /* the connector thread runs */
    pthread_mutex_t lock;      /* guards what follows */
    pthread_cond_t changed;    /* a PUBACK came, or stopping; on the monotonic clock */
    int connected, stopping;
    int ack_mid, ack_seen;     /* the message id a send waits for, and whether it came */
    char why[200];             /* why not connected */
} mqtt_sink;

static pthread_once_t mosq_once = PTHREAD_ONCE_INIT;

static void mosq_init(void) {
    mosquitto_lib_init(); /* process-wide; never undone, others may use the library */
}

static void on_connect(struct mosquitto *mosq, void *user, int rc) {
    mqtt_sink *m = user;
    /* "online" goes out before any event of this connection */
    if (!rc) mosquitto_publish(mosq, NULL, m->available_topic, 6, "online", 1, true);
    pthread_mutex_lock(&m->lock);
    m->connected = !rc;
    if (rc)
        snprintf(m->why, sizeof m->why, "the broker refused the connection: %s",
                 mosquitto_connack_string(rc));
    pthread_mutex_unlock(&m->lock);
    if (!rc && m->wake) m->wake(m->user);
}

static void on_disconnect(struct mosquitto *mosq, void *user, int rc) {
    (void)mosq;
    mqtt_sink *m = user;
    pthread_mutex_lock(&m->lock);
    m->connected = 0;
    snprintf(m->why, sizeof m->why, "connection lost (%s)",
             rc ? mosquitto_strerror(rc) : "disconnected");
    pthread_mutex_unlock(&m->lock);
}

static void on_publish(struct mosquitto *mosq, void *user, int mid) {
    (void)mosq;
    mqtt_sink *m = user;
    pthread_mutex_lock(&m->lock);
    if (mid == m->ack_mid) {
        m->ack_seen = 1;
        pthread_cond_broadcast(&m->changed);
    }
    pthread_mutex_unlock(&m->lock);
}

static struct timespec mono_timespec(double t) {
    double s = floor(t);
    return (struct timespec){.tv_sec = (time_t)s, .tv_nsec = (long)((t - s) * 1e9)};
}

/* Publishes payload to topic at QoS 1 and waits up to timeout seconds for its PUBACK. */
static int publish_acked(mqtt_sink *m, const char *topic, const char *payload, int retain,
                         double timeout, vg_error *err) {
    pthread_mutex_lock(&m->lock);
    int mid = 0, rc = m->connected ? mosquitto_publish(m->mosq, &mid, topic,
                                                       (int)strlen(payload), payload, 1, retain)
                                   : MOSQ_ERR_NO_CONN;
    if (rc == MOSQ_ERR_SUCCESS) {
        m->ack_mid = mid, m->ack_seen = 0;
        struct timespec until = mono_timespec(vg_mono_now() + timeout);
        while (!m->ack_seen && pthread_cond_timedwait(&m->changed, &m->lock, &until) != ETIMEDOUT)
            continue;
        m->ack_mid = 0;
    }
    int status = rc == MOSQ_ERR_NO_CONN
                     ? vg_fail(err, VG_ERR_IO, "mqtt: %s: %s", m->where, m->why)
                 : rc ? vg_fail(err, VG_ERR_IO, "mqtt: %s: cannot publish: %s", m->where,
                                mosquitto_strerror(rc))
                 : !m->ack_seen
                     ? vg_fail(err, VG_ERR_IO, "mqtt: %s: no PUBACK from the broker within %g s",
                               m->where, timeout)
                     : VG_OK;
    pthread_mutex_unlock(&m->lock);
    return status;
}

static int mqtt_send(vg_sink *base, const char *json, double timeout, vg_error *err) {
    mqtt_sink *m = (mqtt_sink *)base;
    return publish_acked(m, m->events_topic, json, 0, fmin(timeout, ACK_TIMEOUT), err);
}

/* A number as JSON (null for NaN and infinities, which JSON cannot write). */
static void json_number(char *buf, size_t size, double v) {
    if (isfinite(v)) snprintf(buf, size, "%.9g", v);
    else snprintf(buf, size, "null");
}

void vg_sink_mqtt_score(vg_sink *base, const char *camera, double t, double score,
                        double threshold) {
    mqtt_sink *m = (mqtt_sink *)base;
    pthread_mutex_lock(&m->lock);
    int up = m->connected;
    pthread_mutex_unlock(&m->lock);
    char topic[512], payload[160], ts[32], sc[32], th[32];
    int n = snprintf(topic, sizeof topic, "%s/%s/score", m->prefix, camera);
    if (!up || n < 0 || (size_t)n >= sizeof topic) return;
    json_number(ts, sizeof ts, t);
    json_number(sc, sizeof sc, score);
    json_number(th, sizeof th, threshold);
    n = snprintf(payload, sizeof payload, "{\"t\":%s,\"score\":%s,\"threshold\":%s}", ts, sc, th);
    mosquitto_publish(m->mosq, NULL, topic, n, payload, 0, false);
}

/* Retries a first connect that failed at once until one is under way (or stopping). */
static void *connector_main(void *arg) {
    mqtt_sink *m = arg;
    double delay = 1;
    pthread_mutex_lock(&m->lock);
    while (!m->stopping) {
        struct timespec until = mono_timespec(vg_mono_now() + delay);
        pthread_cond_timedwait(&m->changed, &m->lock, &until);
        if (m->stopping) break;
        pthread_mutex_unlock(&m->lock);
        int rc = mosquitto_reconnect_async(m->mosq);
        pthread_mutex_lock(&m->lock);
        if (rc == MOSQ_ERR_SUCCESS) break;
        snprintf(m->why, sizeof m->why, "cannot connect (%s)", mosquitto_strerror(rc));
        delay = fmin(2 * delay, VG_SINK_BACKOFF_MAX);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static void mqtt_free(vg_sink *base) {
    mqtt_sink *m = (mqtt_sink *)base;
    if (m->connecting) {
        pthread_mutex_lock(&m->lock);
        m->stopping = 1;
        pthread_cond_broadcast(&m->changed);
        pthread_mutex_unlock(&m->lock);
        pthread_join(m->connector, NULL);
    }
    if (m->looping) {
        /* a clean stop sends no last will: say "offline" ourselves (best effort) */
        publish_acked(m, m->available_topic, "offline", 1, OFFLINE_TIMEOUT, NULL);
        mosquitto_disconnect(m->mosq);
        mosquitto_loop_stop(m->mosq, false);
    }
    mosquitto_destroy(m->mosq);
    pthread_cond_destroy(&m->changed);
    pthread_mutex_destroy(&m->lock);
    free(m->prefix);
    free(m->events_topic);
    free(m->available_topic);
    free(m);
}

static int check_config(const vg_mqtt_config *c, vg_error *err) {
    if (!c->host || !*c->host) return vg_fail(err, VG_ERR_ARG, "mqtt: no broker host given");
    if (c->port < 1 || c->port > 65535)
        return vg_fail(err, VG_ERR_ARG, "mqtt: port %d is out of range 1..65535", c->port);
    if (!c->prefix || !*c->prefix || strpbrk(c->prefix, "+#"))
        return vg_fail(err, VG_ERR_ARG, "mqtt: topic prefix '%s' is empty or has + or #",
                       c->prefix ? c->prefix : "");
    return VG_OK;
}

/* prefix + suffix as a new string, or NULL. */
static char *topic_of(const char *prefix, const char *suffix) {
    size_t n = strlen(prefix) + strlen(suffix) + 1;
    char *t = malloc(n);
    if (t) snprintf(t, n, "%s%s", prefix, suffix);
    return t;
}

static int init_sink(mqtt_sink *m, const vg_mqtt_config *c) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr)) return -1;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&m->changed, &attr);
    pthread_condattr_destroy(&attr);
    if (rc || pthread_mutex_init(&m->lock, NULL)) return -1;
    snprintf(m->where, sizeof m->where, "%s:%d", c->host, c->port);
    snprintf(m->why, sizeof m->why, "not connected yet");
    m->prefix = strdup(c->prefix);
    m->events_topic = topic_of(c->prefix, "/events");
    m->available_topic = topic_of(c->prefix, "/available");
    return m->prefix && m->events_topic && m->available_topic ? 0 : -1;
}

/* The client: identity, credentials, last will and backoff, set before it connects. */
static int make_client(mqtt_sink *m, const vg_mqtt_config *c, vg_error *err) {
    char host[256] = "", id[300];
    if (!c->client_id && gethostname(host, sizeof host - 1)) snprintf(host, sizeof host, "host");
    snprintf(id, sizeof id, "vigil-%s", host);
    if (!(m->mosq = mosquitto_new(c->client_id ? c->client_id : id, true, m)))
        return vg_fail(err, errno == EINVAL ? VG_ERR_ARG : VG_ERR_NOMEM,
                       "mqtt: cannot make a client '%s': %s", c->client_id ? c->client_id : id,
                       strerror(errno));
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_publish_callback_set(m->mosq, on_publish);
    int rc = c->username ? mosquitto_username_pw_set(m->mosq, c->username, c->password)
                         : MOSQ_ERR_SUCCESS;
    if (!rc) rc = mosquitto_will_set(m->mosq, m->available_topic, 7, "offline", 1, true);
    if (!rc) rc = mosquitto_reconnect_delay_set(m->mosq, 1, (unsigned)VG_SINK_BACKOFF_MAX, true);
    return rc ? vg_fail(err, VG_ERR_ARG, "mqtt: %s", mosquitto_strerror(rc)) : VG_OK;
}

int vg_sink_mqtt_create(const vg_mqtt_config *c, void (*wake)(void *user), void *user,
                        vg_sink **out, vg_error *err) {
    *out = NULL;
    int rc = check_config(c, err);
    if (rc) return rc;
    pthread_once(&mosq_once, mosq_init);
    mqtt_sink *m = calloc(1, sizeof *m);
    if (!m) return vg_fail(err, VG_ERR_NOMEM, "mqtt: out of memory");
    m->base = (vg_sink){.name = "mqtt", .backoff_max = VG_SINK_BACKOFF_MAX, .send = mqtt_send,
                        .free = mqtt_free};
    m->wake = wake, m->user = user;
    if (init_sink(m, c)) {
        free(m->prefix), free(m->events_topic), free(m->available_topic), free(m);
        return vg_fail(err, VG_ERR_NOMEM, "mqtt: out of memory");
    }
    rc = make_client(m, c, err);
    /* An unreachable broker is not an error: it is retried. Only an argument libmosquitto
     * rejects outright is. */
    int connect_rc = rc ? MOSQ_ERR_SUCCESS
                        : mosquitto_connect_async(m->mosq, c->host, c->port, KEEPALIVE);
    if (connect_rc == MOSQ_ERR_INVAL)
        rc = vg_fail(err, VG_ERR_ARG, "mqtt: cannot connect to %s: invalid host or port",
                     m->where);
    else if (connect_rc)
        snprintf(m->why, sizeof m->why, "cannot connect (%s)", mosquitto_strerror(connect_rc));
    int loop_rc = rc ? MOSQ_ERR_SUCCESS : mosquitto_loop_start(m->mosq);
    if (loop_rc)
        rc = vg_fail(err, VG_ERR_UNSUPPORTED, "mqtt: cannot start the network thread: %s",
                     mosquitto_strerror(loop_rc));
    m->looping = !rc;
    if (!rc && connect_rc) {
        if (pthread_create(&m->connector, NULL, connector_main, m))
            rc = vg_fail(err, VG_ERR_NOMEM, "mqtt: cannot start the connector thread");
        else
            m->connecting = 1;
    }
    if (rc) {
        mqtt_free(&m->base);
        return rc;
    }
    *out = &m->base;
    return VG_OK;
}
