/* test_decode_methods.c — the decode conformance test over the two tables,
 * the sibling of test_methods.c: every entry of attn_methods[] with a decode
 * entry, under every scheme of proj_schemes[], with no list of names here,
 * so an operator or scheme added to a table is decoded the day it lands.
 * Entries without decode (attn_method.decode NULL) are named on stderr.
 *
 * For each (operator, scheme), heads 4 of 16, a context of 150 tokens then
 * 40 steps, the test's knobs (k 12, sink 3, window 24, features 40, budget
 * 40, recent 12, obs-window 8, pool 3, prompt 150):
 *   - the steps' outputs equal the last 40 rows of the operator's causal
 *     prefill on the scheme's q, k, v: rel_err <= 1e-5 and element-wise
 *     within 1e-5 + 1e-4 |want| (float32 against float32, different orders);
 *     schemes with head embeddings decode from the one shared K, V;
 *   - the counted workspace and cache equal decode_workspace_bytes and
 *     decode_cache_bytes (run_decode, tests/decode_layer.h);
 *   - a batch of 3 on 3 threads of a persistent pool, and one sequence on 3
 *     threads, equal one sequence on 1 thread bitwise (tolerance 0: a task,
 *     one sequence's unit or, split along the context (exact, window: blocks
 *     of 40 slots here), one block of it, runs whole on one thread, and the
 *     blocks merge in block order, so every sum and top-k's selection is the
 *     same whatever the thread count);
 * and per operator (mha):
 *   - a cache the entry declares bounded (no rows, or as many slots at
 *     max_len 190 as at 760) holds the same counted bytes at both; a growing
 *     one holds more (the test says which each is);
 *   - an entry that decides by its queries (attn_decode.queries) refuses a
 *     context appended without them, and decodes it as steps (run_decode);
 *     under a scheme with head embeddings decode_init refuses it;
 *   - each knob decode reads, set to 0 where the entry's own resolve refuses
 *     it, is refused by decode_init (ATTN_EINVAL), and an entry that reads
 *     knobs has at least one such refusal. */
#include "decode_layer.h"
#include "knobs.h"
#include "pool.h"

static void check_pair(const attn_method *m, const proj_scheme *ps, const float *x, float *const w[3]) {
    const size_t kv_opt = (ps->knobs & KNOB_KV_HEADS) ? 2 : 0;
    layer ly = make_layer(ps, kv_opt, x, w);
    decode_config c;
    int rc = decode_config_of(&c, m, ps, H, ly.kv, DH, N, &layer_knobs);
    CHECK(rc == ATTN_OK && c.kv_heads == ly.kvc, "%s, %s: decode_config_of %d, kv_heads %zu want %zu",
          m->name, ps->name, rc, c.kv_heads, ly.kvc);
    if (ly.emb) { c.ek = ly.emb + H * DH; c.ev = ly.emb + 2 * H * DH; }
    c.block = 40; /* a split step (exact, window) merges 4 or 5 blocks */
    c.kn.threads = 1;
    if (m->decode->queries && ly.embed) { /* one kept set for every head: refused */
        workspace ws;
        ws_init(&ws, 0);
        decode_ctx d;
        rc = decode_init(&d, &c, &ws);
        CHECK(rc == ATTN_EINVAL && !decode_cache_bytes(&c), "%s, %s: decides by its queries under head embeddings: %s",
              m->name, ps->name, attn_strerror(rc));
        if (rc == ATTN_OK) decode_free(&d, &ws);
        fprintf(stderr, "note: %s under %s: refused (one kept set for every head)\n", m->name, ps->name);
        free_layer(&ly);
        return;
    }
    float *one = run_decode(&ly, &c);
    double *want = prefill_rows(&ly, m, &layer_knobs);
    char what[96];
    snprintf(what, sizeof what, "decode %s (%s) vs its prefill", m->decode->name, m->name);
    if (one) compare_rows(what, &ly, one, want, 1e-5);
    c.kn.threads = 3;
    float *threads = run_decode(&ly, &c);
    c.batch = 3;
    c.pool = par_pool_new(3); /* the batch on a persistent pool */
    CHECK(c.pool && par_pool_threads(c.pool) == 3, "par_pool_new(3)");
    float *batch = run_decode(&ly, &c);
    par_pool_free(c.pool);
    for (size_t b = 0; one && batch && b < 3; b++)
        CHECK(memcmp(batch + b * S * H * DH, one, S * H * DH * sizeof(float)) == 0,
              "%s, %s: batch sequence %zu on 3 threads differs from one alone on 1", m->name, ps->name, b);
    CHECK(one && threads && memcmp(threads, one, S * H * DH * sizeof(float)) == 0,
          "%s, %s: 3 threads differ from 1", m->name, ps->name);
    free(one); free(want); free(threads); free(batch);
    free_layer(&ly);
}

