/* sink_jsonl.c - the JSON Lines sink: one payload per line, appended to a file or written
 * to standard output.
 *
 * A file is written with write(2), not stdio, so that a failed write leaves nothing in a
 * buffer to come out later: the file is cut back to its length before the attempt, and the
 * retry appends the whole line again. The line is synced before it counts as delivered
 * (events are few, tens per shift, so the sync costs nothing that matters). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"
#include "serve/sink.h"

typedef struct jsonl_sink {
    vg_sink base;
    char *path;
    int fd; /* -1: standard output through stdio, shared with whoever else prints there */
} jsonl_sink;

/* json as one line: JSON allows a raw line break only as whitespace between tokens, so
 * replacing breaks with spaces keeps the payload's meaning. A new string, or NULL. */
static char *one_line(const char *json, size_t *len) {
    *len = strlen(json) + 1;
    char *line = malloc(*len);
    if (!line) return NULL;
    for (size_t i = 0; i + 1 < *len; i++)
        line[i] = json[i] == '\n' || json[i] == '\r' ? ' ' : json[i];
    line[*len - 1] = '\n';
    return line;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k, n -= (size_t)k;
    }
    return 0;
}

/* Appends line to the file; on failure the file is cut back to where it was. */
static int append_file(jsonl_sink *j, const char *line, size_t len) {
    struct stat st;
    if (fstat(j->fd, &st)) return -1;
    if (!write_all(j->fd, line, len) && !fsync(j->fd)) return 0;
    int e = errno; /* the write's error is the one to report, whatever the cut gives */
    while (ftruncate(j->fd, st.st_size) && errno == EINTR) continue;
    errno = e;
    return -1;
}

static int jsonl_send(vg_sink *base, const char *json, double timeout, vg_error *err) {
    (void)timeout; /* a local write has no deadline to keep */
    jsonl_sink *j = (jsonl_sink *)base;
    size_t len;
    char *line = one_line(json, &len);
    if (!line) return vg_fail(err, VG_ERR_NOMEM, "jsonl: out of memory for a line");
    int failed = j->fd >= 0 ? append_file(j, line, len)
                            : fwrite(line, 1, len, stdout) != len || fflush(stdout);
    int e = errno;
    if (j->fd < 0 && failed) clearerr(stdout);
    free(line);
    return failed ? vg_fail(err, VG_ERR_IO, "jsonl: cannot write to %s: %s", j->path, strerror(e))
                  : VG_OK;
}

static void jsonl_free(vg_sink *base) {
    jsonl_sink *j = (jsonl_sink *)base;
    if (j->fd >= 0) close(j->fd);
    free(j->path);
    free(j);
}

int vg_sink_jsonl_create(const char *path, vg_sink **out, vg_error *err) {
    *out = NULL;
    if (!path || !*path) return vg_fail(err, VG_ERR_ARG, "jsonl: no file given");
    jsonl_sink *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return vg_fail(err, VG_ERR_NOMEM, "jsonl: out of memory");
    }
    j->base = (vg_sink){.name = "jsonl", .backoff_max = VG_SINK_BACKOFF_MAX, .send = jsonl_send,
                        .free = jsonl_free};
    j->fd = strcmp(path, "-") ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (j->fd < 0 && strcmp(path, "-")) {
        int rc = vg_fail(err, VG_ERR_IO, "jsonl: cannot open %s for appending: %s", path,
                         strerror(errno));
        free(j->path);
        free(j);
        return rc;
    }
    *out = &j->base;
    return VG_OK;
}
