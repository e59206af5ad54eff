/* outbox.c - alert delivery (outbox.h): one lane per sink, each a thread that sends what
 * its sink owes, oldest first, and records every attempt in the store.
 *
 * A lane sleeps on the outbox's condition variable and wakes when a message is posted,
 * when its backoff ends, when its sink's connection comes back, or at shutdown. A pass
 * reads up to BATCH owed messages and sends them in order; the first failure ends the
 * pass and backs the lane off 1 s, 2 s, 4 s ... (the message's failed attempts so far,
 * capped at the sink's backoff_max). The head of the line is retried, never skipped, so a
 * receiver sees every event's messages in order. The backoff timer runs on the monotonic
 * clock; the store gets the same instant in wall-clock time (next_try), for the record. */
#include "serve/outbox.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/status.h"
#include "core/clock.h" /* vg_wall_now, vg_mono_now */
#include "serve/sink.h"

#define BATCH 32         /* owed messages read from the store per pass */
#define STORE_RETRY 1.0  /* seconds before a lane tries again after the store failed */
#define MAX_SINKS 3

typedef struct lane {
    struct vg_outbox *o;
    vg_sink *sink;
    pthread_t thread;
    int started;
    int first;                 /* no pass yet (the lane's thread only) */
    /* guarded by the outbox's lock (retry_wall: written under it by the lane's thread,
     * which alone reads it): */
    unsigned long seen;        /* the outbox's post count when the lane last looked */
    int more;                  /* something may be owed and due without a new post */
    double retry_mono;         /* backing off until then (monotonic seconds) */
    double retry_wall;         /* the same instant as the store has it */
    long long delivered, failed;
    int up;
    char error[200];
} lane;

struct vg_outbox {
    vg_store *store;
    pthread_mutex_t lock;
    pthread_cond_t wake;       /* on the monotonic clock */
    unsigned long posts;       /* alerts posted so far */
    int stopping;
    double drain_until;        /* monotonic: when stopping lanes give up */
    lane lanes[MAX_SINKS];
    int n;
    const char *names[MAX_SINKS];
    vg_sink *scores;           /* the mqtt sink when it publishes scores, else NULL */
};

static struct timespec mono_timespec(double t) {
    double s = floor(t);
    return (struct timespec){.tv_sec = (time_t)s, .tv_nsec = (long)((t - s) * 1e9)};
}

/* ---- the lane's thread ------------------------------------------------------------------ */

/* Waits, holding the lock, until the lane has something to try: 1, or 0 when it should
 * end (stopping, and nothing is due before the drain deadline). */
static int wait_for_work(lane *l) {
    vg_outbox *o = l->o;
    for (;;) {
        double now = vg_mono_now(), until = o->stopping ? o->drain_until : INFINITY;
        if (o->stopping && now >= o->drain_until) return 0;
        if (l->retry_mono > now) {
            until = fmin(until, l->retry_mono);
        } else if (l->more || l->seen != o->posts) {
            l->seen = o->posts, l->more = 0;
            return 1;
        } else if (o->stopping) {
            return 0; /* drained */
        }
        if (isinf(until)) {
            pthread_cond_wait(&o->wake, &o->lock);
        } else {
            struct timespec ts = mono_timespec(until);
            pthread_cond_timedwait(&o->wake, &o->lock, &ts);
        }
    }
}

/* Seconds a send may take: until the drain deadline once stopping, else no limit. */
static double time_left(vg_outbox *o) {
    pthread_mutex_lock(&o->lock);
    double left = o->stopping ? o->drain_until - vg_mono_now() : INFINITY;
    pthread_mutex_unlock(&o->lock);
    return left;
}

/* A failed attempt (attempts: the message's failures before it; why: one line): the lane
 * backs off and says why. */
