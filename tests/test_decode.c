/* test_decode.c — what is particular to some decode entries (the table-wide
 * conformance, decode = prefill for every operator and scheme, threads,
 * memory and knobs, is tests/test_decode_methods.c): the window step
 * against a direct float64 computation; under every scheme with head
 * embeddings, one shared K, V with the embeddings applied at read time
 * equals the per-head K, V the projection materialises, for every operator,
 * and holds 1/heads of their cache; the formulas in numbers; bad shapes
 * refused. */
#include "decode_layer.h"

/* the window operator in float64: query i sees keys j < sink or i - w < j <= i */
static double *window_direct(const layer *ly, size_t sink, size_t w) {
    double *ref = calloc(H * S * DH, sizeof(double));
    const size_t group = H / ly->kv;
    for (size_t h = 0; h < H; h++)
        for (size_t t = 0; t < S; t++) {
            const size_t i = L + t;
            const float *qi = ly->q + (h * N + i) * DH;
            const float *kh = ly->k + (h / group) * N * DH, *vh = ly->v + (h / group) * N * DH;
            double mx = -INFINITY, sc[N], z = 0;
            for (size_t j = 0; j <= i; j++) {
                sc[j] = -INFINITY;
                if (!decode_window_sees(sink, w, i, j)) continue;
                double dot = 0;
                for (size_t x = 0; x < DH; x++) dot += (double)qi[x] * kh[j * DH + x];
                sc[j] = dot / sqrt((double)DH);
                mx = sc[j] > mx ? sc[j] : mx;
            }
            double *o = ref + (t * H + h) * DH;
            for (size_t j = 0; j <= i; j++) {
                if (sc[j] == -INFINITY) continue;
                const double p = exp(sc[j] - mx);
                z += p;
                for (size_t x = 0; x < DH; x++) o[x] += p * vh[j * DH + x];
            }
            for (size_t x = 0; x < DH; x++) o[x] /= z;
        }
    return ref;
}

/* the window step against the float64 direct computation, every scheme */
static void check_window(const proj_scheme *ps, size_t kv_opt, const float *x, float *const w[3]) {
    layer ly = make_layer(ps, kv_opt, x, w);
    const decode_config c = layer_config(&ly, &decode_window, 1, 1);
    float *got = run_decode(&ly, &c);
    double *direct = window_direct(&ly, c.kn.sink, c.kn.window);
    if (got) compare_rows("decode window vs float64", &ly, got, direct, 1e-5);
    free(got); free(direct);
    free_layer(&ly);
}

/* embeddings: one shared K, V with the embeddings applied at read time
 * equals the per-head K, V the projection materialises */
static void check_shared(const proj_scheme *ps, const float *x, float *const w[3]) {
    layer shared = make_layer(ps, 0, x, w);
    layer per_head = make_layer(ps, 0, x, w);
    free(per_head.dk); free(per_head.dv); free(per_head.emb);
    per_head.emb = NULL;
    per_head.dk = token_major(per_head.k, H, N, DH);
    per_head.dv = token_major(per_head.v, H, N, DH);
    per_head.kvc = H;
    per_head.embed = NULL;
    for (const attn_method *m = attn_methods; m->name; m++) {
        if (!m->decode || m->decode->queries) continue; /* refused with embeddings (test_decode_methods) */
        decode_config cs = layer_config(&shared, m->decode, 1, 1), cp = layer_config(&per_head, m->decode, 1, 1);
        float *a = run_decode(&shared, &cs), *b = run_decode(&per_head, &cp);
        double *bd = test_to_double(b, S * H * DH);
        const double re = test_rel_err(a, bd, S * H * DH);
        CHECK(re <= 1e-5, "%s, %s: shared cache vs per-head K, V: rel_err %.3g", ps->name, m->name, re);
        free(a); free(b); free(bd);
    }
    /* what each holds: the shared cache is 1/heads of the per-head one */
    decode_config cs = layer_config(&shared, &decode_exact, 1, 1), cp = layer_config(&per_head, &decode_exact, 1, 1);
    CHECK(decode_cache_bytes(&cs) * H == decode_cache_bytes(&cp), "%s shared cache: %zu vs %zu", ps->name,
          decode_cache_bytes(&cs), decode_cache_bytes(&cp));
    free_layer(&shared); free_layer(&per_head);
}

