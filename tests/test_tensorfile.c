/* test_tensorfile.c - safetensors and torch .pth reading, safetensors writing.
 *
 * Fixtures come from tests/fixtures/gen_tensorfile.py (torch 1.13); the expected float32
 * value of every tensor a fixture holds is in tensorfile/expected.safetensors as
 * "<stem>/<name>", and the simplest ones are also recomputed here. Robustness: every
 * truncation and thousands of single-byte corruptions of small valid files must be
 * refused or read cleanly (run under ASan/UBSan and valgrind). Set VIGIL_RESNET18_PTH to a
 * torchvision resnet18 state dict (gen_tensorfile.py --resnet18 PATH) to read it too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/tensorfile.h"
#include "test.h"

#define FIX VG_FIXTURES "/tensorfile/"

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The message must be one line that starts with the path. */
static int well_formed(const vg_error *e, const char *path) {
    size_t n = strlen(path);
    return strncmp(e->msg, path, n) == 0 && e->msg[n] == ':' && !strchr(e->msg, '\n');
}

/* Opens path expecting code and a message containing needle. */
static void expect_refusal(const char *path, int code, const char *needle) {
    vg_error e = {0};
    vg_tensorfile *tf = (vg_tensorfile *)1;
    int rc = vg_tensorfile_open(path, &tf, &e);
    int ok = rc == code && tf == NULL && well_formed(&e, path) && strstr(e.msg, needle);
    printf("refused %-40s code %d: %s %s\n", strrchr(path, '/') + 1, rc, e.msg, ok ? "ok" : "FAIL");
    CHECK(ok);
}

/* ---- writing and reading back ---- */

static void test_round_trip(void) {
    float w[24], b[3] = {1.5f, -2.25f, 1e-30f}, s = 42.0f;
    for (int i = 0; i < 24; i++) w[i] = (float)i * 0.1f - 1.0f;
    vg_tensor_entry t[] = {
        {.name = "conv.weight", .ndim = 4, .shape = {2, 3, 2, 2}, .data = w},
        {.name = "bias", .ndim = 1, .shape = {3}, .data = b},
        {.name = "scalar", .ndim = 0, .data = &s},
        {.name = "empty", .ndim = 2, .shape = {0, 4}, .data = NULL},
        {.name = "odd \"name\"\\\t\xc3\xa9", .ndim = 1, .shape = {2}, .data = b},
    };
    const char *keys[] = {"vigil.version", "note"}, *vals[] = {"0.1", "tab\there \"q\""};
    const char *path = test_path("round.safetensors");
    vg_error e = {0};
    vg_tensorfile *tf = NULL;
    CHECK_OK(vg_safetensors_write(path, t, 5, keys, vals, 2, &e), &e);
    CHECK(!exists(test_path("round.safetensors.tmp")));
    CHECK_OK(vg_tensorfile_open(path, &tf, &e), &e);
    CHECK(vg_tensorfile_count(tf) == 5);
    for (int i = 0; tf && i < 5; i++) {
        const vg_tensor_entry *g = vg_tensorfile_entry(tf, i); /* file order kept */
        CHECK(g && strcmp(g->name, t[i].name) == 0 && g->ndim == t[i].ndim);
        CHECK(g && memcmp(g->shape, t[i].shape, sizeof(int64_t) * (size_t)t[i].ndim) == 0);
        size_t n = 1;
        for (int d = 0; d < t[i].ndim; d++) n *= (size_t)t[i].shape[d];
        CHECK(g && (n == 0 || memcmp(g->data, t[i].data, n * sizeof(float)) == 0));
    }
    CHECK(tf && strcmp(vg_tensorfile_metadata(tf, "note"), vals[1]) == 0);
    CHECK(tf && strcmp(vg_tensorfile_metadata(tf, "vigil.version"), "0.1") == 0);
    CHECK(vg_tensorfile_metadata(tf, "absent") == NULL);
    CHECK(tf && strcmp(vg_tensorfile_path(tf), path) == 0);
    vg_tensorfile_close(tf);

    size_t len = 0;
    uint8_t *raw = (uint8_t *)test_read_file(path, &len);
    uint64_t hlen = 0;
    for (int i = 7; raw && i >= 0; i--) hlen = hlen << 8 | raw[i];
    CHECK(raw && hlen % 8 == 0 && raw[8] == '{' && len == 8 + hlen + (24 + 3 + 1 + 2) * 4);
    free(raw);

    /* overwriting replaces the file */
    CHECK_OK(vg_safetensors_write(path, t + 1, 1, NULL, NULL, 0, &e), &e);
    CHECK_OK(vg_tensorfile_open(path, &tf, &e), &e);
    CHECK(vg_tensorfile_count(tf) == 1 && vg_tensorfile_metadata(tf, "note") == NULL);
    vg_tensorfile_close(tf);
    printf("round trip: 5 tensors (4-D, 1-D, scalar, empty, odd name) + 2 metadata %s\n",
           test_failures ? "FAIL" : "ok");
}

