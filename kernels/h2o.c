/* h2o.c — H2O, the Heavy-Hitter Oracle (Zhang et al., 2023, "H2O:
 * Heavy-Hitter Oracle for Efficient Generative Inference of Large Language
 * Models"), as an eviction policy: a cache of at most B = --budget keys per
 * K/V head, shared by the head's group of query heads, half heavy hitters
 * and half recent (--recent R, default B / 2).
 *
 * Definition. A held key's score is the attention probability it has
 * received, summed over every query so far and over the group's query
 * heads. At step t (positions from 0):
 *   1. token t is appended; if the cache already holds B keys, first one is
 *      evicted: among the held keys j with j <= t - R (not among the R most
 *      recent positions once t is in), the one with the least score, the
 *      older (lower position) on a tie; t takes its slot, score 0;
 *   2. query t of each of the group's heads attends, exact softmax, over
 *      the held keys (t included);
 *   3. each held key's score grows by its probability summed over the
 *      group's heads.
 * R may be 0 (heavy hitters only) to B (the B most recent: a sliding
 * window); with R <= B a key outside the recent R is always held when the
 * cache is full. B >= the length evicts nothing: exact attention.
 *
 * Layout: min(B, max_len) slots per K/V head, a bounded cache (decode.h);
 * the unit's state beside it holds per slot its score (float) and its
 * position (uint32), 2 floats a slot. The step is the exact step over the
 * held slots (decode_attend_softmax), then the scores; its prefill is the
 * decode of its causal rows (decode_prefill.c), causal only. */
#include "decode.h"
#include "methods.h"

#include <stdio.h>

enum { H2O_DEFAULT_BUDGET = 256 };

/* budget: 256, at least 1; recent: budget / 2, at most budget; causal only */
int h2o_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    if (decode_causal_only(s, "h2o", why, cap)) return ATTN_EINVAL;
    if (kn->budget == ATTN_KNOB_UNSET) kn->budget = H2O_DEFAULT_BUDGET;
    if (kn->recent == ATTN_KNOB_UNSET) kn->recent = kn->budget / 2;
    if (kn->budget >= 1 && kn->recent <= kn->budget) return ATTN_OK;
    if (why && cap) {
        if (kn->budget < 1) snprintf(why, cap, "--budget must be at least 1");
        else snprintf(why, cap, "--recent %zu is more than --budget %zu", kn->recent, kn->budget);
    }
    return ATTN_EINVAL;
}

static size_t h2o_slots(const decode_config *c) { return c->kn.budget < c->max_len ? c->kn.budget : c->max_len; }

/* a score and a position per slot; positions are uint32 */
static size_t h2o_state_floats(const decode_config *c) {
    return c->max_len > UINT32_MAX ? SIZE_MAX : size_mul_sat(2, h2o_slots(c));
}

static uint32_t *positions_of(const decode_ctx *d, float *score) { return (uint32_t *)(score + d->slots); }

/* position pos's slot: the next free one, or the evicted key's (step 1) */
static size_t h2o_slot_of(const decode_ctx *d, const decode_seq *s, size_t g, size_t pos) {
    const size_t S = d->slots, R = d->c.kn.recent;
    float *score = s->state + g * d->state_floats;
    uint32_t *at = positions_of(d, score);
    size_t slot = pos;
    if (pos >= S) {
        slot = S;
        for (size_t j = 0; j < S; j++) {
            if ((size_t)at[j] + R > pos) continue; /* among the R most recent */
            if (slot == S || score[j] < score[slot] || (score[j] == score[slot] && at[j] < at[slot])) slot = j;
        }
    }
    score[slot] = 0;
    at[slot] = (uint32_t)pos;
    return slot;
}

/* steps 2 and 3: the exact step leaves the probabilities (G, held) at scratch */
static void h2o_attend(const decode_ctx *d, const decode_seq *s, size_t u, const float *q, float *out,
                       float *scratch) {
    decode_attend_softmax(d, s, u, q, out, scratch);
    const size_t G = decode_group(d), held = decode_held(d, s->len);
    float *score = s->state + u * d->state_floats;
    for (size_t j = 0; j < held; j++) {
        float p = 0;
        for (size_t i = 0; i < G; i++) p += scratch[i * held + j];
        score[j] += p;
    }
}

static size_t h2o_held(const decode_ctx *d, const decode_seq *s, size_t u, uint32_t *pos) {
    const size_t held = decode_held(d, s->len);
    const uint32_t *at = positions_of(d, s->state + u * d->state_floats);
    for (size_t j = 0; j < held; j++) pos[j] = at[j];
    return held;
}

/* K and V of the held keys, min(tokens, slots), and their scores and
 * positions (read for the eviction, the scores written): 4 kv_heads held (2 d + 2) */
static double h2o_read_bytes(const decode_config *c, double tokens) {
    const double held = tokens < (double)h2o_slots(c) ? tokens : (double)h2o_slots(c);
    return 4.0 * (double)c->kv_heads * held * (2.0 * (double)c->d_head + 2);
}

/* --cache-ratio: the budget that holds `ratio` of max_len tokens (its scores
 * beside them are counted by the caller, which shrinks until all fits) */
static int h2o_fit_ratio(decode_config *c, double ratio) {
    const size_t tokens = decode_ratio_tokens(c, ratio);
    if (tokens < 2) return -1;
    c->kn.budget = tokens;
    c->kn.recent = ATTN_KNOB_UNSET; /* B/2 of the new budget */
    return 0;
}

const attn_decode decode_h2o = {
    .name = "h2o",
    .summary = "H2O: --budget keys per K/V head, the --recent newest and the most attended",
    .knobs = KNOB_BUDGET | KNOB_RECENT,
    .resolve = h2o_resolve,
    .slots = h2o_slots,
    .slot_of = h2o_slot_of,
    .state_floats = h2o_state_floats,
    .scratch_floats = decode_exact_scratch,
    .attend = h2o_attend,
    .read_bytes = h2o_read_bytes,
    .queries = 1,
    .held = h2o_held,
    .fit_ratio = h2o_fit_ratio,
};

/* ---- the prefill: the decode of the causal rows ------------------------------ */

int h2o_forward(const attn_shape *s, const attn_knobs *kn, const float *q, const float *k, const float *v,
                float *out, workspace *ws) {
    return decode_causal_forward(&decode_h2o, h2o_resolve, s, kn, q, k, v, out, ws);
}

size_t h2o_workspace(const attn_shape *s, const attn_knobs *kn) {
    return decode_causal_workspace(&decode_h2o, h2o_resolve, s, kn);
}

/* the two products over the keys each row attends to: min(t + 1, B) */
double h2o_flops(const attn_shape *s, const attn_knobs *kn) {
    return 4.0 * (double)s->heads * (double)s->d_head * decode_bounded_pairs(s->n, kn->budget);
}

int h2o_exact_limit(const attn_shape *s, attn_knobs *kn) {
    kn->budget = s->n;
    return 1;
}
