/* performer.c — FAVOR+ (Choromanski et al., "Rethinking Attention with
 * Performers", 2021): softmax attention approximated with M positive
 * orthogonal random features, in time and memory linear in n.
 *
 * With x' = x d^(-1/4) and W (M, d) random,
 *   phi(x) = exp(W x' - |x'|^2 / 2) / sqrt(M),   E[phi(q) . phi(k)] = exp(q . k / sqrt(d)),
 * so out_i = sum_j phi(q_i).phi(k_j) v_j / sum_j phi(q_i).phi(k_j)
 *          = phi(q_i) (phi(K)^T V) / phi(q_i) (phi(K)^T 1).
 *
 * W: blocks of d orthonormal rows (Gram-Schmidt in double on a Gaussian d x d
 * matrix), each row rescaled by the norm of an independent Gaussian d-vector,
 * so every row is marginally Gaussian but the rows of a block are exactly
 * orthogonal (lower variance than i.i.d. rows). One W per K/V head, drawn
 * from (knobs->seed, kv head index): the query heads of a group share their
 * K/V head's features and its state phi(K)^T V, which is what makes grouped
 * K/V heads cheaper here too; with kv_heads = heads it is one W per head.
 *
 * Stability: query features subtract their row's largest exponent, key
 * features the largest exponent over all keys of the head; both are constant
 * factors of a row's numerator and denominator and cancel exactly.
 *
 * Causal: query block [i0, i0+b) takes the earlier keys from the running
 * state S = phi(K_<i0)^T V_<i0 (M, d) and z = phi(K_<i0)^T 1 (M), and its own
 * block's keys from the masked (b, b) product; never an (n, M, d) tensor.
 *
 * Threads: one task is one K/V head with its group's query heads; tasks run
 * on knobs->threads threads (parallel.h), each with its own copy of the
 * scratch below. The exponentials are softmax.h's vector exp_fast. */
#include "methods.h"
#include "parallel.h"
#include "softmax.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* query rows per block: causal, the (b, b) masked product costs 2 b^2 (M + d)
 * per block, so small; otherwise larger blocks make larger sgemms */
enum { PERFORMER_BLOCK = 64, PERFORMER_BLOCK_NONCAUSAL = 256 };

/* ceil(d ln d), the default M of the Performer paper; at least 1 */
size_t performer_default_features(size_t d_head) {
    if (d_head < 2)
        return 1;
    return (size_t)ceil((double)d_head * log((double)d_head));
}

static size_t features_of(const attn_shape *s, const attn_knobs *kn) {
    return kn->features ? kn->features : performer_default_features(s->d_head);
}

static size_t block_of(const attn_shape *s) {
    const size_t b = s->causal ? PERFORMER_BLOCK : PERFORMER_BLOCK_NONCAUSAL;
    return s->n < b ? s->n : b;
}

/* workspace, per thread, C = min(64, n) causal, min(256, n) otherwise:
 * floats W (M d) + phi(K) (n M) + phi(Q block) (C M) + S (M d) + z (M)
 * [+ causal block scores (C C)], and doubles for one Gaussian block (d d);
 * times par_threads(knobs, kv_heads) */
size_t performer_workspace(const attn_shape *s, const attn_knobs *kn) {
    const size_t M = features_of(s, kn), d = s->d_head, n = s->n, C = block_of(s);
    size_t floats = size_mul_sat(2, size_mul_sat(M, d));
    floats = size_add_sat(floats, size_mul_sat(n, M));
    floats = size_add_sat(floats, size_mul_sat(C, M));
    floats = size_add_sat(floats, M);
    if (s->causal)
        floats = size_add_sat(floats, size_mul_sat(C, C));
    const size_t per_thread = size_add_sat(size_mul_sat(floats, sizeof(float)),
                                           size_mul_sat(size_mul_sat(d, d), sizeof(double)));
    return size_mul_sat(per_thread, par_threads(kn, s->kv_heads));
}