/* A failed write reports the problem and leaves what was there. */
static void test_write_failures(void) {
    float x[2] = {1, 2};
    vg_tensor_entry dup[] = {{.name = "a", .ndim = 1, .shape = {2}, .data = x},
                             {.name = "a", .ndim = 1, .shape = {2}, .data = x}};
    vg_tensor_entry bad[] = {{.name = "neg", .ndim = 1, .shape = {-1}, .data = x},
                             {.name = "__metadata__", .ndim = 0, .data = x},
                             {.name = "nodata", .ndim = 1, .shape = {2}, .data = NULL}};
    const char *path = test_path("keep.safetensors");
    vg_error e = {0};
    CHECK_OK(vg_safetensors_write(path, dup, 1, NULL, NULL, 0, &e), &e);
    size_t n0 = 0, n1 = 0;
    uint8_t *before = (uint8_t *)test_read_file(path, &n0);

    CHECK(vg_safetensors_write(path, dup, 2, NULL, NULL, 0, &e) == VG_ERR_ARG);
    CHECK(strstr(e.msg, "'a' is given twice") && well_formed(&e, path));
    for (int i = 0; i < 3; i++) CHECK(vg_safetensors_write(path, &bad[i], 1, NULL, NULL, 0, &e) == VG_ERR_ARG);
    const char *k[] = {"k", "k"}, *v[] = {"1", "2"};
    CHECK(vg_safetensors_write(path, dup, 1, k, v, 2, &e) == VG_ERR_ARG);
    uint8_t *after = (uint8_t *)test_read_file(path, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);

    const char *dir = test_path("adir");
    CHECK(mkdir(dir, 0700) == 0);
    CHECK(vg_safetensors_write(dir, dup, 1, NULL, NULL, 0, &e) == VG_ERR_IO);
    printf("write over a directory: %s\n", e.msg);
    CHECK(!exists(test_path("adir.tmp")));
    CHECK(vg_safetensors_write(test_path("no/such/dir.safetensors"), dup, 1, NULL, NULL, 0, &e) == VG_ERR_IO);
    printf("write into a missing folder: %s\n", e.msg);
    CHECK(vg_safetensors_write(NULL, dup, 1, NULL, NULL, 0, &e) == VG_ERR_ARG);
    CHECK(vg_safetensors_write(path, dup, 1, NULL, NULL, 0, NULL) == VG_OK); /* NULL err is fine */
    rmdir(dir);
}

/* ---- reading fixtures ---- */

static int64_t numel_of(const vg_tensor_entry *e) {
    int64_t n = 1;
    for (int d = 0; d < e->ndim; d++) n *= e->shape[d];
    return n;
}

/* Every tensor of the file equals "<stem>/<name>" of expected.safetensors, bit for bit,
 * and the file holds all of them. */
static void compare_with_expected(const vg_tensorfile *tf, const vg_tensorfile *exp,
                                  const char *stem) {
    int want = 0, bad = 0;
    int64_t values = 0;
    size_t sl = strlen(stem);
    for (int i = 0; i < vg_tensorfile_count(exp); i++) {
        const char *n = vg_tensorfile_entry(exp, i)->name;
        want += strncmp(n, stem, sl) == 0 && n[sl] == '/';
    }
    for (int i = 0; i < vg_tensorfile_count(tf); i++) {
        const vg_tensor_entry *g = vg_tensorfile_entry(tf, i);
        char name[512];
        snprintf(name, sizeof name, "%s/%s", stem, g->name);
        const vg_tensor_entry *x = vg_tensorfile_find(exp, name);
        int same = x && x->ndim == g->ndim &&
                   memcmp(x->shape, g->shape, sizeof(int64_t) * (size_t)g->ndim) == 0 &&
                   memcmp(x->data, g->data, sizeof(float) * (size_t)numel_of(g)) == 0;
        if (!same) fprintf(stderr, "  %s differs from expected\n", name);
        bad += !same;
        values += numel_of(g);
    }
    int ok = !bad && want == vg_tensorfile_count(tf);
    printf("%-20s %3d tensors, %6lld values equal to PyTorch's: %s\n", stem,
           vg_tensorfile_count(tf), (long long)values, ok ? "ok" : "FAIL");
    CHECK(ok);
}

