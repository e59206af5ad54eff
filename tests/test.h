/* test.h - the few helpers every test uses.
 *
 * A test is a program: it prints one line per check and exits 0 (pass), 1 (fail) or
 * 77 (skipped: ctest's SKIP_RETURN_CODE), e.g. when ../shared is absent. */
#ifndef VG_TEST_H
#define VG_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
