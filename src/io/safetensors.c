/* safetensors.c - reading and writing the safetensors format.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor
 * name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data
 * section that follows the header) plus an optional "__metadata__" string map, then the
 * data. Every number in the header is checked against the file before it is used. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/bytes.h"
#include "io/dtype.h"
#include "io/tensorfile_internal.h"

/* ---- reading ---- */

/* A JSON number that is a whole count no larger than 2^53, where doubles are exact. */
static int json_count(const cJSON *j, int64_t *out) {
    if (!cJSON_IsNumber(j)) return -1;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d)) return -1;
    *out = (int64_t)d;
    return 0;
}

static int parse_shape(const cJSON *arr, const char *name, int *ndim, int64_t *shape,
                       vg_error *err) {
    if (!cJSON_IsArray(arr))
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%s' has no \"shape\" list", name);
    int n = cJSON_GetArraySize(arr);
    if (n > VG_MAX_DIMS)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "tensor '%s' has %d dimensions (at most %d supported)",
                       name, n, VG_MAX_DIMS);
    int i = 0;
    for (const cJSON *d = arr->child; d; d = d->next, i++) {
        if (json_count(d, &shape[i]) != 0)
            return vg_fail(err, VG_ERR_FORMAT, "tensor '%s': shape has a dimension that is not "
                           "a non-negative integer", name);
    }
    *ndim = n;
    return VG_OK;
}

static int parse_offsets(const cJSON *arr, const char *name, int64_t *begin, int64_t *end,
                         vg_error *err) {
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 2 ||
        json_count(arr->child, begin) != 0 || json_count(arr->child->next, end) != 0 ||
        *begin > *end)
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%s' has no valid \"data_offsets\" "
                       "[begin, end]", name);
    return VG_OK;
}

/* The dtype of an entry; unknown names are valid safetensors that vigil cannot read. */
static int parse_dtype(const cJSON *j, const char *name, vg_dtype *dt, vg_error *err) {
    if (!cJSON_IsString(j))
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%s' has no \"dtype\" string", name);
    if (vg_dtype_from_name(j->valuestring, dt) != 0)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "tensor '%s' has dtype %.32s, which vigil "
                       "cannot read (F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL)",
                       name, j->valuestring);
    return VG_OK;
}

/* Checks one header entry against the data section and converts its data. */
static int parse_tensor(vg_tensorfile *tf, const cJSON *e, const uint8_t *data, size_t dlen,
                        vg_error *err) {
    const char *name = e->string;
    vg_dtype dt;
    int ndim = 0;
    int64_t shape[VG_MAX_DIMS], begin = 0, end = 0, numel = 0;
    if (!cJSON_IsObject(e))
        return vg_fail(err, VG_ERR_FORMAT, "header entry '%s' is not an object", name);
    int rc = parse_dtype(cJSON_GetObjectItemCaseSensitive(e, "dtype"), name, &dt, err);
    if (rc == VG_OK)
        rc = parse_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), name, &ndim, shape, err);
    if (rc == VG_OK)
        rc = parse_offsets(cJSON_GetObjectItemCaseSensitive(e, "data_offsets"), name, &begin,
                           &end, err);
    if (rc != VG_OK) return rc;
    if (vg_shape_numel(ndim, shape, &numel) != 0)
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%s' has an overflowing shape", name);
    if ((uint64_t)end > dlen)
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%s': data_offsets [%lld,%lld] run past the "
                       "data section (%zu bytes)", name, (long long)begin, (long long)end, dlen);
    int64_t want = numel * (int64_t)vg_dtype_size(dt); /* numel <= SIZE_MAX/8: no overflow */
    if (end - begin != want)
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%s': data_offsets span %lld bytes, but "
                       "%lld %s elements need %lld", name, (long long)(end - begin),
                       (long long)numel, vg_dtype_name(dt), (long long)want);
    float *dst = vg_tf_add(tf, name, strlen(name), ndim, shape, err);
    if (!dst) return err->code;
    vg_dtype_convert(dst, dt, data + begin, (size_t)numel);
    return VG_OK;
}

static int parse_metadata(vg_tensorfile *tf, const cJSON *m, vg_error *err) {
    if (!cJSON_IsObject(m)) return vg_fail(err, VG_ERR_FORMAT, "__metadata__ is not an object");
    for (const cJSON *kv = m->child; kv; kv = kv->next) {
        if (!cJSON_IsString(kv))
            return vg_fail(err, VG_ERR_FORMAT, "__metadata__ value '%s' is not a string",
                           kv->string);
        int rc = vg_tf_add_meta(tf, kv->string, kv->valuestring, err);
        if (rc != VG_OK) return rc;
    }
    return VG_OK;
}

