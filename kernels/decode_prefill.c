/* decode_prefill.c — the causal prefill of an operator whose outputs depend
 * on the history (decode.h, attn_decode.queries: an eviction policy, whose
 * kept set at position i is what its decisions over positions 0 .. i left):
 * row i is what the operator's decode gives at step i, so the rows are
 * decoded one token at a time, one sequence of max_len n, in order. Decode
 * equals the last rows of this prefill by construction, and eval (which
 * runs a substituted layer's whole sequence through its prefill) sees what
 * the cache would hold at every position.
 *
 * Memory (the workspace formula, exact): the decode context's workspace
 * (decode_workspace_bytes), the sequence's cache (decode_cache_bytes) and
 * one token's q, k, v, out rows, token-major, 4 * 2 (heads + kv_heads) d. */
#include "decode.h"

#include <stdio.h>
#include <string.h>

int decode_causal_only(const attn_shape *s, const char *name, char *why, size_t cap) {
    if (s->causal) return ATTN_OK;
    if (why && cap)
        snprintf(why, cap, "--attention %s decides over the history (an eviction policy): causal only, add --causal",
                 name);
    return ATTN_EINVAL;
}

double decode_bounded_pairs(size_t n, size_t held) {
    const double N = (double)n, m = (double)(held < n ? held : n);
    return m * (m + 1) / 2 + (N - m) * m; /* rows 0 .. m-1 see t + 1 keys, the rest m */
}

/* the configuration of the prefill: 0, or -1 where it is refused */
static int config_of(decode_config *c, const attn_decode *op, decode_resolve_fn resolve, const attn_shape *s,
                     const attn_knobs *kn) {
    memset(c, 0, sizeof *c);
    attn_knobs r = *kn;
    if (!s->causal || !s->n || resolve(s, &r, NULL, 0) != ATTN_OK) return -1;
    *c = (decode_config){.op = op, .heads = s->heads, .kv_heads = s->kv_heads, .d_head = s->d_head,
                         .max_len = s->n, .batch = 1, .kn = r};
    return decode_workspace_bytes(c) || decode_cache_bytes(c) ? 0 : -1;
}

static size_t token_floats(const attn_shape *s) {
    return size_mul_sat(2, size_mul_sat(size_add_sat(s->heads, s->kv_heads), s->d_head));
}

size_t decode_causal_workspace(const attn_decode *op, decode_resolve_fn resolve, const attn_shape *s,
                               const attn_knobs *kn) {
    decode_config c;
    if (config_of(&c, op, resolve, s, kn)) return 0;
    return size_add_sat(size_add_sat(decode_workspace_bytes(&c), decode_cache_bytes(&c)),
                        size_mul_sat(token_floats(s), sizeof(float)));
}

/* row i of (heads, n, d) rows into (heads, d) and back */
static void gather_row(float *dst, const float *src, size_t heads, size_t n, size_t d, size_t i) {
    for (size_t h = 0; h < heads; h++) memcpy(dst + h * d, src + (h * n + i) * d, d * sizeof(float));
}
static void scatter_row(float *dst, const float *src, size_t heads, size_t n, size_t d, size_t i) {
    for (size_t h = 0; h < heads; h++) memcpy(dst + (h * n + i) * d, src + h * d, d * sizeof(float));
}

int decode_causal_forward(const attn_decode *op, decode_resolve_fn resolve, const attn_shape *s,
                          const attn_knobs *kn, const float *q, const float *k, const float *v, float *out,
                          workspace *ws) {
    decode_config c;
    if (!s->heads || !s->kv_heads || s->heads % s->kv_heads || config_of(&c, op, resolve, s, kn)) return ATTN_EINVAL;
    const size_t H = s->heads, G = s->kv_heads, n = s->n, d = s->d_head;
    float *tok = ws_alloc_n(ws, token_floats(s), sizeof(float));
    if (!tok) return ATTN_ENOMEM;
    float *qb = tok, *ob = qb + H * d, *kb = ob + H * d, *vb = kb + G * d;
    decode_ctx ctx;
    decode_seq seq;
    int rc = decode_init(&ctx, &c, ws);
    if (rc == ATTN_OK) {
        rc = decode_seq_init(&ctx, &seq, ws);
        for (size_t i = 0; i < n && rc == ATTN_OK; i++) {
            gather_row(qb, q, H, n, d, i);
            gather_row(kb, k, G, n, d, i);
            gather_row(vb, v, G, n, d, i);
            rc = decode_step(&ctx, &seq, 1, qb, H * d, kb, vb, G * d, ob);
            if (rc == ATTN_OK) scatter_row(out, ob, H, n, d, i);
        }
        decode_seq_free(&seq, ws);
        decode_free(&ctx, ws);
    }
    ws_free(ws, tok);
    return rc;
}
