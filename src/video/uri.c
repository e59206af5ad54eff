/* uri.c - what a source string names: a URL, a device, a folder or a file. */
#include <ctype.h>
#include <errno.h>
#include <libavutil/error.h>
#include <string.h>
#include <sys/stat.h>

#include "video/video.h"

/* scheme "://" with an RFC 3986 scheme: a letter, then letters, digits, '+', '-', '.'. */
static int is_url(const char *s) {
    if (!isalpha((unsigned char)s[0])) return 0;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.') i++;
    return strncmp(s + i, "://", 3) == 0;
}

static int is_video_device_path(const char *s) {
    return strncmp(s, "/dev/video", 10) == 0;
}

vg_uri_kind vg_uri_classify(const char *uri, int *errnum) {
    if (is_url(uri)) return VG_URI_URL;
    struct stat st;
    if (stat(uri, &st) != 0) {
        *errnum = errno;
        return VG_URI_MISSING;
    }
    if (S_ISDIR(st.st_mode)) return VG_URI_FOLDER;
    if (S_ISCHR(st.st_mode)) return VG_URI_DEVICE;
    return VG_URI_FILE;
}

int vg_uri_missing(const char *uri, int errnum, vg_error *err) {
    if (errnum != ENOENT)
        return vg_fail(err, VG_ERR_IO, "%s: cannot open (%s)", uri, av_err2str(AVERROR(errnum)));
    return vg_fail(err, VG_ERR_IO, "%s: no such %s", uri,
                   is_video_device_path(uri) ? "device" : "file");
}
