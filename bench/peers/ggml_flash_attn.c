/* ggml_flash_attn.c — ggml's CPU flash attention (ggml_flash_attn_ext) timed
 * on attnbench's decode and prefill shapes, as a peer measured beside the
 * suite (issue 23). It is not part of the normal build: scripts/peer_ggml.sh
 * compiles it against a ggml build the user made, with the suite's timer
 * (bench/measure/measure.c) and generator (bench/measure/rng.c):
 *
 *   ggml_flash_attn [--threads T] [--reps R] [--case NAME]... [--list]
 *
 * Cases (heads of 64 unless named; K and V in F32, as ggml's tensors want:
 * q [d, n_q, heads], k and v [d, n_kv, kv_heads], the output [d, heads, n_q]):
 *   decode-mha       one query per head, L = 65536, 8 heads, 8 K/V heads
 *   decode-mqa       the same with 1 K/V head
 *   decode-gqa2      the same with 2 K/V heads
 *   decode-mha-8k    L = 8192, 8 K/V heads
 *   prefill          N = 4096, 8 heads, non-causal
 *   prefill-causal   the same under a causal mask (F16, 0 or -inf)
 *   prefill-d128     N = 4096, 8 heads of 128
 *   prefill-h32      N = 1024, 32 heads
 * Default: all of them. Input: seed 1; q, k ~ N(0, 2^2) and v ~ N(0, 1), so
 * a score q.k / sqrt(d) has standard deviation 4 (attnbench's --score-std 4).
 * Timing: one warm-up call, then R timed calls (decode: R = 16) or at least
 * 3 calls and 1 s of them (prefill, and R = 0); the median. Each call
 * computes the graph with T threads (ggml_graph_compute on one thread pool
 * and work buffer made before the warm-up, as llama.cpp keeps them); the op
 * has scale 1/sqrt(d), no ALiBi, no softcap, F32 precision. One CSV line per
 * case:
 *   case,n,heads,kv_heads,d_head,causal,threads,reps,median_ms,max_abs_diff,status
 * n is L for decode and N for prefill; max_abs_diff is the largest
 * |ggml - reference| over the first, middle and last query rows of the first
 * and last heads (the reference: plain float64
 * softmax attention of the same float inputs); status ok, oom or failed
 * (ggml_graph_compute did not succeed); the other cases still run, and the
 * program exits 3 after an oom row (1 after a failed one). Bad arguments:
 * one line on stderr, exit 2. */
#include "measure.h"
#include "rng.h"

#include "ggml.h"
#include "ggml-cpu.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int n_q, n_kv, heads, kv_heads, d, causal;
} fa_case;

static const fa_case CASES[] = {
    {"decode-mha", 1, 65536, 8, 8, 64, 0},
    {"decode-mqa", 1, 65536, 8, 1, 64, 0},
    {"decode-gqa2", 1, 65536, 8, 2, 64, 0},
    {"decode-mha-8k", 1, 8192, 8, 8, 64, 0},
    {"prefill", 4096, 4096, 8, 8, 64, 0},
    {"prefill-causal", 4096, 4096, 8, 8, 64, 1},
    {"prefill-d128", 4096, 4096, 8, 8, 128, 0},
    {"prefill-h32", 1024, 1024, 32, 32, 64, 0},
};
enum { N_CASES = sizeof CASES / sizeof CASES[0] };

/* one case's graph, ready to compute */
typedef struct {
    struct ggml_context *ctx;
    void *mem;                 /* the context's buffer (ours) */
    struct ggml_cgraph *graph;
    struct ggml_cplan plan;
    struct ggml_threadpool *pool;
    void *work;
    struct ggml_tensor *q, *k, *v, *mask, *out;
} fa_run;

static int compute(void *arg) {
    fa_run *r = arg;
    return ggml_graph_compute(r->graph, &r->plan) == GGML_STATUS_SUCCESS ? 0 : 1;
}

static void fa_free(fa_run *r) {
    if (r->ctx) ggml_free(r->ctx);
    if (r->pool) ggml_threadpool_free(r->pool);
    free(r->mem);
    free(r->work);
    memset(r, 0, sizeof *r);
}

