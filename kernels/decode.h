/* decode.h — generation one token at a time: each sequence holds a cache of
 * its earlier keys and values (or a fixed recurrent state), and every step
 * appends the new token's key and value and runs one query per head against
 * what is held. Pure computation, as every kernel: the caller projects the
 * tokens, times the steps and writes the rows.
 *
 * The framework (decode.c) owns the storage, the threads and the step loop;
 * each operator's attn_method entry points to its attn_decode (below), whose
 * hooks say what a sequence holds and how a step attends:
 *   decode_exact.c      exact attention over every held key (vanilla, chunked)
 *   decode_topk.c       the k largest scores (ties: the lower position)
 *   decode_window.c     sinks + sliding window: a bounded ring of slots
 *   decode_performer.c  FAVOR+ as a recurrent state, no cache
 *   h2o.c, tova.c, snapkv.c  eviction policies: a cache of --budget keys
 *                       per K/V head, chosen by the attention the keys get
 *                       (attn_decode.queries), their prefill the decode of
 *                       their rows (decode_prefill.c)
 * Every operator gives, at step position i, what the same operator's causal
 * prefill gives for query row i: the query sees keys 0..i (its own too)
 * (tests/test_decode_methods.c checks it for every entry).
 *
 * The cache: (kv_heads, slots, d_head) K and V rows per sequence, slots
 * from the entry (max_len: it grows with the length; sink + window:
 * bounded), written and read only through decode_cache.c, so a cache format
 * (f16, q8_0, ...) is a change there. A slot-placement hook (the window's
 * ring, an eviction policy's lowest-scored key) says where a new row goes;
 * an operator's own per-unit state (Performer's S and z; an eviction
 * policy's per-slot scores) sits beside the rows in the same allocation.
 *
 * Projection schemes with head embeddings (proj_scheme.embed: mhe-add,
 * mhe-mul) store one shared K and V (kv_heads 1), and the embeddings are
 * applied at read time (decode_fold_queries, decode_embed_out):
 *   mhe-mul   q_h . (k * e_h) = (q_h * e_h) . k,   out_h = (sum_j p_j v_j) * e'_h
 *   mhe-add   q_h . (k + e_h) = q_h . k + q_h . e_h, a constant of the query
 *             row that the softmax (and the top-k selection) ignores;
 *             out_h = sum_j p_j v_j + e'_h (the p_j sum to 1)
 * (e: the K embeddings, e': the V embeddings).
 *
 * Threads: knobs.threads, from the caller's persistent pool
 * (decode_config.pool, pool.h; NULL: threads started per call, par_run),
 * each thread with its own scratch, allocated in decode_init. An entry with
 * attend_range (exact, window) is split along the context as well
 * (flash-decoding): a step's tasks are (sequence, unit, block of `block`
 * slots), each block's queries keep their own running max, sum and
 * unnormalised output (a part), and the parts of a unit merge in block
 * order; so a batch of one MQA sequence spreads over every thread. Other
 * entries run one task per (sequence, unit), a unit a K/V head (or the
 * entry's units: Performer under MHE, a query head). The blocks are fixed
 * by decode_config.block, never by the thread count, so no result depends
 * on the thread count (bitwise).
 *
 * Memory: decode_init takes the entry's shared tables (Performer's random
 * features) and the per-thread scratch from one workspace (the method's
 * workspace); decode_seq_init takes a sequence's cache and state from the
 * workspace it is given, so that workspace's count is the sequence's
 * cache_bytes. */
#ifndef DECODE_H
#define DECODE_H

#include "attention.h"
#include "kv_format.h"

typedef struct attn_decode attn_decode;
struct par_pool; /* pool.h */

enum { DECODE_BLOCK = 1024 }; /* slots per block of a split step (decode_config.block 0) */

typedef struct {
    const attn_decode *op;  /* the operator's entry (attn_method.decode) */
    size_t heads;        /* query heads */
    size_t kv_heads;     /* K/V heads stored per token (1 with embeddings); divides heads */
    size_t d_head;
    size_t max_len;      /* tokens a sequence will hold in all (context + steps) */
    size_t batch;        /* the most sequences one decode_step takes (sizes the scratch) */
    const head_embed *embed;  /* the scheme's head embeddings (proj_scheme.embed); NULL: none */
    const float *ek, *ev;     /* embed: (heads, d_head) the K and V head embeddings */
    attn_knobs kn;       /* the knobs the entry reads (its resolve's: ATTN_KNOB_UNSET
                          * takes the default), seed, threads */
    const kv_format *fmt;  /* how the cache stores K and V rows (decode_format.c); NULL: f32 */
    kv_params kvp;       /* the format's own knobs (kivi's bits, group, residual) */
    struct par_pool *pool;  /* the caller's threads (pool.h); NULL: started per call */
    size_t block;        /* slots per block of a split step; 0: DECODE_BLOCK */
} decode_config;

