/* spec.h — sweep specs (bench/sweeps/NAME.sweep): which configurations a sweep runs.
 *
 * Format, one statement a line; '#' starts a comment; blank lines are ignored:
 *
 *   KNOB VALUE...      the values of one knob; a group's points are the cross
 *                      product of its knobs' value lists
 *   [NAME]             starts a group (a study: n scaling, k, ...). Knob lines
 *                      before the first group are defaults every group inherits;
 *                      a group's own line for a knob replaces the default.
 *   command ffn        (inside a group) its points use `attnbench ffn`;
 *                      the default is `attnbench run`
 *
 * KNOB is an option of `attnbench run` / `ffn` without its "--" (attention,
 * projection, n, heads, kv-heads, d-head, d-model, d-ff, k, chunk, features,
 * causal, score-std, head-sim, seed, threads, warmup, reps, ref-rows, input).
 * `causal` takes 0 or 1 (1 passes --causal). Defaults that a group's command
 * does not take are not passed to it (score-std is not given to ffn).
 *
 * Knobs a method may not read are crossed only where they apply, so one
 * group can list several methods:
 *   k, chunk, features  only for attention methods whose `knobs` bitmask in
 *                       attn_methods[] has KNOB_K, KNOB_CHUNK, KNOB_FEATURES;
 *   kv-heads            only for projections whose kv_heads_for() depends on it;
 *   in an ffn group (methods `exact` and `topk`), k only for a method whose
 *   namesake in attn_methods[] has KNOB_K.
 * A method or projection not in the tables (not landed yet) gets one point
 * without those knobs; the runner records it as `skipped`, "unknown method".
 * Points that two groups share (same command and knob values) run once.
 *
 * The parser is pure: errors come back as text ("quick.sweep:12: unknown
 * knob 'foo'"), nothing is printed and nothing exits. */
#ifndef SPEC_H
#define SPEC_H

#include <stddef.h>

/* the knobs a spec may set, in the order points nest (first = outermost) */
#define SPEC_KNOBS(X)                                                        \
    X(ATTENTION, attention) X(PROJECTION, projection) X(INPUT, input)         \
    X(HEADS, heads) X(D_HEAD, d_head) X(D_MODEL, d_model) X(D_FF, d_ff)       \
    X(CAUSAL, causal) X(SCORE_STD, score_std) X(HEAD_SIM, head_sim)           \
    X(N, n) X(KV_HEADS, kv_heads) X(K, k) X(CHUNK, chunk)                     \
    X(FEATURES, features) X(SEED, seed) X(THREADS, threads)                   \
    X(WARMUP, warmup) X(REPS, reps) X(REF_ROWS, ref_rows)

enum {
#define SPEC_KNOB_ENUM(id, col) SK_##id,
    SPEC_KNOBS(SPEC_KNOB_ENUM)
#undef SPEC_KNOB_ENUM
    SK_COUNT
};

enum { SPEC_RUN = 0, SPEC_FFN = 1 };  /* the subcommand a group's points use */

/* name as written in a spec ("kv-heads"), and its option "--kv-heads" */
const char *spec_knob_name(int knob);
/* the results column a knob's value lands in (results.h index), or -1 when
 * the column does not identify the point (warmup, reps, ref-rows) */
int spec_knob_column(int knob);

typedef struct {
    int knob;         /* SK_* */
    char **values;    /* as written, in order */
    size_t count;
    int line;         /* where it was given, for messages */
} spec_list;

typedef struct {
    char *name;       /* "" for the defaults */
    int command;      /* SPEC_RUN / SPEC_FFN */
    int line;
    spec_list *lists;
    size_t nlists;
} spec_group;

typedef struct {
    char *file;           /* name used in messages (basename of the path) */
    spec_group defaults;  /* knob lines before the first group */
    spec_group *groups;
    size_t ngroups;
} sweep_spec;

/* One point: the arguments after `attnbench run|ffn`, and the knob values
 * that identify it (NULL where the point does not set the knob). */
typedef struct {
    size_t index;           /* position in the spec's point order */
    int command;            /* SPEC_RUN / SPEC_FFN */
    char *group;            /* the first group that produced it */
    char *value[SK_COUNT];
    int argc;
    char **argv;            /* "--attention", "topk", "--k", "64", ... NULL-terminated */
} sweep_point;

/* Parses spec text; `file` names it in messages. 0, or -1 with err filled. */
int spec_parse(const char *text, const char *file, sweep_spec *out, char *err, size_t errlen);
/* Reads and parses the file at path. */
int spec_load(const char *path, sweep_spec *out, char *err, size_t errlen);
void spec_free(sweep_spec *s);

/* Every point of the spec in order, duplicates removed; the points own
 * their strings (the spec may be freed first). 0, or -1 with err (also when
 * the cross products reach past SPEC_MAX_POINTS: a typo, not a study). */
enum { SPEC_MAX_POINTS = 100000 };
int spec_expand(const sweep_spec *s, sweep_point **points, size_t *count, char *err, size_t errlen);
void spec_points_free(sweep_point *points, size_t count);

/* --shard I/N: point `index` belongs to shard i (1..n) when index % n == i - 1 */
static inline int spec_in_shard(size_t index, size_t i, size_t n) {
    return n == 0 || index % n == i - 1;
}
/* Parses "I/N" (1 <= I <= N). 0, or -1 with err. */
int spec_parse_shard(const char *text, size_t *i, size_t *n, char *err, size_t errlen);

/* "topk n=4096 k=64 score-std=4": the knobs that identify the point, for
 * progress lines (not warmup, reps, ref-rows) */
char *spec_point_describe(const sweep_point *p);

/* whether a method / projection in the tables reads a knob (see above) */
int spec_knob_applies(int knob, const char *attention, const char *projection);

#endif