/* q, k, v and the mask as the case wants them; 0, or -1 when out of memory */
static int fa_build(fa_run *r, const fa_case *c, int threads) {
    memset(r, 0, sizeof *r);
    const size_t qn = (size_t)c->d * c->n_q * c->heads;
    const size_t kvn = (size_t)c->d * c->n_kv * c->kv_heads;
    const size_t maskn = c->causal ? (size_t)c->n_kv * c->n_q : 0;
    const size_t bytes = (2 * qn + 2 * kvn) * sizeof(float) + maskn * sizeof(ggml_fp16_t) +
                         16 * ggml_tensor_overhead() + ggml_graph_overhead() + (1 << 20);
    r->mem = malloc(bytes);
    if (!r->mem) return -1;
    struct ggml_init_params ip = {bytes, r->mem, false};
    r->ctx = ggml_init(ip);
    if (!r->ctx) return -1;
    r->q = ggml_new_tensor_3d(r->ctx, GGML_TYPE_F32, c->d, c->n_q, c->heads);
    r->k = ggml_new_tensor_3d(r->ctx, GGML_TYPE_F32, c->d, c->n_kv, c->kv_heads);
    r->v = ggml_new_tensor_3d(r->ctx, GGML_TYPE_F32, c->d, c->n_kv, c->kv_heads);
    if (c->causal) r->mask = ggml_new_tensor_2d(r->ctx, GGML_TYPE_F16, c->n_kv, c->n_q);
    rng g;
    rng_seed(&g, 1, 0);
    rng_fill_normal(&g, ggml_get_data_f32(r->q), qn, 2.0);
    rng_fill_normal(&g, ggml_get_data_f32(r->k), kvn, 2.0);
    rng_fill_normal(&g, ggml_get_data_f32(r->v), kvn, 1.0);
    if (r->mask) {
        ggml_fp16_t *m = r->mask->data;
        const ggml_fp16_t zero = ggml_fp32_to_fp16(0.0f), ninf = ggml_fp32_to_fp16(-INFINITY);
        for (size_t i = 0; i < (size_t)c->n_q; i++)
            for (size_t j = 0; j < (size_t)c->n_kv; j++) m[i * c->n_kv + j] = j <= i ? zero : ninf;
    }
    r->out = ggml_flash_attn_ext(r->ctx, r->q, r->k, r->v, r->mask, 1.0f / sqrtf((float)c->d), 0.0f, 0.0f);
    ggml_flash_attn_ext_set_prec(r->out, GGML_PREC_F32);
    r->graph = ggml_new_graph(r->ctx);
    ggml_build_forward_expand(r->graph, r->out);
    struct ggml_threadpool_params tp = ggml_threadpool_params_default(threads);
    r->pool = ggml_threadpool_new(&tp);
    if (!r->pool) return -1;
    r->plan = ggml_graph_plan(r->graph, threads, r->pool);
    if (r->plan.work_size) {
        r->work = malloc(r->plan.work_size);
        if (!r->work) return -1;
        r->plan.work_data = r->work;
    }
    return 0;
}

/* |ggml - float64 reference| at query row i of head h, the largest */
static double row_diff(const fa_run *r, const fa_case *c, int h, int i, double *p) {
    const float *q = ggml_get_data_f32(r->q), *k = ggml_get_data_f32(r->k);
    const float *v = ggml_get_data_f32(r->v), *o = ggml_get_data_f32(r->out);
    const int g = h / (c->heads / c->kv_heads), d = c->d;
    const int n = c->causal ? i + 1 : c->n_kv;
    const float *qi = q + ((size_t)h * c->n_q + i) * d;
    const float *kg = k + (size_t)g * c->n_kv * d, *vg = v + (size_t)g * c->n_kv * d;
    double mx = -INFINITY, sum = 0, worst = 0;
    for (int j = 0; j < n; j++) {
        double s = 0;
        for (int e = 0; e < d; e++) s += (double)qi[e] * kg[(size_t)j * d + e];
        p[j] = s / sqrt((double)d);
        if (p[j] > mx) mx = p[j];
    }
    for (int j = 0; j < n; j++) sum += (p[j] = exp(p[j] - mx));
    const float *oi = o + ((size_t)i * c->heads + h) * d;
    for (int e = 0; e < d; e++) {
        double acc = 0;
        for (int j = 0; j < n; j++) acc += p[j] * vg[(size_t)j * d + e];
        double diff = fabs(acc / sum - oi[e]);
        if (!(diff <= worst)) worst = diff; /* a NaN stays */
    }
    return worst;
}

