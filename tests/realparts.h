/* realparts.h - real counterparts for tests of what vigil sends: a mosquitto broker
 * started on a free loopback port (when the binary is installed), an HTTP receiver (a
 * thread that records each request and answers 200, or 500 to play a failing webhook) and
 * a libmosquitto subscriber, with the waiting helpers they need. Include after test.h. */
#ifndef VG_TEST_REALPARTS_H
#define VG_TEST_REALPARTS_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RECORDS 256
#define PATIENCE 20.0 /* seconds any awaited delivery may take on a loaded machine */

static inline double mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static inline void nap(double secs) {
    struct timespec t = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    nanosleep(&t, NULL);
}

/* Polls cond every 10 ms until it holds or secs pass. */
#define WAIT_FOR(cond, secs)                                                              \
    do {                                                                                  \
        double until_ = mono() + (secs);                                                  \
        while (!(cond) && mono() < until_) nap(0.01);                                     \
    } while (0)

/* A port on 127.0.0.1 that nobody listened on a moment ago. */
static inline int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
                       !getsockname(fd, (struct sockaddr *)&a, &len)
                   ? ntohs(a.sin_port)
                   : -1;
    if (fd >= 0) close(fd);
    return port;
}

static inline int port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof a);
    if (fd >= 0) close(fd);
    return ok;
}

/* ---- the broker ------------------------------------------------------------------------- */

static inline const char *mosquitto_binary(void) {
    static const char *const places[] = {"/usr/sbin/mosquitto", "/usr/bin/mosquitto",
                                         "/usr/local/sbin/mosquitto", "/usr/local/bin/mosquitto"};
    for (size_t i = 0; i < sizeof places / sizeof *places; i++)
        if (!access(places[i], X_OK)) return places[i];
    return NULL;
}

/* Starts mosquitto on 127.0.0.1:port (its log in the temporary folder); the pid once it
 * accepts connections, else -1. It dies with the test (PR_SET_PDEATHSIG). */
static inline pid_t start_broker(const char *binary, int port) {
    char name[64], conf[128];
    snprintf(name, sizeof name, "mosquitto-%d.conf", port);
    int n = snprintf(conf, sizeof conf, "listener %d 127.0.0.1\nallow_anonymous true\n", port);
    const char *conf_path = test_path(name);
    if (!test_write_file(conf_path, conf, (size_t)n)) return -1;
    snprintf(name, sizeof name, "mosquitto-%d.log", port);
    char log_path[512];
    snprintf(log_path, sizeof log_path, "%s", test_path(name));
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (freopen(log_path, "w", stderr)) dup2(fileno(stderr), 1);
        execl(binary, "mosquitto", "-c", conf_path, (char *)NULL);
        _exit(127);
    }
    int status;
    double until = mono() + PATIENCE;
    while (pid > 0 && !port_open(port) && mono() < until) {
        if (waitpid(pid, &status, WNOHANG) == pid) return -1;
        nap(0.02);
    }
    if (pid > 0 && !port_open(port)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    return pid;
}

static inline void stop_broker(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* ---- the HTTP receiver ------------------------------------------------------------------ */

typedef struct request {
    char *body;
    int status; /* what it was answered */
} request;

typedef struct receiver {
    int fd, port;
    pthread_t thread;
    atomic_int stop, answer; /* answer: the status to give, 200 or 500 */
    pthread_mutex_t lock;
    request req[MAX_RECORDS];
    int n;
    char auth[128], type[128]; /* the last request's Authorization and Content-Type */
} receiver;

/* The value of header name in the request head, copied into out (empty when absent). */
static inline void header_value(const char *head, const char *name, char *out, size_t size) {
    out[0] = 0;
    size_t len = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, name, len) || line[2 + len] != ':') continue;
        const char *v = line + 3 + len;
        while (*v == ' ') v++;
        size_t n = strcspn(v, "\r\n");
        snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), v);
        return;
    }
}

/* Reads one request from a connection, records it and answers; the connection closes. */
static inline void serve_one(receiver *r, int c) {
    char buf[16384];
    size_t got = 0;
    char *end = NULL;
    long body_len = -1;
    while (got < sizeof buf - 1) {
        struct pollfd p = {.fd = c, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) return;
        ssize_t k = read(c, buf + got, sizeof buf - 1 - got);
        if (k <= 0) return;
        got += (size_t)k;
        buf[got] = 0;
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            char len[32];
            header_value(buf, "Content-Length", len, sizeof len);
            body_len = atol(len);
        }
        if (end && (long)(got - (size_t)(end + 4 - buf)) >= body_len) break;
    }
    if (!end) return;
    int status = atomic_load(&r->answer);
    pthread_mutex_lock(&r->lock);
    if (r->n < MAX_RECORDS) {
        r->req[r->n].body = strndup(end + 4, (size_t)body_len);
        r->req[r->n++].status = status;
    }
    *end = 0;
    header_value(buf, "Authorization", r->auth, sizeof r->auth);
    header_value(buf, "Content-Type", r->type, sizeof r->type);
    pthread_mutex_unlock(&r->lock);
    char reply[128];
    int n = snprintf(reply, sizeof reply,
                     "HTTP/1.1 %d %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", status,
                     status == 200 ? "OK" : "Internal Server Error");
    if (write(c, reply, (size_t)n) != n) return;
}

