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

#endif
