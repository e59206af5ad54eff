/* clips.c - the clips a path names: itself, or the clips of a folder of clips. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "video/video.h"

/* In a folder of clips: a subfolder that holds images, or a video file. */
static int keep_clip(const char *path, const char *name) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    if (S_ISDIR(st.st_mode)) return vg_folder_has_images(path);
    return S_ISREG(st.st_mode) && vg_is_video_name(name);
}

static int one_clip(const char *path, char ***clips, int *n, vg_error *err) {
    char **v = malloc(sizeof *v);
    char *copy = strdup(path);
    if (!v || !copy) {
        free(v);
        free(copy);
        return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", path);
    }
    v[0] = copy;
    *clips = v;
    *n = 1;
    return VG_OK;
}

int vg_clips_list(const char *path, char ***clips, int *n, vg_error *err) {
    *clips = NULL;
    *n = 0;
    if (!path || !*path) return vg_fail(err, VG_ERR_ARG, "clips: no path given");
    int errnum = 0;
    vg_uri_kind kind = vg_uri_classify(path, &errnum);
    if (kind == VG_URI_MISSING) return vg_uri_missing(path, errnum, err);
    /* a file that is not a video is still its own clip: opening it says what is wrong */
    if (kind != VG_URI_FOLDER || vg_folder_has_images(path)) return one_clip(path, clips, n, err);
    int rc = vg_list_folder(path, keep_clip, clips, n, err);
    if (rc == VG_OK && *n == 0)
        rc = vg_fail(err, VG_ERR_FORMAT,
                     "%s: no images, folders of images or video files in the folder", path);
    return rc;
}

void vg_clips_free(char **clips, int n) {
    if (!clips) return;
    for (int i = 0; i < n; i++) free(clips[i]);
    free(clips);
}
