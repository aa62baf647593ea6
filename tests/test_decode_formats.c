/* test_decode_formats.c — the decode conformance test over the cache
 * formats: every entry of kv_formats[] (kivi at 4 and 2 bits) under every
 * operator with a decode entry and every scheme, with no list of names:
 *   - the steps' outputs equal the operator's causal prefill on K and V
 *     rounded to the format's grid (the reference stores and loads each
 *     row, or kivi's key groups and value rows of the positions quantized
 *     at that step, with the format's own store/load; a scheme with head
 *     embeddings rounds the one shared K, V, then embeds per head):
 *     rel_err <= 1e-5 and element-wise as test_decode_methods;
 *   - the counted cache equals decode_cache_bytes (run_decode);
 *   - 3 threads equal 1 bitwise;
 * a configuration decode_format_ok refuses is named on stderr (performer
 * holds no rows; kivi does not go with the window's ring); every format
 * decodes the exact operator under mha, and the stored bytes of q8_0 and
 * q4_0 at d 64 are 34/128 and 18/128 of f32's. */
#include "decode_layer.h"

static const kv_params kivi_params[] = {{4, 8, 16}, {2, 8, 16}};

/* the layer's K, V token-major (N, kvc, DH) with positions < quantized
 * rounded to f's grid (row formats: every position) */
static void round_kv(const layer *ly, const kv_format *f, const kv_params *p, size_t quantized, float *dk, float *dv) {
    const size_t w = ly->kvc * DH;
    memcpy(dk, ly->dk, N * w * sizeof(float));
    memcpy(dv, ly->dv, N * w * sizeof(float));
    unsigned char buf[4 * 64 * DH];
    for (size_t g = 0; g < ly->kvc; g++) {
        for (size_t j = 0; j < quantized; j++) {
            f->store(ly->dv + j * w + g * DH, DH, p, buf);
            f->load(buf, DH, p, dv + j * w + g * DH);
            if (f->key_group_bytes) continue;
            f->store(ly->dk + j * w + g * DH, DH, p, buf);
            f->load(buf, DH, p, dk + j * w + g * DH);
        }
        for (size_t j0 = 0; f->key_group_bytes && j0 < quantized; j0 += p->group) {
            float grp[64 * DH];
            for (size_t t = 0; t < p->group; t++) memcpy(grp + t * DH, ly->dk + (j0 + t) * w + g * DH, DH * sizeof(float));
            f->key_group_store(grp, DH, p, buf);
            f->key_load(buf, DH, p, 0, p->group, grp);
            for (size_t t = 0; t < p->group; t++) memcpy(dk + (j0 + t) * w + g * DH, grp + t * DH, DH * sizeof(float));
        }
    }
}

/* the prefill's K, V (heads, N, DH) from token-major dk, dv: as they are,
 * or each head's embedding applied to the shared row */
static void prefill_kv(const layer *ly, const float *dk, const float *dv, float *k, float *v) {
    for (size_t h = 0; h < ly->kv; h++)
        for (size_t i = 0; i < N; i++) {
            const size_t g = ly->embed ? 0 : h, at = (h * N + i) * DH, from = (i * ly->kvc + g) * DH;
            memcpy(k + at, dk + from, DH * sizeof(float));
            memcpy(v + at, dv + from, DH * sizeof(float));
            if (ly->embed) {
                ly->embed->apply(k + at, ly->emb + H * DH + h * DH, DH);
                ly->embed->apply(v + at, ly->emb + 2 * H * DH + h * DH, DH);
            }
        }
}

/* the S rows the steps should give: step t from the prefill of K, V as
 * stored after L + t + 1 tokens */
