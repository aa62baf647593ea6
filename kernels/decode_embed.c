/* decode_embed.c — a scheme's head embeddings applied at read time
 * (decode.h: the heads share one K and V; each query head's embeddings act
 * on its query and its output). Below the steps that call it. */
#include "decode.h"

#include <string.h>

void decode_fold_queries(const decode_ctx *d, size_t u, const float *q, float *qe) {
    const decode_config *c = &d->c;
    const size_t dh = c->d_head, G = decode_group(d);
    memcpy(qe, q, G * dh * sizeof(float));
    if (c->embed && c->embed->fold_key)
        for (size_t i = 0; i < G; i++) c->embed->fold_key(qe + i * dh, c->ek + (u * G + i) * dh, dh);
}

void decode_embed_out(const decode_ctx *d, size_t h, float *out) {
    const decode_config *c = &d->c;
    if (c->embed) c->embed->apply(out, c->ev + h * c->d_head, c->d_head);
}

void decode_embed_key(const decode_ctx *d, size_t h, float *x) {
    const decode_config *c = &d->c;
    if (c->embed) c->embed->apply(x, c->ek + h * c->d_head, c->d_head);
}

