/* test_outbox.c - alert delivery end to end, with real receivers: a mosquitto broker
 * started for the test on a free loopback port (skipped when mosquitto is not installed),
 * an HTTP receiver that answers 200, or 500 to play a failing webhook, and a libmosquitto
 * subscriber (realparts.h). Checks: payloads arrive
 * at jsonl, webhook and mqtt intact and in order; shadow messages are stored, not sent; a
 * failing webhook holds up neither mqtt nor jsonl, is retried in order and catches up; what
 * is owed at shutdown goes out after a restart; the broker's availability topic and the
 * last will ("offline" when the client's process dies); a broker that comes up late or
 * restarts; JSON Lines on standard output; settings no retry can mend are refused. */

#include "serve/outbox.h"
#include "test.h"
#include "realparts.h"

/* ---- what was sent ---------------------------------------------------------------------- */

typedef struct sent {
    char *payload[MAX_RECORDS]; /* alerts posted, in order */
    int n;
    long long next_id;
} sent;

/* Posts one message of event id (type new/update/end) or a status (id 0); alert 0: shadow. */
static void post(vg_outbox *o, sent *log, long long id, const char *type, int alert) {
    static int counter;
    char json[256];
    snprintf(json, sizeof json,
             "{\"id\":%lld,\"camera\":\"gate\",\"class\":\"prediction_error\",\"type\":\"%s\","
             "\"start_time\":%d,\"end_time\":%d,\"peak\":1.5,\"severity\":\"low\",\"n\":%d}",
             id, type, 1000 + counter, 1000 + counter, counter);
    counter++;
    vg_message m = {.camera = "gate", .event_id = id, .kind = id ? "prediction_error" : "drift",
                    .type = id ? type : "status", .time = 1000 + counter, .json = json};
    vg_error err = {0};
    CHECK_OK(vg_outbox_post(o, &m, alert, &err), &err);
    if (alert && log->n < MAX_RECORDS) log->payload[log->n++] = strdup(json);
}

/* An event's three messages (new, update, end). */
static void post_event(vg_outbox *o, sent *log, int alert) {
    long long id = log->next_id++;
    post(o, log, id, "new", alert);
    post(o, log, id, "update", alert);
    post(o, log, id, "end", alert);
}

static vg_sink_stats stats_of(vg_outbox *o, const char *name) {
    vg_sink_stats st[3];
    int n = 0;
    vg_outbox_stats(o, st, &n);
    for (int i = 0; i < n; i++)
        if (!strcmp(st[i].name, name)) return st[i];
    return (vg_sink_stats){.owed = -1};
}

static long long owed(vg_outbox *o, const char *name) {
    return stats_of(o, name).owed;
}

/* Checks that the first n of got (a list of strings) are log's payloads from index 0. */
static void check_in_order(const char *what, char *const *got, int n, const sent *log) {
    int bad = n != log->n;
    for (int i = 0; i < n && i < log->n; i++) bad += strcmp(got[i], log->payload[i]) != 0;
    printf("%-8s %d of %d payloads, in order and intact: %s\n", what, n, log->n,
           bad ? "FAIL" : "ok");
    CHECK(!bad);
}

static void check_jsonl(const char *path, const sent *log) {
    size_t len = 0;
    char *text = test_read_file(path, &len);
    char *lines[MAX_RECORDS];
    int n = 0;
    for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l && n < MAX_RECORDS;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    check_in_order("jsonl", lines, n, log);
    free(text);
}

static void check_webhook(receiver *r, const sent *log) {
    char *ok[MAX_RECORDS];
    int n = 0;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < r->n; i++)
        if (r->req[i].status == 200) ok[n++] = r->req[i].body;
    check_in_order("webhook", ok, n, log);
    pthread_mutex_unlock(&r->lock);
}

static void check_mqtt(subscriber *s, const sent *log) {
    pthread_mutex_lock(&s->lock);
    check_in_order("mqtt", s->events, s->n_events, log);
    pthread_mutex_unlock(&s->lock);
}

/* ---- the tests -------------------------------------------------------------------------- */

