/* decode_performer.c — Performer (FAVOR+) as a recurrent state: per state
 * head S = sum_j phi(k_j) v_j^T (M, d) and z = sum_j phi(k_j) (M), never a
 * cache, so what a sequence holds does not grow with its length.
 *
 * With x' = x d^(-1/4) and W (M, d) the head's random features (the same
 * performer_draw_features draw as performer_forward), key j's exponents are
 *   b_jm = (W k_j')_m - |k_j'|^2 / 2,   phi(k_j)_m = exp(b_jm) (up to 1/sqrt(M))
 * and query i's a_im likewise. The output is
 *   out_i = sum_m e^(a_im) S_m / sum_m e^(a_im) z_m.
 * Stability, as an online softmax: feature m's keys are stored shifted by
 * c_m, the largest b_jm so far; when a new key raises it, row m of S and z_m
 * are rescaled by exp(c_old - c_new). The query then weighs feature m by
 * exp(a_im + c_m - r_i), r_i = max_m (a_im + c_m): its largest weight is 1
 * and that feature's z_m >= 1, so the denominator cannot underflow. All
 * shifts and the 1/sqrt(M) are constant factors of a row's numerator and
 * denominator and cancel, so this equals performer_forward's causal rows. */
#include "decode.h"
#include "methods.h"
#include "softmax.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

enum { PERF_BLOCK = 64 }; /* key rows per appended block */

/* a unit is a state head: per query head under MHE (the feature map is not
 * linear, so the K embedding cannot be moved to the query), else per K/V
 * head (the group's query heads share it) */
static size_t perf_units(const decode_config *c) { return c->embed ? c->heads : c->kv_heads; }

/* per unit: S (M, d), z (M), the shifts c (M) */
static size_t perf_state_floats(const decode_config *c) {
    return size_mul_sat(c->kn.features, size_add_sat(c->d_head, 2));
}

/* floats: max(B (M + d) + M, 2 d^2), B = PERF_BLOCK rows of exponents and
 * keys plus one query's exponents; or the (d, d) doubles of a feature draw */
static size_t perf_scratch(const decode_config *c) {
    const size_t d = c->d_head, M = c->kn.features;
    size_t f = size_add_sat(size_mul_sat(PERF_BLOCK, size_add_sat(M, d)), M);
    const size_t draw = size_mul_sat(2, size_mul_sat(d, d));
    return f > draw ? f : draw;
}

/* the random features: (units, M, d) */
static size_t perf_shared(const decode_config *c) {
    return size_mul_sat(perf_units(c), size_mul_sat(c->kn.features, c->d_head));
}

static void perf_features(const decode_ctx *d, float *w, float *scratch) {
    const size_t M = d->c.kn.features, dh = d->c.d_head;
    for (size_t u = 0; u < d->units; u++)
        performer_draw_features(M, dh, d->c.kn.seed, u, w + u * M * dh, (double *)(void *)scratch);
}

/* S = 0, z = 0, every shift -inf (the first key sets it) */
static void perf_state_init(const decode_ctx *d, float *state) {
    const size_t M = d->c.kn.features, dh = d->c.d_head;
    for (size_t u = 0; u < d->units; u++) {
        float *st = state + u * d->state_floats;
        memset(st, 0, M * (dh + 1) * sizeof(float));
        for (size_t m = 0; m < M; m++) st[M * (dh + 1) + m] = -INFINITY;
    }
}

/* kb: (b, d) the state head's keys, the K embedding applied (MHE);
 * e: (b, M) <- their exponents b_jm */
static void key_exponents(const decode_ctx *d, size_t u, size_t b, const float *kb, float *e) {
    const size_t M = d->c.kn.features, dh = d->c.d_head;
    const float scale = (float)pow((double)dh, -0.25);
    const double half_inv_sqrt_d = 0.5 / sqrt((double)dh);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)M, (int)dh, scale, kb,
                (int)dh, d->shared + u * M * dh, (int)dh, 0.0f, e, (int)M);
    for (size_t i = 0; i < b; i++) {
        double sq = 0;
        for (size_t t = 0; t < dh; t++) sq += (double)kb[i * dh + t] * kb[i * dh + t];
        const float c = (float)(sq * half_inv_sqrt_d);
        for (size_t m = 0; m < M; m++) e[i * M + m] -= c;
    }
}

