/* capture_layer.h — the layer form of a llama2.c checkpoint's layers, which
 * `attnbench capture` writes beside the operator form: for every layer L,
 * DIR/layerL/layer/x.npy (n, dim), the RMS-normed input of the layer's
 * attention, and wq.npy, wk.npy, wv.npy (n_heads, dim, head_size), K/V heads
 * repeated for their group. It is what `attnbench run --input` reads as the
 * layer form, so every projection scheme can be studied on a real layer;
 * `--projection gqa --kv-heads n_kv_heads` gives back the model's own K/V.
 *
 * No rotary embeddings: the layer form is x and the projection weights, and
 * `run` computes q = x wq, k = x wk with no position rotation, whereas the
 * model rotates q and k by position before the scores (the operator form,
 * DIR/layerL/{q,k,v}.npy, is post-rotary). v is the same in both forms. */
#ifndef CAPTURE_LAYER_H
#define CAPTURE_LAYER_H

#include "llama2c.h"

#include <stddef.h>

/* Runs tokens[0..n) through the model once more, keeping each layer's
 * attention input, and writes the layer form of every layer under
 * OUT/layerL/layer/ (creating it). 0, or 1 after one line on stderr. */
int capture_layer_forms(const llama_model *md, const int *tokens, size_t n, const char *out);

#endif