/* The last will: a client whose process is killed is "offline" (retained) for all. */
static void test_last_will(int port) {
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t pid = fork();
    if (pid == 0) { /* the client: connects, delivers one message, then waits to be killed */
        vg_store *store = NULL;
        vg_outbox *o = NULL;
        vg_error err = {0};
        vg_watch_config cfg = {.mqtt = {.host = "127.0.0.1", .port = port, .prefix = "will",
                                        .client_id = "vigil-will"}};
        if (vg_store_open(test_path("will.db"), &store, &err) ||
            vg_outbox_create(&cfg, store, &o, &err))
            _exit(2);
        sent log = {.next_id = 1};
        post(o, &log, 1, "new", 1);
        WAIT_FOR(owed(o, "mqtt") == 0, PATIENCE);
        if (write(ready[1], "r", 1) != 1) _exit(3);
        pause();
        _exit(0);
    }
    close(ready[1]);
    char c = 0;
    struct pollfd p = {.fd = ready[0], .events = POLLIN};
    int up = poll(&p, 1, (int)(PATIENCE * 1000)) == 1 && read(ready[0], &c, 1) == 1;
    close(ready[0]);
    CHECK(up);
    subscriber s;
    CHECK(subscriber_start(&s, port, "will/#") == 0);
    WAIT_FOR(sub_available_is(&s, "online"), PATIENCE);
    printf("will: a connected client is '%s' (retained)\n", s.available);
    CHECK(sub_available_is(&s, "online"));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    WAIT_FOR(sub_available_is(&s, "offline"), PATIENCE);
    printf("will: after its process was killed: '%s'\n", s.available);
    CHECK(sub_available_is(&s, "offline"));
    subscriber_stop(&s);
}

typedef struct rig {
    receiver r;
    subscriber s;
    vg_store *store;
    vg_watch_config cfg;
    char url[64];
    sent log;
} rig;

/* All three sinks healthy: everything arrives, in order; shadow messages are stored only;
 * scores go out live. */
static void test_healthy(rig *g, vg_outbox *o) {
    post_event(o, &g->log, 1);
    post_event(o, &g->log, 0); /* shadow */
    post(o, &g->log, 0, "status", 1);
    post_event(o, &g->log, 1);
    WAIT_FOR(owed(o, "jsonl") == 0 && owed(o, "webhook") == 0 && owed(o, "mqtt") == 0 &&
                 sub_events(&g->s) == g->log.n,
             PATIENCE);
    check_jsonl(g->cfg.jsonl, &g->log);
    check_webhook(&g->r, &g->log);
    check_mqtt(&g->s, &g->log);
    CHECK(!strcmp(g->r.auth, "Bearer s3cret"));
    CHECK(!strcmp(g->r.type, "application/json"));
    vg_sink_stats st = stats_of(o, "webhook");
    CHECK(st.delivered == g->log.n && st.failed == 0 && st.up == 1 && !st.error[0]);

    /* the shadow event is in the store, owed to nobody */
    char *json = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_event_json(g->store, 2, &json, &err), &err);
    CHECK(json && strstr(json, "\"state\":\"ended\""));
    free(json);

    WAIT_FOR(sub_available_is(&g->s, "online"), PATIENCE);
    CHECK(sub_available_is(&g->s, "online"));
    for (int i = 0; i < 3; i++) vg_outbox_score(o, "gate", 1000.5 + i, 0.25, NAN);
    WAIT_FOR(sub_scores(&g->s) >= 3, PATIENCE);
    pthread_mutex_lock(&g->s.lock);
    printf("score: %d published, the last %s\n", g->s.n_scores, g->s.score);
    CHECK(g->s.n_scores == 3);
    CHECK(!strcmp(g->s.score, "{\"t\":1002.5,\"score\":0.25,\"threshold\":null}"));
    pthread_mutex_unlock(&g->s.lock);
}

/* The webhook answers 500: jsonl and mqtt go on; the webhook retries its oldest message
 * only, and catches up in order once the receiver is back. */
static void test_webhook_down(rig *g, vg_outbox *o) {
    atomic_store(&g->r.answer, 500);
    int before = received_all(&g->r);
    post_event(o, &g->log, 1);
    WAIT_FOR(owed(o, "jsonl") == 0 && sub_events(&g->s) == g->log.n &&
                 stats_of(o, "webhook").failed >= 2,
             PATIENCE);
    vg_sink_stats st = stats_of(o, "webhook");
    printf("webhook down: %lld failed attempts, %lld owed, up %d, '%s'\n", st.failed, st.owed,
           st.up, st.error);
    CHECK(st.failed >= 2 && st.owed == 3 && st.up == 0 && strstr(st.error, "HTTP 500"));
    CHECK(owed(o, "jsonl") == 0 && owed(o, "mqtt") == 0);
    check_jsonl(g->cfg.jsonl, &g->log);
    check_mqtt(&g->s, &g->log);
    /* strictly in order: every failed attempt was the event's "new" */
    pthread_mutex_lock(&g->r.lock);
    for (int i = before; i < g->r.n; i++)
        CHECK(!strcmp(g->r.req[i].body, g->log.payload[g->log.n - 3]));
    pthread_mutex_unlock(&g->r.lock);

    atomic_store(&g->r.answer, 200);
    WAIT_FOR(owed(o, "webhook") == 0 && received_ok(&g->r) == g->log.n, PATIENCE);
    check_webhook(&g->r, &g->log);
    CHECK(stats_of(o, "webhook").up == 1);
}