static void back_off(lane *l, int attempts, const char *why, double delay) {
    pthread_mutex_lock(&l->o->lock);
    l->failed++, l->up = 0, l->more = 1;
    l->retry_mono = vg_mono_now() + delay;
    l->retry_wall = vg_wall_now() + delay;
    snprintf(l->error, sizeof l->error, "%.170s (attempt %d)", why, attempts + 1);
    pthread_mutex_unlock(&l->o->lock);
}

static void delivered(lane *l) {
    pthread_mutex_lock(&l->o->lock);
    l->delivered++, l->up = 1;
    l->error[0] = 0;
    pthread_mutex_unlock(&l->o->lock);
}

/* Sends p; 0 when it was delivered and recorded, else the lane is backing off. */
static int send_one(lane *l, const vg_pending *p, double timeout) {
    vg_store *store = l->o->store;
    vg_error err = {0};
    if (l->sink->send(l->sink, p->json, timeout, &err)) {
        double delay = fmin(ldexp(1.0, p->attempts < 30 ? p->attempts : 30),
                            l->sink->backoff_max);
        back_off(l, p->attempts, err.msg, delay);
        /* the lane's timer decides the retry; a failure to record it changes nothing */
        vg_store_failed(store, l->sink->name, p->seq, err.msg, l->retry_wall, NULL);
        return 1;
    }
    if (vg_store_delivered(store, l->sink->name, p->seq, &err)) {
        /* sent but not recorded: it stays owed and will be sent again (at least once) */
        back_off(l, 0, err.msg, STORE_RETRY);
        return 1;
    }
    delivered(l);
    return 0;
}

/* One pass: up to BATCH owed messages, in order, until the first failure. */
static void deliver(lane *l) {
    vg_outbox *o = l->o;
    /* After a (re)start what is owed is tried at once: stored retry times belong to the
     * previous run. Later the lane's own timer has decided that its retry is due: asking
     * with at least the retry time it stored means a wall clock that stepped back cannot
     * hold the head of the line. */
    double now = l->first ? INFINITY : fmax(vg_wall_now(), l->retry_wall);
    l->first = 0;
    vg_pending *p = NULL;
    vg_error err = {0};
    int n = 0, failed = 0, i = 0;
    if (vg_store_pending(o->store, l->sink->name, now, BATCH, &p, &n, &err)) {
        back_off(l, 0, err.msg, STORE_RETRY);
        return;
    }
    for (; i < n && !failed; i++) {
        double left = time_left(o);
        if (left <= 0) break;
        failed = send_one(l, &p[i], left);
    }
    vg_pending_free(p, n);
    if (!failed && (n == BATCH || i < n)) { /* more may be waiting behind this batch */
        pthread_mutex_lock(&o->lock);
        l->more = 1;
        pthread_mutex_unlock(&o->lock);
    }
}

static void *lane_main(void *arg) {
    lane *l = arg;
    vg_outbox *o = l->o;
    pthread_mutex_lock(&o->lock);
    while (wait_for_work(l)) {
        pthread_mutex_unlock(&o->lock);
        deliver(l);
        pthread_mutex_lock(&o->lock);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

/* ---- the outbox ------------------------------------------------------------------------- */

/* The mqtt sink's connection came up (its network thread): what it owes goes now. */
static void mqtt_up(void *user) {
    vg_outbox *o = user;
    pthread_mutex_lock(&o->lock);
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->lanes[i].sink->name, "mqtt")) {
            o->lanes[i].retry_mono = 0;
            o->lanes[i].more = 1;
        }
    pthread_cond_broadcast(&o->wake);
    pthread_mutex_unlock(&o->lock);
}

static void add_lane(vg_outbox *o, vg_sink *s) {
    pthread_mutex_lock(&o->lock); /* mqtt_up may be looking already */
    o->lanes[o->n] = (lane){.o = o, .sink = s, .first = 1, .more = 1, .up = 1};
    o->names[o->n++] = s->name;
    pthread_mutex_unlock(&o->lock);
}

