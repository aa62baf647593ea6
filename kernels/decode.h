/* decode.h — generation one token at a time: each sequence holds a cache of
 * its earlier keys and values (or, for Performer, a fixed recurrent state),
 * and every step appends the new token's key and value and runs one query
 * per head against what is held. Pure computation, as every kernel: the
 * caller projects the tokens, times the steps and writes the rows.
 *
 * What a sequence holds (decode_cache_bytes), per scheme and operator:
 *   exact, topk    K and V of every token: 2 * kv_heads * max_len * d_head floats
 *   window         the first `sink` tokens and the last `window` (a ring buffer,
 *                  the oldest evicted): 2 * kv_heads * (sink + window) * d_head floats
 *   performer      per state head S = sum phi(k) v^T (M, d_head), z = sum phi(k) (M),
 *                  and the running key shifts c (M): state_heads * M * (d_head + 2) floats,
 *                  whatever the length
 * kv_heads is the scheme's K/V heads for mha/gqa/mqa, and 1 for mhe-add and
 * mhe-mul: they store one shared K and V (before the head embeddings), and
 * the embeddings are applied at read time:
 *   mhe-mul   q_h . (k * e_h) = (q_h * e_h) . k,   out_h = (sum_j p_j v_j) * e'_h
 *   mhe-add   q_h . (k + e_h) = q_h . k + q_h . e_h, a constant of the query
 *             row that the softmax (and the top-k selection) ignores;
 *             out_h = sum_j p_j v_j + e'_h (the p_j sum to 1)
 * (e: the K embeddings, e': the V embeddings). Performer's feature map is
 * not linear, so its state is per query head under MHE (state_heads =
 * heads), per K/V head otherwise (the group's query heads share it).
 *
 * Every operator gives, at step position i, what the same operator's causal
 * prefill gives for query row i: the query sees keys 0..i (its own too).
 *   exact      softmax over every held key
 *   topk       the k largest scores (ties: the lower position), softmax over them
 *   window     keys 0..sink-1 and i-window+1..i, softmax over them
 *   performer  FAVOR+ with the features of performer_draw_features(M, d,
 *              seed, state head) (as performer_forward draws them per K/V
 *              head). Per feature m the key features carry a running shift
 *              c_m, the largest exponent of feature m so far; when a key
 *              raises it, row m of S and z_m are rescaled by
 *              exp(c_old - c_new), as an online softmax rescales its sum.
 *
 * Threads: knobs.threads; one task is one (sequence, K/V head) (performer:
 * (sequence, state head)), each thread with its own scratch, allocated in
 * decode_init: a batch of one MQA or MHE sequence runs on one thread.
 *
 * Memory: decode_init takes the random features and the per-thread scratch
 * from one workspace (the method's workspace); decode_seq_init takes a
 * sequence's cache or state from the workspace it is given, so that
 * workspace's count is the sequence's cache_bytes. */
#ifndef DECODE_H
#define DECODE_H

#include "attention.h"

typedef enum { DECODE_EXACT, DECODE_TOPK, DECODE_WINDOW, DECODE_PERFORMER } decode_op;
typedef enum { DECODE_EMBED_NONE, DECODE_EMBED_ADD, DECODE_EMBED_MUL } decode_embed;

typedef struct {
    decode_op op;
    size_t heads;        /* query heads */
    size_t kv_heads;     /* K/V heads stored per token (1 for MHE); divides heads */
    size_t d_head;
    size_t max_len;      /* tokens a sequence will hold in all (context + steps) */
    size_t batch;        /* the most sequences one decode_step takes (sizes the scratch) */
    decode_embed embed;  /* MHE: kv_heads must be 1 */
    const float *ek, *ev;  /* MHE: (heads, d_head) the K and V head embeddings; else NULL */
    attn_knobs kn;       /* k (topk), sink and window (window), features and seed
                          * (performer: 0 features means performer_default_features),
                          * threads */
} decode_config;

