/* train_io.h — the student of `attnbench train` written as a checkpoint
 * that `attnbench eval --llama2c PATH` (and, but for mhe-add's bias, any
 * llama2.c reader) runs as the student runs in memory. */
#ifndef TRAIN_IO_H
#define TRAIN_IO_H

#include "train_model.h"

/* PATH: a llama2.c checkpoint (n_kv_heads: the student's K/V heads; MHE:
 * n_heads, the per-head expansion) and, for MHE, PATH.mhe beside it (a
 * grouped student removes a PATH.mhe left there). 0, or -1 with err. */
int train_write(const char *path, const train_model *m, char *err, size_t errlen);

#endif