/* the largest difference over the first, middle and last rows of the first
 * and last heads; -1 when out of memory */
static double check(const fa_run *r, const fa_case *c) {
    double *p = malloc((size_t)c->n_kv * sizeof(double));
    if (!p) return -1;
    const int rows[3] = {0, c->n_q / 2, c->n_q - 1}, heads[2] = {0, c->heads - 1};
    double worst = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++) {
            double dd = row_diff(r, c, heads[a], rows[b], p);
            if (!(dd <= worst)) worst = dd;
        }
    free(p);
    return worst;
}

static void print_row(const fa_case *c, int threads, size_t reps, double ms, double diff, const char *status) {
    printf("%s,%d,%d,%d,%d,%d,%d,%zu,", c->name, c->n_q == 1 ? c->n_kv : c->n_q, c->heads, c->kv_heads,
           c->d, c->causal, threads, reps);
    if (strcmp(status, "ok")) printf(",,%s\n", status);
    else printf("%.6g,%.3g,%s\n", ms, diff, status);
    fflush(stdout);
}

/* 0, or 3 when out of memory (an oom row printed) */
static int run_case(const fa_case *c, int threads, long reps) {
    fa_run r;
    if (fa_build(&r, c, threads)) {
        fa_free(&r);
        print_row(c, threads, 0, 0, 0, "oom");
        return 3;
    }
    const size_t want = reps >= 0 ? (size_t)reps : c->n_q == 1 ? 16 : 0;
    timing t;
    measure(compute, &r, 1, want, &t);
    double diff = t.error ? -1 : check(&r, c);
    fa_free(&r);
    if (t.error || diff < 0) {
        if (t.error) fprintf(stderr, "ggml_flash_attn: %s: ggml_graph_compute failed\n", c->name);
        print_row(c, threads, t.reps, 0, 0, t.error ? "failed" : "oom");
        return t.error ? 1 : 3;
    }
    print_row(c, threads, t.reps, 1e3 * t.median_s, diff, "ok");
    return 0;
}

static long parse_long(const char *what, const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "ggml_flash_attn: %s '%s': expected an integer in %ld..%ld\n", what, s, lo, hi);
        exit(2);
    }
    return v;
}

static int find_case(const char *name) {
    for (int i = 0; i < N_CASES; i++)
        if (!strcmp(CASES[i].name, name)) return i;
    fprintf(stderr, "ggml_flash_attn: unknown case '%s' (--list names them)\n", name);
    exit(2);
}

int main(int argc, char **argv) {
    int threads = 1, chosen[N_CASES] = {0}, any = 0;
    long reps = -1;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "--list")) {
            for (int i = 0; i < N_CASES; i++) printf("%s\n", CASES[i].name);
            return 0;
        }
        if (a + 1 >= argc || (strcmp(arg, "--threads") && strcmp(arg, "--reps") && strcmp(arg, "--case"))) {
            fprintf(stderr, "usage: ggml_flash_attn [--threads T] [--reps R] [--case NAME]... [--list]\n");
            return 2;
        }
        const char *val = argv[++a];
        if (!strcmp(arg, "--threads")) threads = (int)parse_long("--threads", val, 1, 512);
        else if (!strcmp(arg, "--reps")) reps = parse_long("--reps", val, 0, 1000000);
        else chosen[find_case(val)] = any = 1;
    }
    ggml_cpu_init();
    printf("case,n,heads,kv_heads,d_head,causal,threads,reps,median_ms,max_abs_diff,status\n");
    int status = 0;
    for (int i = 0; i < N_CASES; i++) {
        if (any && !chosen[i]) continue;
        int rc = run_case(&CASES[i], threads, reps);
        if (rc > status) status = rc;
    }
    return status;
}
