/* measure.h — time and resident memory of repeated kernel calls. */
#ifndef MEASURE_H
#define MEASURE_H

#include <stddef.h>

double now_seconds(void); /* CLOCK_MONOTONIC */

/* Peak-RSS tracking: VmHWM from /proc/self/status, reset by writing "5" to
 * /proc/self/clear_refs; where the reset is refused, getrusage's maxrss
 * (which cannot be reset, so it may include earlier peaks). */
typedef struct {
    size_t rss_before;  /* VmRSS just before the first timed call */
    int exact;          /* 1: VmHWM was reset; 0: getrusage fallback */
} rss_probe;

void rss_start(rss_probe *p);
size_t rss_peak(const rss_probe *p);
size_t rss_current(void);

/* VmSize: bytes of address space mapped now (0 if unknown) */
size_t mem_mapped_bytes(void);
/* the most address space the process has mapped so far (VmPeak); 0 if unknown */
size_t mem_peak_mapped_bytes(void);
/* the address-space limit (RLIMIT_AS, `ulimit -v`) in bytes, or 0 if none */
size_t mem_as_limit(void);

/* Writes every page of p[0..bytes) through a volatile pointer, so the block
 * is resident before a measurement starts (a plain memset after malloc may
 * be folded into calloc, which leaves fresh pages unmapped). */
void make_resident(void *p, size_t bytes);

/* One timed call: returns 0 or the kernel's error code. */
typedef int (*timed_fn)(void *ctx);

typedef struct {
    size_t reps;           /* timed calls made */
    double median_s, min_s;
    size_t peak_rss, kernel_peak;
    int rss_exact;
    int error;             /* first non-zero return of fn, or 0 */
} timing;

/* `warmup` untimed calls, then `reps` timed ones; reps 0 means at least 3
 * calls and at least one second of them (at most 100, at most 30 s). */
void measure(timed_fn fn, void *ctx, size_t warmup, size_t reps, timing *t);

#endif
