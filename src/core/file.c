/* file.c - a whole file in memory, and folders (see file.h). */
#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *vg_read_file(const char *path, size_t *len, vg_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        vg_fail(err, VG_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *b = realloc(buf, cap *= 2);
        if (!b) free(buf);
        buf = b;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        vg_fail(err, bad ? VG_ERR_IO : VG_ERR_NOMEM, "%s: cannot read", path);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int vg_make_dir(const char *path, vg_error *err) {
    if (!mkdir(path, 0777) || errno == EEXIST) return VG_OK;
    return vg_fail(err, VG_ERR_IO, "%s: cannot create folder (%s)", path, strerror(errno));
}
