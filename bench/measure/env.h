/* env.h — the machine and build facts a result depends on. */
#ifndef ENV_H
#define ENV_H

#define ATTNBENCH_VERSION "0.1.0"

#include <stddef.h>

const char *env_commit(void);
/* SHA-256 of the sources that make the rows (kernels/ and bench/ *.c *.h)
 * and the compiler flags, computed by the Makefile into version.h: resume
 * goes on from rows of the same source_hash, whatever the git tree's state */
const char *env_source_hash(void);

/* OpenBLAS falls back to a generic core ("Prescott") on CPUs it does not
 * know. Where that happened on a CPU with AVX-512 or AVX2, and the user did
 * not set OPENBLAS_CORETYPE, re-execute the program with OPENBLAS_CORETYPE
 * set to the best core the CPU supports. Returns only if no re-exec happened. */
void blas_ensure_native_core(char **argv);

const char *blas_core_name(void);  /* openblas_get_corename() */
int blas_core_is_fallback(void);   /* a generic core on a CPU OpenBLAS did not know */
void blas_set_threads(int threads);
/* One mid-sized sgemm on every BLAS thread, so OpenBLAS's packing buffers
 * are resident before a measurement: kernel_peak_bytes then counts the
 * kernel, not the library's first touch of its own buffers (which matters
 * with --warmup 0). */
void blas_prime(void);
size_t blas_prime_bytes(void); /* the matrices blas_prime allocates */

/* The 1-minute load average (/proc/loadavg), or -1 if unknown. */
double env_load_avg(void);

/* How the BLAS core was chosen, in words: "forced by attnbench: fallback
 * core detected", "set by OPENBLAS_CORETYPE", "a generic fallback core:
 * OpenBLAS did not recognise this CPU" or "detected". */
const char *blas_core_how(void);

/* The timing context, one line on stderr when a command that times starts
 * timing (unless quiet, e.g. --row-only: a sweep's child, whose parent said
 * it): "attnbench CMD: OpenBLAS core C (how), T threads, load average L on
 * N cores". threads 0: a sweep, whose points give their own. The load
 * average read here is the one the .env sidecar records as load_avg. */
void env_timing_line(const char *cmd, size_t threads, int quiet);

/* Runs the read-bandwidth probe now (bench/measure/bandwidth.h, 1 thread and every
 * core; about 2 s), once: sidecars written from then on record it as
 * read_gbps_1t and read_gbps_all. A process whose environment holds
 * ATTNBENCH_SIDECAR_PROBE=1 (scripts/bench.sh) runs it when it writes a
 * sidecar; ATTNBENCH_SIDECAR_PROBE=0 never runs it. The sweep (before it
 * opens its results file) and bench do; a plain `run --csv` does not. */
void env_sidecar_probe(void);

/* Writes NAME.env beside the results file NAME.csv (or PATH.env): CPU,
 * cores, memory, OpenBLAS version/core/threading, compiler and flags,
 * commit, source hash, date, load average (load_avg: when the timing started,
 * else now), the bandwidth probe where asked (env_sidecar_probe); atomically (temporary file + rename). Returns
 * 0, or -1 with errno. */
int env_write_sidecar(const char *csv_path);
char *env_sidecar_path(const char *csv_path); /* caller frees */

#endif
