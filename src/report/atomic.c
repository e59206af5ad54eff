/* atomic.c - write PATH.tmp, sync, rename over PATH (see atomic.h). */
#include "report/atomic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fills why with the text of errno; returns -1. */
static int errno_why(char why[VG_WHY_LEN]) {
    if (errno == 0) { /* a stream error whose cause libc did not keep */
        snprintf(why, VG_WHY_LEN, "write error");
        return -1;
    }
    if (strerror_r(errno, why, VG_WHY_LEN) != 0) snprintf(why, VG_WHY_LEN, "error %d", errno);
    return -1;
}

/* Creates tmp (setting *created) and fills it through fn, down to the disk: the rename that
 * follows must not publish data still in a cache. 0 or -1 with why filled. */
static int write_tmp(const char *tmp, vg_write_fn fn, void *ctx, int *created,
                     char why[VG_WHY_LEN]) {
    FILE *f = fopen(tmp, "wb");
    if (!f) return errno_why(why);
    *created = 1;
    int rc = fn(f, ctx, why);
    if (rc == 0 && (ferror(f) || fflush(f) != 0 || fsync(fileno(f)) != 0)) rc = errno_why(why);
    if (fclose(f) != 0 && rc == 0) rc = errno_why(why);
    return rc;
}

int vg_write_atomic(const char *path, vg_write_fn fn, void *ctx, vg_error *err) {
    size_t len = strlen(path);
    char *tmp = malloc(len + sizeof ".tmp");
    if (!tmp) return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", sizeof ".tmp");
    char why[VG_WHY_LEN] = "unknown error";
    int created = 0;
    int rc = write_tmp(tmp, fn, ctx, &created, why);
    if (rc == 0 && rename(tmp, path) != 0) rc = errno_why(why);
    if (rc != 0 && created) remove(tmp);
    free(tmp);
    return rc == 0 ? VG_OK : vg_fail(err, VG_ERR_IO, "%s: cannot write (%s)", path, why);
}
