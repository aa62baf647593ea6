/* sgemm_rate.c — this machine's single-precision GEMM rate on the BLAS core
 * and thread count it is given: the limit the attention kernels are measured
 * against in `make bench`. C = A B with square N x N matrices, after warm-up
 * calls, repeated until at least `secs` seconds of calls; prints one line
 *   sgemm,N,threads,core,median_s,gflops
 * where gflops = 2 N^3 / median_s. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const int n = argc > 1 ? atoi(argv[1]) : 2048;
    const int threads = argc > 2 ? atoi(argv[2]) : 1;
    const double secs = argc > 3 ? atof(argv[3]) : 2.0;
    if (n < 1 || threads < 1 || !(secs > 0)) {
        fprintf(stderr, "usage: sgemm_rate [N [THREADS [SECONDS]]]\n");
        return 2;
    }
    openblas_set_num_threads(threads);
    const size_t count = (size_t)n * (size_t)n;
    float *a = malloc(count * sizeof(float)), *b = malloc(count * sizeof(float));
    float *c = malloc(count * sizeof(float));
    if (!a || !b || !c) {
        fprintf(stderr, "sgemm_rate: out of memory for N = %d\n", n);
        return 1;
    }
    for (size_t i = 0; i < count; i++) {
        a[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
        b[i] = (float)((i * 104729) % 1000) * 1e-3f - 0.5f;
    }
    enum { WARMUP = 2, MAX_REPS = 1000 };
    static double times[MAX_REPS];
    for (int r = 0; r < WARMUP; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double total = 0;
    int reps = 0;
    while (reps < MAX_REPS && (reps < 5 || total < secs)) {
        const double t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        times[reps] = now_seconds() - t0;
        total += times[reps++];
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double);
    const double median = reps % 2 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
    const char *core = openblas_get_corename();
    printf("sgemm,%d,%d,%s,%.6g,%.4g\n", n, threads, core ? core : "unknown", median,
           2.0 * (double)n * (double)n * (double)n / median * 1e-9);
    free(a); free(b); free(c);
    return 0;
}