static double *format_rows(const layer *ly, const attn_method *m, const kv_format *f, const kv_params *p) {
    double *want = malloc(S * H * DH * sizeof(double));
    float *dk = malloc(N * ly->kvc * DH * sizeof(float)), *dv = malloc(N * ly->kvc * DH * sizeof(float));
    float *k = malloc(ly->kv * N * DH * sizeof(float)), *v = malloc(ly->kv * N * DH * sizeof(float));
    layer r = *ly;
    r.k = k;
    r.v = v;
    size_t done = SIZE_MAX;
    double *rows = NULL;
    for (size_t t = 0; t < S; t++) {
        const size_t q = f->key_group_bytes ? kivi_quantized(p, L + t + 1) : N;
        if (q != done) {
            free(rows);
            round_kv(ly, f, p, q, dk, dv);
            prefill_kv(ly, dk, dv, k, v);
            rows = prefill_rows(&r, m, &layer_knobs);
            done = q;
        }
        memcpy(want + t * H * DH, rows + t * H * DH, H * DH * sizeof(double));
    }
    free(rows); free(dk); free(dv); free(k); free(v);
    return want;
}

/* 1 when decode took the configuration */
static int check_format(const attn_method *m, const proj_scheme *ps, const kv_format *f, const kv_params *p,
                        const float *x, float *const w[3]) {
    layer ly = make_layer(ps, (ps->knobs & KNOB_KV_HEADS) ? 2 : 0, x, w);
    decode_config c = layer_config(&ly, m->decode, 1, 1);
    c.fmt = f;
    c.kvp = *p;
    char why[300];
    if (decode_format_ok(&c, why, sizeof why)) {
        fprintf(stderr, "note: %s under %s, %s: refused (%s)\n", f->name, m->name, ps->name, why);
        free_layer(&ly);
        return 0;
    }
    float *one = run_decode(&ly, &c);
    double *want = format_rows(&ly, m, f, p);
    char what[128];
    snprintf(what, sizeof what, "decode %s (%s) in %s, %u bits vs the prefill of its grid", m->decode->name, m->name, f->name,
             p->bits);
    if (one) compare_rows(what, &ly, one, want, 1e-5);
    c.kn.threads = 3;
    float *three = run_decode(&ly, &c);
    CHECK(one && three && !memcmp(one, three, S * H * DH * sizeof(float)), "%s, %s, %s: 3 threads differ from 1", f->name,
          m->name, ps->name);
    free(one); free(three); free(want);
    free_layer(&ly);
    return 1;
}

/* the stored bytes of a format at d 64 against f32's, and bits per value */
static void check_bytes(void) {
    decode_config c = {.op = &decode_exact, .heads = 8, .kv_heads = 8, .d_head = 64, .max_len = 65600, .batch = 1};
    const size_t f32 = decode_cache_bytes(&c);
    const char *names[] = {"q8_0", "q4_0"};
    const size_t num[] = {34, 18};
    for (int i = 0; i < 2; i++) {
        c.fmt = kv_format_find(names[i]);
        CHECK(c.fmt && decode_cache_bytes(&c) * 128 == f32 * num[i], "%s: %zu bytes of f32's %zu, want %zu/128", names[i],
              decode_cache_bytes(&c), f32, num[i]);
        CHECK(fabs(decode_bits_per_value(&c) - num[i] / 4.0) < 1e-12, "%s: %g bits a value", names[i], decode_bits_per_value(&c));
    }
}

int main(void) {
    float *x, *w[3];
    layer_inputs(&x, w);
    for (const kv_format *f = kv_formats; f->name; f++)
        for (size_t pi = 0; pi < (f->key_group_bytes ? 2u : 1u); pi++) {
            size_t took = 0, exact_mha = 0;
            for (const attn_method *m = attn_methods; m->name; m++) {
                if (!m->decode) continue;
                for (const proj_scheme *ps = proj_schemes; ps->name; ps++) {
                    const int ok = check_format(m, ps, f, &kivi_params[pi], x, w);
                    took += ok;
                    exact_mha += ok && (m->flags & ATTN_EXACT) && (ps->flags & PROJ_REFERENCE);
                }
            }
            CHECK(exact_mha > 0, "%s: the exact operator under mha was refused", f->name);
            fprintf(stderr, "note: %s (%u bits): %zu configurations decoded\n", f->name, kivi_params[pi].bits, took);
        }
    check_bytes();
    free(x);
    for (int t = 0; t < 3; t++) free(w[t]);
    if (check_failures) fprintf(stderr, "test_decode_formats: %d check(s) failed\n", check_failures);
    return check_failures != 0;
}
