/* pool.h — a persistent thread pool: the threads a program starts once and
 * hands to the kernels (decode_config.pool), so that a step of a few
 * milliseconds does not create and join threads (parallel.h's par_run
 * does, per call).
 *
 * par_pool_run has par_run's contract: fn(ctx, task, thread) for every task
 * in [0, tasks), tasks taken from a shared counter by the calling thread
 * (thread 0) and up to threads-1 of the pool's helpers, the first error
 * stops the run and is returned, and BLAS runs on one thread inside it.
 * Between runs a helper spins for at most 200 microseconds, then sleeps on
 * a condition variable (the caller spins as long for the helpers to
 * finish): a decode step's runs follow each other within microseconds,
 * and a sleeping vCPU can take a millisecond to wake, which made 2-thread
 * steps of 1.5 ms take 1.5 or 2.8 ms at random. Spinning is bounded so a
 * shared machine loses at most that much of a core per run; a helper that
 * wakes late finds the tasks taken and goes back to sleep, so a busy core
 * slows a run by at most its own task. The pool is the caller's: kernels
 * keep no global state. */
#ifndef POOL_H
#define POOL_H

#include "parallel.h"

typedef struct par_pool par_pool;

/* a pool of `threads` threads (the caller and threads-1 helpers, at most
 * PAR_MAX_THREADS); NULL if none could be made. threads <= 1: a pool
 * without helpers (every run on the caller). */
par_pool *par_pool_new(size_t threads);
void par_pool_free(par_pool *p); /* NULL is fine; joins the helpers */
size_t par_pool_threads(const par_pool *p); /* the caller + the helpers started */

/* fn over [0, tasks) on min(threads, par_pool_threads(p)) threads; p NULL:
 * par_run (threads started for this call) */
int par_pool_run(par_pool *p, size_t threads, size_t tasks, par_task_fn fn, void *ctx);

#endif
