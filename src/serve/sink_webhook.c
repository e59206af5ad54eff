/* sink_webhook.c - the webhook sink: an HTTP POST of each payload (libcurl).
 *
 * One easy handle per sink, used only by the sink's thread, so libcurl keeps the
 * connection to the receiver open between posts. CURLOPT_NOSIGNAL: libcurl must not use
 * signals for its timeouts in a threaded program. Redirects are not followed: a receiver
 * that answers 3xx has not taken the payload. */
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "serve/sink.h"

typedef struct webhook_sink {
    vg_sink base;
    CURL *curl;
    struct curl_slist *headers;
    char *auth;                       /* "Authorization: Bearer TOKEN" or NULL */
    double timeout;                   /* seconds per request */
    char error[CURL_ERROR_SIZE];      /* libcurl's detail of the last failure */
} webhook_sink;

/* curl_global_init is process-wide and not thread-safe: run it once, never undo it (other
 * libcurl users in the process may still need it). */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The receiver's answer body is not needed; without this libcurl prints it to stdout. */
static size_t discard(char *data, size_t size, size_t n, void *user) {
    (void)data, (void)user;
    return size * n;
}

static int check_url(const char *url, vg_error *err) {
    CURLU *u = curl_url();
    if (!u) return vg_fail(err, VG_ERR_NOMEM, "webhook: out of memory");
    char *scheme = NULL;
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (!rc) rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    int status = rc ? vg_fail(err, VG_ERR_ARG, "webhook: '%s' is not a URL (%s)", url,
                              curl_url_strerror(rc))
                 : strcmp(scheme, "http") && strcmp(scheme, "https")
                     ? vg_fail(err, VG_ERR_ARG, "webhook: '%s' is not an http or https URL", url)
                     : VG_OK;
    curl_free(scheme);
    curl_url_cleanup(u);
    return status;
}

/* The headers every post carries. A token with a line break would smuggle in headers of
 * its own, so control characters are refused. */
static int make_headers(webhook_sink *w, const char *token, vg_error *err) {
    if (token) {
        for (const char *p = token; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return vg_fail(err, VG_ERR_ARG, "webhook: the token has a control character");
        size_t n = strlen(token) + sizeof "Authorization: Bearer ";
        if (!(w->auth = malloc(n))) return vg_fail(err, VG_ERR_NOMEM, "webhook: out of memory");
        snprintf(w->auth, n, "Authorization: Bearer %s", token);
    }
    /* "Expect:" stops libcurl from waiting for a 100 Continue that simple receivers never
     * send before a large body */
    const char *lines[] = {"Content-Type: application/json", "Expect:", w->auth};
    for (int i = 0; i < 3 && lines[i]; i++) {
        struct curl_slist *l = curl_slist_append(w->headers, lines[i]);
        if (!l) return vg_fail(err, VG_ERR_NOMEM, "webhook: out of memory");
        w->headers = l;
    }
    return VG_OK;
}

/* The options every post shares; non-zero when libcurl refuses one. */
static int configure(webhook_sink *w, const char *url) {
    char agent[64];
    snprintf(agent, sizeof agent, "vigil/%s", vg_version());
    CURL *h = w->curl;
    return curl_easy_setopt(h, CURLOPT_URL, url) ||
           curl_easy_setopt(h, CURLOPT_HTTPHEADER, w->headers) ||
           curl_easy_setopt(h, CURLOPT_USERAGENT, agent) ||
           curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) ||
           curl_easy_setopt(h, CURLOPT_ERRORBUFFER, w->error) ||
           curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
}

static int webhook_send(vg_sink *base, const char *json, double timeout, vg_error *err) {
    webhook_sink *w = (webhook_sink *)base;
    double t = fmin(w->timeout, timeout);
    long ms = t < 0.001 ? 1 : (long)ceil(t * 1000);
    CURL *h = w->curl;
    w->error[0] = 0;
    CURLcode rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    if (!rc) rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
    if (!rc) rc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
    if (!rc) rc = curl_easy_perform(h);
    if (rc)
        return vg_fail(err, VG_ERR_IO, "webhook: %s", w->error[0] ? w->error
                                                                   : curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
        return vg_fail(err, VG_ERR_IO, "webhook: the receiver answered HTTP %ld", status);
    return VG_OK;
}

static void webhook_free(vg_sink *base) {
    webhook_sink *w = (webhook_sink *)base;
    curl_easy_cleanup(w->curl);
    curl_slist_free_all(w->headers);
    free(w->auth);
    free(w);
}

int vg_sink_webhook_create(const vg_webhook_config *c, vg_sink **out, vg_error *err) {
    *out = NULL;
    if (!c->url || !*c->url) return vg_fail(err, VG_ERR_ARG, "webhook: no URL given");
    if (!(c->timeout > 0) || !(c->backoff_max >= 1))
        return vg_fail(err, VG_ERR_ARG, "webhook: timeout must be > 0 and backoff_max >= 1 s");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "webhook: libcurl cannot start: %s",
                       curl_easy_strerror(curl_init_rc));
    int rc = check_url(c->url, err);
    if (rc) return rc;
    webhook_sink *w = calloc(1, sizeof *w);
    if (!w) return vg_fail(err, VG_ERR_NOMEM, "webhook: out of memory");
    w->base = (vg_sink){.name = "webhook", .backoff_max = c->backoff_max,
                        .send = webhook_send, .free = webhook_free};
    w->timeout = c->timeout;
    rc = make_headers(w, c->token, err);
    if (!rc && !(w->curl = curl_easy_init()))
        rc = vg_fail(err, VG_ERR_NOMEM, "webhook: libcurl cannot make a handle");
    if (!rc && configure(w, c->url))
        rc = vg_fail(err, VG_ERR_NOMEM, "webhook: libcurl refused an option");
    if (rc) {
        webhook_free(&w->base);
        return rc;
    }
    *out = &w->base;
    return VG_OK;
}