/* the counted bytes one sequence holds at max_len */
static size_t counted_cache(decode_config c, size_t max_len) {
    c.max_len = max_len;
    workspace mws, sws;
    ws_init(&mws, 0);
    ws_init(&sws, 0);
    decode_ctx d;
    decode_seq s;
    size_t live = 0;
    if (decode_init(&d, &c, &mws) == ATTN_OK) {
        if (decode_seq_init(&d, &s, &sws) == ATTN_OK) live = sws.live;
        decode_seq_free(&s, &sws);
        decode_free(&d, &mws);
    }
    CHECK(live > 0 && live == decode_cache_bytes(&c), "%s at %zu: counted %zu, formula %zu", c.op->name,
          max_len, live, decode_cache_bytes(&c));
    return live;
}

static void check_bounded(const attn_method *m) {
    const attn_decode *op = m->decode;
    decode_config c = {.op = op, .heads = H, .kv_heads = H, .d_head = DH, .max_len = 4 * N, .batch = 1,
                       .kn = layer_knobs};
    decode_config at_n = c;
    at_n.max_len = N;
    const int bounded = !op->slots || op->slots(&c) == op->slots(&at_n);
    const size_t small = counted_cache(c, N), large = counted_cache(c, 4 * N);
    fprintf(stderr, "note: %s decodes as %s: %s, %zu bytes at %d tokens, %zu at %d\n", m->name, op->name,
            bounded ? "bounded" : "growing", small, N, large, 4 * N);
    if (bounded) CHECK(small == large, "%s: a bounded cache grew from %zu to %zu bytes", m->name, small, large);
    else CHECK(large > small, "%s: a growing cache did not grow (%zu, %zu)", m->name, small, large);
}

/* every knob decode reads, at 0 where the entry's resolve refuses it */
static void check_knobs(const attn_method *m) {
    const attn_decode *op = m->decode;
    int refused = 0;
    for (unsigned bit = 1; bit < KNOB_KV_HEADS; bit <<= 1) {
        if (!(op->knobs & bit)) continue;
        decode_config c = {.op = op, .heads = H, .kv_heads = H, .d_head = DH, .max_len = N, .batch = 1,
                           .kn = layer_knobs};
        *knob_field(&c.kn, bit) = 0;
        attn_knobs probe = c.kn;
        const attn_shape s = {H, H, N, DH, 1};
        if (op->resolve(&s, &probe, NULL, 0) == ATTN_OK) continue;
        refused++;
        workspace ws;
        ws_init(&ws, 0);
        decode_ctx d;
        const int rc = decode_init(&d, &c, &ws);
        CHECK(rc == ATTN_EINVAL, "%s: knob bit %u at 0 (its resolve refuses it): decode_init %s", m->name, bit,
              attn_strerror(rc));
        if (rc == ATTN_OK) decode_free(&d, &ws);
        CHECK(decode_cache_bytes(&c) == 0, "%s: a refused configuration has a cache of %zu", m->name,
              decode_cache_bytes(&c));
    }
    CHECK(!op->knobs || refused, "%s: reads knobs but refuses none at 0", m->name);
}

int main(void) {
    float *x, *w[3];
    layer_inputs(&x, w);
    size_t entries = 0;
    for (const attn_method *m = attn_methods; m->name; m++) {
        if (!m->decode) {
            fprintf(stderr, "note: %s has no decode entry (not checked here)\n", m->name);
            continue;
        }
        entries++;
        CHECK(m->decode->name && (m->decode->attend || m->decode->attend_range) && m->decode->read_bytes, "%s: decode entry incomplete", m->name);
        for (const proj_scheme *ps = proj_schemes; ps->name; ps++) check_pair(m, ps, x, w);
        check_bounded(m);
        check_knobs(m);
        CHECK(attn_decode_find(m->name) == m, "%s: decode's lookup does not find it", m->name);
    }
    CHECK(entries > 0, "no entry decodes");
    free(x);
    for (int t = 0; t < 3; t++) free(w[t]);
    return check_summary("test_decode_methods");
}