/* the formulas in numbers */
static void check_cache_formula(void) {
    decode_config c = {.op = &decode_exact, .heads = 8, .kv_heads = 8, .d_head = 64, .max_len = 65536, .batch = 1};
    CHECK(decode_cache_bytes(&c) == (size_t)256 << 20, "mha 8 x 64 at 64k: %zu, want 256 MiB", decode_cache_bytes(&c));
    c.kv_heads = 1;
    CHECK(decode_cache_bytes(&c) == (size_t)32 << 20, "mqa: %zu, want 32 MiB", decode_cache_bytes(&c));
    c.op = &decode_window; c.kv_heads = 2; c.kn.sink = 4; c.kn.window = 252;
    CHECK(decode_cache_bytes(&c) == 2 * 2 * 256 * 64 * 4, "window: %zu", decode_cache_bytes(&c));
    c.op = &decode_performer; c.kv_heads = 8; c.kn.features = 256;
    const size_t perf = 8 * 256 * 66 * 4;
    CHECK(decode_cache_bytes(&c) == perf, "performer: %zu, want %zu", decode_cache_bytes(&c), perf);
    c.max_len = 1024;
    CHECK(decode_cache_bytes(&c) == perf, "performer at 1k: %zu, want %zu", decode_cache_bytes(&c), perf);
}

static void check_bad(void) {
    workspace ws;
    ws_init(&ws, 0);
    decode_ctx d;
    decode_config c = {.op = &decode_exact, .heads = 6, .kv_heads = 4, .d_head = 8, .max_len = 10, .batch = 1};
    CHECK(decode_init(&d, &c, &ws) == ATTN_EINVAL, "kv_heads not dividing heads accepted");
    c.kv_heads = 2; c.embed = &mhe_mul_embed;
    float e[6 * 8] = {0};
    c.ek = c.ev = e;
    CHECK(decode_init(&d, &c, &ws) == ATTN_EINVAL, "embeddings with 2 K/V heads accepted");
    c.kv_heads = 1; c.ek = NULL;
    CHECK(decode_init(&d, &c, &ws) == ATTN_EINVAL, "embeddings without their tensors accepted");
    c.kv_heads = 2; c.embed = NULL; c.d_head = 0;
    CHECK(decode_init(&d, &c, &ws) == ATTN_EINVAL, "d_head 0 accepted");
    c.d_head = 8; c.op = NULL;
    CHECK(decode_init(&d, &c, &ws) == ATTN_EINVAL, "no operator accepted");
    c.op = &decode_exact;
    CHECK(decode_init(&d, &c, &ws) == ATTN_OK, "a good configuration refused");
    decode_seq s;
    workspace sws;
    ws_init(&sws, 0);
    CHECK(decode_seq_init(&d, &s, &sws) == ATTN_OK, "seq init");
    float kv[11 * 2 * 8] = {0};
    CHECK(decode_append(&d, &s, 11, kv, kv, 16) == ATTN_EINVAL && s.len == 0, "append past max_len accepted");
    decode_seq_free(&s, &sws);
    decode_free(&d, &ws);
}

int main(void) {
    float *x, *w[3];
    layer_inputs(&x, w);
    for (const proj_scheme *ps = proj_schemes; ps->name; ps++)
        check_window(ps, (ps->knobs & KNOB_KV_HEADS) ? 2 : 0, x, w);
    for (const proj_scheme *ps = proj_schemes; ps->name; ps++)
        if (ps->embed) check_shared(ps, x, w);
    check_cache_formula();
    check_bad();
    free(x);
    for (int t = 0; t < 3; t++) free(w[t]);
    return check_summary("test_decode");
}
