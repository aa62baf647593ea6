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
 * Stability (float32 must stay finite wherever float64 FAVOR+ is): key
 * feature m is shifted by c_m, the largest exponent of feature m over the
 * keys (one shift per feature, not one per head: a single shift underflows
 * every feature whose keys sit far below the head's largest exponent, and a
 * query leaning on those features then divides 0 by 0). So z_m >= 1 for the
 * feature's best key. Query row i is shifted by r_i = max_m (a_im + c_m),
 * a_im its exponents, and multiplied by exp(c_m): its largest term is
 * exp(0) z_m >= 1, so its denominator cannot underflow. All shifts are
 * constant factors of one row's numerator and denominator and cancel.
 *
 * Causal: query block [i0, i0+b) takes the earlier keys from the running
 * state S = phi(K_<i0)^T V_<i0 (M, d) and z = phi(K_<i0)^T 1 (M), and its own
 * block's keys from the masked (b, b) product; never an (n, M, d) tensor.
 * The key shifts are running maxima, c^B_m over the keys of blocks 0..B: as
 * in an online softmax, S and z are rescaled by exp(c^(B-1)_m - c^B_m) when
 * block B raises them, and block B's keys are shifted by c^B.
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

/* key blocks with their own shifts: ceil(n / C) causal, 1 otherwise */
static size_t shift_blocks(const attn_shape *s) {
    const size_t C = block_of(s);
    return s->causal && C ? (s->n + C - 1) / C : 1;
}

/* workspace, per thread, C = min(64, n) causal, min(256, n) otherwise:
 * floats W (M d) + phi(K) (n M) + phi(Q block) (C M) + S (M d) + z (M)
 * + key shifts (B M, B = ceil(n / C) causal, else 1)
 * [+ causal: block scores (C C), the state before the block (M d + M),
 *  exact_row's scratch (C M + M + 2 C)], and doubles for one Gaussian
 * block (d d);
 * times par_threads(knobs, kv_heads) */
size_t performer_workspace(const attn_shape *s, const attn_knobs *kn) {
    const size_t M = features_of(s, kn), d = s->d_head, n = s->n, C = block_of(s);
    size_t floats = size_mul_sat(2, size_mul_sat(M, d));
    floats = size_add_sat(floats, size_mul_sat(n, M));
    floats = size_add_sat(floats, size_mul_sat(C, M));
    floats = size_add_sat(floats, M);
    floats = size_add_sat(floats, size_mul_sat(shift_blocks(s), M));
    if (s->causal) {
        floats = size_add_sat(floats, size_mul_sat(C, C));
        floats = size_add_sat(floats, size_add_sat(size_mul_sat(M, d), M));
        floats = size_add_sat(floats, size_add_sat(size_mul_sat(C, M), size_add_sat(M, 2 * C)));
    }
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

/* x: (rows, d_head); w: (m, d_head); e: (rows, m) the exponents
 * e_ij = (W x_i')_j - |x_i'|^2 / 2, x' = x d^(-1/4) */
static void feature_exponents(size_t rows, size_t d, size_t m, const float *x, const float *w, float *e) {
    const float scale = (float)pow((double)d, -0.25);
    const double half_inv_sqrt_d = 0.5 / sqrt((double)d); /* |x'|^2/2 = |x|^2 / (2 sqrt d) */
    /* e = x' W^T: (rows, m) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)m, (int)d, scale, x,
                (int)d, w, (int)d, 0.0f, e, (int)m);
    for (size_t i = 0; i < rows; i++) {
        double sq = 0;
        for (size_t t = 0; t < d; t++) sq += (double)x[i * d + t] * x[i * d + t];
        const float c = (float)(sq * half_inv_sqrt_d);
        float *ei = e + i * m;
        size_t j = 0; /* blocks of EXP_LANES: vectorised (see column_max) */
        for (; j + EXP_LANES <= m; j += EXP_LANES)
            for (size_t l = 0; l < EXP_LANES; l++) ei[j + l] -= c;
        for (; j < m; j++) ei[j] -= c;
    }
}

