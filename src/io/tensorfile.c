/* tensorfile.c - the tensorfile handle: reading a file, telling its format, lookups.
 *
 * The whole file is read into memory, handed to the reader its first bytes name
 * (safetensors.c or torch_pth.c), and released; the handle keeps only names, shapes and
 * float32 data. Lookups use an index sorted by name, which also finds duplicates. */
#include "io/tensorfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/tensorfile_internal.h"

/* One tensor: the public view plus the owned (non-const) pointers behind it. */
typedef struct tf_tensor {
    vg_tensor_entry pub;
    char *name;
    float *data;
} tf_tensor;

struct vg_tensorfile {
    char *path;
    tf_tensor *tensors; /* in file order */
    int count, cap;
    tf_tensor **by_name; /* sorted by name, built once all tensors are read */
    char **meta;         /* key, value, key, value, ... */
    int n_meta, cap_meta;
};

/* ---- building (used by the readers) ---- */

int vg_shape_numel(int ndim, const int64_t *shape, int64_t *numel) {
    /* Bounded so that numel * sizeof(float) and byte offsets fit in int64 and size_t. */
    const int64_t limit = (int64_t)((SIZE_MAX / 8 < INT64_MAX / 8) ? SIZE_MAX / 8 : INT64_MAX / 8);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] != 0 && n > limit / shape[i]) return -1;
        n *= shape[i];
    }
    *numel = n;
    return 0;
}

/* Grows an array of elem-sized items so it holds at least need; 0 or -1. */
static int grow(void **items, int *cap, int need, size_t elem) {
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > (1 << 28)) return -1;
        ncap *= 2;
    }
    void *p = realloc(*items, (size_t)ncap * elem);
    if (!p) return -1;
    *items = p;
    *cap = ncap;
    return 0;
}

float *vg_tf_add(vg_tensorfile *tf, const char *name, size_t name_len, int ndim,
                 const int64_t *shape, vg_error *err) {
    int show = name_len > 200 ? 200 : (int)name_len;
    int64_t numel = 0;
    if (memchr(name, '\0', name_len)) {
        vg_fail(err, VG_ERR_FORMAT, "a tensor name contains a NUL byte");
        return NULL;
    }
    if (ndim < 0 || ndim > VG_MAX_DIMS) {
        vg_fail(err, VG_ERR_UNSUPPORTED, "tensor '%.*s' has %d dimensions (at most %d supported)",
                show, name, ndim, VG_MAX_DIMS);
        return NULL;
    }
    if (vg_shape_numel(ndim, shape, &numel) != 0) {
        vg_fail(err, VG_ERR_FORMAT, "tensor '%.*s' has a negative or overflowing shape", show,
                name);
        return NULL;
    }
    if (grow((void **)&tf->tensors, &tf->cap, tf->count + 1, sizeof *tf->tensors) != 0) {
        vg_fail(err, VG_ERR_NOMEM, "out of memory adding tensor '%.*s'", show, name);
        return NULL;
    }
    tf_tensor *t = &tf->tensors[tf->count];
    memset(t, 0, sizeof *t);
    t->name = malloc(name_len + 1);
    t->data = malloc(numel ? (size_t)numel * sizeof(float) : sizeof(float));
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        vg_fail(err, VG_ERR_NOMEM, "out of memory for tensor '%.*s' (%lld elements)", show, name,
                (long long)numel);
        return NULL;
    }
    memcpy(t->name, name, name_len);
    t->name[name_len] = '\0';
    t->pub.name = t->name;
    t->pub.ndim = ndim;
    if (ndim) memcpy(t->pub.shape, shape, (size_t)ndim * sizeof *shape);
    t->pub.data = t->data;
    tf->count++;
    return t->data;
}

static char *dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int vg_tf_add_meta(vg_tensorfile *tf, const char *key, const char *value, vg_error *err) {
    if (grow((void **)&tf->meta, &tf->cap_meta, 2 * tf->n_meta + 2, sizeof *tf->meta) != 0)
        return vg_fail(err, VG_ERR_NOMEM, "out of memory reading metadata");
    char *k = dupstr(key), *v = dupstr(value);
    if (!k || !v) {
        free(k);
        free(v);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory reading metadata");
    }
    tf->meta[2 * tf->n_meta] = k;
    tf->meta[2 * tf->n_meta + 1] = v;
    tf->n_meta++;
    return VG_OK;
}

