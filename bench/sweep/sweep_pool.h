/* sweep_pool.h — the sweep's process pool and its limits: each point runs in
 * its own process (this program's `run`/`ffn` with --row-only), at most
 * --jobs at a time, under RLIMIT_AS = --mem-limit and a --timeout; whatever
 * happens to a child, its point gets one row, appended as it finishes. */
#ifndef SWEEP_POOL_H
#define SWEEP_POOL_H

#include "sweep_plan.h"
#include "sweep_progress.h"

#include <stddef.h>

typedef struct {
    size_t mem_limit;      /* each child's address space; 0 unlimited */
    double timeout_s;      /* each child's time */
    size_t jobs;           /* children at a time */
    int fd;                /* the locked results file (sweep_out_open) */
    const char *out;       /* its name, for messages */
} sweep_pool_cfg;

/* 1 in an AddressSanitizer build: children then run without RLIMIT_AS */
int sweep_under_asan(void);

/* The address space any point needs before its tensors and OpenBLAS's
 * buffers (this program and its libraries: memlimit.h's mem_base_bytes,
 * computed, no BLAS call); 0 under ASan or if unknown. Call before anything
 * large is allocated. */
size_t sweep_runtime_bytes(void);

/* Runs the points of pl[0..np) not .done: a skipped one becomes its row at
 * once, the others a child each. 0, or 1 when a row could not be written or
 * a child started (one line said why; the points still running are stopped). */
int sweep_pool_run(plan *pl, size_t np, const sweep_pool_cfg *cfg, progress *pg);

#endif