/* FLOPs (multiply-add = 2) of the products and sums; the exponentials and
 * elementwise shifts are not counted, as exact_flops does not count softmax.
 *   per K/V head:   2 d^3 per orthogonal block (Gram-Schmidt), ceil(M/d) blocks
 *                   2 n M d        key features  K W^T
 *                   2 n d          key norms
 *                   non-causal: 2 n M d  S = phi(K)^T V,  n M  z = phi(K)^T 1
 *   per query head: 2 n M d + 2 n d  query features and norms
 *                   2 n M d        phi(Q) S
 *                   2 n M          denominators phi(Q) z
 *                   causal: 2 n M d + n M  running S and z, and per query
 *                   block of b rows 2 b^2 M + 2 b^2 d (the masked block and
 *                   its product with V; the block's row sums are not counted) */
double performer_flops(const attn_shape *s, const attn_knobs *kn) {
    const double M = (double)features_of(s, kn), d = (double)s->d_head, n = (double)s->n;
    const double blocks = ceil(M / d);
    double per_kv = blocks * 2 * d * d * d + 2 * n * M * d + 2 * n * d;
    double per_q = 2 * n * M * d + 2 * n * d + 2 * n * M * d + 2 * n * M;
    if (s->causal) {
        const size_t C = block_of(s);
        const double full = (double)(s->n / C), rest = (double)(s->n % C);
        const double sum_b2 = full * (double)C * (double)C + rest * rest;
        per_q += 2 * n * M * d + n * M + sum_b2 * (2 * M + 2 * d);
    } else {
        per_kv += 2 * n * M * d + n * M;
    }
    return (double)s->kv_heads * per_kv + (double)s->heads * per_q;
}

/* ---- random features ---------------------------------------------------- */

/* splitmix64: a small deterministic generator local to one draw */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t next64(uint64_t *state) {
    return mix64(*state += 0x9e3779b97f4a7c15ull);
}

/* standard normal by Box-Muller (the sine half is dropped) */
static double next_normal(uint64_t *state) {
    double u = ((double)(next64(state) >> 11) + 0.5) * 0x1.0p-53; /* (0, 1) */
    double w = (double)(next64(state) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * w);
}

/* g: (d, d) -> rows made orthonormal by modified Gram-Schmidt, in place.
 * The rows of g are the columns of g^T, so this is Q^T of the QR of g^T,
 * itself a Gaussian matrix. */
static void orthonormalise_rows(double *g, size_t d) {
    for (size_t i = 0; i < d; i++) {
        double *gi = g + i * d;
        for (size_t j = 0; j < i; j++) {
            const double *gj = g + j * d;
            double dot = 0;
            for (size_t x = 0; x < d; x++) dot += gi[x] * gj[x];
            for (size_t x = 0; x < d; x++) gi[x] -= dot * gj[x];
        }
        double norm = 0;
        for (size_t x = 0; x < d; x++) norm += gi[x] * gi[x];
        const double inv = 1.0 / sqrt(norm);
        for (size_t x = 0; x < d; x++) gi[x] *= inv;
    }
}

/* w: (m, d_head) orthogonal random features of K/V head `head` for `seed`;
 * g: (d_head, d_head) doubles of scratch */
void performer_draw_features(size_t m, size_t d, uint64_t seed, size_t head, float *w, double *g) {
    uint64_t state = mix64(seed ^ mix64((uint64_t)head + 0x632be59bd9b4e019ull));
    for (size_t r0 = 0; r0 < m; r0 += d) {
        const size_t rows = m - r0 < d ? m - r0 : d;
        for (size_t x = 0; x < d * d; x++) g[x] = next_normal(&state);
        orthonormalise_rows(g, d);
        for (size_t i = 0; i < rows; i++) {
            double norm = 0; /* the length a Gaussian row would have */
            for (size_t x = 0; x < d; x++) {
                const double t = next_normal(&state);
                norm += t * t;
            }
            norm = sqrt(norm);
            for (size_t x = 0; x < d; x++) w[(r0 + i) * d + x] = (float)(norm * g[i * d + x]);
        }
    }
}

/* x: (rows, d_head); w: (m, d_head); phi: (rows, m).
 * phi = exp(W x' - |x'|^2/2 - c) / sqrt(m), x' = x d^(-1/4), where c is 0
 * (PERFORMER_SHIFT_NONE), the row's largest exponent (PERFORMER_SHIFT_ROW)
 * or the largest exponent of all rows (PERFORMER_SHIFT_ALL). */
