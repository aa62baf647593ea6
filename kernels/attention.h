/* attention.h — the shared types of attnbench's kernels.
 *
 * An attention layer is a projection scheme (X -> Q, K, V) followed by an
 * attention operator (Q, K, V -> out). Both are looked up by name in the two
 * tables below (kernels/methods.c); adding a method is one file in kernels/
 * and one line in a table. Kernels are pure computation: no I/O, no printing,
 * no global state. They return an ATTN_* code; the program prints it.
 *
 * Layouts (row-major, C order):
 *   x            (n, d_model)
 *   wq, wk, wv   (heads, d_model, d_head)      per-head MHA weights
 *   q            (heads, n, d_head)
 *   k, v         (kv_heads, n, d_head)         query head h reads kv head
 *                                              h / (heads / kv_heads)
 *   out          (heads, n, d_head)            before any output projection
 */
#ifndef ATTENTION_H
#define ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#include "knob_list.h"

/* ---- return codes ---------------------------------------------------- */
enum {
    ATTN_OK = 0,
    ATTN_ENOMEM = 1,   /* the workspace could not be allocated (or over its limit) */
    ATTN_EINVAL = 2,   /* shape or knobs the kernel cannot handle */
};
const char *attn_strerror(int code);

/* ---- sizes ------------------------------------------------------------ */
/* a*b with overflow check: 0 and *out set, or -1 on overflow. Sizes that
 * multiply (n*n*heads) go through this before any allocation. */
static inline int size_mul(size_t a, size_t b, size_t *out) {
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}
static inline int size_mul3(size_t a, size_t b, size_t c, size_t *out) {
    size_t t;
    return (size_mul(a, b, &t) || size_mul(t, c, out)) ? -1 : 0;
}
/* saturating versions for formulas (SIZE_MAX means "does not fit") */
static inline size_t size_mul_sat(size_t a, size_t b) {
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}
static inline size_t size_add_sat(size_t a, size_t b) {
    size_t r;
    return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

/* ---- counting workspace allocator ------------------------------------ */
/* Every kernel takes its scratch memory from here, so every kernel's memory
 * is counted the same way. Each block is its own anonymous mapping and is
 * unmapped on free, so freed scratch leaves the resident set at once and the
 * measured peak RSS of the next call is not hidden by a recycled heap. */
typedef struct {
    size_t live;    /* bytes held now (as requested, not page-rounded) */
    size_t peak;    /* most bytes held at once since init */
    size_t limit;   /* 0: no limit; else ws_alloc fails past it */
    size_t allocs;  /* number of successful allocations */
} workspace;

void ws_init(workspace *ws, size_t limit);
void *ws_alloc(workspace *ws, size_t bytes);          /* 64-byte aligned; NULL on failure */
void *ws_alloc_n(workspace *ws, size_t count, size_t elem); /* overflow-checked count*elem */
void ws_free(workspace *ws, void *p);                 /* NULL is fine */

/* ---- attention operators --------------------------------------------- */
typedef struct {
    size_t heads;     /* query heads */
    size_t kv_heads;  /* key/value heads (heads % kv_heads == 0) */
    size_t n;         /* sequence length (queries = keys) */
    size_t d_head;
    int causal;       /* query i sees keys 0..i only */
} attn_shape;

/* the knobs a method reads: one size_t per line of ATTN_KNOB_LIST
 * (knob_list.h: top-k's k, the block size chunk, Performer's features, the
 * window's sink and window, the eviction policies' budget, ...), in its
 * order, then the seed and threads */
#define ATTN_KNOB_FIELD(A, ID, field, ...) size_t field;
typedef struct {
    ATTN_KNOB_LIST(ATTN_KNOB_FIELD, )
    uint64_t seed;    /* for methods that draw random numbers */
    size_t threads;   /* threads the kernel may use (0 or 1: the calling thread
                       * only); workspace formulas count per-thread scratch */
} attn_knobs;
#undef ATTN_KNOB_FIELD

/* a knob the user left to the method: its resolve() hook puts the method's
 * default there (0 cannot mean "default": sink 0 is a valid window) */
#define ATTN_KNOB_UNSET SIZE_MAX

/* which knobs a method (or projection scheme) reads: the harness validates,
 * records and sweeps only these (bench/cli/knobs.h names each bit's option).
 * A method knob's bit is its line's index in ATTN_KNOB_LIST, which is also
 * its field's index in attn_knobs; a projection scheme's knobs take the
 * bits from KNOB_PROJ_FIRST up, so the two never meet. */
#define ATTN_KNOB_INDEX(A, ID, ...) ATTN_KNOB_INDEX_##ID,
enum { ATTN_KNOB_LIST(ATTN_KNOB_INDEX, ) ATTN_KNOB_COUNT };
#undef ATTN_KNOB_INDEX
#define ATTN_KNOB_BIT(A, ID, ...) KNOB_##ID = 1u << ATTN_KNOB_INDEX_##ID,
enum { ATTN_KNOB_LIST(ATTN_KNOB_BIT, ) KNOB_METHOD_ALL = (1u << ATTN_KNOB_COUNT) - 1 };
#undef ATTN_KNOB_BIT
enum { KNOB_PROJ_FIRST = 16, KNOB_KV_HEADS = 1u << KNOB_PROJ_FIRST };
_Static_assert((int)ATTN_KNOB_COUNT <= (int)KNOB_PROJ_FIRST, "the method knobs' bits stay below the projection schemes'");
_Static_assert(sizeof(size_t) * ATTN_KNOB_COUNT + sizeof(uint64_t) + sizeof(size_t) == sizeof(attn_knobs),
               "attn_knobs holds one size_t per method knob, then seed and threads");
/* bit is one method knob's bit (not a projection's, not 0, not several) */
#define KNOB_IS_METHOD(bit) ((bit) && !((bit) & ~(unsigned)KNOB_METHOD_ALL) && !((bit) & ((bit) - 1)))

/* the statistic a method's float64 reference reports in the topk_mass column */
enum {
    ATTN_MASS_NONE = 0,   /* none */
    ATTN_MASS_LARGEST,    /* the probability carried by the kn->k largest of each row
                           * (reference_attention's own pass: ref_opts.topk) */
    ATTN_MASS_KEPT,       /* the probability on the set the method keeps: kept_mass() */
};

/* what a method is, for those who compare methods (the analysis): never
 * its name (attn_method.flags; ffn_method.flags takes ATTN_EXACT too) */
enum {
    ATTN_EXACT = 1u << 0,     /* exact attention whatever its knobs (its exact limit is
                               * the knobs as given): vanilla, chunked; ffn exact */
    ATTN_BASELINE = 1u << 1,  /* the quadratic-memory baseline every crossover and
                               * memory slope is set against: vanilla */
    ATTN_CAUSAL_ONLY = 1u << 2, /* defined over the history only (an eviction policy):
                                 * not causal, its resolve and forward give ATTN_EINVAL */
};

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, n, d_head) */
typedef int (*attn_forward_fn)(const attn_shape *s, const attn_knobs *kn,
                               const float *q, const float *k, const float *v,
                               float *out, workspace *ws);

