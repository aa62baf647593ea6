/* eval_layer.h — a substituted layer's decode configuration (eval_model.c),
 * apart from eval.h so that what includes eval.h does not take decode.h */
#ifndef EVAL_LAYER_H
#define EVAL_LAYER_H

#include "decode.h"
#include "eval.h"

/* substituted layer l's decode configuration for sequences of n under the
 * scheme (its K/V heads, embeddings), its knobs and the format: 0, or -1
 * when the operator does not decode */
int eval_layer_config(const eval_sub *e, int l, size_t n, decode_config *c);

#endif
