/* decode_topk.c — top-k as a decode step (decode.h): the score pass over
 * every held key, then per query head the k largest scores (ties: the lower
 * position, as topk_forward), a softmax over them and the weighted sum of
 * their k rows of V only. It holds every key: its cache grows as exact's. */
#include "decode.h"
#include "methods.h"
#include "softmax.h"

#include <math.h>
#include <stdio.h>

/* as topk_resolve, k checked against the cache of the context first */
static int topk_decode_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    if (kn->k != ATTN_KNOB_UNSET && kn->k > s->n) {
        if (why && cap) snprintf(why, cap, "--k %zu is larger than the cache of --context %zu", kn->k, s->n);
        return ATTN_EINVAL;
    }
    return topk_resolve(s, kn, why, cap);
}

/* the exact step's + slots (the selection's copy) + 2 k (kept keys, weights) */
static size_t topk_decode_scratch(const decode_config *c) {
    return size_add_sat(decode_exact_scratch(c), size_add_sat(c->op->slots(c), size_mul_sat(2, c->kn.k)));
}

/* K, and k rows of V per query head: (kv_heads held + heads k) d floats */
static double topk_read_bytes(const decode_config *c, double held) {
    const double d = (double)c->d_head, kv = (double)c->kv_heads;
    const double k = held < (double)c->kn.k ? held : (double)c->kn.k;
    return 4.0 * d * (kv * held + (double)c->heads * k);
}

/* the scores over every held key, p V over k rows per query head */
static double topk_step_flops(const decode_config *c, double held) {
    const double k = held < (double)c->kn.k ? held : (double)c->kn.k;
    return 2.0 * (double)c->heads * (double)c->d_head * (held + k);
}

static void topk_attend(const decode_ctx *d, const decode_seq *s, size_t u, const float *q,
                        float *out, float *scratch) {
    const size_t dh = d->c.d_head, G = decode_group(d), held = decode_held(d, s->len), K = d->c.kn.k;
    float *sc = scratch, *qe = sc + G * d->slots, *sel = qe + G * dh, *wt = sel + d->slots;
    uint32_t *idx = (uint32_t *)(wt + K);
    decode_fold_queries(d, u, q, qe);
    decode_cache_scores(d, s, u, held, qe, G, 1.0f / sqrtf((float)dh), sc);
    for (size_t i = 0; i < G; i++) {
        const float *si = sc + i * held;
        const size_t m = topk_select_row(si, held, K, sel, idx);
        for (size_t x = 0; x < m; x++) wt[x] = si[idx[x]];
        softmax_row(wt, m);
        decode_cache_gather(d, s, u, idx, wt, m, out + i * dh);
        decode_embed_out(d, u * G + i, out + i * dh);
    }
}

const attn_decode decode_topk = {
    .name = "topk",
    .summary = "the --k largest scores of the held keys; reads k rows of V",
    /* --chunk is the prefill's; decode rows record its default */
    .knobs = KNOB_K | KNOB_CHUNK,
    .resolve = topk_decode_resolve,
    .slots = decode_all_slots,
    .scratch_floats = topk_decode_scratch,
    .attend = topk_attend,
    .read_bytes = topk_read_bytes,
    .step_flops = topk_step_flops,
};