void performer_feature_map(size_t rows, size_t d, size_t m, const float *x, const float *w,
                           int shift, float *phi) {
    const float scale = (float)pow((double)d, -0.25);
    const double half_inv_sqrt_d = 0.5 / sqrt((double)d); /* |x'|^2/2 = |x|^2 / (2 sqrt d) */
    /* phi = x' W^T: (rows, m) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)m, (int)d, scale, x,
                (int)d, w, (int)d, 0.0f, phi, (int)m);
    /* the exponent of row i is phi_i - c_i, c_i = |x_i'|^2 / 2; its shift
     * is c_i plus the row's largest exponent (row), or plus the largest of
     * all rows (all), or nothing */
    float all_max = -INFINITY;
    if (shift == PERFORMER_SHIFT_ALL)
        for (size_t i = 0; i < rows; i++) {
            double sq = 0;
            for (size_t t = 0; t < d; t++) sq += (double)x[i * d + t] * x[i * d + t];
            const float e = row_max(phi + i * m, m) - (float)(sq * half_inv_sqrt_d);
            all_max = e > all_max ? e : all_max;
        }
    const float inv_sqrt_m = (float)(1.0 / sqrt((double)m));
    for (size_t i = 0; i < rows; i++) {
        float *pi = phi + i * m;
        double sq = 0;
        for (size_t t = 0; t < d; t++) sq += (double)x[i * d + t] * x[i * d + t];
        const float c = (float)(sq * half_inv_sqrt_d);
        float off = c; /* PERFORMER_SHIFT_NONE */
        if (shift == PERFORMER_SHIFT_ALL) off = c + all_max;
        else if (shift == PERFORMER_SHIFT_ROW) off = row_max(pi, m);
        exp_shift_scale(pi, m, off, inv_sqrt_m);
    }
}

/* ---- attention ------------------------------------------------------------ */

/* one block of b query rows of one head.
 * qf: (b, M) query features; st: (M, d) and z: (M) the keys before the block
 * (all keys if not causal); kf: (b, M) and vb: (b, d) the block's own keys
 * and values, causal only, with pb: (b, b) scratch; ob: (b, d) output rows */
static void attend_block(size_t b, size_t M, size_t d, const float *qf, const float *st,
                         const float *z, const float *kf, const float *vb, float *pb, float *ob) {
    /* ob = qf st: (b, d) = (b, M) x (M, d) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)d, (int)M, 1.0f, qf,
                (int)M, st, (int)d, 0.0f, ob, (int)d);
    if (kf) {
        /* pb = qf kf^T: (b, b), masked to j <= i; ob += pb vb */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)b, (int)M, 1.0f, qf,
                    (int)M, kf, (int)M, 0.0f, pb, (int)b);
        for (size_t i = 0; i < b; i++)
            for (size_t j = i + 1; j < b; j++) pb[i * b + j] = 0.0f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)d, (int)b, 1.0f, pb,
                    (int)b, vb, (int)d, 1.0f, ob, (int)d);
    }
    for (size_t i = 0; i < b; i++) {
        float den = cblas_sdot((int)M, qf + i * M, 1, z, 1);
        if (kf)
            for (size_t j = 0; j <= i; j++) den += pb[i * b + j];
        scale_row(ob + i * d, d, 1.0f / den);
    }
}

/* st += kf^T vb: (M, d) += (M, b) x (b, d); z += kf^T 1 */
static void accumulate_state(size_t b, size_t M, size_t d, const float *kf, const float *vb,
                             float *st, float *z, float beta) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M, (int)d, (int)b, 1.0f, kf,
                (int)M, vb, (int)d, beta, st, (int)d);
    if (beta == 0.0f)
        memset(z, 0, M * sizeof(float));
    for (size_t i = 0; i < b; i++) axpy_row(z, M, 1.0f, kf + i * M);
}

/* one thread's scratch */
typedef struct {
    float *w;   /* (M, d) random features */
    float *kf;  /* (n, M) key features */
    float *qf;  /* (C, M) one block's query features */
    float *st;  /* (M, d) phi(K)^T V */
    float *z;   /* (M) phi(K)^T 1 */
    float *pb;  /* (C, C) causal block scores, or NULL */
    double *g;  /* (d, d) one Gaussian block */
} performer_scratch;

