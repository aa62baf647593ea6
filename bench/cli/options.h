/* options.h — the command-line options of run, ffn, capture, eval and decode,
 * parsed from the one registry (knobs.h) so every option is validated the
 * same way. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "knobs.h"

struct run_options {
    const char *attention, *projection;
    size_t n, heads, kv_heads, d_head, d_model, d_ff;
#define OPTS_KNOB_FIELD(A, ID, field, ...) size_t field;
    ATTN_KNOB_LIST(OPTS_KNOB_FIELD, ) /* the method knobs: kernels/knob_list.h */
#undef OPTS_KNOB_FIELD
    int causal;
    double score_std, head_sim;
    uint64_t seed;
    size_t threads, warmup, reps, ref_rows;
    const char *input, *dump, *csv;
    int row_only;
    const char *llama2c, *out, *tokens;  /* capture */
    double temperature;                  /* capture */
    const char *layers, *ffn, *text, *tokenizer; /* eval */
    size_t ffn_k, sequences, generate;
    double target_dnll, target_kl;
    size_t context, steps, batch;                /* decode */
    int probe;                                   /* decode */
    size_t train_steps, train_batch, train_sequences, warmup_steps, eval_every; /* train */
    double lr, weight_decay;
    const char *trainable, *loss, *curve, *cache;
    const char *kv_format;                       /* decode, eval: the cache format */
    size_t bits, kivi_group, residual;           /* kivi's */
    double cache_ratio;                          /* decode, eval */
    const char *probe_file;                      /* decode */
    unsigned char given[KN_COUNT];  /* given[KN_x]: --x was on the line */
    const char *list[KN_COUNT];     /* a knob given as a list (eval: "8,16,32"), as text */
};

/* which command parses: the options differ a little */
typedef enum { OPTS_RUN, OPTS_FFN, OPTS_CAPTURE, OPTS_EVAL, OPTS_DECODE, OPTS_TRAIN } opts_kind;

void options_defaults(run_options *o, opts_kind kind);
/* Parses argv[1..] over the defaults; pure (prints nothing): 0; 1 if --help
 * was asked; 2 with one line in err (bad input) */
int options_read(run_options *o, opts_kind kind, int argc, char **argv, char *err, size_t cap);
/* options_read for a command's main: prints err once ("attnbench CMD: ...");
 * 0, 1 (--help: the caller prints its usage) or 2 */
int options_parse(run_options *o, opts_kind kind, int argc, char **argv);
int options_given(const run_options *o, const char *name); /* was --name on the line? */
void options_usage(FILE *f, opts_kind kind);

/* print "attnbench CMD: MESSAGE" on stderr; returns 2 (the bad-input exit status) */
int bad_input(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1: bad_input prints nothing (a planner asking whether a command would
 * refuse its options); 0: back to printing */
void bad_input_quiet(int on);

#endif