/* k, v: token i's K/V head g at k[i * ld + g * d]; MHE: head 0, the K
 * embedding of query head u applied here and the V embedding at read time */
static void perf_append(const decode_ctx *d, decode_seq *s, size_t u, size_t rows, const float *k,
                        const float *v, size_t ld, float *scratch) {
    const size_t M = d->c.kn.features, dh = d->c.d_head, g = decode_kv_of(d, u);
    float *st = s->state + u * d->state_floats, *z = st + M * dh, *cm = z + M;
    float *e = scratch, *kb = scratch + PERF_BLOCK * M; /* (B, M), (B, d) */
    for (size_t r0 = 0; r0 < rows; r0 += PERF_BLOCK) {
        const size_t b = rows - r0 < PERF_BLOCK ? rows - r0 : PERF_BLOCK;
        for (size_t i = 0; i < b; i++) {
            memcpy(kb + i * dh, k + (r0 + i) * ld + g * dh, dh * sizeof(float));
            decode_embed_key(d, u, kb + i * dh);
        }
        key_exponents(d, u, b, kb, e);
        /* raise the shifts the block's keys pass, rescaling what is held */
        for (size_t m = 0; m < M; m++) {
            float mx = e[m];
            for (size_t i = 1; i < b; i++) mx = e[i * M + m] > mx ? e[i * M + m] : mx;
            if (mx > cm[m]) {
                const float f = expf(cm[m] - mx); /* 0 for the first key */
                scale_row(st + m * dh, dh, f);
                z[m] *= f;
                cm[m] = mx;
            }
        }
        for (size_t i = 0; i < b; i++) {
            float *ei = e + i * M;
            for (size_t m = 0; m < M; m++) ei[m] = exp_fast(ei[m] - cm[m]);
            axpy_row(z, M, 1.0f, ei);
        }
        /* S += phi(K_b)^T V_b: (M, d) += (M, b) x (b, d) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M, (int)dh, (int)b, 1.0f, e,
                    (int)M, v + r0 * ld + g * dh, (int)ld, 1.0f, st, (int)dh);
    }
}

static void perf_attend(const decode_ctx *d, const decode_seq *s, size_t u, const float *q,
                        float *out, float *scratch) {
    const size_t M = d->c.kn.features, dh = d->c.d_head, G = decode_group(d);
    const float *st = s->state + u * d->state_floats, *z = st + M * dh, *cm = z + M;
    const float scale = (float)pow((double)dh, -0.25);
    float *a = scratch; /* (M) */
    for (size_t i = 0; i < G; i++) {
        /* a = W q' + c (the |q'|^2 / 2 of a_im is a constant of the row: left out) */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)M, (int)dh, scale, d->shared + u * M * dh,
                    (int)dh, q + i * dh, 1, 0.0f, a, 1);
        for (size_t m = 0; m < M; m++) a[m] += cm[m];
        exp_shift_scale(a, M, row_max(a, M), 1.0f);
        float *o = out + i * dh;
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)M, (int)dh, 1.0f, st, (int)dh, a, 1, 0.0f, o, 1);
        const float den = cblas_sdot((int)M, a, 1, z, 1);
        scale_row(o, dh, 1.0f / den);
        decode_embed_out(d, u * G + i, o);
    }
}

/* S and z: units M (d + 1) floats (the shifts not counted) */
static double perf_read_bytes(const decode_config *c, double held) {
    (void)held;
    return 4.0 * (double)perf_units(c) * (double)c->kn.features * ((double)c->d_head + 1);
}

const attn_decode decode_performer = {
    .name = "performer",
    .summary = "FAVOR+ with --features M: a fixed recurrent state per head, no cache",
    .knobs = KNOB_FEATURES,
    .resolve = performer_resolve,
    .units = perf_units,
    .state_floats = perf_state_floats,
    .state_init = perf_state_init,
    .shared_floats = perf_shared,
    .shared_init = perf_features,
    .scratch_floats = perf_scratch,
    .append = perf_append,
    .attend = perf_attend,
    .read_bytes = perf_read_bytes,
};
