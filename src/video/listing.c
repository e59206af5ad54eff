/* listing.c - folders: which entries are images or clips, in natural order. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libavutil/error.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "video/video.h"

/* Compares the digit runs at *a and *b as numbers, advancing both past them. Leading zeros
 * do not count, so "007" equals "7" here (vg_natcmp breaks that tie). */
static int digits_cmp(const char **a, const char **b) {
    while (**a == '0') ++*a;
    while (**b == '0') ++*b;
    size_t na = 0, nb = 0;
    while (isdigit((unsigned char)(*a)[na])) na++;
    while (isdigit((unsigned char)(*b)[nb])) nb++;
    int c = na != nb ? (na < nb ? -1 : 1) : memcmp(*a, *b, na);
    *a += na;
    *b += nb;
    return c;
}

int vg_natcmp(const char *a, const char *b) {
    const char *a0 = a, *b0 = b;
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            int c = digits_cmp(&a, &b);
            if (c) return c;
        } else if (*a != *b) {
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        } else {
            a++, b++;
        }
    }
    if (*a || *b) return *a ? 1 : -1;
    return strcmp(a0, b0); /* equal as numbers ("01" vs "1"): still a total order */
}

static int has_extension(const char *name, const char *const *exts) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    for (int i = 0; exts[i]; i++)
        if (strcasecmp(dot + 1, exts[i]) == 0) return 1;
    return 0;
}

int vg_is_image_name(const char *name) {
    static const char *const exts[] = {"jpg", "jpeg", "png", "tif", "tiff", "bmp", NULL};
    return has_extension(name, exts);
}

int vg_is_video_name(const char *name) {
    static const char *const exts[] = {"mp4", "m4v", "mkv", "webm", "avi", "mov", "mpg",
                                       "mpeg", "ts", "mts", "m2ts", "wmv", "flv", "3gp",
                                       "ogv", NULL};
    return has_extension(name, exts);
}

int vg_keep_image(const char *path, const char *name) {
    struct stat st;
    return vg_is_image_name(name) && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* "dir/name", without doubling a '/' that dir already ends with. */
static char *join(const char *dir, const char *name) {
    size_t nd = strlen(dir), nn = strlen(name);
    int slash = nd > 0 && dir[nd - 1] != '/';
    char *p = malloc(nd + slash + nn + 1);
    if (!p) return NULL;
    memcpy(p, dir, nd);
    if (slash) p[nd] = '/';
    memcpy(p + nd + slash, name, nn + 1);
    return p;
}

int vg_folder_has_images(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *path = join(dir, e->d_name);
        found = path && vg_keep_image(path, e->d_name);
        free(path);
    }
    closedir(d);
    return found;
}

/* A growing array of owned strings. */
typedef struct strlist {
    char **v;
    int n, cap;
} strlist;

static int strlist_push(strlist *l, char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

/* Sorts the paths by their last component (all share the folder prefix). */
static int by_name(const void *pa, const void *pb) {
    const char *a = *(char *const *)pa, *b = *(char *const *)pb;
    return vg_natcmp(strrchr(a, '/') + 1, strrchr(b, '/') + 1);
}

int vg_list_folder(const char *dir, int (*keep)(const char *path, const char *name),
                   char ***paths, int *n, vg_error *err) {
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return vg_fail(err, VG_ERR_IO, "%s: cannot list the folder (%s)", dir,
                       av_err2str(AVERROR(errno)));
    strlist l = {0};
    int rc = VG_OK;
    for (struct dirent *e; rc == VG_OK && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue; /* ".", ".." and hidden files */
        char *path = join(dir, e->d_name);
        if (!path) rc = vg_fail(err, VG_ERR_NOMEM, "%s: out of memory listing the folder", dir);
        else if (!keep(path, e->d_name)) free(path);
        else if (strlist_push(&l, path)) {
            free(path);
            rc = vg_fail(err, VG_ERR_NOMEM, "%s: out of memory listing the folder", dir);
        }
    }
    closedir(d);
    if (rc != VG_OK) {
        vg_clips_free(l.v, l.n);
        return rc;
    }
    if (l.n) qsort(l.v, (size_t)l.n, sizeof *l.v, by_name);
    *paths = l.v;
    *n = l.n;
    return VG_OK;
}
