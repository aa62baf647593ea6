/* env.h — the machine and build facts a result depends on. */
#ifndef ENV_H
#define ENV_H

#define ATTNBENCH_VERSION "0.1.0"

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

/* Writes NAME.env beside the results file NAME.csv (or PATH.env): CPU,
 * cores, memory, OpenBLAS version/core/threading, compiler and flags,
 * commit, source hash, date; atomically (temporary file + rename). Returns
 * 0, or -1 with errno. */
int env_write_sidecar(const char *csv_path);
char *env_sidecar_path(const char *csv_path); /* caller frees */

#endif
