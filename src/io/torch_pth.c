/* torch_pth.c - state dicts saved by torch.save (the zip format of PyTorch >= 1.6).
 *
 * The archive holds <root>/data.pkl, a pickled dict of tensors, and one entry
 * <root>/data/<key> per storage with its raw little-endian elements; <root> is the file's
 * stem (PyTorch 1.x) or "archive" (2.x). Each tensor is a view (offset, size, stride) of
 * a storage that other tensors may share; it is copied out as contiguous float32. */
#include <stdio.h>
#include <string.h>

#include "io/dtype.h"
#include "io/pickle.h"
#include "io/tensorfile_internal.h"
#include "io/zip.h"

/* A view may repeat storage elements (stride 0, as expand() makes), but not without
 * bound: this caps what a damaged size can make us allocate. */
#define MAX_REPEAT ((int64_t)1 << 16)

typedef struct archive {
    const vg_zip *zip;
    const char *root; /* "<root>" of "<root>/data.pkl", not NUL-terminated */
    size_t root_len;
} archive;

static int clip(size_t n) {
    return n > 200 ? 200 : (int)n;
}

/* The index of entry "<root><mid><key>", or -1. */
static int entry_index(const archive *a, const char *mid, const char *key, size_t key_len) {
    char name[1024];
    if (a->root_len + strlen(mid) + key_len >= sizeof name) return -1;
    snprintf(name, sizeof name, "%.*s%s%.*s", (int)a->root_len, a->root, mid, (int)key_len, key);
    return vg_zip_find(a->zip, name);
}

/* Finds <root>/data.pkl at the archive's top level. */
static int find_pickle(archive *a, int *idx, vg_error *err) {
    for (int i = 0; i < vg_zip_count(a->zip); i++) {
        size_t len;
        const char *name = vg_zip_name(a->zip, i, &len);
        if (len > 9 && memcmp(name + len - 9, "/data.pkl", 9) == 0 &&
            !memchr(name, '/', len - 9)) {
            a->root = name;
            a->root_len = len - 9;
            *idx = i;
            return VG_OK;
        }
    }
    return vg_fail(err, VG_ERR_FORMAT, "a zip file but not a PyTorch archive (no data.pkl)");
}

/* Refuses archives that hold more than raw tensors: TorchScript modules, and storages
 * written by a big-endian machine (PyTorch 2.x records "byteorder"). */
static int check_archive(const archive *a, vg_error *err) {
    const uint8_t *bo = NULL;
    size_t n = 0;
    if (entry_index(a, "/constants.pkl", "", 0) >= 0)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "a TorchScript archive (torch.jit.save); save "
                       "its state_dict() with torch.save instead");
    int i = entry_index(a, "/byteorder", "", 0);
    if (i < 0) return VG_OK;
    int rc = vg_zip_data(a->zip, i, &bo, &n, err);
    if (rc == VG_OK && !(n == 6 && memcmp(bo, "little", 6) == 0))
        rc = vg_fail(err, VG_ERR_UNSUPPORTED, "storages are not little-endian");
    return rc;
}

static int count_tensors(const vg_pk_value *d) {
    int n = 0;
    for (size_t i = 1; i < d->n; i += 2) n += d->items[i]->kind == VG_PK_TENSOR;
    return n;
}

static const vg_pk_value *dict_get(const vg_pk_value *d, const char *key) {
    for (size_t i = 0; i + 1 < d->n; i += 2) {
        const vg_pk_value *k = d->items[i];
        if (k->kind == VG_PK_STR && k->slen == strlen(key) && memcmp(k->s, key, k->slen) == 0)
            return d->items[i + 1];
    }
    return NULL;
}

/* The dict of tensors: the pickled object itself, or a training checkpoint's entry
 * under one of the usual keys. */
static int pick_state_dict(const vg_pk_value *root, const vg_pk_value **out, vg_error *err) {
    static const char *const keys[] = {"state_dict", "model_state_dict", "model"};
    if (root->kind != VG_PK_DICT)
        return vg_fail(err, VG_ERR_FORMAT, "data.pkl holds no dict of tensors");
    if (root->n == 0 || count_tensors(root) > 0) {
        *out = root;
        return VG_OK;
    }
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const vg_pk_value *d = dict_get(root, keys[i]);
        if (d && d->kind == VG_PK_DICT && count_tensors(d) > 0) {
            *out = d;
            return VG_OK;
        }
    }
    return vg_fail(err, VG_ERR_FORMAT, "no tensors in the pickled dict, nor under its "
                   "'state_dict', 'model_state_dict' or 'model' keys");
}