/* ---- opening ---- */

/* One line for a failed fopen: the common cases in plain words, the rest by errno. */
static int open_error(int errnum, vg_error *err) {
    char why[128];
    if (errnum == ENOENT) return vg_fail(err, VG_ERR_IO, "no such file");
    if (errnum == EACCES) return vg_fail(err, VG_ERR_IO, "permission denied");
    if (strerror_r(errnum, why, sizeof why) != 0) snprintf(why, sizeof why, "errno %d", errnum);
    return vg_fail(err, VG_ERR_IO, "cannot open (%s)", why);
}

/* Checks what fstat says about an open file before its bytes are read. */
static int check_regular(const struct stat *st, vg_error *err) {
    if (S_ISDIR(st->st_mode)) return vg_fail(err, VG_ERR_IO, "is a directory, not a file");
    if (!S_ISREG(st->st_mode)) return vg_fail(err, VG_ERR_IO, "not a regular file");
    if (st->st_size == 0) return vg_fail(err, VG_ERR_FORMAT, "empty file");
    if ((uintmax_t)st->st_size > SIZE_MAX / 2)
        return vg_fail(err, VG_ERR_NOMEM, "file too large to read (%lld bytes)",
                       (long long)st->st_size);
    return VG_OK;
}

/* Reads the whole file into a new buffer; messages leave the path to the caller. */
static int read_file(const char *path, uint8_t **out, size_t *len, vg_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return open_error(errno, err);
    struct stat st;
    uint8_t *buf = NULL;
    int rc = fstat(fileno(f), &st) == 0 ? check_regular(&st, err)
                                        : vg_fail(err, VG_ERR_IO, "cannot stat the file");
    size_t size = rc == VG_OK ? (size_t)st.st_size : 0;
    if (rc == VG_OK && !(buf = malloc(size)))
        rc = vg_fail(err, VG_ERR_NOMEM, "out of memory reading %zu bytes", size);
    if (rc == VG_OK && fread(buf, 1, size, f) != size)
        rc = vg_fail(err, VG_ERR_IO, "read error (expected %zu bytes)", size);
    fclose(f);
    if (rc != VG_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = size;
    return VG_OK;
}

/* Chooses the reader by the first bytes: a zip is torch.save's format since PyTorch 1.6,
 * a bare pickle its legacy one, and safetensors starts with a length and then '{'. */
static int parse_by_magic(vg_tensorfile *tf, const uint8_t *buf, size_t len, vg_error *err) {
    if (len >= 4 && buf[0] == 'P' && buf[1] == 'K' &&
        ((buf[2] == 3 && buf[3] == 4) || (buf[2] == 5 && buf[3] == 6)))
        return vg_torch_pth_parse(tf, buf, len, err);
    if (len >= 2 && buf[0] == 0x80 && buf[1] <= 5)
        return vg_fail(err, VG_ERR_UNSUPPORTED,
                       "a PyTorch file in the legacy (pre-1.6) format; load it and save it "
                       "again with PyTorch >= 1.6 (torch.save writes the zip format)");
    if (len >= 9 && buf[8] == '{') return vg_safetensors_parse(tf, buf, len, err);
    if (len < 9)
        return vg_fail(err, VG_ERR_FORMAT,
                       "truncated (%zu bytes; too short for a safetensors or PyTorch file)", len);
    return vg_fail(err, VG_ERR_FORMAT, "not a safetensors or PyTorch file");
}

static int cmp_by_name(const void *a, const void *b) {
    const tf_tensor *x = *(const tf_tensor *const *)a, *y = *(const tf_tensor *const *)b;
    return strcmp(x->name, y->name);
}

/* Builds the sorted index; two tensors with one name make the file ambiguous. */
static int build_index(vg_tensorfile *tf, vg_error *err) {
    tf->by_name = malloc((size_t)(tf->count ? tf->count : 1) * sizeof *tf->by_name);
    if (!tf->by_name) return vg_fail(err, VG_ERR_NOMEM, "out of memory indexing tensors");
    for (int i = 0; i < tf->count; i++) tf->by_name[i] = &tf->tensors[i];
    qsort(tf->by_name, (size_t)tf->count, sizeof *tf->by_name, cmp_by_name);
    for (int i = 1; i < tf->count; i++) {
        if (strcmp(tf->by_name[i - 1]->name, tf->by_name[i]->name) == 0)
            return vg_fail(err, VG_ERR_FORMAT, "tensor '%s' appears twice", tf->by_name[i]->name);
    }
    return VG_OK;
}

int vg_tensorfile_open(const char *path, vg_tensorfile **out, vg_error *err) {
    vg_error local;
    if (!err) err = &local; /* the readers need a record to prefix the path to */
    if (out) *out = NULL;
    if (!path || !out) return vg_fail(err, VG_ERR_ARG, "vg_tensorfile_open: no path or out");
    uint8_t *buf = NULL;
    size_t len = 0;
    vg_tensorfile *tf = calloc(1, sizeof *tf);
    int rc = tf ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "out of memory");
    if (rc == VG_OK && !(tf->path = dupstr(path))) rc = vg_fail(err, VG_ERR_NOMEM, "out of memory");
    if (rc == VG_OK) rc = read_file(path, &buf, &len, err);
    if (rc == VG_OK) rc = parse_by_magic(tf, buf, len, err);
    if (rc == VG_OK) rc = build_index(tf, err);
    free(buf);
    if (rc != VG_OK) {
        vg_wrap(err, path);
        vg_tensorfile_close(tf);
        return rc;
    }
    *out = tf;
    return VG_OK;
}

