/* snapkv.c — SnapKV (Li et al., 2024, "SnapKV: LLM Knows What You are
 * Looking for Before Generation") as an eviction policy: the prompt's cache
 * is compressed once, at the prompt's end, to B = --budget keys per K/V
 * head, shared by the head's group of query heads, chosen by the attention
 * of the prompt's last W = --obs-window queries; the tokens after the
 * prompt are appended (the cache grows by the steps).
 *
 * Definition, for a prompt of P = --prompt tokens (decode: the context):
 *   1. the prompt's queries attend exactly, each over the full prefix (its
 *      keys 0 .. t); the window is its last W' = min(W, P) positions;
 *   2. each key j < P - W' before the window is scored by the attention it
 *      gets from the window's queries, summed over them and over the
 *      group's heads; the scores are max-pooled over K = --pool neighbours
 *      (F.max_pool1d(kernel K, stride 1, padding K / 2) over positions):
 *      pooled[j] = max score[x], x in [j - K/2, j - K/2 + K - 1] and in
 *      [0, P - W');
 *   3. at the end of the prompt (after query P - 1), if P > B: the B - W
 *      keys of largest pooled score (the lower position on a tie) and the W
 *      window keys are kept, the rest evicted; P <= B keeps every key;
 *   4. a token t >= P is appended and attends exactly over what is held.
 * B >= the length evicts nothing: exact attention. W <= B.
 *
 * Layout: the prompt's keys are held until its end, so a K/V head has
 * max(P, kept + steps) slots, kept = min(P, B), steps = max_len - P
 * (max_len when P >= max_len): it grows with the steps, and with the
 * prompt (decode.h: a growing cache). At the end of the prompt the kept
 * rows are moved to the first kept slots in position order
 * (decode_cache_move). The unit's state: the prompt's scores (float), each
 * slot's position and the count kept (uint32). Its prefill is the decode of
 * its causal rows (decode_prefill.c), causal only. */
#include "decode.h"
#include "methods.h"

#include <stdio.h>

enum { SNAPKV_DEFAULT_BUDGET = 256, SNAPKV_DEFAULT_WINDOW = 32, SNAPKV_DEFAULT_POOL = 5 };

/* the knobs but the prompt: budget 256, obs_window min(32, budget) (at
 * most budget), pool 5, each at least 1 */
static int snapkv_knobs(attn_knobs *kn, char *why, size_t cap) {
    if (kn->budget == ATTN_KNOB_UNSET) kn->budget = SNAPKV_DEFAULT_BUDGET;
    if (kn->obs_window == ATTN_KNOB_UNSET)
        kn->obs_window = kn->budget < SNAPKV_DEFAULT_WINDOW ? kn->budget : SNAPKV_DEFAULT_WINDOW;
    if (kn->pool == ATTN_KNOB_UNSET) kn->pool = SNAPKV_DEFAULT_POOL;
    const char *bad = !kn->budget       ? "budget"
                      : !kn->obs_window ? "obs-window"
                      : !kn->pool       ? "pool"
                      : !kn->prompt     ? "prompt"
                                        : NULL;
    if (bad) {
        if (why && cap) snprintf(why, cap, "--%s must be at least 1", bad);
        return ATTN_EINVAL;
    }
    if (kn->obs_window <= kn->budget) return ATTN_OK;
    if (why && cap)
        snprintf(why, cap, "--obs-window %zu is more than --budget %zu (the window is kept)", kn->obs_window,
                 kn->budget);
    return ATTN_EINVAL;
}

/* run, eval: the prompt n / 2 by default (at least 1) */
int snapkv_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    if (decode_causal_only(s, "snapkv", why, cap)) return ATTN_EINVAL;
    if (kn->prompt == ATTN_KNOB_UNSET) kn->prompt = s->n / 2 ? s->n / 2 : 1;
    return snapkv_knobs(kn, why, cap);
}

/* decode: the prompt is the context (s->n) */
static int snapkv_decode_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    if (decode_causal_only(s, "snapkv", why, cap)) return ATTN_EINVAL;
    if (kn->prompt == ATTN_KNOB_UNSET) kn->prompt = s->n;
    return snapkv_knobs(kn, why, cap);
}

static size_t kept_of(const decode_config *c) { return c->kn.prompt < c->kn.budget ? c->kn.prompt : c->kn.budget; }
static size_t prompt_held(const decode_config *c) { return c->kn.prompt < c->max_len ? c->kn.prompt : c->max_len; }

static size_t snapkv_slots(const decode_config *c) {
    const size_t P = c->kn.prompt;
    if (P >= c->max_len) return c->max_len;
    const size_t after = kept_of(c) + (c->max_len - P);
    return after > P ? after : P;
}

/* scores (prompt_held), positions (slots), the count kept */
static size_t snapkv_state_floats(const decode_config *c) {
    return c->max_len > UINT32_MAX ? SIZE_MAX : size_add_sat(size_add_sat(prompt_held(c), snapkv_slots(c)), 1);
}

/* the exact step's, and the pooled scores, the selection's copy, the kept indices */
static size_t snapkv_scratch(const decode_config *c) {
    return size_add_sat(decode_exact_scratch(c), size_add_sat(size_mul_sat(2, prompt_held(c)), c->kn.budget));
}

typedef struct {
    float *score;   /* (prompt_held) */
    uint32_t *at;   /* (slots) positions */
    uint32_t *kept; /* the keys held at the prompt's end */
} snap_state;