/* Whether the view's last element lies inside a storage of n elements. */
static int view_fits(const vg_pk_value *t, int64_t n) {
    int64_t last = t->offset;
    for (int d = 0; d < t->ndim; d++)
        if (t->size[d] == 0) return 1; /* an empty view reads nothing */
    for (int d = 0; d < t->ndim; d++) {
        int64_t steps = t->size[d] - 1, s = t->stride[d];
        if (s && steps > (INT64_MAX - last) / s) return 0;
        last += steps * s;
    }
    return last < n;
}

static int is_contiguous(const vg_pk_value *t) {
    int64_t expect = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->size[d] != 1 && t->stride[d] != expect) return 0;
        expect *= t->size[d];
    }
    return 1;
}

/* Copies the strided view to contiguous float32, stepping the index like an odometer. */
static void gather(float *dst, const vg_pk_value *t, const uint8_t *src, int64_t numel) {
    size_t es = vg_dtype_size(t->dtype);
    if (is_contiguous(t)) {
        vg_dtype_convert(dst, t->dtype, src + (size_t)t->offset * es, (size_t)numel);
        return;
    }
    int64_t idx[VG_MAX_DIMS] = {0}, pos = t->offset;
    for (int64_t k = 0; k < numel; k++) {
        dst[k] = vg_dtype_load(t->dtype, src + (size_t)pos * es);
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->size[d]) {
                pos += t->stride[d];
                break;
            }
            pos -= (t->size[d] - 1) * t->stride[d];
            idx[d] = 0;
        }
    }
}

/* Checks a tensor's view against its storage entry, then converts it into tf. */
static int load_tensor(vg_tensorfile *tf, const archive *a, const vg_pk_value *name,
                       const vg_pk_value *t, vg_error *err) {
    const vg_pk_value *st = t->storage;
    const uint8_t *bytes = NULL;
    size_t nbytes = 0, es = vg_dtype_size(st->dtype);
    int64_t numel = 0;
    int nl = clip(name->slen), kl = clip(st->slen);
    int i = entry_index(a, "/data/", st->s, st->slen);
    if (i < 0)
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%.*s': storage '%.*s' is not in the archive",
                       nl, name->s, kl, st->s);
    int rc = vg_zip_data(a->zip, i, &bytes, &nbytes, err);
    if (rc != VG_OK) return rc;
    if ((uint64_t)st->i > nbytes / es)
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%.*s': storage '%.*s' has %zu bytes, not "
                       "the %lld elements its header says", nl, name->s, kl, st->s, nbytes,
                       (long long)st->i);
    if (!view_fits(t, st->i))
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%.*s': offset, size and stride reach past "
                       "its storage", nl, name->s);
    if (vg_shape_numel(t->ndim, t->size, &numel) != 0 ||
        numel / MAX_REPEAT > (st->i > 0 ? st->i : 1))
        return vg_fail(err, VG_ERR_FORMAT, "tensor '%.*s': its size is far larger than its "
                       "storage", nl, name->s);
    float *dst = vg_tf_add(tf, name->s, name->slen, t->ndim, t->size, err);
    if (!dst) return err->code;
    gather(dst, t, bytes, numel);
    return VG_OK;
}

/* Adds every tensor value of the dict d; other values (ints, strings) are skipped. */
static int load_tensors(vg_tensorfile *tf, const archive *a, const vg_pk_value *d,
                        vg_error *err) {
    for (size_t i = 0; i + 1 < d->n; i += 2) {
        const vg_pk_value *k = d->items[i], *v = d->items[i + 1];
        if (v->kind != VG_PK_TENSOR) continue;
        if (k->kind != VG_PK_STR) return vg_fail(err, VG_ERR_FORMAT, "a tensor's key is not a string");
        int rc = load_tensor(tf, a, k, v, err);
        if (rc != VG_OK) return rc;
    }
    return VG_OK;
}

int vg_torch_pth_parse(vg_tensorfile *tf, const uint8_t *buf, size_t len, vg_error *err) {
    vg_zip *zip = NULL;
    vg_pickle *pk = NULL;
    const vg_pk_value *root = NULL, *dict = NULL;
    const uint8_t *pkl = NULL;
    size_t pkl_len = 0;
    archive a = {0};
    int idx = -1;
    int rc = vg_zip_open(buf, len, &zip, err);
    a.zip = zip;
    if (rc == VG_OK) rc = find_pickle(&a, &idx, err);
    if (rc == VG_OK) rc = check_archive(&a, err);
    if (rc == VG_OK) rc = vg_zip_data(zip, idx, &pkl, &pkl_len, err);
    if (rc == VG_OK) rc = vg_pickle_load(pkl, pkl_len, &pk, &root, err);
    if (rc == VG_OK) rc = pick_state_dict(root, &dict, err);
    if (rc == VG_OK) rc = load_tensors(tf, &a, dict, err);
    vg_pickle_free(pk);
    vg_zip_close(zip);
    return rc;
}