/* Deliveries owed at shutdown (a webhook at a port nobody listens on) go out after the
 * store is reopened with a new outbox, once, in order; the other sinks send nothing again. */
static void test_restart(rig *g, vg_outbox *o, const char *db) {
    vg_watch_config dead = g->cfg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", free_port());
    dead.webhook.url = url;
    vg_error err = {0};
    vg_outbox_free(o, 5); /* nothing owed: returns at once */
    CHECK_OK(vg_outbox_create(&dead, g->store, &o, &err), &err);
    post_event(o, &g->log, 1);
    WAIT_FOR(owed(o, "jsonl") == 0 && sub_events(&g->s) == g->log.n &&
                 stats_of(o, "webhook").failed >= 1,
             PATIENCE);
    vg_sink_stats st = stats_of(o, "webhook");
    printf("webhook unreachable: %lld owed, '%s'\n", st.owed, st.error);
    CHECK(st.owed == 3 && st.failed >= 1);
    double t0 = mono();
    vg_outbox_free(o, 0.5);
    printf("stopped in %.2f s with 3 owed\n", mono() - t0);
    vg_store_close(g->store);

    CHECK_OK(vg_store_open(db, &g->store, &err), &err);
    CHECK(vg_store_owed(g->store, "webhook") == 3);
    CHECK_OK(vg_outbox_create(&g->cfg, g->store, &o, &err), &err);
    WAIT_FOR(owed(o, "webhook") == 0 && received_ok(&g->r) == g->log.n, PATIENCE);
    check_webhook(&g->r, &g->log);
    nap(0.2); /* time enough for a wrong resend to show */
    check_jsonl(g->cfg.jsonl, &g->log);
    check_mqtt(&g->s, &g->log);
    WAIT_FOR(sub_available_is(&g->s, "online"), PATIENCE);
    CHECK(sub_available_is(&g->s, "online"));
    vg_outbox_free(o, 5);
    /* a clean stop says "offline" itself */
    WAIT_FOR(sub_available_is(&g->s, "offline"), PATIENCE);
    CHECK(sub_available_is(&g->s, "offline"));
}

static void test_sinks(int port) {
    rig *g = calloc(1, sizeof *g);
    vg_error err = {0};
    CHECK(receiver_start(&g->r) == 0);
    CHECK(subscriber_start(&g->s, port, "test/#") == 0);
    snprintf(g->url, sizeof g->url, "http://127.0.0.1:%d/hook", g->r.port);
    static char jsonl[512];
    snprintf(jsonl, sizeof jsonl, "%s", test_path("events.jsonl"));
    g->cfg = (vg_watch_config){
        .jsonl = jsonl,
        .webhook = {.url = g->url, .token = "s3cret", .timeout = 2, .backoff_max = 1},
        .mqtt = {.host = "127.0.0.1", .port = port, .prefix = "test", .client_id = "vigil-test",
                 .scores = 1}};
    g->log.next_id = 1;
    char db[512];
    snprintf(db, sizeof db, "%s", test_path("events.db"));
    vg_outbox *o = NULL;
    CHECK_OK(vg_store_open(db, &g->store, &err), &err);
    CHECK_OK(vg_outbox_create(&g->cfg, g->store, &o, &err), &err);
    if (o) {
        test_healthy(g, o);
        test_webhook_down(g, o);
        test_restart(g, o, db);
    }
    vg_store_close(g->store);
    subscriber_stop(&g->s);
    receiver_stop(&g->r);
    for (int i = 0; i < g->log.n; i++) free(g->log.payload[i]);
    free(g);
}

/* A broker that is down when the outbox starts: the message waits, and goes once the
 * broker comes up. */
static void test_late_broker(const char *binary) {
    int port = free_port();
    vg_store *store = NULL;
    vg_outbox *o = NULL;
    vg_error err = {0};
    vg_watch_config cfg = {.mqtt = {.host = "127.0.0.1", .port = port, .prefix = "late",
                                    .client_id = "vigil-late"}};
    CHECK_OK(vg_store_open(test_path("late.db"), &store, &err), &err);
    CHECK_OK(vg_outbox_create(&cfg, store, &o, &err), &err);
    if (!o) return;
    sent log = {.next_id = 1};
    post(o, &log, 1, "new", 1);
    WAIT_FOR(stats_of(o, "mqtt").failed >= 1, PATIENCE);
    vg_sink_stats st = stats_of(o, "mqtt");
    printf("broker down: %lld owed, '%s'\n", st.owed, st.error);
    CHECK(st.owed == 1 && st.up == 0);
    pid_t broker = start_broker(binary, port);
    CHECK(broker > 0);
    double t0 = mono();
    WAIT_FOR(owed(o, "mqtt") == 0, PATIENCE);
    printf("broker up: delivered %.1f s later\n", mono() - t0);
    CHECK(owed(o, "mqtt") == 0);
    /* the broker restarts: what is posted meanwhile goes once it is back */
    stop_broker(broker);
    post(o, &log, 1, "end", 1);
    broker = start_broker(binary, port);
    CHECK(broker > 0);
    t0 = mono();
    WAIT_FOR(owed(o, "mqtt") == 0, PATIENCE);
    printf("broker restarted: delivered %.1f s later\n", mono() - t0);
    CHECK(owed(o, "mqtt") == 0);
    /* stopping while the broker is gone (the client between reconnection attempts) */
    stop_broker(broker);
    nap(2.5);
    t0 = mono();
    vg_outbox_free(o, 2);
    printf("stopped without a broker in %.1f s\n", mono() - t0);
    CHECK(mono() - t0 < 3);
    vg_store_close(store);
    for (int i = 0; i < log.n; i++) free(log.payload[i]);
}