void vg_tensorfile_close(vg_tensorfile *tf) {
    if (!tf) return;
    for (int i = 0; i < tf->count; i++) {
        free(tf->tensors[i].name);
        free(tf->tensors[i].data);
    }
    for (int i = 0; i < 2 * tf->n_meta; i++) free(tf->meta[i]);
    free(tf->meta);
    free(tf->tensors);
    free(tf->by_name);
    free(tf->path);
    free(tf);
}

/* ---- lookups ---- */

const vg_tensor_entry *vg_tensorfile_find(const vg_tensorfile *tf, const char *name) {
    if (!tf || !name || !tf->by_name) return NULL;
    tf_tensor key = {.name = (char *)name};
    const tf_tensor *pkey = &key;
    tf_tensor **hit = bsearch(&pkey, tf->by_name, (size_t)tf->count, sizeof *tf->by_name,
                              cmp_by_name);
    return hit ? &(*hit)->pub : NULL;
}

/* Writes "[a,b,c]" (or "[]" for a scalar) into buf. */
static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)shape[i]);
    if (n < size) snprintf(buf + n, size - n, "]");
}

const float *vg_tensorfile_get(const vg_tensorfile *tf, const char *name, int ndim,
                               const int64_t *shape, vg_error *err) {
    if (!tf || !name || ndim < 0 || ndim > VG_MAX_DIMS || (ndim && !shape)) {
        vg_fail(err, VG_ERR_ARG, "vg_tensorfile_get: no file, no name or a bad shape");
        return NULL;
    }
    const vg_tensor_entry *e = vg_tensorfile_find(tf, name);
    if (!e) {
        vg_fail(err, VG_ERR_MISSING, "%s: tensor '%s' is missing", tf->path, name);
        return NULL;
    }
    int same = e->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = e->shape[i] == shape[i];
    if (!same) {
        char have[256], want[256];
        format_shape(have, sizeof have, e->ndim, e->shape);
        format_shape(want, sizeof want, ndim, shape);
        vg_fail(err, VG_ERR_SHAPE, "%s: tensor '%s' has shape %s, expected %s", tf->path, name,
                have, want);
        return NULL;
    }
    return e->data;
}

int vg_tensorfile_count(const vg_tensorfile *tf) {
    return tf ? tf->count : 0;
}

const vg_tensor_entry *vg_tensorfile_entry(const vg_tensorfile *tf, int i) {
    if (!tf || i < 0 || i >= tf->count) return NULL;
    return &tf->tensors[i].pub;
}

const char *vg_tensorfile_metadata(const vg_tensorfile *tf, const char *key) {
    if (!tf || !key) return NULL;
    for (int i = 0; i < tf->n_meta; i++)
        if (strcmp(tf->meta[2 * i], key) == 0) return tf->meta[2 * i + 1];
    return NULL;
}

const char *vg_tensorfile_path(const vg_tensorfile *tf) {
    return tf ? tf->path : NULL;
}
