/* tova.c — TOVA, Token Omission Via Attention (Oren et al., 2024,
 * "Transformers are Multi-State RNNs"), as an eviction policy: a cache of
 * at most B = --budget keys per K/V head, shared by the head's group of
 * query heads; when full, the key the current query attends to least goes.
 *
 * Definition. At step t (positions from 0):
 *   1. token t is appended (the cache may momentarily hold B + 1 keys);
 *   2. query t of each of the group's heads attends, exact softmax, over
 *      every held key (t included);
 *   3. if more than B keys are held, the one with the least probability
 *      averaged over the group's heads is evicted, the older (lower
 *      position) on a tie; it may be t itself.
 * B >= the length evicts nothing: exact attention.
 *
 * Layout: min(B + 1, max_len) slots per K/V head (the B kept and the one
 * being decided; cache_bytes counts what is allocated), a bounded cache
 * (decode.h); the unit's state beside it holds each slot's position and
 * the slot step 3 freed (uint32 each), where the next token goes. The step
 * is the exact step over the held slots (decode_attend_softmax), then the
 * eviction; its prefill is the decode of its causal rows
 * (decode_prefill.c), causal only. */
#include "decode.h"
#include "methods.h"

#include <stdio.h>

enum { TOVA_DEFAULT_BUDGET = 256 };

/* budget: 256, at least 1; causal only */
int tova_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    if (decode_causal_only(s, "tova", why, cap)) return ATTN_EINVAL;
    if (kn->budget == ATTN_KNOB_UNSET) kn->budget = TOVA_DEFAULT_BUDGET;
    if (kn->budget >= 1) return ATTN_OK;
    if (why && cap) snprintf(why, cap, "--budget must be at least 1");
    return ATTN_EINVAL;
}

static size_t tova_slots(const decode_config *c) {
    const size_t s = size_add_sat(c->kn.budget, 1);
    return s < c->max_len ? s : c->max_len;
}

/* a position per slot, then the freed slot */
static size_t tova_state_floats(const decode_config *c) {
    return c->max_len > UINT32_MAX ? SIZE_MAX : size_add_sat(tova_slots(c), 1);
}

static uint32_t *positions_of(const decode_ctx *d, const decode_seq *s, size_t u) {
    return (uint32_t *)(s->state + u * d->state_floats);
}

/* step 1: the next free slot, or the one step 3 freed */
static size_t tova_slot_of(const decode_ctx *d, const decode_seq *s, size_t g, size_t pos) {
    uint32_t *at = positions_of(d, s, g);
    const size_t slot = pos < d->slots ? pos : at[d->slots];
    at[slot] = (uint32_t)pos;
    return slot;
}

/* steps 2 and 3: the exact step leaves the probabilities (G, held) at
 * scratch; the sums over the heads order the keys as their averages do */
static void tova_attend(const decode_ctx *d, const decode_seq *s, size_t u, const float *q, float *out,
                        float *scratch) {
    decode_attend_softmax(d, s, u, q, out, scratch);
    const size_t G = decode_group(d), held = decode_held(d, s->len);
    if (held <= d->c.kn.budget) return;
    uint32_t *at = positions_of(d, s, u);
    size_t worst = 0;
    float least = 0;
    for (size_t j = 0; j < held; j++) {
        float p = 0;
        for (size_t i = 0; i < G; i++) p += scratch[i * held + j];
        if (j == 0 || p < least || (p == least && at[j] < at[worst])) { least = p; worst = j; }
    }
    at[d->slots] = (uint32_t)worst;
}

/* K and V of the keys attended to, min(tokens, slots) */
static double tova_read_bytes(const decode_config *c, double tokens) {
    return decode_exact_read_bytes(c, tokens < (double)tova_slots(c) ? tokens : (double)tova_slots(c));
}

/* the held slots but the one step 3 freed */
static size_t tova_held(const decode_ctx *d, const decode_seq *s, size_t u, uint32_t *pos) {
    const size_t held = decode_held(d, s->len);
    const uint32_t *at = positions_of(d, s, u);
    size_t m = 0;
    for (size_t j = 0; j < held; j++)
        if (held <= d->c.kn.budget || j != at[d->slots]) pos[m++] = at[j];
    return m;
}

/* --cache-ratio: B + 1 slots in `ratio` of max_len tokens */
static int tova_fit_ratio(decode_config *c, double ratio) {
    const size_t tokens = decode_ratio_tokens(c, ratio);
    if (tokens < 2) return -1;
    c->kn.budget = tokens - 1;
    return 0;
}

const attn_decode decode_tova = {
    .name = "tova",
    .summary = "TOVA: --budget keys per K/V head; the one the current query attends to least goes",
    .knobs = KNOB_BUDGET,
    .resolve = tova_resolve,
    .slots = tova_slots,
    .slot_of = tova_slot_of,
    .state_floats = tova_state_floats,
    .scratch_floats = decode_exact_scratch,
    .attend = tova_attend,
    .read_bytes = tova_read_bytes,
    .queries = 1,
    .held = tova_held,
    .fit_ratio = tova_fit_ratio,
};

/* ---- the prefill: the decode of the causal rows ------------------------------ */

int tova_forward(const attn_shape *s, const attn_knobs *kn, const float *q, const float *k, const float *v,
                 float *out, workspace *ws) {
    return decode_causal_forward(&decode_tova, tova_resolve, s, kn, q, k, v, out, ws);
}

size_t tova_workspace(const attn_shape *s, const attn_knobs *kn) {
    return decode_causal_workspace(&decode_tova, tova_resolve, s, kn);
}

/* the two products over the keys each row attends to: min(t + 1, B + 1) */
double tova_flops(const attn_shape *s, const attn_knobs *kn) {
    return 4.0 * (double)s->heads * (double)s->d_head * decode_bounded_pairs(s->n, size_add_sat(kn->budget, 1));
}

int tova_exact_limit(const attn_shape *s, attn_knobs *kn) {
    kn->budget = s->n;
    return 1;
}
