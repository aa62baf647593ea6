/* pool.c — see pool.h. One job at a time: the caller publishes it under the
 * mutex (a new generation), wakes the helpers, takes tasks itself, then
 * waits until no helper is inside the job. A helper joins a generation
 * under the mutex, counting itself in `inside`; one that joins after every
 * task was taken calls nothing, and the next job is published only when no
 * helper is inside, so a helper only ever runs the job it joined, with a
 * thread number below that job's thread count. */
#include "pool.h"

#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

struct par_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    size_t helpers;        /* helpers started */
    size_t active;         /* helpers the current job may use */
    atomic_ulong gen;      /* the current job's generation (written under mu) */
    atomic_size_t inside;  /* helpers inside the current job (written under mu) */
    atomic_int stop;
    par_job job;
    par_worker workers[PAR_MAX_THREADS];
    pthread_t ids[PAR_MAX_THREADS];
};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* spin_*: up to PAR_SPIN_S while *x == v and no stop (a helper), or
 * while *x != 0 (the caller): a
 * step's jobs follow each other within microseconds, and a sleeping
 * thread on a virtual machine may take a millisecond to wake */
enum { SPIN_CHECK = 64 };
static const double PAR_SPIN_S = 200e-6;
static void spin_ulong(const atomic_ulong *x, unsigned long v, const atomic_int *stop) {
    const double t0 = now_s();
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(x, memory_order_relaxed) != v || atomic_load_explicit(stop, memory_order_relaxed)) return;
        CPU_RELAX();
        if (i % SPIN_CHECK == 0 && now_s() - t0 > PAR_SPIN_S) return;
    }
}
static void spin_nonzero(const atomic_size_t *x) {
    const double t0 = now_s();
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(x, memory_order_relaxed) == 0) return;
        CPU_RELAX();
        if (i % SPIN_CHECK == 0 && now_s() - t0 > PAR_SPIN_S) return;
    }
}

static void *helper_main(void *arg) {
    par_worker *w = arg;
    par_pool *p = (par_pool *)((char *)(w - w->thread) - offsetof(par_pool, workers));
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && (p->gen == seen || w->thread > p->active)) {
            if (p->gen != seen) { /* a job without this helper */
                seen = p->gen;
                continue;
            }
            pthread_mutex_unlock(&p->mu);
            spin_ulong(&p->gen, seen, &p->stop);
            pthread_mutex_lock(&p->mu);
            if (p->gen == seen && !p->stop) pthread_cond_wait(&p->wake, &p->mu);
        }
        if (p->stop) break;
        seen = p->gen;
        p->inside++;
        pthread_mutex_unlock(&p->mu);
        par_worker_loop(w);
        pthread_mutex_lock(&p->mu);
        if (--p->inside == 0) pthread_cond_signal(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

par_pool *par_pool_new(size_t threads) {
    par_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (threads > PAR_MAX_THREADS) threads = PAR_MAX_THREADS;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->idle, NULL);
    atomic_init(&p->job.next, 0);
    atomic_init(&p->job.error, ATTN_OK);
    for (size_t t = 0; t < PAR_MAX_THREADS; t++) p->workers[t] = (par_worker){&p->job, t};
    /* helper t (1 ..) runs workers[t]; a helper that cannot start is left out */
    for (size_t t = 1; t < threads; t++) {
        if (pthread_create(&p->ids[t], NULL, helper_main, &p->workers[t])) break;
        p->helpers = t;
    }
    return p;
}

void par_pool_free(par_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (size_t t = 1; t <= p->helpers; t++) pthread_join(p->ids[t], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

size_t par_pool_threads(const par_pool *p) { return p ? p->helpers + 1 : 1; }

int par_pool_run(par_pool *p, size_t threads, size_t tasks, par_task_fn fn, void *ctx) {
    if (!p) return par_run(threads, tasks, fn, ctx);
    if (threads > p->helpers + 1) threads = p->helpers + 1;
    if (threads < 1) threads = 1;
    const int blas_threads = threads > 1 ? openblas_get_num_threads() : 0;
    if (threads > 1 && blas_threads != 1) openblas_set_num_threads(1);
    pthread_mutex_lock(&p->mu);
    while (p->inside) pthread_cond_wait(&p->idle, &p->mu); /* a late helper of the last job */
    p->job.fn = fn;
    p->job.ctx = ctx;
    p->job.tasks = tasks;
    atomic_store(&p->job.next, 0);
    atomic_store(&p->job.error, ATTN_OK);
    p->active = threads - 1;
    p->gen++;
    if (threads > 1) pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    par_worker_loop(&p->workers[0]);
    spin_nonzero(&p->inside); /* the helpers finishing their last tasks */
    pthread_mutex_lock(&p->mu);
    while (p->inside) pthread_cond_wait(&p->idle, &p->mu);
    const int rc = atomic_load(&p->job.error);
    pthread_mutex_unlock(&p->mu);
    if (threads > 1 && blas_threads != 1) openblas_set_num_threads(blas_threads);
    return rc;
}
