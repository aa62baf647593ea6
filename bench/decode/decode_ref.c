/* decode_ref.c — the error figures of decoded rows (bench/decode/decode_cmd.h): the
 * float64 exact attention of the MHA q, k, v at the step positions, and the
 * exact probability the kept keys carry (top-k, window). */
#include "decode_cmd.h"
#include "methods.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* one sequence: ref (heads, S, d) and per (head, row) entropy and mass */
static int reference_one(const layer_input *in, size_t L, size_t S, const attn_method *m,
                         const attn_knobs *kn, double *ref, double *ent, double *mass) {
    double *q, *k, *v;
    if (input_reference_qkv(in, &q, &k, &v)) return ATTN_ENOMEM;
    const size_t H = in->heads;
    attn_shape rs = {H, in->layer_form ? H : in->kv_heads, in->n, in->d_head, 1};
    size_t *rows = malloc(S * sizeof(size_t));
    int rc = rows ? ATTN_OK : ATTN_ENOMEM;
    for (size_t t = 0; rows && t < S; t++) rows[t] = L + t;
    const int mass_kind = m ? m->mass : ATTN_MASS_NONE; /* the operator's statistic (attention.h) */
    ref_opts ro = {.topk = mass_kind == ATTN_MASS_LARGEST ? kn->k : 0, .block = 0};
    workspace ws;
    ws_init(&ws, 0);
    if (rc == ATTN_OK)
        rc = reference_attention(&rs, q, k, v, rows, S, &ro, ref, ent, mass_kind == ATTN_MASS_LARGEST ? mass : NULL, &ws);
    if (rc == ATTN_OK && mass_kind == ATTN_MASS_KEPT)
        rc = m->kept_mass(&rs, kn, q, k, rows, S, mass, &ws);
    free(q); free(k); free(v); free(rows);
    return rc;
}

int decode_reference(const layer_input *const *inputs, size_t batch, size_t L, size_t S,
                     const float *out, const attn_method *m, const attn_knobs *kn, decode_errors *r) {
    const size_t H = inputs[0]->heads, d = inputs[0]->d_head, BS = batch * S;
    /* every sequence's rows side by side: (heads, batch S, d) */
    double *ref = malloc(H * BS * d * sizeof(double)), *one = malloc(H * S * d * sizeof(double));
    double *ent = malloc(H * S * sizeof(double)), *mass = malloc(H * S * sizeof(double));
    float *got = malloc(H * BS * d * sizeof(float));
    int rc = ref && one && ent && mass && got ? ATTN_OK : ATTN_ENOMEM;
    double esum = 0, msum = 0;
    for (size_t b = 0; b < batch && rc == ATTN_OK; b++) {
        /* a batch of copies of one input has one reference */
        if (b == 0 || inputs[b] != inputs[b - 1]) {
            rc = reference_one(inputs[b], L, S, m, kn, one, ent, mass);
            if (rc) break;
        }
        for (size_t h = 0; h < H; h++)
            for (size_t t = 0; t < S; t++) {
                memcpy(ref + (h * BS + b * S + t) * d, one + (h * S + t) * d, d * sizeof(double));
                memcpy(got + (h * BS + b * S + t) * d, out + ((b * S + t) * H + h) * d, d * sizeof(float));
                esum += ent[h * S + t];
                if (m && m->mass) msum += mass[h * S + t];
            }
    }
    if (rc == ATTN_OK) {
        error_compare(got, ref, H, BS, d, NULL, BS, &r->e);
        r->entropy = esum / (double)(H * BS);
        r->mass = m && m->mass ? msum / (double)(H * BS) : NAN;
    }
    free(ref); free(one); free(ent); free(mass); free(got);
    return rc;
}
