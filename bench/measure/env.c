/* env.c — BLAS core selection and the .env sidecar. */
#include "env.h"
#include "bandwidth.h"
#include "roofline.h"
#include "spec_hash.h"
#include "version.h"

/* builds from before the source hash (a version.h of an older Makefile) */
#ifndef ATTNBENCH_SOURCE_HASH
#define ATTNBENCH_SOURCE_HASH "unknown"
#endif

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const char *env_commit(void) { return ATTNBENCH_COMMIT; }

const char *blas_core_name(void) {
    const char *c = openblas_get_corename();
    return c ? c : "unknown";
}

void blas_set_threads(int threads) { openblas_set_num_threads(threads); }

enum { PRIME_M = 1024, PRIME_N = 1024, PRIME_K = 512 };

size_t blas_prime_bytes(void) { return (size_t)(PRIME_M * PRIME_K + PRIME_K * PRIME_N + PRIME_M * PRIME_N) * sizeof(float); }

void blas_prime(void) {
    enum { M = PRIME_M, N = PRIME_N, K = PRIME_K };
    float *a = calloc((size_t)M * K, sizeof(float)), *b = calloc((size_t)K * N, sizeof(float));
    float *c = calloc((size_t)M * N, sizeof(float));
    if (a && b && c) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
    }
    free(a); free(b); free(c);
}

/* the cores OpenBLAS falls back to when it does not recognise a CPU */
static int is_fallback_core(const char *core) {
    static const char *const generic[] = {"prescott", "katmai", "coppermine", "northwood",
                                          "banias", "atom", "core2", "penryn", "dunnington",
                                          "nehalem", "barcelona", "unknown", NULL};
    for (int i = 0; generic[i]; i++)
        if (!strcasecmp(core, generic[i])) return 1;
    return 0;
}

int blas_core_is_fallback(void) { return is_fallback_core(blas_core_name()); }

void blas_ensure_native_core(char **argv) {
    if (getenv("OPENBLAS_CORETYPE") || getenv("ATTNBENCH_NO_REEXEC")) return;
    if (!is_fallback_core(blas_core_name())) return;
    const char *best = NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl"))
        best = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        best = "Haswell";
    if (!best) return;
    setenv("OPENBLAS_CORETYPE", best, 1);
    setenv("ATTNBENCH_NO_REEXEC", "1", 1); /* never loop */
    execv("/proc/self/exe", argv);
    /* exec failed: run on the fallback core; the core is recorded in every row */
}

double env_load_avg(void) {
    double l[1];
    return getloadavg(l, 1) == 1 ? l[0] : -1;
}

const char *blas_core_how(void) {
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    if (coretype && getenv("ATTNBENCH_NO_REEXEC")) return "forced by attnbench: fallback core detected";
    if (coretype) return "set by OPENBLAS_CORETYPE";
    if (blas_core_is_fallback()) return "a generic fallback core: OpenBLAS did not recognise this CPU";
    return "detected";
}

static double timing_load = -2; /* the load average env_timing_line read; -2: none */

void env_timing_line(const char *cmd, size_t threads, int quiet) {
    timing_load = env_load_avg();
    if (quiet) return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char load[64] = "unknown";
    if (timing_load >= 0) snprintf(load, sizeof load, "%.2f", timing_load);
    char thr[64] = "each point its own threads";
    if (threads) snprintf(thr, sizeof thr, "%zu thread%s", threads, threads == 1 ? "" : "s");
    fprintf(stderr, "attnbench %s: OpenBLAS core %s (%s), %s, load average %s on %ld core%s\n", cmd,
            blas_core_name(), blas_core_how(), thr, load, cores, cores == 1 ? "" : "s");
}

/* the bandwidth probe's results, once measured */
static struct {
    int done;
    size_t bytes, all;
    double gbps_1t, gbps_all;
} probe;

void env_sidecar_probe(void) {
    const char *e = getenv("ATTNBENCH_SIDECAR_PROBE");
    if (probe.done || (e && !strcmp(e, "0"))) return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    probe.all = cores > 1 ? (size_t)cores : 1;
    probe.bytes = bandwidth_probe_bytes();
    probe.gbps_1t = bandwidth_read_gbps(probe.bytes, 1);
    probe.gbps_all = bandwidth_read_gbps(probe.bytes, probe.all);
    /* 0: its buffer could not be allocated (an address-space limit): no figure */
    probe.done = probe.gbps_1t > 0 && probe.gbps_all > 0 ? 1 : -1;
}

