/* memlimit.h — the address space a command needs, computed before any BLAS
 * call, against the address-space limit (RLIMIT_AS, `ulimit -v`).
 *
 * Debian's pthread OpenBLAS (0.3.21, DYNAMIC_ARCH) maps a buffer of
 * BLAS_BUFFER_BYTES for each of its worker threads when the thread starts
 * (at library load) and one for each thread that calls BLAS, on its first
 * call; where that mmap is refused it retries forever. So no BLAS call may
 * come before the command knows its buffers fit: the floor is computed here
 * (what is mapped now, less the buffers already mapped, plus every buffer
 * and thread stack the command will have, plus its data), never measured by
 * a BLAS call. */
#ifndef MEMLIMIT_H
#define MEMLIMIT_H

#include <stddef.h>

#define BLAS_BUFFER_BYTES ((size_t)128 << 20)

/* main, before any command: OpenBLAS's thread count as the library started
 * it (its workers exist from then on, whatever a command sets later) */
void mem_note_blas_start(void);

/* the address space mapped now, less OpenBLAS's buffers mapped so far (from
 * one read of /proc/self/maps; 0 if unreadable) */
size_t mem_base_bytes(void);

/* what OpenBLAS and the kernel threads of a command run with --threads T
 * map in all: a buffer per OpenBLAS worker (max(start threads, T) - 1) and
 * per calling thread (T), a stack per thread started beyond the library's,
 * blas_prime's matrices and a small margin */
size_t mem_threads_bytes(size_t threads);

/* the least address space a command needs: mem_base_bytes() +
 * mem_threads_bytes(threads) + need (its data and workspace) */
size_t mem_floor_bytes(size_t need, size_t threads);

/* 0 if the floor of (need, threads) fits under the address-space limit (or
 * there is none); else 1 with one line in note: needed against the limit */
int mem_fits_as_limit(size_t need, size_t threads, char *note, size_t cap);

/* the cgroup's memory limit (v2 memory.max, v1 memory.limit_in_bytes): a
 * bound on resident memory, not address space; 0 if none */
size_t mem_cgroup_limit(void);

/* 1 in an AddressSanitizer build (its shadow memory is terabytes of address
 * space: no RLIMIT_AS applies to it) */
int mem_under_asan(void);

#endif
