/* status.c - error records and the fixed text of each result code. */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int vg_fail(vg_error *err, int code, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int vg_wrap(vg_error *err, const char *prefix) {
    if (!err) return VG_ERR_ARG;
    /* Shift the message right and put the prefix in front; a long result is cut. */
    size_t plen = strlen(prefix), mlen = strlen(err->msg), cap = sizeof err->msg - 1;
    if (plen + 2 > cap) plen = cap - 2;
    if (plen + 2 + mlen > cap) mlen = cap - plen - 2;
    memmove(err->msg + plen + 2, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    memcpy(err->msg + plen, ": ", 2);
    err->msg[plen + 2 + mlen] = '\0';
    return err->code;
}

const char *vg_errstr(int code) {
    switch (code) {
    case VG_OK: return "ok";
    case VG_ERR_NOMEM: return "out of memory";
    case VG_ERR_IO: return "cannot read or write file";
    case VG_ERR_FORMAT: return "malformed file";
    case VG_ERR_MISSING: return "missing tensor";
    case VG_ERR_SHAPE: return "shape mismatch";
    case VG_ERR_ARG: return "invalid argument";
    case VG_ERR_BACKEND: return "compute backend failure";
    case VG_ERR_UNSUPPORTED: return "unsupported";
    case VG_ERR_ABORTED: return "aborted";
    case VG_END: return "end of stream";
    default: return "unknown error";
    }
}