static inline void *receiver_main(void *arg) {
    receiver *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(r->fd, NULL, NULL);
        if (c < 0) continue;
        serve_one(r, c);
        close(c);
    }
    return NULL;
}

static inline int receiver_start(receiver *r) {
    memset(r, 0, sizeof *r);
    atomic_store(&r->answer, 200);
    pthread_mutex_init(&r->lock, NULL);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&a, sizeof a) || listen(r->fd, 16) ||
        getsockname(r->fd, (struct sockaddr *)&a, &len))
        return -1;
    r->port = ntohs(a.sin_port);
    return pthread_create(&r->thread, NULL, receiver_main, r) ? -1 : 0;
}

static inline void receiver_stop(receiver *r) {
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    close(r->fd);
    for (int i = 0; i < r->n; i++) free(r->req[i].body);
    pthread_mutex_destroy(&r->lock);
}

/* Requests answered 2xx so far. */
static inline int received_ok(receiver *r) {
    pthread_mutex_lock(&r->lock);
    int n = 0;
    for (int i = 0; i < r->n; i++) n += r->req[i].status == 200;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static inline int received_all(receiver *r) {
    pthread_mutex_lock(&r->lock);
    int n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* ---- the MQTT subscriber ---------------------------------------------------------------- */

typedef struct subscriber {
    struct mosquitto *mosq;
    const char *filter;
    atomic_int subscribed;
    pthread_mutex_t lock;
    char *events[MAX_RECORDS];
    int n_events, n_scores;
    char available[32];  /* the latest PREFIX/available payload */
    char score[160];     /* the latest score payload */
} subscriber;

static inline int ends_with(const char *s, const char *tail) {
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

static inline void sub_on_message(struct mosquitto *m, void *user, const struct mosquitto_message *msg) {
    (void)m;
    subscriber *s = user;
    pthread_mutex_lock(&s->lock);
    const char *text = msg->payload ? msg->payload : "";
    int len = msg->payloadlen;
    if (ends_with(msg->topic, "/events") && s->n_events < MAX_RECORDS)
        s->events[s->n_events++] = strndup(text, (size_t)len);
    else if (ends_with(msg->topic, "/available"))
        snprintf(s->available, sizeof s->available, "%.*s", len, text);
    else if (ends_with(msg->topic, "/score")) {
        s->n_scores++;
        snprintf(s->score, sizeof s->score, "%.*s", len, text);
    }
    pthread_mutex_unlock(&s->lock);
}

static inline void sub_on_connect(struct mosquitto *m, void *user, int rc) {
    subscriber *s = user;
    if (!rc) mosquitto_subscribe(m, NULL, s->filter, 1);
}

static inline void sub_on_subscribe(struct mosquitto *m, void *user, int mid, int n, const int *qos) {
    (void)m, (void)mid, (void)n, (void)qos;
    atomic_store(&((subscriber *)user)->subscribed, 1);
}

/* Subscribes to filter on the broker at port; 0 once the subscription stands. */
static inline int subscriber_start(subscriber *s, int port, const char *filter) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->filter = filter;
    s->mosq = mosquitto_new(NULL, true, s);
    if (!s->mosq) return -1;
    mosquitto_connect_callback_set(s->mosq, sub_on_connect);
    mosquitto_subscribe_callback_set(s->mosq, sub_on_subscribe);
    mosquitto_message_callback_set(s->mosq, sub_on_message);
    if (mosquitto_connect(s->mosq, "127.0.0.1", port, 30) || mosquitto_loop_start(s->mosq))
        return -1;
    WAIT_FOR(atomic_load(&s->subscribed), PATIENCE);
    return atomic_load(&s->subscribed) ? 0 : -1;
}

static inline void subscriber_stop(subscriber *s) {
    mosquitto_disconnect(s->mosq);
    mosquitto_loop_stop(s->mosq, false);
    mosquitto_destroy(s->mosq);
    for (int i = 0; i < s->n_events; i++) free(s->events[i]);
    pthread_mutex_destroy(&s->lock);
}

static inline int sub_events(subscriber *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->n_events;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static inline int sub_scores(subscriber *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->n_scores;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static inline int sub_available_is(subscriber *s, const char *want) {
    pthread_mutex_lock(&s->lock);
    int same = !strcmp(s->available, want);
    pthread_mutex_unlock(&s->lock);
    return same;
}

#endif