static vg_tensorfile *open_ok(const char *path) {
    vg_error e = {0};
    vg_tensorfile *tf = NULL;
    CHECK_OK(vg_tensorfile_open(path, &tf, &e), &e);
    return tf;
}

static void test_fixtures(const vg_tensorfile *exp) {
    static const char *files[] = {"py_f32.safetensors", "dtypes.safetensors", "tiny.pth",
                                  "views.pth", "nested.pth", "proto4.pth", "repacked.pth"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[512], stem[64];
        snprintf(path, sizeof path, FIX "%s", files[i]);
        snprintf(stem, sizeof stem, "%s", files[i]);
        *strchr(stem, '.') = '\0';
        vg_tensorfile *tf = open_ok(path);
        if (tf) compare_with_expected(tf, exp, stem);
        vg_tensorfile_close(tf);
    }
}

/* Values recomputed here, independent of the expected file. */
static void test_known_values(void) {
    vg_error e = {0};
    vg_tensorfile *st = open_ok(FIX "py_f32.safetensors");
    const float *a = vg_tensorfile_get(st, "a", 2, (const int64_t[]){2, 3}, &e);
    /* vgfix.save_safetensors stores 0-d arrays with shape [1] (np.ascontiguousarray) */
    const float *s = vg_tensorfile_get(st, "scalar", 1, (const int64_t[]){1}, &e);
    for (int i = 0; a && i < 6; i++) CHECK(a[i] == (float)i * 0.5f - 1.0f);
    CHECK(a && s && *s == 7.25f);
    CHECK(st && strcmp(vg_tensorfile_metadata(st, "producer"), "gen_tensorfile.py") == 0);
    vg_tensorfile_close(st);

    vg_tensorfile *dt = open_ok(FIX "dtypes.safetensors");
    const float *h = vg_tensorfile_get(dt, "f16", 1, (const int64_t[]){6}, &e);
    const float *l = vg_tensorfile_get(dt, "i64", 1, (const int64_t[]){4}, &e);
    CHECK(h && h[2] == 65504.0f && h[3] == ldexpf(1, -24) && h[4] == 0 && signbit(h[4]));
    CHECK(l && l[1] == -5.0f && l[3] == -1099511627776.0f);
    vg_tensorfile_close(dt);

    vg_tensorfile *v = open_ok(FIX "views.pth");
    const float *t = vg_tensorfile_get(v, "transposed", 2, (const int64_t[]){4, 3}, &e);
    const float *sl = vg_tensorfile_get(v, "sliced", 2, (const int64_t[]){2, 3}, &e);
    const float *ex = vg_tensorfile_get(v, "expanded", 2, (const int64_t[]){3, 4}, &e);
    const float *lg = vg_tensorfile_get(v, "long", 1, (const int64_t[]){4}, &e);
    for (int i = 0; t && i < 4; i++)
        for (int j = 0; j < 3; j++) CHECK(t[i * 3 + j] == (float)(j * 4 + i));
    for (int i = 0; sl && i < 2; i++)
        for (int j = 0; j < 3; j++) CHECK(sl[i * 3 + j] == (float)((i + 1) * 6 + j + 2) * 0.25f);
    for (int i = 0; ex && i < 12; i++) CHECK(ex[i] == (float)(i / 4));
    CHECK(lg && lg[2] == 1048576.0f && lg[3] == 123456789.0f);
    CHECK(vg_tensorfile_metadata(v, "format") == NULL);
    vg_tensorfile_close(v);

    vg_tensorfile *tiny = open_ok(FIX "tiny.pth");
    const float *nb = vg_tensorfile_get(tiny, "bn1.num_batches_tracked", 0, NULL, &e);
    CHECK(nb && *nb == 7.0f);
    CHECK(vg_tensorfile_get(tiny, "layer1.0.conv2.weight", 4, (const int64_t[]){8, 8, 3, 3}, &e));
    vg_tensorfile_close(tiny);
    printf("known values (views, offsets, dtypes, counters): %s\n", test_failures ? "FAIL" : "ok");
}