typedef struct {
    const attn_shape *s;
    const attn_knobs *kn;
    const float *q, *k, *v;
    float *out;
    size_t M, C;
    performer_scratch *per_thread;
} performer_job;

/* K/V head `task` and the query heads of its group */
static int performer_task(void *ctx, size_t kvh, size_t thread) {
    const performer_job *j = ctx;
    const attn_shape *s = j->s;
    const size_t n = s->n, d = s->d_head, M = j->M, C = j->C, group = s->heads / s->kv_heads;
    const performer_scratch *t = &j->per_thread[thread];
    const float *kh = j->k + kvh * n * d, *vh = j->v + kvh * n * d;
    performer_draw_features(M, d, j->kn->seed, kvh, t->w, t->g);
    performer_feature_map(n, d, M, kh, t->w, PERFORMER_SHIFT_ALL, t->kf);
    if (!s->causal)
        accumulate_state(n, M, d, t->kf, vh, t->st, t->z, 0.0f);
    for (size_t h = kvh * group; h < (kvh + 1) * group; h++) {
        if (s->causal) {
            memset(t->st, 0, M * d * sizeof(float));
            memset(t->z, 0, M * sizeof(float));
        }
        for (size_t i0 = 0; i0 < n; i0 += C) {
            const size_t b = n - i0 < C ? n - i0 : C;
            performer_feature_map(b, d, M, j->q + (h * n + i0) * d, t->w, PERFORMER_SHIFT_ROW, t->qf);
            float *ob = j->out + (h * n + i0) * d;
            if (s->causal) {
                attend_block(b, M, d, t->qf, t->st, t->z, t->kf + i0 * M, vh + i0 * d, t->pb, ob);
                accumulate_state(b, M, d, t->kf + i0 * M, vh + i0 * d, t->st, t->z, 1.0f);
            } else {
                attend_block(b, M, d, t->qf, t->st, t->z, NULL, NULL, NULL, ob);
            }
        }
    }
    return ATTN_OK;
}

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, n, d_head) */
int performer_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                      const float *k, const float *v, float *out, workspace *ws) {
    const size_t n = s->n, d = s->d_head, M = features_of(s, kn), C = block_of(s);
    if (!s->heads || !s->kv_heads || s->heads % s->kv_heads || !n || !d)
        return ATTN_EINVAL;
    if (n > INT_MAX || d > INT_MAX || M > INT_MAX)
        return ATTN_EINVAL;
    size_t md, nm, cm, dd;
    if (size_mul(M, d, &md) || size_mul(n, M, &nm) || size_mul(C, M, &cm) || size_mul(d, d, &dd))
        return ATTN_ENOMEM;
    const size_t threads = par_threads(kn, s->kv_heads);
    performer_scratch per_thread[PAR_MAX_THREADS];
    int rc = ATTN_OK;
    size_t got = 0;
    for (; got < threads; got++) {
        performer_scratch *t = &per_thread[got];
        t->w = ws_alloc_n(ws, md, sizeof(float));
        t->kf = ws_alloc_n(ws, nm, sizeof(float));
        t->qf = ws_alloc_n(ws, cm, sizeof(float));
        t->st = ws_alloc_n(ws, md, sizeof(float));
        t->z = ws_alloc_n(ws, M, sizeof(float));
        t->pb = s->causal ? ws_alloc_n(ws, C * C, sizeof(float)) : NULL;
        t->g = ws_alloc_n(ws, dd, sizeof(double));
        if (!t->w || !t->kf || !t->qf || !t->st || !t->z || (s->causal && !t->pb) || !t->g) {
            got++;
            rc = ATTN_ENOMEM;
            break;
        }
    }
    if (rc == ATTN_OK) {
        performer_job job = {s, kn, q, k, v, out, M, C, per_thread};
        rc = par_run(threads, s->kv_heads, performer_task, &job);
    }
    for (size_t i = 0; i < got; i++) {
        performer_scratch *t = &per_thread[i];
        ws_free(ws, t->w); ws_free(ws, t->kf); ws_free(ws, t->qf); ws_free(ws, t->st);
        ws_free(ws, t->z); ws_free(ws, t->pb); ws_free(ws, t->g);
    }
    return rc;
}