/* "-" writes the lines to standard output; a payload's line breaks become spaces. */
static void test_jsonl_stdout(void) {
    const char *path = test_path("stdout.jsonl");
    fflush(stdout);
    int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(saved >= 0 && fd >= 0 && dup2(fd, 1) == 1);
    close(fd);
    vg_store *store = NULL;
    vg_outbox *o = NULL;
    vg_error err = {0};
    vg_watch_config cfg = {.jsonl = "-"};
    CHECK_OK(vg_store_open(test_path("stdout.db"), &store, &err), &err);
    CHECK_OK(vg_outbox_create(&cfg, store, &o, &err), &err);
    sent log = {.next_id = 1};
    if (o) {
        post_event(o, &log, 1);
        vg_message m = {.camera = "gate", .kind = "drift", .type = "status", .time = 1,
                        .json = "{\"status\": \"drift\",\n \"camera\": \"gate\"}"};
        CHECK_OK(vg_outbox_post(o, &m, 1, &err), &err);
        log.payload[log.n++] = strdup("{\"status\": \"drift\",  \"camera\": \"gate\"}");
        WAIT_FOR(owed(o, "jsonl") == 0, PATIENCE);
    }
    vg_outbox_free(o, 2);
    vg_store_close(store);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    check_jsonl(path, &log);
    for (int i = 0; i < log.n; i++) free(log.payload[i]);
}

static void test_config_errors(void) {
    vg_store *store = NULL;
    vg_outbox *o = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_open(test_path("config.db"), &store, &err), &err);
    vg_watch_config cfg = {.webhook = {.url = "ftp://example.com/x", .timeout = 5,
                                       .backoff_max = 60}};
    CHECK(vg_outbox_create(&cfg, store, &o, &err) == VG_ERR_ARG && !o);
    printf("refused: %s\n", err.msg);
    cfg.webhook.url = "http://exa mple.com/";
    CHECK(vg_outbox_create(&cfg, store, &o, &err) == VG_ERR_ARG && strstr(err.msg, "not a URL"));
    printf("refused: %s\n", err.msg);
    cfg.webhook = (vg_webhook_config){.url = "http://127.0.0.1/", .token = "a\r\nX-Evil: 1",
                                      .timeout = 5, .backoff_max = 60};
    CHECK(vg_outbox_create(&cfg, store, &o, &err) == VG_ERR_ARG && strstr(err.msg, "token"));
    printf("refused: %s\n", err.msg);
    cfg = (vg_watch_config){.jsonl = "/nonexistent-dir/events.jsonl"};
    CHECK(vg_outbox_create(&cfg, store, &o, &err) == VG_ERR_IO && strstr(err.msg, "nonexistent"));
    printf("refused: %s\n", err.msg);
    cfg = (vg_watch_config){.mqtt = {.host = "127.0.0.1", .port = 1883, .prefix = "a/#"}};
    CHECK(vg_outbox_create(&cfg, store, &o, &err) == VG_ERR_ARG && strstr(err.msg, "prefix"));
    printf("refused: %s\n", err.msg);
    vg_store_close(store);
}

int main(void) {
    const char *binary = mosquitto_binary();
    if (!binary) {
        printf("skipped: no mosquitto broker binary (apt install mosquitto)\n");
        return TEST_SKIP;
    }
    test_tmpdir("outbox");
    signal(SIGPIPE, SIG_IGN);
    mosquitto_lib_init();
    int port = free_port();
    pid_t broker = start_broker(binary, port);
    CHECK(broker > 0);
    if (broker > 0) {
        test_last_will(port); /* first: it forks, best before this process has threads */
        test_sinks(port);
    }
    stop_broker(broker);
    test_late_broker(binary);
    test_jsonl_stdout();
    test_config_errors();
    mosquitto_lib_cleanup();
    if (!test_failures) test_tmpdir_remove();
    return test_result();
}