/* an operator's decode (kernels/decode.h: its cache or state, append and
 * step); declared there */
struct attn_decode;

/* training, a later issue: the gradients dq, dk, dv (as q, k, v) of the
 * loss whose gradient at out is dout. No method has one yet (NULL). */
typedef int (*attn_backward_fn)(const attn_shape *s, const attn_knobs *kn, const float *q,
                                const float *k, const float *v, const float *out,
                                const float *dout, float *dq, float *dk, float *dv, workspace *ws);

typedef struct {
    const char *name;      /* --attention NAME */
    const char *summary;   /* one line for --help */
    unsigned knobs;        /* KNOB_* it reads */
    /* the method owns its knobs: fills the defaults of the knobs it reads
     * that are ATTN_KNOB_UNSET (top-k k = min(64, n), ...) and checks them
     * against the shape; ATTN_OK, or ATTN_EINVAL with a one-line reason in
     * why (naming the option, e.g. "--k 70 is larger than --n 64") */
    int (*resolve)(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
    int mass;              /* ATTN_MASS_*: what its reference reports */
    /* ATTN_MASS_KEPT: q (heads, n, d_head), k (kv_heads, n, d_head) float64;
     * rows (nrows) ascending, NULL for all n; mass (heads, nrows) <- the exact
     * attention's probability on each row's kept set */
    int (*kept_mass)(const attn_shape *s, const attn_knobs *kn, const double *q, const double *k,
                     const size_t *rows, size_t nrows, double *mass, workspace *ws);
    attn_forward_fn forward;
    /* floating-point operations of one call (multiply-add = 2) */
    double (*flops)(const attn_shape *s, const attn_knobs *kn);
    /* the stated workspace formula: the most bytes forward() holds at once
     * from ws. A test checks it against the counted peak; the sweep uses it
     * to skip points that cannot fit. */
    size_t (*workspace_bytes)(const attn_shape *s, const attn_knobs *kn);
    /* conformance (tests/test_methods.c): sets *kn to the method's exact
     * limit (top-k k = n, window = n) and returns 1, or returns 0 if it has
     * none (approximate only); at that limit rel_err against the float64
     * reference must be at most exact_tol */
    int (*exact_limit)(const attn_shape *s, attn_knobs *kn);
    double exact_tol;
    unsigned flags;        /* ATTN_EXACT, ATTN_BASELINE, ATTN_CAUSAL_ONLY: what the analysis and tests ask of it */
    /* decode (kernels/decode.h): one token at a time against a cache or a
     * recurrent state, the layout and bytes of what a sequence holds, and
     * so eval's cache_bytes. NULL: the operator does not decode (decode
     * refuses it, eval leaves cache_bytes empty, tests/test_decode_methods
     * names it). */
    const struct attn_decode *decode;
    attn_backward_fn backward;   /* training; NULL: none (every method today) */
} attn_method;

extern const attn_method attn_methods[];   /* terminated by a {NULL} entry */
const attn_method *attn_method_find(const char *name);

/* ---- projection schemes ---------------------------------------------- */
typedef struct {
    size_t n, d_model, heads, kv_heads, d_head;
} proj_shape;

/* x: (n, d_model); wq, wk, wv: (heads, d_model, d_head), the MHA weights the
 * scheme is converted from; q: (heads, n, d_head); k, v: (kv_heads, n, d_head)
 * with kv_heads as returned by kv_heads_for(). */
typedef int (*proj_fn)(const proj_shape *s, const float *x,
                       const float *wq, const float *wk, const float *wv,
                       float *q, float *k, float *v, workspace *ws);

/* proj_scheme.flags */
enum {
    PROJ_REFERENCE = 1u << 0, /* the projection every error is measured against: mha */
};
/* How decode applies a scheme's head embeddings (MHE): the heads share one
 * K and V, so a cache holds that one, and each query head's embeddings are
 * applied when it reads (kernels/decode.h). e: (d_head) one head's. */
typedef struct {
    void (*apply)(float *x, const float *e, size_t d);   /* x <- x combined with e */
    /* moves the K embedding to the query's side of q . k: q <- q' with
     * q' . k = the score q . (k combined with e) up to a constant of the
     * row; NULL where that constant is all (mhe-add: q . e, which the
     * softmax and any selection by score ignore) */
    void (*fold_key)(float *q, const float *e, size_t d);
    int multiplies;      /* 1: x * e (mhe-mul); 0: x + e (mhe-add), for training's backward */
} head_embed;

/* decode_weights: the scheme's converted weights as decode's step projection
 * runs them, stacked w (qh + 2 kvc, d_model, d_head): qh query heads, then
 * kvc K heads, then kvc V heads, with qh = kvc = 1 (the shared Q, K, V) for
 * a scheme with embed, else qh = heads and kvc = s->kv_heads; emb (3, heads,
 * d_head) the Q, K, V head embeddings (embed only, else unused). x: (n,
 * d_model) what a fit may look at. ATTN_OK or an ATTN_* code. */
typedef int (*proj_decode_fn)(const proj_shape *s, const float *x, const float *wq,
                              const float *wk, const float *wv, float *w, float *emb,
                              workspace *ws);

typedef struct {
    const char *name;      /* --projection NAME */
    const char *summary;
    unsigned knobs;        /* KNOB_KV_HEADS if --kv-heads chooses its K/V heads */
    proj_fn project;
    /* the kv_heads the scheme produces, given --heads and --kv-heads (0 if unset) */
    size_t (*kv_heads_for)(size_t heads, size_t kv_heads_opt);
    /* parameters of the Q, K, V projections (and head embeddings) */
    size_t (*params)(const proj_shape *s);
    /* conformance: sets *kv_heads_opt to the --kv-heads value that makes the
     * scheme MHA (gqa: heads) and returns 1, or returns 0 if none does; there
     * q, k, v must be within exact_tol (rel_err; 0: bitwise) of mha's */
    int (*exact_limit)(size_t heads, size_t *kv_heads_opt);
    double exact_tol;
    unsigned flags;        /* PROJ_REFERENCE: what the analysis asks of it (head
                            * embeddings: embed, below) */
    proj_decode_fn decode_weights;  /* decode's step projection (above) */
    /* NULL: decode stores the scheme's kv_heads K/V heads as they are;
     * else the heads' shared K, V and these embeddings (above) */
    const head_embed *embed;
} proj_scheme;

extern const proj_scheme proj_schemes[];   /* terminated by a {NULL} entry */
const proj_scheme *proj_scheme_find(const char *name);

/* ---- the float64 reference ------------------------------------------- */
/* Exact softmax attention in float64, one block of query rows at a time, so
 * its memory is linear in n (block x n scores). It evaluates only the query
 * rows listed in `rows` (ascending; NULL means all n) and fills, per row,
 * the output and the statistics the CSV reports about the exact attention.
 *
 * q:       (heads, n, d_head); k, v: (kv_heads, n, d_head) as for the operators
 *          (the error reference is built from MHA q, k, v: kv_heads = heads)
 * out:     (heads, nrows, d_head)
 * entropy: (heads, nrows) row entropy in nats, or NULL
 * mass:    (heads, nrows) probability carried by the `topk` largest
 *          probabilities of the row, or NULL (topk 0: not computed) */
typedef struct {
    size_t topk;       /* 0: no mass */
    size_t block;      /* query rows per block; 0: default */
} ref_opts;

int reference_attention(const attn_shape *s, const double *q, const double *k,
                        const double *v, const size_t *rows, size_t nrows,
                        const ref_opts *o, double *out, double *entropy,
                        double *mass, workspace *ws);

/* the sum of the k largest of a[0..len) (all if k >= len), in expected
 * linear time; a is reordered. Shared by the float64 references. */
double sum_largest_f64(double *a, size_t len, size_t k);

#endif
