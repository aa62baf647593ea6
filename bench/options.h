/* options.h — the command-line options of `run`, `ffn` and `capture`, parsed from one
 * table so every option is validated the same way. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *attention, *projection;
    size_t n, heads, kv_heads, d_head, d_model, d_ff, k, chunk, features;
    int causal;
    double score_std, head_sim;
    uint64_t seed;
    size_t threads, warmup, reps, ref_rows;
    const char *input, *dump, *csv;
    int row_only;
    const char *llama2c, *out, *tokens;  /* capture */
    double temperature;                  /* capture */
    uint64_t set; /* bit i: option i of the table was given */
    /* eval: per-layer lists are text ("8,16,32"), parsed by bench/eval.c */
    const char *layers, *eval_k, *eval_chunk, *eval_features, *eval_sink, *eval_window;
    const char *ffn, *text, *tokenizer;
    size_t ffn_k, sequences, generate;
    double target_dnll, target_kl;
    size_t context, steps, batch, sink, window;  /* decode */
    int probe;                                   /* decode */
} run_options;

/* which command parses: the options differ a little */
typedef enum { OPTS_RUN, OPTS_FFN, OPTS_CAPTURE, OPTS_EVAL, OPTS_DECODE } opts_kind;

void options_defaults(run_options *o, opts_kind kind);
/* 0; 1 if --help was asked (usage printed); 2 after printing a one-line error */
int options_parse(run_options *o, opts_kind kind, int argc, char **argv);
int options_given(const run_options *o, const char *name); /* was --name on the line? */
void options_usage(FILE *f, opts_kind kind);

/* print "attnbench CMD: MESSAGE" on stderr; returns 2 (the bad-input exit status) */
int bad_input(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