/* what the steps share: the configuration (its knobs resolved), the
 * entry's shared tables and the per-thread scratch */
typedef struct {
    decode_config c;
    size_t slots;        /* cache rows per K/V head (0: no cache) */
    size_t units;        /* tasks per sequence */
    size_t state_floats; /* the entry's own state per unit */
    size_t threads;      /* tasks run on at most this many threads */
    size_t scratch_floats;  /* per thread */
    size_t shared_floats;
    size_t block;        /* slots per block (attend_range) */
    size_t blocks;       /* the most blocks of one unit: ceil(slots / block); 0 without attend_range */
    size_t part_floats;  /* one block's part: G (d_head + 2) */
    float *shared;       /* (shared_floats) the entry's tables, e.g. random features */
    float *scratch;      /* (threads, scratch_floats) */
    float *parts;        /* (batch, units, blocks, part_floats): a split step's parts */
} decode_ctx;

/* one sequence: what it holds */
typedef struct {
    size_t len;          /* tokens appended so far */
    float *k, *v;        /* (kv_heads, slots, d_head): decode_cache.c's (kivi: its
                          * float32 residual, (kv_heads, ring, d_head)) */
    float *state;        /* (units, state_floats): the entry's */
    unsigned char *kf, *vf;  /* a format other than f32: the stored rows (decode_format.c) */
} decode_seq;

/* One operator's decode. Hooks take the resolved configuration; a NULL
 * hook has the default its line names. */
