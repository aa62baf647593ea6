/* eval_seq.h — the token sequences of `attnbench eval` (see eval_seq.c). */
#ifndef EVAL_SEQ_H
#define EVAL_SEQ_H

#include "llama2c.h"
#include "options.h"

typedef struct {
    int *tokens;      /* (N, n) */
    size_t N, n;
    char source[512]; /* for the row's note */
} eval_tokens;

/* from --tokens, --text/--tokenizer, or sampled (--sequences, --n, --seed,
 * --temperature); 0, 2 after a one-line message (bad input), 1 otherwise */
int eval_tokens_get(const char *cmd, const run_options *o, const llama_model *md, eval_tokens *t);
void eval_tokens_free(eval_tokens *t);
/* every sequence of --tokens or --text/--tokenizer (one is given), whatever
 * --sequences says (`attnbench train` splits them); returns as
 * eval_tokens_get */
int eval_tokens_all(const char *cmd, const run_options *o, const llama_model *md, eval_tokens *t);
/* the N sequences of n tokens eval_tokens_get would give, from --tokens'
 * header (or the options, sampled) without reading or sampling a token;
 * unchecked. 0, or -1 (--text, or a header that cannot be read) */
int eval_tokens_shape(const run_options *o, const llama_config *c, size_t *N, size_t *n);

#endif