/* x: (rows, d_head); w: (m, d_head); phi: (rows, m).
 * phi = exp(W x' - |x'|^2/2 - c) / sqrt(m), x' = x d^(-1/4), where c is 0
 * (PERFORMER_SHIFT_NONE), the row's largest exponent (PERFORMER_SHIFT_ROW)
 * or the largest exponent of all rows (PERFORMER_SHIFT_ALL). The kernel
 * itself shifts per feature (see the top of the file); this map is the
 * plain definition, for the tests. */
void performer_feature_map(size_t rows, size_t d, size_t m, const float *x, const float *w,
                           int shift, float *phi) {
    feature_exponents(rows, d, m, x, w, phi);
    float all_max = -INFINITY;
    if (shift == PERFORMER_SHIFT_ALL)
        all_max = row_max(phi, rows * m);
    const float inv_sqrt_m = (float)(1.0 / sqrt((double)m));
    for (size_t i = 0; i < rows; i++) {
        float *pi = phi + i * m;
        float off = 0.0f; /* PERFORMER_SHIFT_NONE */
        if (shift == PERFORMER_SHIFT_ALL) off = all_max;
        else if (shift == PERFORMER_SHIFT_ROW) off = row_max(pi, m);
        exp_shift_scale(pi, m, off, inv_sqrt_m);
    }
}

/* The row passes below run in blocks of EXP_LANES, loops of known trip
 * count that gcc -O2 vectorises (softmax.h); a plain j < m loop stays scalar. */

/* e: (rows, m) exponents; c: (m) running column maxima, raised in place */
static void column_max(size_t rows, size_t m, const float *restrict e, float *restrict c) {
    for (size_t i = 0; i < rows; i++) {
        const float *ei = e + i * m;
        size_t j = 0;
        for (; j + EXP_LANES <= m; j += EXP_LANES)
            for (size_t l = 0; l < EXP_LANES; l++) c[j + l] = ei[j + l] > c[j + l] ? ei[j + l] : c[j + l];
        for (; j < m; j++) c[j] = ei[j] > c[j] ? ei[j] : c[j];
    }
}

/* key features: e: (rows, m) exponents -> exp(e_ij - c_j) in place */
static void key_features(size_t rows, size_t m, float *restrict e, const float *restrict c) {
    for (size_t i = 0; i < rows; i++) {
        float *ei = e + i * m;
        size_t j = 0;
        for (; j + EXP_LANES <= m; j += EXP_LANES)
            for (size_t l = 0; l < EXP_LANES; l++) ei[j + l] = exp_fast(ei[j + l] - c[j + l]);
        for (; j < m; j++) ei[j] = exp_fast(ei[j] - c[j]);
    }
}

/* query features: e: (rows, m) exponents -> exp(e_ij + c_j - r_i) in place,
 * r_i = max_j (e_ij + c_j) */
static void query_features(size_t rows, size_t m, float *restrict e, const float *restrict c) {
    for (size_t i = 0; i < rows; i++) {
        float *ei = e + i * m;
        size_t j = 0;
        for (; j + EXP_LANES <= m; j += EXP_LANES)
            for (size_t l = 0; l < EXP_LANES; l++) ei[j + l] += c[j + l];
        for (; j < m; j++) ei[j] += c[j];
        exp_shift_scale(ei, m, row_max(ei, m), 1.0f);
    }
}

/* ---- attention ------------------------------------------------------------ */

/* one block of b query rows of one head.
 * qf: (b, M) query features; st: (M, d) and z: (M) the keys before the block
 * (all keys if not causal); kf: (b, M) and vb: (b, d) the block's own keys
 * and values, causal only, with pb: (b, b) scratch; ob: (b, d) output rows;
 * den_out: (b) the rows' denominators, or NULL */