struct attn_decode {
    const char *name;    /* what decode rows record (vanilla and chunked: exact) */
    const char *summary; /* one line for decode --help */
    unsigned knobs;      /* the KNOB_* decode reads and records */
    /* the knobs' defaults and checks against a cache of s->n tokens, as
     * attn_method.resolve (messages name decode's options); the framework
     * calls it with s->n = SIZE_MAX (no context bound). NULL: reads none */
    int (*resolve)(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
    /* cache rows per K/V head: c->max_len (growing), a bound (window);
     * NULL: 0, no cache (a recurrent state) */
    size_t (*slots)(const decode_config *c);
    /* the slot position pos is stored in, K/V head g (NULL: pos). Called
     * once per stored row and head, before s->len passes pos; may read and
     * write the unit's state (an eviction policy's scores) */
    size_t (*slot_of)(const decode_ctx *d, const decode_seq *s, size_t g, size_t pos);
    size_t (*units)(const decode_config *c);  /* NULL: kv_heads (so with a cache) */
    size_t (*state_floats)(const decode_config *c);   /* per unit; NULL: 0 */
    void (*state_init)(const decode_ctx *d, float *state);  /* (units, state_floats); NULL: zeros */
    size_t (*shared_floats)(const decode_config *c);  /* NULL: 0 */
    void (*shared_init)(const decode_ctx *d, float *shared, float *scratch);
    size_t (*scratch_floats)(const decode_config *c); /* one thread's */
    /* rows tokens into unit u's state, k, v as decode_append's (s->len not
     * advanced); NULL: the rows go to the cache (decode_cache_store) */
    void (*append)(const decode_ctx *d, decode_seq *s, size_t u, size_t rows, const float *k,
                   const float *v, size_t ld, float *scratch);
    /* unit u's query heads h0 = u G .. h0 + G - 1 (G = decode_group) attend
     * to the s->len tokens held (this step's appended): q (G, d_head) from
     * head h0, out likewise. The unit's state (s->state) may be written:
     * an eviction policy scores its slots here */
    void (*attend)(const decode_ctx *d, const decode_seq *s, size_t u, const float *q,
                   float *out, float *scratch);
    /* a split step (flash-decoding): attend's queries against the held
     * slots [j0, j1) only, into part: acc (G, d_head) the unnormalised
     * output sum_j e^(s_j - m) v_j, then m (G) the largest score and l (G)
     * sum_j e^(s_j - m) (decode_tile_attend's); the framework merges the
     * blocks and applies the V embedding. NULL: attend runs the step */
    void (*attend_range)(const decode_ctx *d, const decode_seq *s, size_t u, const float *q, size_t j0,
                         size_t j1, float *part, float *scratch);
    /* bytes one sequence's step reads from what it holds, `held` keys (at
     * most slots when there is a cache; an entry that decides by its
     * queries is given the tokens appended and counts the keys it holds),
     * each once; the shared tables are the caller's to count (as weights:
     * 4 * shared_floats) */
    double (*read_bytes)(const decode_config *c, double held);
    /* --cache-ratio: sets the entry's knobs so that its cache, in rows of
     * the format, holds at most `ratio` of the rows of the growing f32
     * cache of c (max_len rows per K/V head): 0, or -1 when the ratio is
     * too small for any setting. NULL: the entry cannot shrink its cache */
    int (*fit_ratio)(decode_config *c, double ratio);
    /* 1: what a sequence holds depends on its queries (an eviction policy's
     * scores): its context is decoded as steps, queries and all
     * (decode_append refuses it; decode_causal_forward is its prefill); not
     * under head embeddings (decode_init refuses: the one shared K/V would
     * keep one set for every head, its prefill one per head) */
    int queries;
    /* the positions unit u holds after s->len tokens, slot by slot, into pos
     * (at most slots); returns how many (the tests' view of an eviction
     * policy's kept set). NULL: none to show */
    size_t (*held)(const decode_ctx *d, const decode_seq *s, size_t u, uint32_t *pos);
    /* the arithmetic of one sequence's step over `held` keys (the
     * roofline's flops); NULL: 4 heads held d_head (scores and p V) with a
     * cache, 0 without */
    double (*step_flops)(const decode_config *c, double held);
};

/* the configuration of operator m under scheme ps (K/V heads: kv_heads,
 * or 1 and the scheme's embedding for a scheme with one; the embedding
 * tensors ek, ev are the caller's to set): ATTN_OK, or ATTN_EINVAL when m
 * has no decode */
int decode_config_of(decode_config *c, const attn_method *m, const proj_scheme *ps, size_t heads,
                     size_t kv_heads, size_t d_head, size_t max_len, const attn_knobs *kn);
/* decode's --attention lookup (methods.c): the method of that name, or the
 * first whose decode entry has that name (exact: vanilla), with a decode
 * entry; NULL if none. attn_decode_names: those names, ", "-separated. */
const attn_method *attn_decode_find(const char *name);
void attn_decode_names(char *buf, size_t cap);
/* the exact operator's entry: the model's own attention, unsubstituted */
extern const attn_decode decode_exact;

/* ATTN_OK, ATTN_EINVAL (shape or knobs: heads % kv_heads, embeddings with
 * kv_heads != 1 or without ek, ev or with an entry that decides by its
 * queries (one kept set for every head), knobs the entry's resolve refuses,
 * sizes over INT_MAX) or ATTN_ENOMEM. decode_free gives
 * everything back to ws. */
int decode_init(decode_ctx *d, const decode_config *c, workspace *ws);
void decode_free(decode_ctx *d, workspace *ws);
/* bytes decode_init takes from its workspace: 4 * (threads * scratch + shared
 * + the parts of a split step) */
size_t decode_workspace_bytes(const decode_config *c);

/* what one sequence holds: 4 * units * (K and V rows of the cache + the
 * entry's state): exact, topk 2 kv_heads max_len d_head floats; window
 * 2 kv_heads (sink + window) d_head; performer state_heads M (d_head + 2)
 * whatever the length. 0 for a configuration decode_init refuses. */
size_t decode_cache_bytes(const decode_config *c);

/* bytes one sequence's step reads from what it holds with `held` tokens
 * (after the step's append), the entry's formula (0 if refused), its K and
 * V bytes scaled by the format's stored bits a value over 32 */
double decode_read_bytes(const decode_config *c, double held);

/* 0 when decode_init takes c as far as its format goes, else -1 and a
 * one-line reason (the format cannot store rows of d_head, an operator
 * without a cache, kivi with a bounded or re-placed cache, ...) */
int decode_format_ok(const decode_config *c, char *why, size_t cap);
/* bits a stored K or V value costs in c's cache at max_len (32 for f32;
 * kivi: its groups, scales and float32 residual together); 0 without a cache */
double decode_bits_per_value(const decode_config *c);

/* --cache-ratio R: sets c's knobs (the entry's fit_ratio; else the K/V
 * heads, when choose_kv: the largest divisor of heads that fits) so that
 * decode_cache_bytes(c) <= R * ref_bytes; *achieved <- the ratio held.
 * 0, or -1 and a one-line reason */
/* the tokens `ratio` of c's max_len is, at most max_len (an entry's
 * fit_ratio hook turns them into its knobs) */
static inline size_t decode_ratio_tokens(const decode_config *c, double ratio) {
    const double rows = ratio * (double)c->max_len;
    return !(rows >= 0) ? 0 : rows < (double)c->max_len ? (size_t)rows : c->max_len;
}
int decode_fit_ratio(decode_config *c, double ratio, size_t ref_bytes, int choose_kv, double *achieved,
                     char *why, size_t cap);
/* flops of one sequence's step with `held` tokens, the entry's formula (0 if refused) */
double decode_step_flops(const decode_config *c, double held);

int decode_seq_init(const decode_ctx *d, decode_seq *s, workspace *ws);
void decode_seq_free(decode_seq *s, workspace *ws);

/* Appends `rows` tokens to one sequence without attending (the context).
 * k, v: token i's K/V head g at k[i * ld + g * d_head] (ld >= kv_heads * d_head).
 * ATTN_EINVAL if the sequence would pass max_len, or if the entry decides
 * by the queries (attn_decode.queries: decode its context with decode_step). */
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

/* ---- for the entries' files (decode_*.c) ----------------------------------- */
/* the query heads of a unit, G = heads / units (unit u's: u G .., G), and
 * the K/V head unit u reads (u kv_heads / units) */
static inline size_t decode_group(const decode_ctx *d) { return d->c.heads / d->units; }
static inline size_t decode_kv_of(const decode_ctx *d, size_t u) { return u * d->c.kv_heads / d->units; }
/* keys held after len tokens: min(len, slots) */
static inline size_t decode_held(const decode_ctx *d, size_t len) { return len < d->slots ? len : d->slots; }
/* qe (G, d) <- the G query rows q of unit u with the K embedding folded in
 * (decode.h's top; as they are without embeddings) */
void decode_fold_queries(const decode_ctx *d, size_t u, const float *q, float *qe);
/* out (d) of query head h <- with head h's V embedding (nothing without) */
void decode_embed_out(const decode_ctx *d, size_t h, float *out);
/* x (d) of query head h <- with head h's K embedding (nothing without) */
void decode_embed_key(const decode_ctx *d, size_t h, float *x);

/* decode_cache.c: the one place that writes and reads cache rows */
/* stores `rows` tokens from position s->len on, K/V head g (not advancing len) */
void decode_cache_store(const decode_ctx *d, decode_seq *s, size_t g, size_t rows, const float *k,
                        const float *v, size_t ld);
/* sc (G, held) <- scale * qe K_g^T over the first held slots of K/V head g */
void decode_cache_scores(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                         const float *qe, size_t G, float scale, float *sc);
/* out (G, d) <- p V_g, p (G, held); acc (G, d) scratch */
void decode_cache_weighted(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                           const float *p, size_t G, float *out, float *acc);
/* the online softmax of qe (G, d) over slots [j0, j1) of K/V head g: m, l
 * (G) and acc (G, d) updated as decode_tile_attend's; tile: G DECODE_TILE
 * floats of scratch */
void decode_cache_attend(const decode_ctx *d, const decode_seq *s, size_t g, size_t j0, size_t j1,
                         const float *qe, size_t G, float scale, float *m, float *l, float *acc,
                         float *tile);
/* out (d) <- sum_x w[x] V_g[idx[x]], x < m */
void decode_cache_gather(const decode_ctx *d, const decode_seq *s, size_t g, const uint32_t *idx,
                         const float *w, size_t m, float *out);
/* the K and V rows of slot `from` copied to slot `to`, K/V head g (an
 * eviction policy compacting what it keeps, from its attend) */
void decode_cache_move(const decode_ctx *d, const decode_seq *s, size_t g, size_t to, size_t from);

/* decode_prefill.c: the causal prefill of an entry whose outputs depend on
 * the history (attn_decode.queries: an eviction policy), as the token by
 * token decode of its rows (one sequence, max_len n), so that decode equals
 * the last rows of its prefill by construction. q, k, v, out as
 * attn_forward_fn; kn resolved by `resolve` (the method's) first.
 * ATTN_EINVAL: not causal, a bad shape, knobs refused; ATTN_ENOMEM */
typedef int (*decode_resolve_fn)(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
int decode_causal_forward(const attn_decode *op, decode_resolve_fn resolve, const attn_shape *s,
                          const attn_knobs *kn, const float *q, const float *k, const float *v, float *out,
                          workspace *ws);
/* its workspace: decode_workspace_bytes + decode_cache_bytes of that
 * configuration + one token's rows, 4 * 2 (heads + kv_heads) d_head; 0 where
 * it refuses */
size_t decode_causal_workspace(const attn_decode *op, decode_resolve_fn resolve, const attn_shape *s,
                               const attn_knobs *kn);
/* resolve's refusal of a prefill that is not causal, naming the operator:
 * ATTN_OK when causal */
int decode_causal_only(const attn_shape *s, const char *name, char *why, size_t cap);
/* sum over t < n of min(t + 1, held): the keys the causal rows attend to
 * when at most `held` are held */
double decode_bounded_pairs(size_t n, size_t held);

/* decode_format.c: the same four for a format other than f32 (decode_cache.c
 * dispatches): rows dequantized a tile at a time, then the same arithmetic */
int decode_format_on(const decode_ctx *d);
void decode_format_store(const decode_ctx *d, decode_seq *s, size_t g, size_t rows, const float *k,
                         const float *v, size_t ld);
void decode_format_scores(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                          const float *qe, size_t G, float scale, float *sc);
void decode_format_weighted(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                            const float *p, size_t G, float *out);
void decode_format_attend(const decode_ctx *d, const decode_seq *s, size_t g, size_t j0, size_t j1,
                          const float *qe, size_t G, float scale, float *m, float *l, float *acc, float *tile);
void decode_format_gather(const decode_ctx *d, const decode_seq *s, size_t g, const uint32_t *idx,
                          const float *w, size_t m, float *out);
void decode_format_move(const decode_ctx *d, const decode_seq *s, size_t g, size_t to, size_t from);
/* what the framework asks of the format: the check (slots: the entry's),
 * the bytes of K and V a sequence holds, their storage, the stored bits a
 * value among `held` tokens */
int decode_format_check(const decode_config *c, size_t slots, char *why, size_t cap);
size_t decode_kv_bytes(const decode_config *c, size_t slots);
int decode_format_alloc(const decode_ctx *d, decode_seq *s, workspace *ws);
double decode_format_bits(const decode_config *c, size_t slots, double held);

/* decode_exact.c: softmax over the held slots of unit u's K/V head; leaves
 * the probabilities (G, held) at scratch[0 ..) (an eviction policy's
 * scores start there); scratch: decode_exact_scratch floats */
void decode_attend_softmax(const decode_ctx *d, const decode_seq *s, size_t u, const float *q,
                           float *out, float *scratch);
size_t decode_exact_scratch(const decode_config *c);
/* exact's attend_range (and the window's): one block's part; scratch:
 * decode_range_scratch floats, G (d_head + DECODE_TILE) */
void decode_attend_range(const decode_ctx *d, const decode_seq *s, size_t u, const float *q, size_t j0,
                         size_t j1, float *part, float *scratch);
size_t decode_range_scratch(const decode_config *c);
size_t decode_all_slots(const decode_config *c);  /* max_len: the growing cache */
/* 4 * 2 kv_heads held d: K and V of every held key */
double decode_exact_read_bytes(const decode_config *c, double held);

/* the threads a run of `tasks` tasks uses: knobs.threads, at most d->threads */
size_t decode_threads_for(const decode_ctx *d, size_t tasks);
/* decode_split.c: the attend of a split step, the sequences' tokens
 * appended (each seqs[b].len still the length before): the block tasks
 * and the merge, on the pool */
int decode_split_attend(const decode_ctx *d, const decode_seq *seqs, size_t batch, const float *q,
                        size_t ldq, float *out);

/* the entries (kernels/methods.c's table points to them) */
extern const attn_decode decode_topk, decode_window, decode_performer;

#endif