/* Parses the JSON header, reporting where it stops being JSON. */
static int parse_header(const uint8_t *buf, size_t hlen, cJSON **out, vg_error *err) {
    const char *stop = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)buf + 8, hlen, &stop, 0);
    if (!root) {
        long at = stop ? (long)(stop - (const char *)buf) : 8;
        return vg_fail(err, VG_ERR_FORMAT, "header is not valid JSON (error near byte %ld)", at);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vg_fail(err, VG_ERR_FORMAT, "header is not a JSON object");
    }
    *out = root;
    return VG_OK;
}

int vg_safetensors_parse(vg_tensorfile *tf, const uint8_t *buf, size_t len, vg_error *err) {
    if (len < 8)
        return vg_fail(err, VG_ERR_FORMAT, "truncated (%zu bytes, less than the 8-byte header "
                       "length)", len);
    uint64_t hlen = vg_rd64(buf);
    if (hlen > len - 8)
        return vg_fail(err, VG_ERR_FORMAT, "truncated (header says %llu bytes, file has %zu "
                       "after the length)", (unsigned long long)hlen, len - 8);
    cJSON *root = NULL;
    int rc = parse_header(buf, (size_t)hlen, &root, err);
    const uint8_t *data = buf + 8 + hlen;
    size_t dlen = len - 8 - (size_t)hlen;
    for (const cJSON *e = root ? root->child : NULL; rc == VG_OK && e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0)
            rc = parse_metadata(tf, e, err);
        else
            rc = parse_tensor(tf, e, data, dlen, err);
    }
    cJSON_Delete(root);
    return rc;
}

/* ---- writing ---- */

/* A growing string for the JSON header; a failed allocation sticks in oom. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) {
    sb_put(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[64]; /* only used for numbers and short fixed text */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string literal: quotes, backslashes and control bytes escaped, UTF-8 kept. */
static void sb_json_string(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            sb_put(b, esc, 2);
        } else if (*p < 0x20) {
            sb_printf(b, "\\u%04x", *p);
        } else {
            sb_put(b, (const char *)p, 1);
        }
    }
    sb_put(b, "\"", 1);
}

/* The header text, with spaces appended so the data section starts 8-byte aligned. */
static void build_header(sbuf *b, const vg_tensor_entry *t, int n, const char *const *keys,
                         const char *const *values, int n_meta) {
    int64_t offset = 0, numel;
    sb_put(b, "{", 1);
    if (n_meta > 0) {
        sb_puts(b, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) sb_put(b, ",", 1);
            sb_json_string(b, keys[i]);
            sb_put(b, ":", 1);
            sb_json_string(b, values[i]);
        }
        sb_put(b, "}", 1);
    }
    for (int i = 0; i < n; i++) {
        vg_shape_numel(t[i].ndim, t[i].shape, &numel); /* checked by the caller */
        if (i || n_meta > 0) sb_put(b, ",", 1);
        sb_json_string(b, t[i].name);
        sb_puts(b, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t[i].ndim; d++) sb_printf(b, d ? ",%lld" : "%lld", (long long)t[i].shape[d]);
        sb_printf(b, "],\"data_offsets\":[%lld,", (long long)offset);
        offset += numel * 4;
        sb_printf(b, "%lld]}", (long long)offset);
    }
    sb_put(b, "}", 1);
    while (!b->oom && b->len % 8) sb_put(b, " ", 1);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sets *dup to a name that occurs twice among the n names (NULL when none). */
static int find_duplicate(const char *const *names, int n, const char **dup, vg_error *err) {
    const char **s = malloc((size_t)(n ? n : 1) * sizeof *s);
    if (!s) return vg_fail(err, VG_ERR_NOMEM, "out of memory");
    if (n > 0) memcpy(s, names, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_str);
    *dup = NULL;
    for (int i = 1; i < n && !*dup; i++)
        if (strcmp(s[i - 1], s[i]) == 0) *dup = s[i];
    free(s);
    return VG_OK;
}

/* Checks one tensor the caller wants written. */
static int check_entry(const vg_tensor_entry *t, int i, vg_error *err) {
    int64_t numel = 0;
    if (!t->name) return vg_fail(err, VG_ERR_ARG, "tensor %d has no name", i);
    if (strcmp(t->name, "__metadata__") == 0)
        return vg_fail(err, VG_ERR_ARG, "a tensor cannot be called __metadata__");
    if (t->ndim < 0 || t->ndim > VG_MAX_DIMS || vg_shape_numel(t->ndim, t->shape, &numel) != 0)
        return vg_fail(err, VG_ERR_ARG, "tensor '%s' has an invalid shape", t->name);
    if (numel > 0 && !t->data) return vg_fail(err, VG_ERR_ARG, "tensor '%s' has no data", t->name);
    return VG_OK;
}