/* what the steps share: the configuration, Performer's random features and
 * the per-thread scratch */
typedef struct {
    decode_config c;
    size_t slots;        /* cache rows per K/V head (window: sink + window) */
    size_t state_heads;  /* performer: heads (MHE) or kv_heads */
    size_t M;            /* performer: features */
    size_t threads;      /* tasks run on at most this many threads */
    size_t scratch_floats;  /* per thread */
    float *w;            /* performer: (state_heads, M, d_head) random features */
    float *scratch;      /* (threads, scratch_floats) */
} decode_ctx;

/* one sequence: what it holds */
typedef struct {
    size_t len;          /* tokens appended so far */
    float *k, *v;        /* exact, topk, window: (kv_heads, slots, d_head) */
    float *st;           /* performer: (state_heads, M, d_head) S */
    float *z;            /* performer: (state_heads, M) */
    float *c;            /* performer: (state_heads, M) the running key shifts */
} decode_seq;

/* ATTN_OK, ATTN_EINVAL (shape or knobs: heads % kv_heads, MHE with kv_heads
 * != 1 or without embeddings, k < 1, sink + window < 1, sizes over INT_MAX)
 * or ATTN_ENOMEM. decode_free gives everything back to ws. */
int decode_init(decode_ctx *d, const decode_config *c, workspace *ws);
void decode_free(decode_ctx *d, workspace *ws);
/* bytes decode_init takes from its workspace */
size_t decode_workspace_bytes(const decode_config *c);

/* the stated formula of what one sequence holds (see the top of this file) */
size_t decode_cache_bytes(const decode_config *c);

/* bytes one sequence's step reads from what it holds, with `held` tokens
 * (after the step's append; window: at most sink + window), each once:
 *   exact, window  K and V: 2 kv_heads held d floats
 *   topk           K, and k rows of V per query head: (kv_heads held + heads k) d floats
 *   performer      S and z: state_heads M (d + 1) floats (the shifts not counted)
 * times 4 (the random features are the caller's to count, as weights) */
double decode_read_bytes(const decode_config *c, double held);

int decode_seq_init(const decode_ctx *d, decode_seq *s, workspace *ws);
void decode_seq_free(decode_seq *s, workspace *ws);

/* Appends `rows` tokens to one sequence without attending (the context).
 * k, v: token i's K/V head g at k[i * ld + g * d_head] (ld >= kv_heads * d_head).
 * ATTN_EINVAL if the sequence would pass max_len. */
int decode_append(const decode_ctx *d, decode_seq *s, size_t rows, const float *k,
                  const float *v, size_t ld);

/* One step of `batch` sequences: appends each sequence's token, then its
 * query heads attend. q: sequence b's head h at q[b * ldq + h * d_head];
 * k, v: sequence b's K/V head g at k[b * ldkv + g * d_head];
 * out: (batch, heads, d_head). */
int decode_step(const decode_ctx *d, decode_seq *seqs, size_t batch, const float *q, size_t ldq,
                const float *k, const float *v, size_t ldkv, float *out);

/* the keys a query at position pos (0-based) of the window operator sees:
 * 1 if key j is among them */
static inline int decode_window_sees(size_t sink, size_t window, size_t pos, size_t j) {
    return j <= pos && (j < sink || j + window > pos);
}

/* ---- between decode.c and decode_performer.c ---- */
/* performer: floats of one thread's scratch; the features of every state head */
size_t decode_performer_scratch(const decode_config *c, size_t M);
void decode_performer_features(const decode_ctx *d, float *scratch);
/* appends rows tokens to state head u of s (s->len not advanced) */
void decode_performer_append(const decode_ctx *d, decode_seq *s, size_t u, size_t rows,
                             const float *k, const float *v, size_t ld, float *scratch);
/* the query heads of state head u: q: head h at q[h * d_head]; out likewise */
void decode_performer_attend(const decode_ctx *d, const decode_seq *s, size_t u, const float *q,
                             float *out, float *scratch);

#endif