static int add_sinks(vg_outbox *o, const vg_watch_config *cfg, vg_error *err) {
    vg_sink *s = NULL;
    int rc = VG_OK;
    if (cfg->jsonl && !(rc = vg_sink_jsonl_create(cfg->jsonl, &s, err))) add_lane(o, s);
    if (!rc && cfg->webhook.url && !(rc = vg_sink_webhook_create(&cfg->webhook, &s, err)))
        add_lane(o, s);
    if (!rc && cfg->mqtt.host && !(rc = vg_sink_mqtt_create(&cfg->mqtt, mqtt_up, o, &s, err))) {
        add_lane(o, s);
        if (cfg->mqtt.scores) o->scores = s;
    }
    return rc;
}

static int init_sync(vg_outbox *o) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr)) return -1;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&o->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc) return -1;
    if (pthread_mutex_init(&o->lock, NULL)) {
        pthread_cond_destroy(&o->wake);
        return -1;
    }
    return 0;
}

int vg_outbox_create(const vg_watch_config *cfg, vg_store *store, vg_outbox **out,
                     vg_error *err) {
    *out = NULL;
    vg_outbox *o = calloc(1, sizeof *o);
    if (!o || init_sync(o)) {
        free(o);
        return vg_fail(err, VG_ERR_NOMEM, "outbox: out of memory");
    }
    o->store = store;
    int rc = add_sinks(o, cfg, err);
    for (int i = 0; !rc && i < o->n; i++) {
        lane *l = &o->lanes[i];
        if (pthread_create(&l->thread, NULL, lane_main, l))
            rc = vg_fail(err, VG_ERR_NOMEM, "outbox: cannot start the %s sink's thread",
                         l->sink->name);
        else
            l->started = 1;
    }
    if (rc) {
        vg_outbox_free(o, 0);
        return rc;
    }
    *out = o;
    return VG_OK;
}

int vg_outbox_post(vg_outbox *o, const vg_message *m, int alert, vg_error *err) {
    int n = alert ? o->n : 0;
    int rc = vg_store_add(o->store, m, o->names, n, NULL, err);
    if (rc || !n) return rc;
    pthread_mutex_lock(&o->lock);
    o->posts++;
    pthread_cond_broadcast(&o->wake);
    pthread_mutex_unlock(&o->lock);
    return VG_OK;
}

void vg_outbox_score(vg_outbox *o, const char *camera, double t, double score,
                     double threshold) {
    if (o && o->scores) vg_sink_mqtt_score(o->scores, camera, t, score, threshold);
}

void vg_outbox_stats(vg_outbox *o, vg_sink_stats stats[3], int *n) {
    pthread_mutex_lock(&o->lock);
    for (int i = 0; i < o->n; i++) {
        const lane *l = &o->lanes[i];
        stats[i] = (vg_sink_stats){.name = l->sink->name, .delivered = l->delivered,
                                   .failed = l->failed, .up = l->up};
        snprintf(stats[i].error, sizeof stats[i].error, "%s", l->error);
    }
    *n = o->n;
    pthread_mutex_unlock(&o->lock);
    /* the store has its own lock: not taken inside the outbox's */
    for (int i = 0; i < *n; i++) stats[i].owed = vg_store_owed(o->store, stats[i].name);
}

void vg_outbox_free(vg_outbox *o, double deadline) {
    if (!o) return;
    pthread_mutex_lock(&o->lock);
    o->stopping = 1;
    o->drain_until = vg_mono_now() + (deadline > 0 ? deadline : 0);
    pthread_cond_broadcast(&o->wake);
    pthread_mutex_unlock(&o->lock);
    for (int i = 0; i < o->n; i++)
        if (o->lanes[i].started) pthread_join(o->lanes[i].thread, NULL);
    /* sinks go after every lane has ended, and before the lock: mqtt's network thread may
     * call mqtt_up until its sink is freed */
    for (int i = 0; i < o->n; i++) vg_sink_free(o->lanes[i].sink);
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    free(o);
}
