/* roofline.h — the limit of a decode step on this machine: the read
 * bandwidth as a curve over working-set sizes (bandwidth_curve) and the
 * sgemm rate, on one thread count, and a step's roofline from them:
 *   roofline_s = max(bytes / bandwidth at that size, flops / sgemm rate)
 * with the bandwidth interpolated log-linearly in the size between the
 * measured sizes (clamped at the ends).
 *
 * Where it comes from: `attnbench decode --probe` measures it (about a
 * second per thread count and a 1 GiB buffer) and prints it as CSV
 * (threads,read_gbps,bytes,sgemm_gflops: one line per size); a decode run
 * reads it back with --probe-file FILE (the lines of its --threads), so
 * the curve is measured once per sweep or bench, not beside every run's
 * caches. The curve used is recorded in the run's .env sidecar
 * (roofline_threads, roofline_curve = bytes:GB/s ..., roofline_sgemm_gflops). */
#ifndef ROOFLINE_H
#define ROOFLINE_H

#include "bandwidth.h"

#include <stdio.h>

typedef struct {
    size_t threads;
    size_t n;                         /* sizes measured */
    size_t bytes[BANDWIDTH_CURVE];    /* ascending */
    double gbps[BANDWIDTH_CURVE];
    double sgemm_gflops;
} roofline_probe;

/* measures the curve and the sgemm rate on `threads` threads: 0, or -1
 * when the probe's buffer cannot be allocated */
int roofline_measure(roofline_probe *p, size_t threads);
/* the CSV lines of p (header when `header`) */
void roofline_print(FILE *f, const roofline_probe *p, int header);
/* p <- the lines of `threads` threads in a --probe file: 0, or -1 with err */
int roofline_load(roofline_probe *p, const char *path, size_t threads, char *err, size_t cap);

/* GB/s at a working set of `bytes` (log-linear between the sizes) */
double roofline_gbps_at(const roofline_probe *p, double bytes);
/* seconds: max(bytes / GB/s at bytes, flops / sgemm rate); *bound (when
 * not NULL) <- "memory" (the bytes' time is the larger) or "compute" */
double roofline_bound(const roofline_probe *p, double bytes, double flops, const char **bound);

/* the sgemm rate (GFLOP/s) of N x N matrices on `threads` BLAS threads, the
 * median of calls after 2 warm-up calls, at least 5 calls and `secs` s;
 * *median_s its median call. 0 when the matrices cannot be allocated. */
double sgemm_gflops(int n, int threads, double secs, double *median_s);

/* p as the lines the next .env sidecar records; env_write_roofline_lines
 * writes them (env.c) */
void roofline_note(const roofline_probe *p);
void env_write_roofline_lines(FILE *f);

#endif
