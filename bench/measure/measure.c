/* measure.c — see measure.h. */
#include "measure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* a "Vm...:  123 kB" line of /proc/self/status, in bytes; 0 if absent */
static size_t status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    size_t v = 0, klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && line[klen] == ':') { v = strtoull(line + klen + 1, NULL, 10) * 1024; break; }
    fclose(f);
    return v;
}

size_t rss_current(void) { return status_kb("VmRSS"); }

size_t mem_mapped_bytes(void) { return status_kb("VmSize"); }

size_t mem_peak_mapped_bytes(void) { return status_kb("VmPeak"); }

size_t mem_as_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
    return (size_t)rl.rlim_cur;
}

void make_resident(void *p, size_t bytes) {
    volatile char *c = p;
    for (size_t i = 0; i < bytes; i += 4096) c[i] = 0;
    if (bytes) c[bytes - 1] = 0;
}

void rss_start(rss_probe *p) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    p->exact = 0;
    if (f) {
        p->exact = fputs("5", f) >= 0;
        if (fclose(f) != 0) p->exact = 0;
    }
    if (p->exact && !status_kb("VmHWM")) p->exact = 0;
    p->rss_before = rss_current();
}

size_t rss_peak(const rss_probe *p) {
    if (p->exact) return status_kb("VmHWM");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (size_t)ru.ru_maxrss * 1024;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void measure(timed_fn fn, void *ctx, size_t warmup, size_t reps, timing *t) {
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < warmup; i++)
        if ((t->error = fn(ctx)) != 0) return;
    enum { AUTO_MIN = 3, AUTO_MAX = 100 };
    const double auto_time = 1.0, auto_cap = 30.0;
    size_t cap = reps ? reps : AUTO_MAX;
    double *times = malloc(cap * sizeof(double));
    if (!times) { t->error = 1; return; }
    rss_probe probe;
    rss_start(&probe);
    double total = 0;
    size_t done = 0;
    while (done < cap) {
        double t0 = now_seconds();
        int rc = fn(ctx);
        double dt = now_seconds() - t0;
        if (rc) { t->error = rc; break; }
        times[done++] = dt;
        total += dt;
        if (!reps && done >= AUTO_MIN && total >= auto_time) break;
        if (!reps && total >= auto_cap) break;
    }
    t->peak_rss = rss_peak(&probe);
    t->kernel_peak = t->peak_rss > probe.rss_before ? t->peak_rss - probe.rss_before : 0;
    t->rss_exact = probe.exact;
    t->reps = done;
    if (done) {
        qsort(times, done, sizeof(double), cmp_double);
        t->min_s = times[0];
        t->median_s = done % 2 ? times[done / 2] : 0.5 * (times[done / 2 - 1] + times[done / 2]);
    }
    free(times);
}
