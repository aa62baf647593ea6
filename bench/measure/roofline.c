/* roofline.c — see roofline.h. */
#include "roofline.h"
#include "measure.h"
#include "readfile.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sgemm_gflops(int n, int threads, double secs, double *median_s) {
    enum { WARMUP = 2, MAX_REPS = 1000 };
    const size_t count = (size_t)n * (size_t)n;
    float *a = malloc(count * sizeof(float)), *b = malloc(count * sizeof(float)), *c = malloc(count * sizeof(float));
    double *times = malloc(MAX_REPS * sizeof(double));
    double gflops = 0;
    if (a && b && c && times) {
        const int before = openblas_get_num_threads();
        openblas_set_num_threads(threads);
        for (size_t i = 0; i < count; i++) {
            a[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
            b[i] = (float)((i * 104729) % 1000) * 1e-3f - 0.5f;
        }
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
        if (median_s) *median_s = median;
        gflops = 2.0 * (double)n * (double)n * (double)n / median * 1e-9;
        openblas_set_num_threads(before);
    }
    free(a); free(b); free(c); free(times);
    return gflops;
}

int roofline_measure(roofline_probe *p, size_t threads) {
    memset(p, 0, sizeof *p);
    p->threads = threads;
    if (bandwidth_curve(threads, p->bytes, p->gbps)) return -1;
    p->n = BANDWIDTH_CURVE;
    p->sgemm_gflops = sgemm_gflops(1024, (int)threads, 0.3, NULL);
    return p->sgemm_gflops > 0 ? 0 : -1;
}

void roofline_print(FILE *f, const roofline_probe *p, int header) {
    if (header) fprintf(f, "threads,read_gbps,bytes,sgemm_gflops\n");
    for (size_t i = 0; i < p->n; i++) fprintf(f, "%zu,%.4g,%zu,%.4g\n", p->threads, p->gbps[i], p->bytes[i], p->sgemm_gflops);
}

int roofline_load(roofline_probe *p, const char *path, size_t threads, char *err, size_t cap) {
    memset(p, 0, sizeof *p);
    p->threads = threads;
    char *text;
    size_t len;
    if (readfile_all(path, READFILE_SPEC_MAX, &text, &len, err, cap)) return -1;
    int bad = strncmp(text, "threads,read_gbps,bytes,sgemm_gflops\n", 37) != 0;
    for (char *line = strchr(text, '\n'); !bad && line && line[1]; line = strchr(line + 1, '\n')) {
        size_t t, b;
        double g, s;
        char tail;
        bad = sscanf(line + 1, "%zu,%lf,%zu,%lf%c", &t, &g, &b, &s, &tail) != 5 || tail != '\n' || !(g > 0) || !(s > 0) || !b;
        if (bad || t != threads) continue;
        bad = p->n == BANDWIDTH_CURVE || (p->n && b <= p->bytes[p->n - 1]);
        if (bad) break;
        p->bytes[p->n] = b;
        p->gbps[p->n++] = g;
        p->sgemm_gflops = s;
    }
    free(text);
    if (bad) { snprintf(err, cap, "%s: not the output of `attnbench decode --probe` (threads,read_gbps,bytes,sgemm_gflops lines, sizes ascending)", path); return -1; }
    if (!p->n) { snprintf(err, cap, "%s: no probe lines for %zu thread%s (run attnbench decode --probe --threads %zu)", path, threads, threads == 1 ? "" : "s", threads); return -1; }
    return 0;
}

double roofline_gbps_at(const roofline_probe *p, double bytes) {
    if (!p->n) return 0;
    if (bytes <= (double)p->bytes[0]) return p->gbps[0];
    for (size_t i = 1; i < p->n; i++)
        if (bytes <= (double)p->bytes[i]) {
            const double x0 = log((double)p->bytes[i - 1]), x1 = log((double)p->bytes[i]);
            const double t = (log(bytes) - x0) / (x1 - x0);
            return p->gbps[i - 1] + t * (p->gbps[i] - p->gbps[i - 1]);
        }
    return p->gbps[p->n - 1];
}

double roofline_bound(const roofline_probe *p, double bytes, double flops, const char **bound) {
    const double mem = bytes / (roofline_gbps_at(p, bytes) * 1e9), alu = flops / (p->sgemm_gflops * 1e9);
    if (bound) *bound = mem >= alu ? "memory" : "compute";
    return mem > alu ? mem : alu;
}

static roofline_probe noted;

void roofline_note(const roofline_probe *p) { noted = *p; }

void env_write_roofline_lines(FILE *f) {
    if (!noted.n) return;
    fprintf(f, "roofline_threads=%zu\nroofline_curve=", noted.threads);
    for (size_t i = 0; i < noted.n; i++) fprintf(f, "%s%zu:%.4g", i ? " " : "", noted.bytes[i], noted.gbps[i]);
    fprintf(f, "\nroofline_sgemm_gflops=%.4g\n", noted.sgemm_gflops);
}
