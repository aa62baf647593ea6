/* bandwidth.c — see bandwidth.h. */
#include "bandwidth.h"
#include "measure.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { LANES = 16, MAX_THREADS = 64 };

size_t bandwidth_probe_bytes(void) {
    size_t llc = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    llc = l3 > 0 ? (size_t)l3 : l2 > 0 ? (size_t)l2 : 0;
#endif
    const size_t floor = (size_t)256 << 20, cap = (size_t)1 << 30;
    const size_t want = 8 * llc;
    return want < floor ? floor : want > cap ? cap : want;
}

typedef struct {
    float *a;          /* this thread's part */
    size_t count;      /* floats in it */
    int fill;          /* 1: write it (first touch), 0: sum it */
    size_t reps;       /* sums of the part per pass (0: 1) */
    double sum;
} part;

/* a: (count) -> the sum, in LANES independent float lanes (a loop of known
 * trip count that gcc vectorises), blocks of 1024 added in double */
static double sum_floats(const float *a, size_t count) {
    double total = 0;
    size_t i = 0;
    for (; i + 1024 <= count; i += 1024) {
        float acc[LANES] = {0};
        for (size_t j = i; j < i + 1024; j += LANES)
            for (size_t l = 0; l < LANES; l++) acc[l] += a[j + l];
        for (size_t l = 0; l < LANES; l++) total += acc[l];
    }
    for (; i < count; i++) total += a[i];
    return total;
}

static void *run_part(void *p) {
    part *t = p;
    if (t->fill)
        for (size_t i = 0; i < t->count; i++) t->a[i] = (float)(i & 7);
    else
        for (size_t r = 0; r < (t->reps ? t->reps : 1); r++) t->sum += sum_floats(t->a, t->count);
    return NULL;
}

/* every part once, on its own thread (part 0 on the caller); seconds taken */
static double pass(part *parts, size_t threads, int fill) {
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    const double t0 = now_seconds();
    for (size_t t = 0; t < threads; t++) parts[t].fill = fill;
    for (size_t t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, run_part, &parts[t]) == 0;
    run_part(&parts[0]);
    for (size_t t = 1; t < threads; t++) {
        if (started[t]) pthread_join(ids[t], NULL);
        else run_part(&parts[t]);
    }
    return now_seconds() - t0;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bandwidth_read_gbps(size_t bytes, size_t threads) {
    if (!bytes) bytes = bandwidth_probe_bytes();
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    const size_t count = bytes / sizeof(float) / (LANES * threads) * (LANES * threads);
    if (!count) return 0;
    float *a = NULL;
    if (posix_memalign((void **)&a, 64, count * sizeof(float)) != 0) return 0;
    part parts[MAX_THREADS];
    const size_t per = count / threads;
    for (size_t t = 0; t < threads; t++) parts[t] = (part){a + t * per, per, 1, 1, 0};
    pass(parts, threads, 1); /* first touch, each thread its own part */
    pass(parts, threads, 0); /* warm-up */
    double secs[BANDWIDTH_PASSES];
    volatile double sink = 0;
    for (int r = 0; r < BANDWIDTH_PASSES; r++) {
        secs[r] = pass(parts, threads, 0);
        for (size_t t = 0; t < threads; t++) sink += parts[t].sum;
    }
    (void)sink;
    free(a);
    qsort(secs, BANDWIDTH_PASSES, sizeof(double), cmp_double);
    const double median = secs[BANDWIDTH_PASSES / 2];
    return median > 0 ? (double)(count * sizeof(float)) / median * 1e-9 : 0;
}

/* the median GB/s of BANDWIDTH_PASSES passes over the first `count` floats
 * of a, in `threads` parts, each part summed reps times a pass */
static double curve_point(float *a, size_t count, size_t threads, size_t reps) {
    part parts[MAX_THREADS];
    const size_t per = count / threads;
    for (size_t t = 0; t < threads; t++) parts[t] = (part){a + t * per, per, 0, reps, 0};
    pass(parts, threads, 0); /* warm-up: the size's lines into the caches they fit */
    double secs[BANDWIDTH_PASSES];
    for (int r = 0; r < BANDWIDTH_PASSES; r++) secs[r] = pass(parts, threads, 0);
    qsort(secs, BANDWIDTH_PASSES, sizeof(double), cmp_double);
    const double median = secs[BANDWIDTH_PASSES / 2];
    return median > 0 ? (double)(per * threads * reps * sizeof(float)) / median * 1e-9 : 0;
}

int bandwidth_curve(size_t threads, size_t *bytes, double *gbps) {
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    const size_t quantum = LANES * threads * sizeof(float);
    for (int i = 0; i < BANDWIDTH_CURVE; i++) {
        /* 256 KiB * 4096^(i / 7): 256 KiB .. 1 GiB, a multiple of the quantum */
        const double b = 262144.0 * pow(4096.0, (double)i / (BANDWIDTH_CURVE - 1));
        bytes[i] = ((size_t)b + quantum - 1) / quantum * quantum;
    }
    const size_t whole = bytes[BANDWIDTH_CURVE - 1] / sizeof(float);
    float *a = NULL;
    if (posix_memalign((void **)&a, 64, whole * sizeof(float)) != 0) return -1;
    part parts[MAX_THREADS];
    for (size_t t = 0; t < threads; t++) parts[t] = (part){a + t * (whole / threads), whole / threads, 1, 1, 0};
    pass(parts, threads, 1); /* first touch of the whole buffer, each thread its part */
    volatile double sink = 0;
    for (int i = 0; i < BANDWIDTH_CURVE; i++) {
        const size_t reps = ((size_t)16 << 20) / bytes[i] + 1; /* at least 16 MiB a pass */
        gbps[i] = curve_point(a, bytes[i] / sizeof(float), threads, reps);
        sink += gbps[i];
    }
    (void)sink;
    free(a);
    return 0;
}
