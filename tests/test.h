/* test.h - the few helpers every test uses.
 *
 * A test is a program: it prints one line per check and exits 0 (pass), 1 (fail) or
 * 77 (skipped: ctest's SKIP_RETURN_CODE), e.g. when ../shared is absent. Files a test
 * writes go in its one temporary folder (test_tmpdir, test_path, test_tmpdir_remove);
 * test_write_file and test_read_file (the library's vg_read_file) write and read them. */
#ifndef VG_TEST_H
#define VG_TEST_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"

#define TEST_SKIP 77

static int test_failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
            test_failures++;                                                          \
        }                                                                             \
    } while (0)

/* Checks a vigil call returned VG_OK, printing its message otherwise. */
#define CHECK_OK(call, errp)                                                          \
    do {                                                                              \
        int rc_ = (call);                                                             \
        if (rc_ != 0) {                                                               \
            fprintf(stderr, "FAIL %s:%d: %s -> %d (%s)\n", __FILE__, __LINE__, #call, \
                    rc_, (errp)->msg);                                                \
            test_failures++;                                                          \
        }                                                                             \
    } while (0)

/* Largest |a-b| / (atol + rtol*|b|) style comparison: prints the largest absolute
 * difference and the reference's largest magnitude, passes when every element satisfies
 * |a - b| <= atol + rtol * max|b|. Returns 1 when it passes. */
static inline int check_close(const char *what, const float *got, const float *want, size_t n,
                              double atol, double rtol) {
    double maxdiff = 0, maxref = 0;
    size_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= maxdiff)) { maxdiff = d; worst = i; } /* catches NaN too */
        if (fabs(want[i]) > maxref) maxref = fabs(want[i]);
    }
    double tol = atol + rtol * maxref;
    int ok = maxdiff <= tol;
    printf("%-44s n=%-9zu max|diff|=%.3g (max|ref|=%.3g, tol=%.3g) %s\n", what, n, maxdiff,
           maxref, tol, ok ? "ok" : "FAIL");
    if (!ok) {
        fprintf(stderr, "  worst at %zu: got %.8g want %.8g\n", worst, got[worst], want[worst]);
        test_failures++;
    }
    return ok;
}

static inline int test_result(void) {
    if (test_failures) fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}

/* Path of the shared data folder (../shared beside the checkout), or NULL when absent. */
static inline const char *test_shared_dir(void) {
    static const char *candidates[] = {VG_SOURCE_DIR "/../shared", NULL};
    const char *env = getenv("VIGIL_SHARED");
    if (env && *env) return env;
    for (int i = 0; candidates[i]; i++) {
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/docs/SYSTEM.md", candidates[i]);
        FILE *f = fopen(probe, "r");
        if (f) { fclose(f); return candidates[i]; }
    }
    return NULL;
}

/* ---- files: the temporary folder, writing and reading back ------------------------------ */

/* The folder's name; empty until test_tmpdir makes it. */
static inline char *test_tmpdir_name(void) {
    static char dir[64];
    return dir;
}

/* The test program's temporary folder, /tmp/vigil-test-TAG-XXXXXX: made on the first call,
 * returned as it is by later ones (whatever their tag). A test cannot run without it, so
 * when it cannot be made this prints why and exits with 1 (failed). */
static inline const char *test_tmpdir(const char *tag) {
    char *dir = test_tmpdir_name();
    if (dir[0]) return dir;
    char made[64];
    int n = snprintf(made, sizeof made, "/tmp/vigil-test-%s-XXXXXX", tag);
    if (n < 0 || (size_t)n >= sizeof made || !mkdtemp(made)) {
        fprintf(stderr, "FAIL: cannot make a temporary folder /tmp/vigil-test-%s-XXXXXX (%s)\n",
                tag, n < 0 || (size_t)n >= sizeof made ? "tag too long" : strerror(errno));
        exit(1);
    }
    return memcpy(dir, made, sizeof made);
}

/* DIR/name in the temporary folder. The text lives in one of 8 buffers used in turn, so it
 * stays valid for the next 7 calls; copy it to keep it longer. Exits with 1 when there is
 * no folder yet (a test bug) or the path does not fit. */
static inline const char *test_path(const char *name) {
    static char buf[8][512];
    static int next;
    const char *dir = test_tmpdir_name();
    char *p = buf[next++ % 8];
    int n = snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    if (!dir[0] || n < 0 || (size_t)n >= sizeof buf[0]) {
        fprintf(stderr, "FAIL: test_path(\"%s\"): %s\n", name,
                dir[0] ? "path too long" : "test_tmpdir was not called");
        exit(1);
    }
    return p;
}

/* Removes the temporary folder and everything in it (rm -rf); a failed check when that
 * fails. Nothing to do when none was made. */
static inline void test_tmpdir_remove(void) {
    char *dir = test_tmpdir_name();
    if (!dir[0]) return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "FAIL: could not remove %s\n", dir);
        test_failures++;
    }
    dir[0] = 0;
}

/* Writes len bytes of data to path as a new file (any old one is removed first: truncating
 * in place is much slower on some filesystems). Returns 1, or 0 after counting a failed
 * check that names path and the reason. */
static inline int test_write_file(const char *path, const void *data, size_t len) {
    remove(path);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) {
        fprintf(stderr, "FAIL: cannot write %s (%s)\n", path, strerror(errno));
        test_failures++;
    }
    return ok;
}

/* The bytes of path (vg_read_file: 0-terminated, *len of them; free them), or NULL after
 * a failed check that names path and the reason. */
static inline char *test_read_file(const char *path, size_t *len) {
    vg_error err = {0};
    char *s = vg_read_file(path, len, &err);
    if (!s) {
        fprintf(stderr, "FAIL: cannot read back %s\n", err.msg);
        test_failures++;
    }
    return s;
}

/* xmllint's verdict on the file at path (1 well-formed XML, 0 not), or -1 when xmllint is
 * not installed. */
static inline int test_xmllint_ok(const char *path) {
    if (system("command -v xmllint >/dev/null 2>&1") != 0) return -1;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    return system(cmd) == 0;
}

#endif
