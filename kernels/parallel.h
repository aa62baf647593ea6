/* parallel.h — how a kernel spreads its work over knobs->threads threads.
 *
 * The work is cut into numbered tasks (a head, a block of query rows); the
 * calling thread and threads-1 helpers take the next task from a shared
 * counter until none is left, so a thread slowed down by a busy machine
 * simply takes fewer. Each task names the thread running it, so a kernel
 * gives each thread its own scratch, all allocated up front on the calling
 * thread: the counting workspace is never touched from two threads, and a
 * method's workspace formula is per-thread scratch times par_threads().
 *
 * BLAS: inside a task BLAS calls run single-threaded (the parallelism is
 * ours), so par_run sets OpenBLAS to one thread for the duration and puts
 * back the count the program chose. With one thread nothing is changed and
 * BLAS keeps its own threading. Plain pthreads, not OpenMP: no build flag,
 * and no OpenMP threads spinning beside OpenBLAS's after a parallel region. */
#ifndef PARALLEL_H
#define PARALLEL_H

#include "attention.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>

enum { PAR_MAX_THREADS = 64 };

/* the threads a kernel uses for `tasks` tasks: knobs->threads (0 means 1),
 * at most one per task and at most PAR_MAX_THREADS; at least 1 */
static inline size_t par_threads(const attn_knobs *kn, size_t tasks) {
    size_t t = kn->threads ? kn->threads : 1;
    if (t > PAR_MAX_THREADS) t = PAR_MAX_THREADS;
    if (t > tasks) t = tasks;
    return t ? t : 1;
}

/* one task: returns ATTN_OK or an ATTN_* error (the first error stops the run) */
typedef int (*par_task_fn)(void *ctx, size_t task, size_t thread);

typedef struct {
    par_task_fn fn;
    void *ctx;
    size_t tasks;
    atomic_size_t next;  /* the next task nobody has taken */
    atomic_int error;    /* the first error, or ATTN_OK */
} par_job;

typedef struct {
    par_job *job;
    size_t thread;
} par_worker;

static inline void *par_worker_loop(void *arg) {
    const par_worker *w = arg;
    par_job *j = w->job;
    while (atomic_load(&j->error) == ATTN_OK) {
        const size_t t = atomic_fetch_add(&j->next, 1);
        if (t >= j->tasks) break;
        const int rc = j->fn(j->ctx, t, w->thread);
        if (rc != ATTN_OK) {
            int ok = ATTN_OK;
            atomic_compare_exchange_strong(&j->error, &ok, rc);
        }
    }
    return NULL;
}

/* Runs fn(ctx, task, thread) for every task in [0, tasks) on `threads`
 * threads (thread 0 is the caller; from par_threads()). A helper that cannot
 * be started leaves its share to the others. Returns the first error. */
static inline int par_run(size_t threads, size_t tasks, par_task_fn fn, void *ctx) {
    par_job job = {.fn = fn, .ctx = ctx, .tasks = tasks};
    atomic_init(&job.next, 0);
    atomic_init(&job.error, ATTN_OK);
    par_worker workers[PAR_MAX_THREADS];
    pthread_t ids[PAR_MAX_THREADS];
    int started[PAR_MAX_THREADS] = {0};
    if (threads > PAR_MAX_THREADS) threads = PAR_MAX_THREADS;
    const int blas_threads = threads > 1 ? openblas_get_num_threads() : 0;
    if (threads > 1) openblas_set_num_threads(1);
    for (size_t t = 0; t < threads; t++) workers[t] = (par_worker){&job, t};
    for (size_t t = 1; t < threads; t++)
        started[t] = pthread_create(&ids[t], NULL, par_worker_loop, &workers[t]) == 0;
    par_worker_loop(&workers[0]);
    for (size_t t = 1; t < threads; t++)
        if (started[t]) pthread_join(ids[t], NULL);
    if (threads > 1) openblas_set_num_threads(blas_threads);
    return atomic_load(&job.error);
}

#endif
