/* results.h — one CSV row per measured configuration (docs/DESIGN.md,
 * the CSV columns).
 * The column names are a contract: extend at the end, never rename. */
#ifndef RESULTS_H
#define RESULTS_H

#include <stddef.h>
#include <stdio.h>

/* required columns first (in the order of docs/DESIGN.md, the CSV columns),
 * then the extensions */
#define RESULT_COLUMNS(X)                                                     \
    X(layer) X(attention) X(projection) X(n) X(heads) X(kv_heads) X(d_head)    \
    X(d_model) X(d_ff) X(k) X(chunk) X(features) X(causal) X(score_std)        \
    X(head_sim) X(input) X(seed) X(threads) X(status) X(time_median_s)         \
    X(time_min_s) X(reps) X(gflops) X(peak_rss_bytes) X(kernel_peak_bytes)     \
    X(workspace_bytes) X(params) X(rel_err) X(max_abs_err) X(cos_err)          \
    X(entropy) X(topk_mass)                                                    \
    /* extensions */                                                          \
    X(logit_std) X(err_rows) X(blas_core) X(note)                              \
    /* the window operator's knobs */                                         \
    X(sink) X(window)                                                         \
    /* regime: prefill (run, ffn), decode, model (eval); decode rows */       \
    X(regime) X(context) X(steps) X(batch) X(cache_bytes) X(step_time_s)      \
    X(tokens_per_s) X(read_bytes_per_step) X(read_gbps)                       \
    /* eval rows (the model level) */                                         \
    X(sequences) X(layers) X(nll) X(dnll) X(dnll_se) X(kl) X(top1)             \
    X(layer_rel_err) X(gen_tokens) X(gen_first_diff) X(gen_match)            \
    /* train rows (the model level, a converted student uptrained) */         \
    X(train_steps) X(train_tokens) X(train_seconds) X(dnll_before)             \
    X(kl_before) X(train_lr) X(train_batch) X(trainable) X(train_loss)      \
    /* cache formats (decode, eval), equal memory (decode), eval's KL spread */ \
    X(kv_format) X(bits_per_value) X(cache_ratio) X(kv_bits) X(kivi_group)    \
    X(residual) X(kl_se) X(kl_p50) X(kl_p90) X(kl_p99) X(kl_max) X(dp_rms)  \
    /* the eviction policies' knobs (h2o, tova, snapkv) */                    \
    X(budget) X(recent) X(obs_window) X(pool) X(prompt)                        \
    /* eval: dnll over the positions beyond the budget */                     \
    X(dnll_beyond)                                                          \
    /* decode rows against the machine's limit (--probe-file); which of the  \
       two limits the roofline is: memory or compute */                       \
    X(roofline_s) X(roofline_frac) X(roofline_bound)

enum {
#define RESULT_ENUM(name) COL_##name,
    RESULT_COLUMNS(RESULT_ENUM)
#undef RESULT_ENUM
    COL_COUNT
};

extern const char *const result_column_names[COL_COUNT];

/* A row is a set of text fields, empty where a column does not apply. */
typedef struct {
    char *field[COL_COUNT];
} result_row;

void row_init(result_row *r);
void row_free(result_row *r);
/* Sets a field; a CR or LF in it is written as a blank, so that every row is
 * one physical line of the file (a path or message holding one included). */
void row_set(result_row *r, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *row_get(const result_row *r, int col); /* "" where unset */

/* the header line / one row as CSV text (libcsv quoting where a field needs it),
 * ending in "\n"; the caller frees */
char *results_header_line(void);
char *row_to_line(const result_row *r);

/* Appends one row to `path` with a single write(2) on an O_APPEND descriptor,
 * so concurrent or interrupted writers leave only whole lines; writes the
 * header first when the file is new or empty. Returns 0, or -1 with errno. */
int results_append(const char *path, const result_row *r, int *wrote_header);

/* The same on an open descriptor (O_RDWR|O_APPEND: read access tells a
 * blank file from one with rows): the sweep holds its
 * output open, and locked, for the whole sweep. A file holding only blank
 * lines or whitespace counts as empty: it is emptied and gets the header. */
int results_append_fd(int fd, const result_row *r, int *wrote_header);

/* A row's status: one list of names, shared by run, sweep and analyze. Every
 * status is a finished point that resume does not run again (nonfinite too:
 * the output held NaN or Inf). */
#define RESULT_STATUSES(X) X(ok) X(oom) X(timeout) X(crashed) X(invalid) X(skipped) X(nonfinite)
enum {
#define RESULT_STATUS_ENUM(name) ST_##name,
    RESULT_STATUSES(RESULT_STATUS_ENUM)
#undef RESULT_STATUS_ENUM
    ST_COUNT
};
extern const char *const result_status_names[ST_COUNT];
int result_status_find(const char *name); /* ST_*, or -1 */

/* column index by name, or -1 */
int result_column_find(const char *name);

/* The one check every command's row passes before it is written (row_emit):
 * an `ok` row whose numeric column holds NaN or Inf (in any value of a
 * "a;b;c" list) becomes `nonfinite`, its note naming each such column before
 * the note it had. Rows of any other status (a `nonfinite` row keeps its
 * first bad element) and the text columns (layer, attention, projection,
 * input, status, blas_core, note, regime, layers) are left alone. Returns 1
 * when it changed the row. */
int row_check_finite(result_row *r);

#endif
