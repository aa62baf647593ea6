/* knobs.h — the one registry of options and knobs: one line each.
 *
 * The option parser (options.c), `--help`, the spec language (spec.c: its
 * SK_* are these KN_*), the CSV columns a knob fills, run/ffn/decode/eval's
 * knob filling (knobs_fill), the point identity (point_id.c), the sweep
 * planner and the analysis's knob columns and labels all iterate this list.
 * Adding a knob: one line here and its field in run_options (options.h). A
 * method's knob is instead one line of ATTN_KNOB_LIST (kernels/knob_list.h),
 * which makes its entry here, its run_options and attn_knobs fields and its
 * KNOB_* bit, plus its use in the kernel. A method's defaults and checks are
 * the method's own (attn_method.resolve), not here.
 *
 * X(ID, name, type, field, commands, lists, column, bit, flags, label, min, max, help)
 *   name     option (--name) and spec key
 *   type     KT_NAME text, KT_SIZE, KT_U64, KT_REAL, KT_FLAG
 *   field    its run_options member
 *   commands C_* bits of the commands that take it
 *   lists    C_* bits of the commands where it takes a list ("8,16,32", one
 *            value per substituted layer), kept as text in o->list[KN_ID]
 *   column   the results column (COL_*) its value lands in, or -1
 *   bit      the KNOB_* bit a method (or projection) must read, 0: every one
 *   flags    KF_SPEC: a spec may set it; KF_ID: its column identifies a
 *            point; KF_FIXED: an input's files fix it (or it is for
 *            synthetic input only); KF_TUNING, KF_MINOR: a method knob's
 *            role (knob_list.h)
 *   label    the figures' short name of its value ("k", "C", "M"), or NULL
 *   min, max range of a KT_SIZE value given on the line (0, 0: none; a
 *            method's knob: checked once the method is known to read it,
 *            knobs_check_read; its other rules are the method's resolve)
 *   help     one line for --help, with the default
 *
 * The order is the order points nest in a sweep (the first outermost) and
 * the order of --help. */
#ifndef KNOBS_H
#define KNOBS_H

#include <stddef.h>
#include <stdint.h>

#include "attention.h"
#include "results.h"

typedef enum { KT_NAME, KT_SIZE, KT_U64, KT_REAL, KT_FLAG } knob_type;

/* the commands (bit i: opts_kind i of options.h) */
enum { C_RUN = 1u << 0, C_FFN = 1u << 1, C_CAP = 1u << 2, C_EVAL = 1u << 3, C_DEC = 1u << 4, C_TRAIN = 1u << 5 };
enum { KF_SPEC = 1u << 0, KF_ID = 1u << 1, KF_FIXED = 1u << 2, KF_TUNING = 1u << 3, KF_MINOR = 1u << 4 };

#define KN_BIG 2147483647u /* 2^31-1: BLAS takes int sizes */

/* a method knob's entry, from its line of ATTN_KNOB_LIST (kernels/knob_list.h):
 * option, field and column all named as the attn_knobs field, a size */