/* vg_tensorfile_get's two messages, word for word, and NULL handling. */
static void test_lookup_errors(void) {
    vg_error e = {0};
    char want[1024];
    const char *path = FIX "tiny.pth";
    vg_tensorfile *tf = open_ok(path);
    CHECK(!vg_tensorfile_get(tf, "conv1.weight", 4, (const int64_t[]){8, 3, 7, 7}, &e));
    snprintf(want, sizeof want, "%s: tensor 'conv1.weight' has shape [8,3,3,3], expected [8,3,7,7]", path);
    CHECK(e.code == VG_ERR_SHAPE && strcmp(e.msg, want) == 0);
    printf("%s\n", e.msg);
    CHECK(!vg_tensorfile_get(tf, "fc.bias", 0, NULL, &e) && e.code == VG_ERR_SHAPE);
    CHECK(strstr(e.msg, "has shape [10], expected []"));
    CHECK(!vg_tensorfile_get(tf, "conv9.weight", 1, (const int64_t[]){1}, &e));
    snprintf(want, sizeof want, "%s: tensor 'conv9.weight' is missing", path);
    CHECK(e.code == VG_ERR_MISSING && strcmp(e.msg, want) == 0);
    printf("%s\n", e.msg);
    CHECK(vg_tensorfile_find(tf, "conv9.weight") == NULL);
    CHECK(vg_tensorfile_entry(tf, -1) == NULL && vg_tensorfile_entry(tf, vg_tensorfile_count(tf)) == NULL);
    CHECK(!vg_tensorfile_get(NULL, "x", 0, NULL, &e) && e.code == VG_ERR_ARG);
    CHECK(vg_tensorfile_count(NULL) == 0 && vg_tensorfile_find(NULL, "x") == NULL);
    CHECK(vg_tensorfile_metadata(NULL, "x") == NULL && vg_tensorfile_path(NULL) == NULL);
    vg_tensorfile_close(tf);
    CHECK(vg_tensorfile_open(NULL, &tf, &e) == VG_ERR_ARG && tf == NULL);
    vg_tensorfile_close(NULL);
}

/* A safetensors file from a JSON header and data bytes. */
static const char *write_st(const char *name, const char *json, size_t data_len) {
    const char *path = test_path(name);
    size_t hl = strlen(json), len = 8 + hl + data_len;
    uint8_t *b = calloc(1, len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, json, hl);
    test_write_file(path, b, len);
    free(b);
    return path;
}

