/* knob_list.h — the one list of the knobs an attention method reads.
 *
 * Every method knob is one line here, and everything else is made from it:
 * its size_t field of attn_knobs and its KNOB_* bit (attention.h), its
 * run_options field (bench/cli/options.h), its entry in the option registry
 * (bench/cli/knobs.h: option, spec key, results column, --help), and the knob
 * lists of the tests (tests/test_methods.c). Adding a method knob: one line
 * here, a results column of the same name at the END of RESULT_COLUMNS
 * (bench/io/results.h), and its use in the method's kernel and resolve().
 *
 * ATTN_KNOB_LIST(X, A) calls X(A, ID, field, commands, lists, flags, label,
 * min, max, test, help) for each knob, in the order its bits are numbered
 * and its points nest in a sweep; A is passed through untouched (the
 * registry passes its own X). The kernels read only ID and field; the rest
 * is the registry's metadata (bench/cli/knobs.h, where C_* and KF_* are defined,
 * and expanded only there):
 *   ID        KNOB_ID is its bit, KN_ID its registry entry
 *   field     its attn_knobs and run_options member, its option (--field,
 *             or KNOB_OPTION_field below), spec key and results column
 *             (COL_field)
 *   commands  C_* of the commands that take it; lists: C_* where it takes a
 *             per-layer list
 *   flags     KF_*: KF_SPEC | KF_ID for every method knob, plus KF_TUNING
 *             for a knob that changes only speed and memory, never the
 *             result (chunk), or KF_MINOR for one that qualifies a method's
 *             main knob (sink beside window); a method's main knob (what
 *             tells its points apart in figures) is the first it reads that
 *             is neither
 *   label     the figures' short name of its value
 *   min, max  range checked on the line (0, 0: left to the method's resolve)
 *   test      the value tests/test_methods.c runs every method at, away from
 *             its exact limit, for a sequence of n keys
 *   help      one line for --help, with the default */
#ifndef KNOB_LIST_H
#define KNOB_LIST_H

/* clang-format off */
#define ATTN_KNOB_LIST(X, A)                                                                                           \
    X(A, K, k, C_RUN | C_FFN | C_DEC | C_EVAL, C_EVAL, KF_SPEC | KF_ID, "k", 0, 0, n / 3 + 1,                          \
      "top-k: keys kept per query (default min(64, n); ffn: units, min(256, d_ff))")                                    \
    X(A, CHUNK, chunk, C_RUN | C_FFN | C_EVAL, C_EVAL, KF_SPEC | KF_ID | KF_TUNING, "C", 1, KN_BIG, 16,               \
      "query (and key) block size (default 256)")                                                                       \
    X(A, FEATURES, features, C_RUN | C_DEC | C_EVAL, C_EVAL, KF_SPEC | KF_ID, "M", 1, 1048576, 0,                     \
      "Performer random features (default ceil(d_head ln d_head))")                                                     \
    X(A, SINK, sink, C_RUN | C_DEC | C_EVAL, C_EVAL, KF_SPEC | KF_ID | KF_MINOR, "s", 0, 0, 2,                         \
      "window: the first keys every query sees (default 4)")                                                            \
    X(A, WINDOW, window, C_RUN | C_DEC | C_EVAL, C_EVAL, KF_SPEC | KF_ID, "w", 0, 0, n / 4 + 1,                       \
      "window: the nearest keys a query sees, the most recent when causal (default 256)")                               \
    X(A, BUDGET, budget, C_RUN | C_DEC | C_EVAL, C_EVAL, KF_SPEC | KF_ID, "B", 0, 0, n / 3 + 1,                        \
      "eviction policies (h2o, tova, snapkv): the keys a K/V head holds (default 256)")                                \
    X(A, RECENT, recent, C_RUN | C_DEC | C_EVAL, C_EVAL, KF_SPEC | KF_ID | KF_MINOR, "r", 0, 0, n / 8 + 1,             \
      "h2o: the most recent positions never evicted (default budget / 2)")                                             \
    X(A, OBS_WINDOW, obs_window, C_RUN | C_DEC | C_EVAL, C_EVAL, KF_SPEC | KF_ID | KF_MINOR, "W", 0, 0, n / 16 + 1,    \
      "snapkv: the last prompt queries that score the prompt's keys, all kept (default min(32, budget))")              \
    X(A, POOL, pool, C_RUN | C_DEC | C_EVAL, C_EVAL, KF_SPEC | KF_ID | KF_MINOR, "pool", 0, 0, 3,                      \
      "snapkv: the max-pooling kernel over neighbouring keys' scores (default 5)")                                     \
    X(A, PROMPT, prompt, C_RUN | C_EVAL, C_EVAL, KF_SPEC | KF_ID | KF_MINOR, "P", 0, 0, n / 2,                         \
      "snapkv: the prompt's length, compressed once at its end (default n / 2; decode: --context)")
/* clang-format on */

/* KNOB_OPTION(field): a method knob's option (and spec key), the string of
 * its field's name, or the name given as KNOB_OPTION_field, defined as
 * `~, "option"` (the second item is picked) for a knob whose option is not
 * its field's name */
#define KNOB_OPTION_obs_window ~, "obs-window"
#define KNOB_SECOND_(a, b, ...) b
#define KNOB_SECOND(...) KNOB_SECOND_(__VA_ARGS__)
#define KNOB_OPTION(field) KNOB_SECOND(KNOB_OPTION_##field, #field, ~)

#endif