#define KNOB_OF_METHOD(X, ID, field, cmds, lists, flags, label, min, max, test, help) \
    X(ID, KNOB_OPTION(field), KT_SIZE, field, cmds, lists, COL_##field, KNOB_##ID, flags, label, min, max, help)

/* clang-format off */
#define KNOB_REGISTRY(X)                                                                                            \
    X(ATTENTION, "attention", KT_NAME, attention, C_RUN | C_FFN | C_EVAL | C_DEC, 0, COL_attention, 0, KF_SPEC | KF_ID, NULL, 0, 0, \
      "attention operator (see below; ffn: topk or exact; eval: model, no substitution)")                       \
    X(PROJECTION, "projection", KT_NAME, projection, C_RUN | C_EVAL | C_DEC | C_TRAIN, 0, COL_projection, 0, KF_SPEC | KF_ID, NULL, 0, 0, \
      "projection scheme (see below; default mha)")                                                              \
    X(INPUT, "input", KT_NAME, input, C_RUN | C_FFN | C_DEC, 0, COL_input, 0, KF_SPEC | KF_ID, NULL, 0, 0,          \
      "read .npy tensors from DIR instead of synthetic")                                                         \
    X(LLAMA2C, "llama2c", KT_NAME, llama2c, C_CAP | C_EVAL | C_TRAIN, 0, COL_input, 0, KF_SPEC | KF_ID, NULL, 0, 0,            \
      "the llama2.c checkpoint (required)")                                                                      \
    X(OUT, "out", KT_NAME, out, C_CAP | C_TRAIN, 0, -1, 0, 0, NULL, 0, 0,                                             \
      "capture: the directory to write (created if missing; required); train: the student checkpoint")    \
    X(TOKENS, "tokens", KT_NAME, tokens, C_CAP | C_EVAL | C_TRAIN, 0, -1, 0, KF_SPEC, NULL, 0, 0,                               \
      "use this integer .npy token sequence (eval: 1-D or 2-D) instead of sampling")                             \
    X(TEXT, "text", KT_NAME, text, C_EVAL | C_TRAIN, 0, -1, 0, KF_SPEC, NULL, 0, 0,                                           \
      "tokenize this text file (with --tokenizer) into sequences")                                               \
    X(TOKENIZER, "tokenizer", KT_NAME, tokenizer, C_EVAL | C_TRAIN, 0, -1, 0, KF_SPEC, NULL, 0, 0,                            \
      "a llama2.c tokenizer file (tokenizer.bin)")                                                               \
    X(HEADS, "heads", KT_SIZE, heads, C_RUN | C_DEC, 0, COL_heads, 0, KF_SPEC | KF_ID | KF_FIXED, NULL, 1, 65536, \
      "query heads (default 8)")                                                                                 \
    X(D_HEAD, "d-head", KT_SIZE, d_head, C_RUN | C_DEC, 0, COL_d_head, 0, KF_SPEC | KF_ID | KF_FIXED, NULL, 1, 65536, \
      "head size (default 64)")                                                                                  \
    X(D_MODEL, "d-model", KT_SIZE, d_model, C_RUN | C_FFN | C_DEC, 0, COL_d_model, 0, KF_SPEC | KF_ID | KF_FIXED, NULL, 1, KN_BIG, \
      "model width (default heads*d_head; ffn 768)")                                                             \
    X(D_FF, "d-ff", KT_SIZE, d_ff, C_FFN, 0, COL_d_ff, 0, KF_SPEC | KF_ID | KF_FIXED, NULL, 1, KN_BIG,               \
      "feed-forward hidden units (default 4*d_model)")                                                           \
    X(CAUSAL, "causal", KT_FLAG, causal, C_RUN, 0, COL_causal, 0, KF_SPEC | KF_ID, NULL, 0, 0,                        \
      "causal mask (--causal, or --causal=0|1)")                                                                 \
    X(SCORE_STD, "score-std", KT_REAL, score_std, C_RUN | C_DEC, 0, COL_score_std, 0, KF_SPEC | KF_ID | KF_FIXED, NULL, 0, 0, \
      "synthetic: std of the logits q.k/sqrt(d), > 0 (default 4; 1 flat .. 8 peaked)")                            \
    X(HEAD_SIM, "head-sim", KT_REAL, head_sim, C_RUN | C_DEC, 0, COL_head_sim, 0, KF_SPEC | KF_ID | KF_FIXED, NULL, 0, 0, \
      "synthetic: similarity of the heads' weights, 0..1 (default 0)")                                           \
    X(N, "n", KT_SIZE, n, C_RUN | C_FFN | C_CAP | C_EVAL | C_TRAIN, 0, COL_n, 0, KF_SPEC | KF_ID | KF_FIXED, NULL, 1, KN_BIG,  \
      "sequence length (default 1024; ffn 4096; capture, eval: the checkpoint's seq_len, capture at most 2048, eval at most 512)")     \
    X(CONTEXT, "context", KT_SIZE, context, C_DEC, 0, COL_context, 0, KF_SPEC | KF_ID, NULL, 0, 0,              \
      "tokens in the cache before the timed steps (default 4096)")                                               \
    X(STEPS, "steps", KT_SIZE, steps, C_DEC, 0, COL_steps, 0, KF_SPEC | KF_ID, NULL, 0, 0,                      \
      "tokens generated one at a time, timed (default 64)")                                                      \
    X(BATCH, "batch", KT_SIZE, batch, C_DEC, 0, COL_batch, 0, KF_SPEC | KF_ID, NULL, 0, 0,                        \
      "sequences decoded together, a cache each (default 1)")                                                    \
    X(KV_HEADS, "kv-heads", KT_SIZE, kv_heads, C_RUN | C_EVAL | C_DEC | C_TRAIN, 0, COL_kv_heads, KNOB_KV_HEADS, KF_SPEC | KF_ID, "G", 1, 65536, \
      "key/value heads of gqa (divides heads)")                                                                  \
    ATTN_KNOB_LIST(KNOB_OF_METHOD, X) /* k, chunk, ..., prompt: kernels/knob_list.h */                     \
    X(LAYERS, "layers", KT_NAME, layers, C_EVAL, 0, COL_layers, 0, KF_SPEC | KF_ID, NULL, 0, 0,                      \
      "substituted layers: all (default) or a list, e.g. 0,2,4")                                                 \
    X(SEQUENCES, "sequences", KT_SIZE, sequences, C_EVAL | C_TRAIN, 0, COL_sequences, 0, KF_SPEC | KF_ID, NULL, 1, KN_BIG,     \
      "sequences sampled from BOS (default 8) or taken")                                                         \
    X(FFN, "ffn", KT_NAME, ffn, C_EVAL, 0, -1, 0, KF_SPEC, NULL, 0, 0,                                             \
      "topk: also the SwiGLU of the substituted layers (--ffn-k)")                                               \
    X(FFN_K, "ffn-k", KT_SIZE, ffn_k, C_EVAL, 0, -1, 0, KF_SPEC, NULL, 0, 0,                                       \
      "gated hidden units kept per token by --ffn topk")                                                         \
    X(GENERATE, "generate", KT_SIZE, generate, C_EVAL, 0, COL_gen_tokens, 0, KF_SPEC | KF_ID, NULL, 0, 0,            \
      "greedy-generate G tokens after the first n-G, both models")                                               \
    X(TARGET_DNLL, "target-dnll", KT_REAL, target_dnll, C_EVAL, 0, -1, 0, KF_SPEC, NULL, 0, 0,                     \
      "plan per-layer top-k k for this dnll (nats/token)")                                                       \
    X(TARGET_KL, "target-kl", KT_REAL, target_kl, C_EVAL, 0, -1, 0, KF_SPEC, NULL, 0, 0,                           \
      "plan per-layer top-k k for this KL (nats/token)")                                                         \
    X(TEMPERATURE, "temperature", KT_REAL, temperature, C_CAP | C_EVAL | C_TRAIN, 0, -1, 0, KF_SPEC, NULL, 0, 0,             \
      "sampling temperature (default 1; 0: greedy argmax)")                                                      \
    X(SEED, "seed", KT_U64, seed, C_RUN | C_FFN | C_CAP | C_EVAL | C_DEC | C_TRAIN, 0, COL_seed, 0, KF_SPEC | KF_ID, NULL, 0, 0, \
      "seed of the synthetic input, random features, or sampler (default 1)")                                    \
    X(THREADS, "threads", KT_SIZE, threads, C_RUN | C_FFN | C_CAP | C_EVAL | C_DEC | C_TRAIN, 0, COL_threads, 0, KF_SPEC | KF_ID, NULL, 1, 1024, \
      "threads: of BLAS and of the kernels (default 1)")                                                         \
    X(WARMUP, "warmup", KT_SIZE, warmup, C_RUN | C_FFN | C_DEC, 0, -1, 0, KF_SPEC, NULL, 0, 100000,                  \
      "untimed calls before timing (default 1)")                                                                 \
    X(REPS, "reps", KT_SIZE, reps, C_RUN | C_FFN, 0, -1, 0, KF_SPEC, NULL, 0, 100000,                                \
      "timed calls (default 0: at least 3 and 1 s of work)")                                                     \
    X(REF_ROWS, "ref-rows", KT_SIZE, ref_rows, C_RUN | C_FFN, 0, -1, 0, KF_SPEC, NULL, 0, 0,                         \
      "error over R evenly spaced query rows (default 0: all)")                                                  \
    X(DUMP, "dump", KT_NAME, dump, C_RUN | C_FFN, 0, -1, 0, 0, NULL, 0, 0, "write q/k/v, out.npy and ref.npy into DIR") \
    X(CSV, "csv", KT_NAME, csv, C_RUN | C_FFN | C_EVAL | C_DEC | C_TRAIN, 0, -1, 0, 0, NULL, 0, 0,                             \
      "append the row to FILE (header if new); sidecar: FILE with .csv replaced by .env")                        \
    X(ROW_ONLY, "row-only", KT_FLAG, row_only, C_RUN | C_FFN | C_EVAL | C_DEC | C_TRAIN, 0, -1, 0, 0, NULL, 0, 0,              \
      "print only the data line (for the sweep runner)")                                                         \
    X(PROBE, "probe", KT_FLAG, probe, C_DEC, 0, -1, 0, 0, NULL, 0, 0,                                              \
      "print the roofline probe (bandwidth curve, sgemm rate; 1 and --threads threads) instead")              \
    X(TRAIN_STEPS, "train-steps", KT_SIZE, train_steps, C_TRAIN, 0, COL_train_steps, 0, KF_SPEC | KF_ID, NULL, 0, KN_BIG, \
      "optimizer steps (default 100; 0: the conversion alone)")                                                 \
    X(TRAIN_BATCH, "train-batch", KT_SIZE, train_batch, C_TRAIN, 0, COL_train_batch, 0, KF_SPEC | KF_ID, NULL, 1, 65536, \
      "sequences per step (default 8)")                                                                          \
    X(TRAIN_SEQUENCES, "train-sequences", KT_SIZE, train_sequences, C_TRAIN, 0, -1, 0, KF_SPEC | KF_ID, NULL, 1, KN_BIG, \
      "sampled training sequences, taken in turn (default 256)")                                                  \
    X(LR, "lr", KT_REAL, lr, C_TRAIN, 0, COL_train_lr, 0, KF_SPEC | KF_ID, NULL, 0, 0,                              \
      "AdamW's peak learning rate (default 1e-3; cosine to a tenth)")                                            \
    X(WARMUP_STEPS, "warmup-steps", KT_SIZE, warmup_steps, C_TRAIN, 0, -1, 0, KF_SPEC | KF_ID, NULL, 0, KN_BIG,     \
      "linear learning-rate warmup steps (default a tenth of --train-steps)")                                                           \
    X(WEIGHT_DECAY, "weight-decay", KT_REAL, weight_decay, C_TRAIN, 0, -1, 0, KF_SPEC | KF_ID, NULL, 0, 0,          \
      "AdamW's decoupled weight decay of the matrices (default 0)")                                              \
    X(TRAINABLE, "trainable", KT_NAME, trainable, C_TRAIN, 0, COL_trainable, 0, KF_SPEC | KF_ID, NULL, 0, 0,        \
      "attention (default: Q, K, V, O and MHE's embeddings) or all")                                             \
    X(LOSS, "loss", KT_NAME, loss, C_TRAIN, 0, COL_train_loss, 0, KF_SPEC | KF_ID, NULL, 0, 0,                      \
      "kl (default: KL(teacher || student), distillation), ce (the tokens), or mix (half each)")                 \
    X(EVAL_EVERY, "eval-every", KT_SIZE, eval_every, C_TRAIN, 0, -1, 0, KF_SPEC, NULL, 0, KN_BIG,                  \
      "held-out evaluation every N steps for the curve (default: a tenth of the steps)")                        \
    X(CURVE, "curve", KT_NAME, curve, C_TRAIN, 0, -1, 0, 0, NULL, 0, 0,                                            \
      "write the curve (step, tokens, loss, eval_dnll, eval_kl) to this CSV")                                    \
    X(CACHE, "cache", KT_NAME, cache, C_TRAIN, 0, -1, 0, KF_SPEC, NULL, 0, 0,                                      \
      "keep the sampled sequences as .npy in DIR (read back when there)")                                     \
    X(KV_FORMAT, "kv-format", KT_NAME, kv_format, C_DEC | C_EVAL, 0, COL_kv_format, 0, KF_SPEC | KF_ID, NULL, 0, 0, \
      "how the cache stores K and V (see below; default f32; eval: the substituted layers decode token by token)") \
    X(BITS, "bits", KT_SIZE, bits, C_DEC | C_EVAL, 0, COL_kv_bits, 0, KF_SPEC | KF_ID, NULL, 2, 4,                   \
      "--kv-format kivi: bits a value, 2 or 4 (default 4)")                                                      \
    X(KIVI_GROUP, "kivi-group", KT_SIZE, kivi_group, C_DEC | C_EVAL, 0, COL_kivi_group, 0, KF_SPEC | KF_ID, NULL, 1, 65536, \
      "--kv-format kivi: tokens of a key group, channels of a value group (default 32)")                         \
    X(RESIDUAL, "residual", KT_SIZE, residual, C_DEC | C_EVAL, 0, COL_residual, 0, KF_SPEC | KF_ID, NULL, 0, KN_BIG, \
      "--kv-format kivi: the most recent tokens kept in f32 (default 128)")                                      \
    X(CACHE_RATIO, "cache-ratio", KT_REAL, cache_ratio, C_DEC | C_EVAL, 0, -1, 0, KF_SPEC, NULL, 0, 0,               \
      "set the operator's knobs (window, h2o, tova: --budget; gqa: --kv-heads) so its cache is at most R of the f32 cache (eval: per layer, of the checkpoint's K/V heads)") \
    X(PROBE_FILE, "probe-file", KT_NAME, probe_file, C_DEC, 0, -1, 0, 0, NULL, 0, 0,                              \
      "the --probe output FILE: the row's roofline_s and roofline_frac")
/* clang-format on */

enum {
#define KNOB_ENUM(id, ...) KN_##id,
    KNOB_REGISTRY(KNOB_ENUM)
#undef KNOB_ENUM
    KN_COUNT
};

typedef struct {
    const char *name;
    knob_type type;
    size_t offset;      /* in run_options */
    unsigned commands;  /* C_* */
    unsigned lists;     /* C_*: a list there */
    int column;         /* COL_*, or -1 */
    unsigned bit;       /* KNOB_*, 0: every method */
    unsigned flags;     /* KF_* */
    const char *label;
    size_t min, max;
    const char *help;
} knob_def;

extern const knob_def knob_defs[KN_COUNT];

int knob_find(const char *name); /* KN_*, or -1 */

/* ---- what the commands do with it ---------------------------------------- */
typedef struct run_options run_options; /* options.h */

/* the KNOB_* bits the method `attention` of command cmd (opts_kind) reads:
 * attn_methods[] (ffn: ffn_methods[]); 0 for a name not in the tables */
unsigned knob_method_bits(int cmd, const char *attention);
/* the attn_knobs field of a method knob bit (bit i is attn_knobs' i-th
 * size_t), or NULL (0, a projection scheme's bit) */
size_t *knob_field(attn_knobs *kn, unsigned bit);
size_t knob_attn_offset(unsigned bit); /* its offset in attn_knobs */
/* attn_knobs from the options: each method knob as given, or
 * ATTN_KNOB_UNSET (the method's resolve() puts its default there); seed, threads */
void knobs_fill(const run_options *o, attn_knobs *kn);
/* a method knob given on the line that `reads` lacks: -1 with "--k is not
 * read by --FLAG METHOD" in err; then the registry range of those it reads
 * ("--chunk 0: must be 1..2147483647"); else 0 */
int knobs_check_read(const run_options *o, int cmd, unsigned reads, const char *flag, const char *method,
                     char *err, size_t cap);
/* all three for an attention method: check, fill, m->resolve (defaults and
 * its checks). 0, or -1 with one line in err */
int knobs_resolve(const run_options *o, int cmd, const attn_method *m, const attn_shape *s, attn_knobs *kn,
                  char *err, size_t cap);
/* the method knobs not in `reads` set to 0 (after resolve: what the
 * method does not read is 0, never ATTN_KNOB_UNSET) */
void knobs_clear_unread(attn_knobs *kn, unsigned reads);
/* the results columns of the method knobs `reads` (k, chunk, ..., window) */
void knobs_set_columns(result_row *row, unsigned reads, const attn_knobs *kn);
/* " (reads --k, --chunk)" for the KNOB_* bits, "" for none: --help */
void knobs_describe(unsigned bits, char *out, size_t cap);
/* the figures' label of a results column's knob ("k", "C", "M", "s", "w",
 * "G"), or NULL */
const char *knob_label_of_column(int column);

/* whether the knob applies to a point of command `cmd` (opts_kind) with this
 * attention method and projection scheme: the command takes it, and a
 * method's knob only where the method (ffn: its ffn variant; a projection's
 * knob: the scheme) reads it. A name not in the tables takes none of its
 * method's knobs. attention/projection NULL: the command's default. */
int knob_applies(int knob, int cmd, const char *attention, const char *projection);

#endif