static snap_state state_of(const decode_ctx *d, const decode_seq *s, size_t u) {
    float *st = s->state + u * d->state_floats;
    const size_t P = prompt_held(&d->c);
    snap_state x = {st, (uint32_t *)(st + P), (uint32_t *)(st + P + d->slots)};
    return x;
}

/* keys held after len tokens (len > P: after the compression) */
static size_t held_after(const decode_ctx *d, const snap_state *x, size_t len) {
    const size_t P = d->c.kn.prompt;
    return len < P ? len : *x->kept + (len - P);
}

static size_t snapkv_slot_of(const decode_ctx *d, const decode_seq *s, size_t g, size_t pos) {
    snap_state x = state_of(d, s, g);
    const size_t slot = held_after(d, &x, pos);
    x.at[slot] = (uint32_t)pos;
    return slot;
}

/* step 3: pooled scores, the B - W best before the window and the window,
 * moved to the first slots in position order */
static void compress(const decode_ctx *d, const decode_seq *s, size_t u, snap_state *x, float *scratch) {
    const size_t P = d->c.kn.prompt, B = d->c.kn.budget, W = d->c.kn.obs_window, K = d->c.kn.pool, n = P - W;
    float *pooled = scratch, *sel = pooled + P;
    uint32_t *idx = (uint32_t *)(sel + P);
    for (size_t j = 0; j < n; j++) {
        const size_t lo = j > K / 2 ? j - K / 2 : 0, hi = j + K - K / 2 < n ? j + K - K / 2 : n;
        float m = x->score[lo];
        for (size_t i = lo + 1; i < hi; i++) m = x->score[i] > m ? x->score[i] : m;
        pooled[j] = m;
    }
    const size_t best = topk_select_row(pooled, n, B - W, sel, idx); /* ascending, ties: the lower */
    size_t c = 0;
    for (size_t i = 0; i < best + W; i++) {
        const size_t from = i < best ? idx[i] : n + (i - best);
        decode_cache_move(d, s, u, c, from);
        x->at[c++] = (uint32_t)from;
    }
    *x->kept = (uint32_t)c;
}

/* steps 1, 2 and 4: the exact step over what is held; the window's
 * probabilities scored; step 3 after query P - 1 */
static void snapkv_attend(const decode_ctx *d, const decode_seq *s, size_t u, const float *q, float *out,
                          float *scratch) {
    snap_state x = state_of(d, s, u);
    const size_t P = d->c.kn.prompt, t = s->len - 1, G = decode_group(d);
    decode_seq view = *s;
    view.len = t < P ? s->len : held_after(d, &x, s->len);
    decode_attend_softmax(d, &view, u, q, out, scratch);
    if (t >= P) return;
    const size_t W = d->c.kn.obs_window < P ? d->c.kn.obs_window : P;
    if (t + W < P) return; /* not in the window */
    for (size_t j = 0; j + W < P; j++) {
        float p = 0;
        for (size_t i = 0; i < G; i++) p += scratch[i * s->len + j];
        x.score[j] += p;
    }
    if (t + 1 == P && P > d->c.kn.budget) compress(d, s, u, &x, scratch + decode_exact_scratch(&d->c));
    else if (t + 1 == P) *x.kept = (uint32_t)P;
}

static size_t snapkv_held(const decode_ctx *d, const decode_seq *s, size_t u, uint32_t *pos) {
    snap_state x = state_of(d, s, u);
    const size_t held = held_after(d, &x, s->len);
    for (size_t j = 0; j < held; j++) pos[j] = x.at[j];
    return held;
}

/* K and V of the keys held at `tokens` tokens (after the prompt: kept + steps) */
static double snapkv_read_bytes(const decode_config *c, double tokens) {
    const double P = (double)c->kn.prompt;
    return decode_exact_read_bytes(c, tokens <= P ? tokens : (double)kept_of(c) + (tokens - P));
}

const attn_decode decode_snapkv = {
    .name = "snapkv",
    .summary = "SnapKV: the context compressed to --budget keys per K/V head by its last --obs-window queries",
    .knobs = KNOB_BUDGET | KNOB_OBS_WINDOW | KNOB_POOL | KNOB_PROMPT,
    .resolve = snapkv_decode_resolve,
    .slots = snapkv_slots,
    .slot_of = snapkv_slot_of,
    .state_floats = snapkv_state_floats,
    .scratch_floats = snapkv_scratch,
    .attend = snapkv_attend,
    .read_bytes = snapkv_read_bytes,
    .queries = 1,
    .held = snapkv_held,
};

/* ---- the prefill: the decode of the causal rows ------------------------------ */

int snapkv_forward(const attn_shape *s, const attn_knobs *kn, const float *q, const float *k, const float *v,
                   float *out, workspace *ws) {
    return decode_causal_forward(&decode_snapkv, snapkv_resolve, s, kn, q, k, v, out, ws);
}

size_t snapkv_workspace(const attn_shape *s, const attn_knobs *kn) {
    return decode_causal_workspace(&decode_snapkv, snapkv_resolve, s, kn);
}

/* the two products over the keys each row attends to: t + 1 in the prompt,
 * kept + (t - P + 1) after it */
double snapkv_flops(const attn_shape *s, const attn_knobs *kn) {
    const size_t P = kn->prompt < s->n ? kn->prompt : s->n;
    const double kept = (double)(P < kn->budget ? P : kn->budget), after = (double)(s->n - P);
    const double pairs = decode_bounded_pairs(P, P) + after * kept + after * (after + 1) / 2;
    return 4.0 * (double)s->heads * (double)s->d_head * pairs;
}

int snapkv_exact_limit(const attn_shape *s, attn_knobs *kn) {
    kn->budget = s->n;
    return 1;
}
