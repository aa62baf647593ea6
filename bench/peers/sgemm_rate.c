/* sgemm_rate.c — this machine's single-precision GEMM rate on the BLAS core
 * and thread count it is given: the limit the attention kernels are measured
 * against in `make bench`. C = A B with square N x N matrices, after warm-up
 * calls, repeated until at least `secs` seconds of calls (sgemm_gflops,
 * bench/measure/roofline.c: decode's roofline measures it the same way); prints one line
 *   sgemm,N,threads,core,median_s,gflops
 * where gflops = 2 N^3 / median_s. */
#include "roofline.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const int n = argc > 1 ? atoi(argv[1]) : 2048;
    const int threads = argc > 2 ? atoi(argv[2]) : 1;
    const double secs = argc > 3 ? atof(argv[3]) : 2.0;
    if (n < 1 || threads < 1 || !(secs > 0)) {
        fprintf(stderr, "usage: sgemm_rate [N [THREADS [SECONDS]]]\n");
        return 2;
    }
    double median = 0;
    const double gflops = sgemm_gflops(n, threads, secs, &median);
    if (!(gflops > 0)) {
        fprintf(stderr, "sgemm_rate: out of memory for N = %d\n", n);
        return 1;
    }
    openblas_set_num_threads(threads);
    const char *core = openblas_get_corename();
    printf("sgemm,%d,%d,%s,%.6g,%.4g\n", n, threads, core ? core : "unknown", median, gflops);
    return 0;
}