static void attend_block(size_t b, size_t M, size_t d, const float *qf, const float *st,
                         const float *z, const float *kf, const float *vb, float *pb, float *ob,
                         float *den_out) {
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
        if (den_out) den_out[i] = den;
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
    float *c;   /* (B, M) key shifts: per key block (causal, running maxima) or one row */
    /* causal only, else NULL: */
    float *st2; /* (M, d) + (M): the state before the block (S then z), kept for exact_row */
    float *fb;  /* (C M + M + 2 C) exact_row's scratch: block key exponents (C, M),
                 * one query row's exponents (M), pair weights (C), denominators (C) */
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

/* phi(K) of one K/V head into t->kf, shifted per feature: by the column
 * maxima of all keys (one row of t->c), or causal by the running maxima
 * through each key block (row B of t->c for block B) */
static void key_map(const performer_job *j, const float *kh, const performer_scratch *t) {
    const attn_shape *s = j->s;
    const size_t n = s->n, d = s->d_head, M = j->M, C = j->C;
    feature_exponents(n, d, M, kh, t->w, t->kf);
    for (size_t x = 0; x < M; x++) t->c[x] = -INFINITY;
    if (!s->causal) {
        column_max(n, M, t->kf, t->c);
        key_features(n, M, t->kf, t->c);
        return;
    }
    for (size_t i0 = 0, blk = 0; i0 < n; i0 += C, blk++) {
        const size_t b = n - i0 < C ? n - i0 : C;
        float *cb = t->c + blk * M;
        if (blk) memcpy(cb, cb - M, M * sizeof(float));
        column_max(b, M, t->kf + i0 * M, cb);
        key_features(b, M, t->kf + i0 * M, cb);
    }
}

/* causal: the state before block B, S and z (M, d) + (M) shifted by the
 * previous block's maxima cp, copied re-shifted to block B's c (c >= cp,
 * so the factors are at most 1; as an online softmax rescales its sums) */
static void rescale_state(size_t M, size_t d, const float *cp, const float *c, const float *st,
                          const float *z, float *st_out, float *z_out) {
    for (size_t x = 0; x < M; x++) {
        const float f = exp_fast(cp[x] - c[x]);
        for (size_t y = 0; y < d; y++) st_out[x * d + y] = f * st[x * d + y];
        z_out[x] = f * z[x];
    }
}

/* A denominator below this may have lost terms to underflow: the block's
 * shift c can come from a key later than the query (the block's own
 * maxima), so that the query's visible keys all fall below exp(-87). */
#define DEN_SAFE 1e-20f

/* Row r of a causal block, exactly as FAVOR+ defines it, for a row whose
 * denominator underflowed: the query's exponents qa against the raw
 * exponents ke of the block's keys 0..r pair by pair (log-sum-exp over the
 * features), plus the state before the block (st, z at shift cp; none if
 * cp is NULL), all under one shift. Rare: only very peaked logits. */
static void exact_row(size_t r, size_t M, size_t d, const float *qa, const float *ke,
                      const float *vb, const float *cp, const float *st, const float *z,
                      float *lw, float *o) {
    float R = -INFINITY;
    if (cp)
        for (size_t m = 0; m < M; m++) R = fmaxf(R, qa[m] + cp[m]);
    for (size_t j = 0; j <= r; j++) {
        const float *kj = ke + j * M;
        float mx = -INFINITY, sum = 0.0f;
        for (size_t m = 0; m < M; m++) mx = fmaxf(mx, qa[m] + kj[m]);
        for (size_t m = 0; m < M; m++) sum += exp_fast(qa[m] + kj[m] - mx);
        lw[j] = mx + logf(sum);
        R = fmaxf(R, lw[j]);
    }
    float den = 0.0f;
    memset(o, 0, d * sizeof(float));
    if (cp)
        for (size_t m = 0; m < M; m++) {
            const float f = exp_fast(qa[m] + cp[m] - R);
            if (f == 0.0f) continue;
            den += f * z[m];
            axpy_row(o, d, f, st + m * d);
        }
    for (size_t j = 0; j <= r; j++) {
        const float p = exp_fast(lw[j] - R);
        den += p;
        axpy_row(o, d, p, vb + j * d);
    }
    scale_row(o, d, 1.0f / den);
}

/* causal: query head h against its K/V head's features t->kf (shifted by
 * the running maxima t->c), block by block; the state before each block is
 * kept (two buffers, swapped) for the rows exact_row redoes */
static void causal_head(const performer_job *j, const performer_scratch *t, size_t h, const float *vh) {
    const attn_shape *s = j->s;
    const size_t n = s->n, d = s->d_head, M = j->M, C = j->C;
    float *st = t->st, *z = t->z, *nst = t->st2, *nz = t->st2 + M * d;
    float *ke = t->fb, *qa = ke + C * M, *lw = qa + M, *den = lw + C;
    memset(st, 0, M * d * sizeof(float));
    memset(z, 0, M * sizeof(float));
    for (size_t i0 = 0, blk = 0; i0 < n; i0 += C, blk++) {
        const size_t b = n - i0 < C ? n - i0 : C;
        const float *cb = t->c + blk * M, *cp = blk ? cb - M : NULL, *qb = j->q + (h * n + i0) * d;
        const float *vb = vh + i0 * d;
        float *ob = j->out + (h * n + i0) * d;
        feature_exponents(b, d, M, qb, t->w, t->qf);
        query_features(b, M, t->qf, cb);
        rescale_state(M, d, cp ? cp : cb, cb, st, z, nst, nz);
        attend_block(b, M, d, t->qf, nst, nz, t->kf + i0 * M, vb, t->pb, ob, den);
        int have_ke = 0;
        for (size_t r = 0; r < b; r++) {
            if (den[r] >= DEN_SAFE) continue;
            if (!have_ke) feature_exponents(b, d, M, j->k + (h / (s->heads / s->kv_heads) * n + i0) * d, t->w, ke);
            have_ke = 1;
            feature_exponents(1, d, M, qb + r * d, t->w, qa);
            exact_row(r, M, d, qa, ke, vb, cp, st, z, lw, ob + r * d);
        }
        accumulate_state(b, M, d, t->kf + i0 * M, vb, nst, nz, 1.0f);
        float *tmp = st; st = nst; nst = tmp;
        tmp = z; z = nz; nz = tmp;
    }
}

/* K/V head `task` and the query heads of its group */
static int performer_task(void *ctx, size_t kvh, size_t thread) {
    const performer_job *j = ctx;
    const attn_shape *s = j->s;
    const size_t n = s->n, d = s->d_head, M = j->M, C = j->C, group = s->heads / s->kv_heads;
    const performer_scratch *t = &j->per_thread[thread];
    const float *kh = j->k + kvh * n * d, *vh = j->v + kvh * n * d;
    performer_draw_features(M, d, j->kn->seed, kvh, t->w, t->g);
    key_map(j, kh, t);
    if (!s->causal)
        accumulate_state(n, M, d, t->kf, vh, t->st, t->z, 0.0f);
    for (size_t h = kvh * group; h < (kvh + 1) * group; h++) {
        if (s->causal) {
            causal_head(j, t, h, vh);
            continue;
        }
        for (size_t i0 = 0; i0 < n; i0 += C) {
            const size_t b = n - i0 < C ? n - i0 : C;
            feature_exponents(b, d, M, j->q + (h * n + i0) * d, t->w, t->qf);
            query_features(b, M, t->qf, t->c);
            attend_block(b, M, d, t->qf, t->st, t->z, NULL, NULL, NULL, j->out + (h * n + i0) * d, NULL);
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
    size_t md, nm, cm, dd, bm;
    if (size_mul(M, d, &md) || size_mul(n, M, &nm) || size_mul(C, M, &cm) || size_mul(d, d, &dd) ||
        size_mul(shift_blocks(s), M, &bm))
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
        t->c = ws_alloc_n(ws, bm, sizeof(float));
        t->st2 = s->causal ? ws_alloc_n(ws, md + M, sizeof(float)) : NULL;
        t->fb = s->causal ? ws_alloc_n(ws, cm + M + 2 * C, sizeof(float)) : NULL;
        t->g = ws_alloc_n(ws, dd, sizeof(double));
        if (!t->w || !t->kf || !t->qf || !t->st || !t->z || !t->c || !t->g ||
            (s->causal && (!t->pb || !t->st2 || !t->fb))) {
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
        ws_free(ws, t->z); ws_free(ws, t->pb); ws_free(ws, t->c); ws_free(ws, t->st2);
        ws_free(ws, t->fb); ws_free(ws, t->g);
    }
    return rc;
}
