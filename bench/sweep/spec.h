/* spec.h — sweep specs (bench/sweeps/NAME.sweep): which configurations a sweep runs.
 *
 * Format, one statement a line; '#' starts a comment; blank lines are ignored:
 *
 *   KNOB VALUE...      the values of one knob; a group's points are the cross
 *                      product of its knobs' value lists
 *   [NAME]             starts a group (a study: n scaling, k, ...). Knob lines
 *                      before the first group are defaults every group inherits;
 *                      a group's own line for a knob replaces the default.
 *   command CMD        (inside a group) its points use `attnbench CMD`: run
 *                      (the default), ffn, decode or eval
 *   needs NAME...      (inside a group, before the lines that use them) the
 *                      group is left out, not an error, when a variable it
 *                      names is not defined: a study that needs a capture
 *
 * KNOB is an option of the group's command without its "--": the registry
 * entries (bench/cli/knobs.h) marked KF_SPEC (attention, projection, input,
 * llama2c, n, heads, kv-heads, d-head, d-model, d-ff, k, chunk, features,
 * sink, window, context, steps, batch, layers, sequences, causal, score-std,
 * head-sim, seed, threads, warmup, reps, ref-rows, ...). A knob its group's
 * command does not take is an error; lists (eval's "8,16,32") are not spec
 * values.
 * `causal` takes 0 or 1 (1 passes --causal). Defaults that a group's command
 * does not take are not passed to it (score-std is not given to ffn).
 *
 * Variables: ${NAME} in a knob line's values (the knob's name is literal)
 * is replaced by NAME's value before the values are split, so one variable
 * can hold several values. Values come from `attnbench sweep --define
 * NAME=VALUE` and `--capture DIR` (which defines CAPTURE, CAPTURE_N,
 * CAPTURE_HEADS, CAPTURE_D_HEAD and CAPTURE_LOGIT_STDS from DIR/capture.txt;
 * see spec_env_capture). A variable
 * that is not defined is an error ("FILE:LINE: ${NAME} is not defined"),
 * except in a group that `needs` it.
 *
 * Input directories: `input` values are directories of .npy tensors (run's
 * --input), relative to where the sweep runs. When the sweep globs (spec_env
 * .glob), a value with *, ? or [ is replaced by the paths it matches, in
 * natural order (layer2 before layer10): `input ${CAPTURE}/layer*`; one that
 * matches nothing is an error with FILE:LINE. A point with an input takes its
 * sizes from the files: the knobs the files fix (n, heads, d-head, d-model,
 * d-ff) and the synthetic input's (score-std, head-sim) are not passed to it
 * when they come from the defaults, and are an error in the input's own group.
 *
 * Knobs a method may not read are crossed only where they apply, so one
 * group can list several methods: a registry entry with a KNOB_* bit only
 * for the methods whose table entry has the bit (attn_methods[]; ffn groups
 * ffn_methods[]; kv-heads: proj_schemes[] with KNOB_KV_HEADS).
 * A method or projection not in the tables (not landed yet) gets one point
 * without those knobs; the runner records it as `skipped`, "unknown method".
 * Points that two groups share (same command and knob values) run once.
 *
 * The parser is pure: errors come back as text ("quick.sweep:12: unknown
 * knob 'foo'"), nothing is printed and nothing exits; it reads the file
 * system only to glob input values, and only when asked to. */
#ifndef SPEC_H
#define SPEC_H

#include <stddef.h>

#include "knobs.h"
#include "options.h"

/* the knobs a spec may set: the registry's (knobs.h) KF_SPEC entries, in
 * its order, which is the order points nest (first = outermost) */
enum {
#define SPEC_KNOB_ALIAS(id, ...) SK_##id = KN_##id,
    KNOB_REGISTRY(SPEC_KNOB_ALIAS)
#undef SPEC_KNOB_ALIAS
    SK_COUNT = KN_COUNT
};

/* the subcommand a group's points use (its opts_kind) */
enum { SPEC_RUN = OPTS_RUN, SPEC_FFN = OPTS_FFN, SPEC_EVAL = OPTS_EVAL, SPEC_DECODE = OPTS_DECODE };
const char *spec_command_name(int command); /* "run", "ffn", "eval", "decode" */

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
    int command;      /* SPEC_RUN, SPEC_FFN, SPEC_EVAL, SPEC_DECODE */
    int command_line; /* where `command` was given; 0: not given (run) */
    int line;
    spec_list *lists;
    size_t nlists;
    char *missing;    /* while parsing: the first variable it `needs` that is not defined */
} spec_group;

typedef struct {
    char *file;           /* name used in messages (basename of the path) */
    spec_group defaults;  /* knob lines before the first group */
    spec_group *groups;   /* the groups that run (left-out ones are not here) */
    size_t ngroups;
    char **left_out;      /* "GROUP (needs NAME)" for each group left out */
    size_t nleft_out;
} sweep_spec;

/* What a spec's text may refer to: variables (NAME -> VALUE) and whether
 * input values are globbed against the file system. Zero-initialise. */
typedef struct {
    char **names, **values;
    size_t count;
    int glob;
} spec_env;

/* NAME=VALUE (NAME: letters, digits, '_', not starting with a digit; each
 * name once). 0, or -1 with err. */
int spec_env_define(spec_env *e, const char *assignment, char *err, size_t errlen);
/* The variables of a capture (`attnbench capture --out DIR`), from
 * DIR/capture.txt: CAPTURE (DIR), CAPTURE_N (its n), CAPTURE_HEADS,
 * CAPTURE_D_HEAD (the model's heads and head size) and CAPTURE_LOGIT_STDS
 * (each layer's logit std to 3 significant digits, each value once: the
 * score stds of synthetic inputs as sharp as the layers). 0, or -1 with err. */
int spec_env_capture(spec_env *e, const char *dir, char *err, size_t errlen);
const char *spec_env_get(const spec_env *e, const char *name);  /* NULL: not defined */
void spec_env_free(spec_env *e);

/* One point: the arguments after `attnbench run|ffn`, and the knob values
 * that identify it (NULL where the point does not set the knob). */
typedef struct {
    size_t index;           /* position in the spec's point order */
    int command;            /* SPEC_* */
    char *group;            /* the first group that produced it */
    char *value[SK_COUNT];
    int argc;
    char **argv;            /* "--attention", "topk", "--k", "64", ... NULL-terminated */
} sweep_point;

/* Parses spec text; `file` names it in messages; env may be NULL (no
 * variables, no globbing). 0, or -1 with err filled. */
int spec_parse_env(const char *text, const char *file, const spec_env *env, sweep_spec *out,
                   char *err, size_t errlen);
int spec_parse(const char *text, const char *file, sweep_spec *out, char *err, size_t errlen);
/* Reads and parses the file at path. */
int spec_load_env(const char *path, const spec_env *env, sweep_spec *out, char *err, size_t errlen);
int spec_load(const char *path, sweep_spec *out, char *err, size_t errlen);
void spec_free(sweep_spec *s);

/* Every point of the spec in order, duplicates removed; the points own
 * their strings (the spec may be freed first). 0; -2 with err when the cross
 * products reach past SPEC_MAX_POINTS (a typo, not a study: bad input); -1
 * with err when out of memory. */
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

/* whether a method / projection in the tables reads a knob (see above):
 * for run points, and for points of any command (SPEC_*) */
int spec_knob_applies(int knob, const char *attention, const char *projection);
int spec_knob_applies_to(int knob, int command, const char *attention, const char *projection);

#endif
