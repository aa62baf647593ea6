/* check.h — the tiny test harness every tests/test_*.c uses.
 * A test binary runs its cases, prints each failed check with the values
 * that differed, and ends main with `return check_summary("name")`: 0 when
 * every check passed, else 1 (never the count: an exit status wraps mod 256,
 * so 256 failures would read as a pass). A unit test never exits 77: only
 * an e2e script skips, for a missing optional dependency (tests/run.sh
 * counts a unit test's 77 as a failure). */
#ifndef CHECK_H
#define CHECK_H

#include "attention.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures = 0;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            check_failures++;                                                  \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* deterministic test data: splitmix64 -> uniform -> roughly normal */
static uint64_t test_rng_state = 0x9e3779b97f4a7c15ull;
static inline uint64_t test_rand64(void) {
    uint64_t z = (test_rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline double test_uniform(void) { return (double)(test_rand64() >> 11) * 0x1.0p-53; }
static inline double test_normal(void) { /* sum of 4 uniforms, scaled to unit variance */
    double s = test_uniform() + test_uniform() + test_uniform() + test_uniform() - 2.0;
    return s * sqrt(3.0);
}
static inline void test_fill(float *a, size_t count, double scale) {
    for (size_t i = 0; i < count; i++) a[i] = (float)(scale * test_normal());
}
static inline double *test_to_double(const float *a, size_t count) {
    double *d = malloc(count * sizeof(double));
    for (size_t i = 0; i < count; i++) d[i] = a[i];
    return d;
}

/* ||got - ref||_F / ||ref||_F */
static inline double test_rel_err(const float *got, const double *ref, size_t count) {
    double num = 0, den = 0;
    for (size_t i = 0; i < count; i++) {
        double e = (double)got[i] - ref[i];
        num += e * e;
        den += ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* element-wise |got - ref| <= atol + rtol |ref|; prints the first mismatches */
static inline int test_allclose(const char *what, const float *got, const double *ref,
                                size_t count, double atol, double rtol) {
    int shown = 0, bad = 0;
    for (size_t i = 0; i < count; i++) {
        double tol = atol + rtol * fabs(ref[i]);
        if (!(fabs((double)got[i] - ref[i]) <= tol)) {
            if (shown++ < 5)
                fprintf(stderr, "  %s[%zu]: got %.9g, want %.9g (tol %.3g)\n", what, i,
                        (double)got[i], ref[i], tol);
            bad++;
        }
    }
    if (bad) fprintf(stderr, "  %s: %d of %zu elements outside tolerance\n", what, bad, count);
    return bad == 0;
}

/* float64 exact attention of float inputs, all rows: out (heads, n, d_head) */
static inline double *test_reference(const attn_shape *s, const float *q, const float *k,
                                     const float *v) {
    size_t nq = s->heads * s->n * s->d_head, nkv = s->kv_heads * s->n * s->d_head;
    double *qd = test_to_double(q, nq), *kd = test_to_double(k, nkv), *vd = test_to_double(v, nkv);
    double *out = malloc(nq * sizeof(double));
    workspace ws;
    ws_init(&ws, 0);
    int rc = reference_attention(s, qd, kd, vd, NULL, 0, NULL, out, NULL, NULL, &ws);
    if (rc) { fprintf(stderr, "reference failed: %s\n", attn_strerror(rc)); exit(1); }
    free(qd); free(kd); free(vd);
    return out;
}

/* main's exit status: prints the count of failed checks; 0 or 1 */
static inline int check_summary(const char *name) {
    if (check_failures) fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    return check_failures ? 1 : 0;
}

#endif
