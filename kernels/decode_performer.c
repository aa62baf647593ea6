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

/* floats: max(B (M + d) + M, 2 d^2), B = PERF_BLOCK rows of exponents and
 * keys plus one query's exponents; or the (d, d) doubles of a feature draw */
size_t decode_performer_scratch(const decode_config *c, size_t M) {
    const size_t d = c->d_head;
    size_t f = size_add_sat(size_mul_sat(PERF_BLOCK, size_add_sat(M, d)), M);
    const size_t draw = size_mul_sat(2, size_mul_sat(d, d));
    return f > draw ? f : draw;
}

void decode_performer_features(const decode_ctx *d, float *scratch) {
    const size_t M = d->M, dh = d->c.d_head;
    for (size_t u = 0; u < d->state_heads; u++)
        performer_draw_features(M, dh, d->c.kn.seed, u, d->w + u * M * dh, (double *)(void *)scratch);
}

/* kb: (b, d) the state head's keys, the K embedding applied (MHE);
 * e: (b, M) <- their exponents b_jm */
static void key_exponents(const decode_ctx *d, size_t u, size_t b, const float *kb, float *e) {
    const size_t M = d->M, dh = d->c.d_head;
    const float scale = (float)pow((double)dh, -0.25);
    const double half_inv_sqrt_d = 0.5 / sqrt((double)dh);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)M, (int)dh, scale, kb,
                (int)dh, d->w + u * M * dh, (int)dh, 0.0f, e, (int)M);
    for (size_t i = 0; i < b; i++) {
        double sq = 0;
        for (size_t t = 0; t < dh; t++) sq += (double)kb[i * dh + t] * kb[i * dh + t];
        const float c = (float)(sq * half_inv_sqrt_d);
        for (size_t m = 0; m < M; m++) e[i * M + m] -= c;
    }
}

/* k, v: token i's K/V head g at k[i * ld + g * d]; MHE: head 0, the K
 * embedding of query head u applied here and the V embedding at read time */
void decode_performer_append(const decode_ctx *d, decode_seq *s, size_t u, size_t rows,
                             const float *k, const float *v, size_t ld, float *scratch) {
    const decode_config *c = &d->c;
    const size_t M = d->M, dh = c->d_head, g = c->embed != DECODE_EMBED_NONE ? 0 : u;
    float *st = s->st + u * M * dh, *z = s->z + u * M, *cm = s->c + u * M;
    float *e = scratch, *kb = scratch + PERF_BLOCK * M; /* (B, M), (B, d) */
    const float *ek = c->ek ? c->ek + u * dh : NULL;
    for (size_t r0 = 0; r0 < rows; r0 += PERF_BLOCK) {
        const size_t b = rows - r0 < PERF_BLOCK ? rows - r0 : PERF_BLOCK;
        for (size_t i = 0; i < b; i++) {
            const float *ki = k + (r0 + i) * ld + g * dh;
            for (size_t t = 0; t < dh; t++)
                kb[i * dh + t] = c->embed == DECODE_EMBED_MUL ? ki[t] * ek[t]
                               : c->embed == DECODE_EMBED_ADD ? ki[t] + ek[t] : ki[t];
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

void decode_performer_attend(const decode_ctx *d, const decode_seq *s, size_t u, const float *q,
                             float *out, float *scratch) {
    const decode_config *c = &d->c;
    const size_t M = d->M, dh = c->d_head;
    const size_t G = c->embed != DECODE_EMBED_NONE ? 1 : c->heads / c->kv_heads;
    const size_t h0 = c->embed != DECODE_EMBED_NONE ? u : u * G;
    const float *st = s->st + u * M * dh, *z = s->z + u * M, *cm = s->c + u * M;
    const float scale = (float)pow((double)dh, -0.25);
    float *a = scratch; /* (M) */
    for (size_t h = h0; h < h0 + G; h++) {
        /* a = W q' + c (the |q'|^2 / 2 of a_im is a constant of the row: left out) */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)M, (int)dh, scale, d->w + u * M * dh,
                    (int)dh, q + h * dh, 1, 0.0f, a, 1);
        for (size_t m = 0; m < M; m++) a[m] += cm[m];
        exp_shift_scale(a, M, row_max(a, M), 1.0f);
        float *o = out + h * dh;
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)M, (int)dh, 1.0f, st, (int)dh, a, 1, 0.0f, o, 1);
        const float den = cblas_sdot((int)M, a, 1, z, 1);
        scale_row(o, dh, 1.0f / den);
        const float *ev = c->ev ? c->ev + h * dh : NULL;
        if (c->embed == DECODE_EMBED_MUL)
            for (size_t j = 0; j < dh; j++) o[j] *= ev[j];
        else if (c->embed == DECODE_EMBED_ADD)
            for (size_t j = 0; j < dh; j++) o[j] += ev[j];
    }
}