static void test_refusals(void) {
    expect_refusal(FIX "no_such_file.safetensors", VG_ERR_IO, "no such file");
    expect_refusal(VG_FIXTURES, VG_ERR_IO, "directory");
    test_write_file(test_path("empty.safetensors"), "", 0);
    expect_refusal(test_path("empty.safetensors"), VG_ERR_FORMAT, "empty file");
    test_write_file(test_path("text.pth"), "these are not weights\n", 22);
    expect_refusal(test_path("text.pth"), VG_ERR_FORMAT, "not a safetensors or PyTorch file");
    expect_refusal(FIX "legacy.pth", VG_ERR_UNSUPPORTED, "legacy");
    expect_refusal(FIX "deflated.pth", VG_ERR_UNSUPPORTED, "is compressed");
    expect_refusal(FIX "evil.pth", VG_ERR_UNSUPPORTED,
                   "pickle refers to 'os.system', which a state dict does not need");
    expect_refusal(FIX "whole_model.pth", VG_ERR_UNSUPPORTED, "'torch.nn.modules.linear.Linear'");

    size_t len = 0;
    uint8_t *b = (uint8_t *)test_read_file(FIX "py_f32.safetensors", &len);
    if (b) test_write_file(test_path("short.safetensors"), b, 100);
    free(b);
    expect_refusal(test_path("short.safetensors"), VG_ERR_FORMAT, "truncated (header says");

    static const struct {
        const char *json;
        size_t data;
        int code;
        const char *needle;
    } bad[] = {
        {"{\"a\":", 0, VG_ERR_FORMAT, "not valid JSON"},
        {"[1, 2]  ", 0, VG_ERR_FORMAT, "not a safetensors or PyTorch file"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, VG_ERR_FORMAT, "run past"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, VG_ERR_FORMAT, "need 12"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, VG_ERR_FORMAT, "shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, VG_ERR_FORMAT, "shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, VG_ERR_FORMAT, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, VG_ERR_FORMAT, "data_offsets"},
        {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, VG_ERR_FORMAT, "dtype"},
        {"{\"a\":[1]}", 8, VG_ERR_FORMAT, "not an object"},
        {"{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 8, VG_ERR_UNSUPPORTED, "F8_E4M3"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 8,
         VG_ERR_UNSUPPORTED, "9 dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}",
         8, VG_ERR_FORMAT, "overflowing"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, VG_ERR_FORMAT, "'a' appears twice"},
        {"{\"__metadata__\":{\"k\":1}}", 0, VG_ERR_FORMAT, "not a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char name[64];
        snprintf(name, sizeof name, "bad%zu.safetensors", i);
        expect_refusal(write_st(name, bad[i].json, bad[i].data), bad[i].code, bad[i].needle);
    }
}

/* ---- robustness ---- */

/* Opens path; success must give readable tensors, failure a well-formed message. */
static int open_anything(const char *path) {
    vg_error e = {0};
    vg_tensorfile *tf = NULL;
    int rc = vg_tensorfile_open(path, &tf, &e);
    if (rc != VG_OK) {
        CHECK(tf == NULL && e.code == rc && well_formed(&e, path));
        return rc;
    }
    volatile float sink = 0;
    for (int i = 0; i < vg_tensorfile_count(tf); i++) { /* touch every value */
        const vg_tensor_entry *t = vg_tensorfile_entry(tf, i);
        for (int64_t k = 0; k < numel_of(t); k++) sink += t->data[k];
    }
    (void)sink;
    vg_tensorfile_close(tf);
    return rc;
}

/* Every length below the file's (stride 1), or every stride-th plus all of the last 512
 * bytes, where the zip directory lives. Every cut must be refused. */
static void test_truncations(const char *name, size_t stride) {
    size_t len = 0;
    char src[512];
    snprintf(src, sizeof src, FIX "%s", name);
    uint8_t *b = (uint8_t *)test_read_file(src, &len);
    const char *path = test_path("cut");
    int tried = 0, refused = 0;
    for (size_t n = 0; b && n < len; n++) {
        if (n % stride && n + 512 < len) continue;
        test_write_file(path, b, n);
        refused += open_anything(path) != VG_OK;
        tried++;
    }
    printf("truncations of %-20s %5d of %5d lengths refused: %s\n", name, refused, tried,
           refused == tried ? "ok" : "FAIL");
    CHECK(b && refused == tried);
    free(b);
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Where the entry whose name ends in suffix keeps its data, and its CRC field (in the
 * central directory), found independently of the library's zip reader. */
static int locate_entry(const uint8_t *b, size_t len, const char *suffix, size_t *data,
                        size_t *size, size_t *crc_at) {
    size_t sl = strlen(suffix);
    for (size_t p = 0; p + 46 <= len; p++) {
        if (le32(b + p) != 0x02014b50u) continue;
        size_t nl = (size_t)(b[p + 28] | b[p + 29] << 8);
        if (nl < sl || p + 46 + nl > len || memcmp(b + p + 46 + nl - sl, suffix, sl)) continue;
        size_t lo = le32(b + p + 42);
        *data = lo + 30 + (size_t)(b[lo + 26] | b[lo + 27] << 8) + (size_t)(b[lo + 28] | b[lo + 29] << 8);
        *size = le32(b + p + 24);
        *crc_at = p + 16;
        return 0;
    }
    return -1;
}

/* Corrupts one byte at a time (positions from first to first+count, or count LCG draws
 * when random), optionally fixing the zip CRC so the pickle reader sees the damage. */
static void corrupt(const char *name, const char *what, size_t first, size_t count,
                    int random, const uint8_t *xors, int nx, int fix_crc) {
    size_t len = 0, data = 0, size = 0, crc_at = 0;
    char src[512];
    snprintf(src, sizeof src, FIX "%s", name);
    uint8_t *orig = (uint8_t *)test_read_file(src, &len), *b = malloc(len ? len : 1);
    const char *path = test_path("corrupt");
    if (fix_crc) CHECK(orig && locate_entry(orig, len, "/data.pkl", &data, &size, &crc_at) == 0);
    if (fix_crc) first = data, count = size;
    if (!random && !fix_crc) first = 0, count = len; /* every byte */
    uint64_t lcg = 12345;
    int tried = 0, refused = 0;
    for (size_t i = 0; orig && i < count; i++) {
        lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
        size_t pos = random ? (size_t)(lcg >> 33) % len : first + i;
        for (int x = 0; x < nx; x++) {
            memcpy(b, orig, len);
            b[pos] ^= xors[x];
            uint32_t c = fix_crc ? crc32_of(b + data, size) : 0;
            for (int k = 0; fix_crc && k < 4; k++) b[crc_at + k] = (uint8_t)(c >> (8 * k));
            test_write_file(path, b, len);
            refused += open_anything(path) != VG_OK;
            tried++;
        }
    }
    printf("corruptions of %-20s %-14s %5d tried, %5d refused, rest read cleanly: ok\n", name,
           what, tried, refused);
    free(orig);
    free(b);
}

/* Optional real-world files: ../shared's MobileNetV2, and a torchvision resnet18 .pth. */
static void test_real_files(void) {
    vg_error e = {0};
    const char *shared = test_shared_dir();
    if (shared) {
        char path[4096];
        snprintf(path, sizeof path, "%s/models/mobilenet_v2_imagenet.safetensors", shared);
        vg_tensorfile *tf = open_ok(path);
        CHECK(vg_tensorfile_get(tf, "features.0.0.weight", 4, (const int64_t[]){32, 3, 3, 3}, &e));
        CHECK(vg_tensorfile_get(tf, "classifier.1.weight", 2, (const int64_t[]){1001, 1280}, &e));
        printf("shared mobilenet_v2_imagenet.safetensors: %d tensors %s\n",
               vg_tensorfile_count(tf), tf ? "ok" : "FAIL");
        vg_tensorfile_close(tf);
    } else {
        printf("shared mobilenet_v2_imagenet.safetensors: skipped (no ../shared)\n");
    }
    const char *r18 = getenv("VIGIL_RESNET18_PTH");
    if (!r18 || !*r18) {
        printf("resnet18 .pth: skipped (set VIGIL_RESNET18_PTH)\n");
        return;
    }
    vg_tensorfile *tf = open_ok(r18);
    CHECK(vg_tensorfile_count(tf) == 122);
    CHECK(vg_tensorfile_get(tf, "conv1.weight", 4, (const int64_t[]){64, 3, 7, 7}, &e));
    CHECK(vg_tensorfile_get(tf, "layer4.1.bn2.running_var", 1, (const int64_t[]){512}, &e));
    CHECK(vg_tensorfile_get(tf, "fc.weight", 2, (const int64_t[]){1000, 512}, &e));
    CHECK(vg_tensorfile_get(tf, "bn1.num_batches_tracked", 0, NULL, &e));
    printf("resnet18 .pth: %d tensors %s\n", vg_tensorfile_count(tf), tf ? "ok" : "FAIL");
    vg_tensorfile_close(tf);
}

int main(void) {
    test_tmpdir("tensorfile");
    test_round_trip();
    test_write_failures();
    vg_tensorfile *exp = open_ok(FIX "expected.safetensors");
    if (exp) test_fixtures(exp);
    vg_tensorfile_close(exp);
    test_known_values();
    test_lookup_errors();
    test_refusals();
    test_real_files();

    static const uint8_t flips[] = {0x01, 0x80, 0xff};
    test_truncations("py_f32.safetensors", 1);
    test_truncations("dtypes.safetensors", 1);
    test_truncations("views.pth", 1);
    test_truncations("tiny.pth", 7);
    corrupt("py_f32.safetensors", "every byte", 0, 0, 0, flips, 3, 0);
    corrupt("dtypes.safetensors", "every byte", 0, 0, 0, flips, 3, 0);
    corrupt("views.pth", "random bytes", 0, 400, 1, flips, 1, 0);
    corrupt("views.pth", "data.pkl+crc", 0, 0, 0, flips, 3, 1);
    corrupt("tiny.pth", "data.pkl+crc", 0, 0, 0, flips + 2, 1, 1);
    test_tmpdir_remove();
    return test_result();
}
