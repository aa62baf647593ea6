/* memlimit.c — see memlimit.h. */
#include "memlimit.h"
#include "attention.h"
#include "env.h"
#include "measure.h"
#include "parallel.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

int mem_under_asan(void) { return UNDER_ASAN; }

static size_t blas_start_threads; /* 0: not noted */

void mem_note_blas_start(void) {
    int n = openblas_get_num_threads();
    blas_start_threads = n > 1 ? (size_t)n : 1;
}

static size_t start_threads(void) {
    if (!blas_start_threads) mem_note_blas_start();
    return blas_start_threads;
}

/* OpenBLAS's buffers for T calling threads and their workers */
static size_t buffers_for(size_t threads) {
    const size_t t = threads ? threads : 1, pool = start_threads();
    return (t > pool ? t : pool) - 1 + t;
}

/* One pass over /proc/self/maps: the address space mapped (VmSize, which
 * RLIMIT_AS bounds) and the OpenBLAS buffers in it: private anonymous
 * read-write areas of a buffer's size (the kernel may merge neighbours, so
 * an area counts as many buffers as it holds whole). */
static size_t mapped_and_buffers(size_t *buffers) {
    *buffers = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[1024];
    size_t total = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, inode;
        char perms[8] = "";
        int path = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %n", &lo, &hi, perms, &inode, &path) < 4 || hi < lo) continue;
        if (strstr(line, "[vsyscall]")) continue; /* not counted in VmSize */
        total += hi - lo;
        const int anon = inode == 0 && (!path || line[path] == '\n' || line[path] == '\0');
        if (anon && !strcmp(perms, "rw-p")) *buffers += (hi - lo) / BLAS_BUFFER_BYTES;
        if (!strchr(line, '\n')) /* a path longer than the line: skip its rest */
            for (int c; (c = fgetc(f)) != EOF && c != '\n';) {}
    }
    fclose(f);
    return total;
}

size_t mem_base_bytes(void) {
    size_t buffers;
    const size_t mapped = mapped_and_buffers(&buffers);
    const size_t at_most = buffers_for(PAR_MAX_THREADS);
    if (buffers > at_most) buffers = at_most;
    const size_t held = size_mul_sat(buffers, BLAS_BUFFER_BYTES);
    return mapped > held ? mapped - held : 0;
}

/* a thread's stack as pthread_create maps it (RLIMIT_STACK, 8 MiB unless
 * set; glibc's 32 MiB where unlimited) and its guard page */
static size_t stack_bytes(void) {
    struct rlimit rl;
    size_t s = (size_t)8 << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0)
        s = rl.rlim_cur == RLIM_INFINITY ? (size_t)32 << 20 : (size_t)rl.rlim_cur;
    return s + 4096;
}

/* a margin for what the C library and the row's writing map beside the
 * data (stdio buffers, libcsv, small allocations) */
#define MEM_SLACK_BYTES ((size_t)8 << 20)

size_t mem_threads_bytes(size_t threads) {
    const size_t t = threads ? threads : 1, pool = start_threads();
    /* stacks: the kernel's helpers (t - 1), OpenBLAS's workers beyond its pool */
    const size_t stacks = (t - 1) + (t > pool ? t - pool : 0);
    const size_t fixed = size_add_sat(blas_prime_bytes(), MEM_SLACK_BYTES);
    return size_add_sat(size_add_sat(size_mul_sat(buffers_for(t), BLAS_BUFFER_BYTES), size_mul_sat(stacks, stack_bytes())), fixed);
}

size_t mem_floor_bytes(size_t need, size_t threads) {
    return size_add_sat(size_add_sat(mem_base_bytes(), mem_threads_bytes(threads)), need);
}

int mem_fits_as_limit(size_t need, size_t threads, char *note, size_t cap) {
    const size_t limit = mem_as_limit();
    if (!limit || UNDER_ASAN) return 0;
    const size_t base = mem_base_bytes(), blas = mem_threads_bytes(threads);
    const size_t total = size_add_sat(size_add_sat(base, blas), need);
    if (total <= limit) return 0;
    snprintf(note, cap, "the address-space limit (ulimit -v) of %zu MiB is below the %zu MiB this point needs: "
             "%zu MiB for the program, %zu MiB of OpenBLAS buffers and thread stacks (%zu thread(s), "
             "%zu OpenBLAS buffer(s) of %zu MiB), %zu MiB of data and workspace",
             limit >> 20, (total + (1 << 20) - 1) >> 20, base >> 20, blas >> 20, threads ? threads : 1,
             buffers_for(threads), BLAS_BUFFER_BYTES >> 20, need >> 20);
    return 1;
}

/* the first number of a one-line file ("max": none); 0 if none */
static size_t read_limit_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char buf[64] = "";
    const int got = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!got || buf[0] < '0' || buf[0] > '9') return 0;
    const unsigned long long v = strtoull(buf, NULL, 10);
    return v >= (1ULL << 60) ? 0 : (size_t)v; /* v1's "unlimited" is near 2^63 */
}

size_t mem_cgroup_limit(void) {
    /* v2: "0::/PATH" in /proc/self/cgroup, the limit in /sys/fs/cgroup/PATH */
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[1024], path[1200];
    size_t lim = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "0::", 3)) continue;
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", strcmp(line + 3, "/") ? line + 3 : "");
        lim = read_limit_file(path);
    }
    if (f) fclose(f);
    if (!lim) lim = read_limit_file("/sys/fs/cgroup/memory/memory.limit_in_bytes"); /* v1, as a container sees it */
    return lim;
}