/* read_gbps_1t= and read_gbps_all= where asked (see env_sidecar_probe) */
static void write_probe(FILE *f) {
    const char *e = getenv("ATTNBENCH_SIDECAR_PROBE");
    if (e && !strcmp(e, "1")) env_sidecar_probe();
    if (probe.done != 1) return;
    fprintf(f, "read_probe_bytes=%zu\n", probe.bytes);
    fprintf(f, "read_gbps_1t=%.4g\n", probe.gbps_1t);
    fprintf(f, "read_gbps_all=%.4g\n", probe.gbps_all);
    fprintf(f, "read_gbps_all_threads=%zu\n", probe.all);
}

char *env_sidecar_path(const char *csv_path) {
    size_t len = strlen(csv_path);
    if (len > 4 && !strcmp(csv_path + len - 4, ".csv")) len -= 4;
    char *p = malloc(len + 5);
    if (!p) return NULL;
    memcpy(p, csv_path, len);
    strcpy(p + len, ".env");
    return p;
}

/* first line of /proc/cpuinfo starting with `key`, value only */
static void cpuinfo_value(const char *key, char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[4096];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0) {
            char *colon = strchr(line, ':');
            if (!colon) continue;
            colon++;
            while (*colon == ' ' || *colon == '\t') colon++;
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(out, cap, "%s", colon);
            break;
        }
    }
    fclose(f);
}

static long long meminfo_kb(const char *key) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    char line[256];
    long long v = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && line[klen] == ':') { v = atoll(line + klen + 1); break; }
    fclose(f);
    return v;
}

int env_write_sidecar(const char *csv_path) {
    /* atomically: a temporary file beside it, renamed over it once whole, so
     * a full disk leaves the old sidecar (or none), never a 0-byte one */
    char *path = env_sidecar_path(csv_path), *tmp = NULL;
    if (!path) return -1;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) { free(path); errno = ENOMEM; return -1; }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int saved = errno;
        if (fd >= 0) { close(fd); unlink(tmp); }
        free(path); free(tmp);
        errno = saved;
        return -1;
    }
    char model[256], flags[8192];
    cpuinfo_value("model name", model, sizeof model);
    cpuinfo_value("flags", flags, sizeof flags);
    char simd[256] = "";
    const char *want[] = {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "amx_tile", NULL};
    for (int i = 0; want[i]; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, " %s ", want[i]);
        char padded[8200];
        snprintf(padded, sizeof padded, " %s ", flags);
        if (strstr(padded, pat)) { strcat(simd, simd[0] ? " " : ""); strcat(simd, want[i]); }
    }
    const char *par[] = {"sequential", "pthreads", "openmp"};
    int p = openblas_get_parallel();
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    fprintf(f, "date=%s\n", date);
    fprintf(f, "attnbench_version=%s\n", ATTNBENCH_VERSION);
    fprintf(f, "commit=%s\n", ATTNBENCH_COMMIT);
    fprintf(f, "source_hash=%s\n", ATTNBENCH_SOURCE_HASH);
    fprintf(f, "cpu_model=%s\n", model);
    fprintf(f, "cpu_simd=%s\n", simd);
    fprintf(f, "cores_online=%ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    fprintf(f, "mem_total_bytes=%lld\n", meminfo_kb("MemTotal") * 1024);
    fprintf(f, "blas=%s\n", openblas_get_config());
    fprintf(f, "blas_core=%s\n", blas_core_name());
    fprintf(f, "blas_coretype_env=%s\n", coretype ? coretype : "");
    fprintf(f, "blas_core_forced_by=%s\n", getenv("ATTNBENCH_NO_REEXEC") && coretype ? "attnbench (fallback core detected)" : (coretype ? "user" : "none"));
    fprintf(f, "blas_threading=%s\n", p >= 0 && p <= 2 ? par[p] : "unknown");
    fprintf(f, "blas_max_threads=%d\n", openblas_get_num_threads());
    double load = timing_load > -2 ? timing_load : env_load_avg();
    if (load >= 0) fprintf(f, "load_avg=%.2f\n", load);
    else fprintf(f, "load_avg=\n");
    fprintf(f, "compiler=%s\n", __VERSION__);
    fprintf(f, "cflags=%s\n", ATTNBENCH_CFLAGS);
    write_probe(f);
    env_write_roofline_lines(f); /* decode's --probe-file, when a run noted one */
    env_write_sweep_lines(f); /* spec, its hash, the shard: when a sweep noted them */
    int rc = ferror(f) ? -1 : 0;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) rc = -1;
    if (fclose(f) != 0) rc = -1;
    if (rc == 0 && rename(tmp, path) != 0) rc = -1;
    if (rc != 0) {
        int saved = errno ? errno : EIO;
        unlink(tmp);
        errno = saved;
    }
    free(path);
    free(tmp);
    return rc;
}

const char *env_source_hash(void) { return ATTNBENCH_SOURCE_HASH; }