/* Checks names and shapes before anything touches the disk; no duplicates anywhere. */
static int check_args(const vg_tensor_entry *t, int n, const char *const *keys,
                      const char *const *values, int n_meta, vg_error *err) {
    if (n < 0 || n_meta < 0 || (n > 0 && !t) || (n_meta > 0 && (!keys || !values)))
        return vg_fail(err, VG_ERR_ARG, "bad tensor or metadata arrays");
    for (int i = 0; i < n; i++) {
        int rc = check_entry(&t[i], i, err);
        if (rc != VG_OK) return rc;
    }
    for (int i = 0; i < n_meta; i++)
        if (!keys[i] || !values[i]) return vg_fail(err, VG_ERR_ARG, "metadata %d is NULL", i);
    const char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    if (!names) return vg_fail(err, VG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) names[i] = t[i].name;
    const char *dup = NULL, *dup_meta = NULL;
    int rc = find_duplicate(names, n, &dup, err);
    if (rc == VG_OK) rc = find_duplicate(keys, n_meta, &dup_meta, err);
    if (rc == VG_OK && dup) rc = vg_fail(err, VG_ERR_ARG, "tensor '%s' is given twice", dup);
    if (rc == VG_OK && dup_meta)
        rc = vg_fail(err, VG_ERR_ARG, "metadata key '%s' is given twice", dup_meta);
    free(names);
    return rc;
}

/* Writes n floats as little-endian bytes, a block at a time. */
static int write_floats(FILE *f, const float *x, int64_t n) {
    uint8_t block[4096];
    while (n > 0) {
        size_t k = n < 1024 ? (size_t)n : 1024;
        for (size_t i = 0; i < k; i++) {
            uint32_t bits;
            memcpy(&bits, &x[i], 4);
            vg_wr32(block + 4 * i, bits);
        }
        if (fwrite(block, 4, k, f) != k) return -1;
        x += k;
        n -= (int64_t)k;
    }
    return 0;
}

/* Writes the whole file to f and flushes it to the disk; 0 or -1 (errno set). */
static int write_all(FILE *f, const sbuf *hdr, const vg_tensor_entry *t, int n) {
    uint8_t len8[8];
    vg_wr64(len8, hdr->len);
    if (fwrite(len8, 1, 8, f) != 8 || fwrite(hdr->s, 1, hdr->len, f) != hdr->len) return -1;
    for (int i = 0; i < n; i++) {
        int64_t numel = 0;
        vg_shape_numel(t[i].ndim, t[i].shape, &numel);
        if (write_floats(f, t[i].data, numel) != 0) return -1;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) return -1;
    return 0;
}

/* Writes tmp and renames it over path; on any failure tmp is removed, path untouched. */
static int write_and_rename(const char *path, const char *tmp, const sbuf *hdr,
                            const vg_tensor_entry *t, int n, vg_error *err) {
    char why[128] = "unknown error";
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        strerror_r(errno, why, sizeof why);
        return vg_fail(err, VG_ERR_IO, "%s: cannot create (%s)", tmp, why);
    }
    int bad = write_all(f, hdr, t, n);
    if (bad) strerror_r(errno, why, sizeof why);
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        strerror_r(errno, why, sizeof why);
    }
    if (!bad && rename(tmp, path) != 0) {
        strerror_r(errno, why, sizeof why);
        remove(tmp);
        return vg_fail(err, VG_ERR_IO, "%s: cannot replace with %s (%s)", path, tmp, why);
    }
    if (bad) {
        remove(tmp);
        return vg_fail(err, VG_ERR_IO, "%s: write failed (%s)", tmp, why);
    }
    return VG_OK;
}

int vg_safetensors_write(const char *path, const vg_tensor_entry *tensors, int n,
                         const char *const *meta_keys, const char *const *meta_values,
                         int n_meta, vg_error *err) {
    if (!path) return vg_fail(err, VG_ERR_ARG, "vg_safetensors_write: no path");
    int rc = check_args(tensors, n, meta_keys, meta_values, n_meta, err);
    if (rc != VG_OK) {
        vg_wrap(err, path);
        return rc;
    }
    sbuf hdr = {0};
    build_header(&hdr, tensors, n, meta_keys, meta_values, n_meta);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (hdr.oom || !tmp) {
        rc = vg_fail(err, VG_ERR_NOMEM, "%s: out of memory", path);
    } else {
        memcpy(tmp, path, plen);
        memcpy(tmp + plen, ".tmp", 5);
        rc = write_and_rename(path, tmp, &hdr, tensors, n, err);
    }
    free(tmp);
    free(hdr.s);
    return rc;
}
