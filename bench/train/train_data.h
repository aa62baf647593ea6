/* train_data.h — the token sequences of `attnbench train`: held-out ones
 * for the evaluation and training ones, disjoint.
 *   sampled (default): from the teacher from BOS at --temperature; held-out
 *     with seeds seed..seed+N-1, exactly the sequences `attnbench eval
 *     --seed S --sequences N --n n` samples from the same checkpoint;
 *     training with seeds seed + 2^32 + i, i < --train-sequences. With
 *     --cache DIR both are kept as int32 .npy (DIR/NAME-n<n>-seed<S>-
 *     T<temperature>-heldout<N>.npy and -train<M>.npy) and read back.
 *   --tokens FILE (2-D) or --text FILE --tokenizer T: the first N sequences
 *     are held out (what `eval --tokens FILE --sequences N` takes), the rest
 *     (at most --train-sequences) train. */
#ifndef TRAIN_DATA_H
#define TRAIN_DATA_H

#include "llama2c.h"
#include "options.h"

typedef struct {
    int *heldout, *train;  /* (N, n), (M, n) */
    size_t N, M, n;
    char source[768];      /* for the row's note */
    char heldout_path[1024]; /* the cached held-out .npy, or "" */
} train_data;

/* 0, or 2 after a one-line message (bad input), 1 otherwise */
int train_data_get(const char *cmd, const run_options *o, const llama_model *md, train_data *d);
void train_data_free(train_data *d);

#endif
