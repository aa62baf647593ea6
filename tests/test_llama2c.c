/* test_llama2c.c — the llama2.c checkpoint reader and forward pass on tiny
 * random checkpoints: the layout (shared and unshared classifier), causality,
 * the K/V repeat of grouped-query heads, rotary embeddings (identity at
 * position 0, exact rotation of each pair, norms kept), the incremental path
 * against the whole-sequence pass, the likelihood, and refused checkpoints. */
#include "check.h"
#include "llama2c.h"

#include <unistd.h>

static char dir[] = "/tmp/attnbench-llama2c-XXXXXX";

static const char *path_of(const char *name) {
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

/* header: dim, hidden, layers, heads, kv_heads, vocab (negative: unshared), seq_len */
typedef struct { int h[7]; } header;

/* the float count the header implies (computed here independently of the reader) */
static size_t floats_for(const header *hd) {
    size_t dim = (size_t)hd->h[0], hid = (size_t)hd->h[1], L = (size_t)hd->h[2], H = (size_t)hd->h[3],
           KV = (size_t)hd->h[4], V = (size_t)abs(hd->h[5]), S = (size_t)hd->h[6];
    size_t hs = dim / H, kvd = hs * KV;
    size_t n = V * dim + L * dim + L * dim * dim + 2 * L * kvd * dim + L * dim * dim + L * dim + 3 * L * hid * dim + dim + S * hs;
    return hd->h[5] < 0 ? n + V * dim : n;
}

/* writes a checkpoint of random weights (RMSNorm weights near 1); `nfloats`
 * floats after the header (floats_for for a valid one); returns the floats */
static float *write_ckpt(const char *name, const header *hd, size_t nfloats) {
    float *w = malloc((nfloats ? nfloats : 1) * sizeof(float));
    test_fill(w, nfloats, 0.3);
    if (hd->h[0] > 0 && hd->h[2] > 0 && hd->h[3] > 0 && hd->h[4] > 0 && nfloats == floats_for(hd)) {
        /* the RMSNorm weights: after the embedding (rms_att) and after wo (rms_ffn) */
        size_t dim = (size_t)hd->h[0], L = (size_t)hd->h[2], V = (size_t)abs(hd->h[5]);
        size_t hs = dim / (size_t)hd->h[3], kvd = hs * (size_t)hd->h[4];
        size_t att = V * dim, ffn = att + L * dim + 2 * L * dim * dim + 2 * L * kvd * dim;
        for (size_t i = 0; i < L * dim; i++) { w[att + i] = 1.0f + 0.1f * w[att + i]; w[ffn + i] = 1.0f + 0.1f * w[ffn + i]; }
    }
    FILE *f = fopen(path_of(name), "wb");
    fwrite(hd->h, sizeof(int), 7, f);
    fwrite(w, sizeof(float), nfloats, f);
    fclose(f);
    return w;
}

static const header tiny = {{16, 40, 2, 4, 2, 32, 24}};

/* the whole-sequence pass over tokens; q/k/v of `layer` in (heads, n, hs) */
static void run_prefill(const llama_model *m, llama_state *s, const int *tokens, size_t n) {
    char err[256];
    int rc = llama_state_init(s, &m->c, n, n, 1, err, sizeof err);
    CHECK(rc == 0, "state init: %s", err);
    llama_forward(m, s, tokens, 0, n);
}

static double max_diff(const float *a, const float *b, size_t count) {
    double d = 0;
    for (size_t i = 0; i < count; i++) if (fabs((double)a[i] - b[i]) > d) d = fabs((double)a[i] - b[i]);
    return d;
}

static void test_layout(void) {
    char err[512];
    llama_model m;
    /* shared classifier */
    float *w = write_ckpt("shared.bin", &tiny, floats_for(&tiny));
    CHECK(llama_load(path_of("shared.bin"), &m, err, sizeof err) == 0, "load: %s", err);
    CHECK(m.c.dim == 16 && m.c.hidden_dim == 40 && m.c.n_layers == 2 && m.c.n_heads == 4 && m.c.n_kv_heads == 2 &&
          m.c.vocab_size == 32 && m.c.seq_len == 24, "config read back wrong");
    CHECK(m.c.head_size == 4 && m.c.kv_dim == 8 && m.c.shared_classifier == 1, "derived sizes wrong");
    CHECK(m.wcls == m.token_embedding, "shared classifier is not the embedding");
    CHECK(m.token_embedding[5] == w[5], "embedding misread");
    /* rms_final sits just before the two RoPE tables */
    size_t rope = 24 * 4, fin = floats_for(&tiny) - rope - 16;
    CHECK(m.rms_final[3] == w[fin + 3], "rms_final misread");
    llama_free(&m);
    free(w);

    /* unshared: the classifier is the last vocab x dim floats */
    header un = tiny;
    un.h[5] = -32;
    w = write_ckpt("unshared.bin", &un, floats_for(&un));
    CHECK(llama_load(path_of("unshared.bin"), &m, err, sizeof err) == 0, "load unshared: %s", err);
    CHECK(m.c.vocab_size == 32 && m.c.shared_classifier == 0, "unshared config wrong");
    CHECK(m.wcls != m.token_embedding && m.wcls[7] == w[floats_for(&un) - 32 * 16 + 7], "unshared classifier misread");
    llama_free(&m);
    free(w);
}

static void test_forward(void) {
    char err[512];
    llama_model m;
    float *w = write_ckpt("fwd.bin", &tiny, floats_for(&tiny));
    free(w);
    CHECK(llama_load(path_of("fwd.bin"), &m, err, sizeof err) == 0, "load: %s", err);
    const llama_config *c = &m.c;
    enum { N = 20, T = 11 };
    int tokens[N];
    for (int i = 0; i < N; i++) tokens[i] = (int)(test_rand64() % 32);
    const size_t per = (size_t)c->n_heads * N * (size_t)c->head_size, hs = (size_t)c->head_size;
    float *q[2], *k[2], *v[2];
    for (int i = 0; i < 2; i++) { q[i] = malloc(per * sizeof(float)); k[i] = malloc(per * sizeof(float)); v[i] = malloc(per * sizeof(float)); }

    llama_state a, b;
    run_prefill(&m, &a, tokens, N);

    /* causality: a different token at T changes nothing before T, and T itself */
    int changed[N];
    memcpy(changed, tokens, sizeof changed);
    changed[T] = (tokens[T] + 7) % 32;
    run_prefill(&m, &b, changed, N);
    for (int l = 0; l < c->n_layers; l++) {
        llama_layer_qkv(c, &a, l, N, q[0], k[0], v[0]);
        llama_layer_qkv(c, &b, l, N, q[1], k[1], v[1]);
        double before = 0, at = 0;
        for (size_t h = 0; h < (size_t)c->n_heads; h++) {
            size_t o = h * N * hs;
            before = fmax(before, max_diff(q[0] + o, q[1] + o, T * hs));
            before = fmax(before, max_diff(k[0] + o, k[1] + o, T * hs));
            before = fmax(before, max_diff(v[0] + o, v[1] + o, T * hs));
            at = fmax(at, max_diff(k[0] + o + T * hs, k[1] + o + T * hs, hs));
        }
        CHECK(before == 0, "layer %d: changing token %d moved q/k/v before it by %g", l, T, before);
        CHECK(at > 1e-3, "layer %d: changing token %d did not change its own k (%g)", l, T, at);
    }
    llama_state_free(&b);

    /* grouped-query heads: heads 0,1 share K/V head 0 and heads 2,3 share head 1 */
    llama_layer_qkv(c, &a, 1, N, q[0], k[0], v[0]);
    CHECK(max_diff(k[0], k[0] + N * hs, N * hs) == 0 && max_diff(v[0], v[0] + N * hs, N * hs) == 0,
          "heads 0 and 1 do not share k, v");
    CHECK(max_diff(k[0] + 2 * N * hs, k[0] + 3 * N * hs, N * hs) == 0, "heads 2 and 3 do not share k");
    CHECK(max_diff(k[0], k[0] + 2 * N * hs, N * hs) > 1e-3, "heads 0 and 2 have the same k");
    CHECK(max_diff(q[0], q[0] + N * hs, N * hs) > 1e-3, "query heads 0 and 1 are the same");

    /* rotary embeddings in layer 0, against the un-rotated projection done here:
     * q_raw = wq . rmsnorm(embedding[token]) */
    llama_layer_qkv(c, &a, 0, N, q[0], k[0], v[0]);
    double worst_rot = 0, worst_norm = 0, worst_pos0 = 0;
    for (size_t t = 0; t < N; t++) {
        const float *e = m.token_embedding + (size_t)tokens[t] * 16;
        double ss = 0, xb[16], raw[16];
        for (int i = 0; i < 16; i++) ss += (double)e[i] * e[i];
        for (int i = 0; i < 16; i++) xb[i] = m.rms_att[i] * e[i] / sqrt(ss / 16 + 1e-5);
        for (int o = 0; o < 16; o++) {
            raw[o] = 0;
            for (int i = 0; i < 16; i++) raw[o] += (double)m.wq[o * 16 + i] * xb[i];
        }
        for (size_t h = 0; h < 4; h++)
            for (size_t i = 0; i < hs / 2; i++) {
                double a0 = raw[h * hs + 2 * i], a1 = raw[h * hs + 2 * i + 1];
                const float *got = q[0] + (h * N + t) * hs + 2 * i;
                double ang = (double)t * pow(10000.0, -2.0 * (double)i / (double)hs);
                double w0 = a0 * cos(ang) - a1 * sin(ang), w1 = a0 * sin(ang) + a1 * cos(ang);
                worst_rot = fmax(worst_rot, fmax(fabs(got[0] - w0), fabs(got[1] - w1)));
                worst_norm = fmax(worst_norm, fabs(hypot(got[0], got[1]) - hypot(a0, a1)) / fmax(hypot(a0, a1), 1e-6));
                if (t == 0) worst_pos0 = fmax(worst_pos0, fmax(fabs(got[0] - a0), fabs(got[1] - a1)));
            }
    }
    CHECK(worst_pos0 < 1e-5, "position 0 is not the un-rotated projection (max diff %g)", worst_pos0);
    CHECK(worst_rot < 1e-5, "q is not the pairs (2i, 2i+1) rotated by pos * 10000^(-2i/hs) (max diff %g)", worst_rot);
    CHECK(worst_norm < 1e-5, "rotation changed a pair's norm (max rel %g)", worst_norm);

    /* the incremental path (sampling) agrees with the whole-sequence pass */
    CHECK(llama_state_init(&b, c, N, 1, 1, err, sizeof err) == 0, "state: %s", err);
    float last[16];
    for (size_t t = 0; t < N; t++) llama_forward(&m, &b, tokens + t, t, 1);
    memcpy(last, b.x, sizeof last);
    size_t cache = (size_t)c->n_layers * N * (size_t)c->kv_dim, qrec = (size_t)c->n_layers * N * 16;
    double dk = max_diff(a.k_cache, b.k_cache, cache), dv = max_diff(a.v_cache, b.v_cache, cache),
           dq = max_diff(a.q_record, b.q_record, qrec), dx = max_diff(a.x + (N - 1) * 16, last, 16);
    CHECK(dk < 1e-4 && dv < 1e-4 && dq < 1e-4 && dx < 1e-4, "one position at a time differs: k %g v %g q %g x %g", dk, dv, dq, dx);
    llama_state_free(&b);

    /* the likelihood against the logits done here */
    double nll = -1, want = 0;
    CHECK(llama_nll(&m, a.x, tokens, N, &nll, err, sizeof err) == 0, "nll: %s", err);
    float *logits = malloc(N * 32 * sizeof(float));
    llama_logits(&m, a.x, N, logits);
    for (size_t t = 0; t + 1 < N; t++) {
        double mx = -INFINITY, z = 0;
        for (int j = 0; j < 32; j++) mx = fmax(mx, logits[t * 32 + j]);
        for (int j = 0; j < 32; j++) z += exp(logits[t * 32 + j] - mx);
        want += mx + log(z) - logits[t * 32 + tokens[t + 1]];
    }
    want /= N - 1;
    CHECK(fabs(nll - want) < 1e-5, "nll %g, want %g", nll, want);
    CHECK(llama_nll(&m, a.x, tokens, 1, &nll, err, sizeof err) == -1, "nll of one token should fail");
    free(logits);

    llama_state_free(&a);
    for (int i = 0; i < 2; i++) { free(q[i]); free(k[i]); free(v[i]); }
    llama_free(&m);
}

/* a checkpoint that must be refused with `want` in the message: the floats
 * the header implies plus delta_floats (100 where the header makes no sense),
 * cut to cut_bytes when that is not 0 */
static void expect_refused(const char *name, const header *hd, long delta_floats, long cut_bytes, const char *want) {
    int sane = 1;
    for (int i = 0; i < 7; i++) sane = sane && hd->h[i] != 0 && abs(hd->h[i]) < (1 << 20) && (i == 5 || hd->h[i] > 0);
    size_t nf = sane ? floats_for(hd) : 100;
    float *w = write_ckpt(name, hd, (size_t)((long)nf + delta_floats));
    free(w);
    if (cut_bytes) CHECK(truncate(path_of(name), (off_t)cut_bytes) == 0, "truncate %s", name);
    llama_model m;
    char err[512] = "";
    int rc = llama_load(path_of(name), &m, err, sizeof err);
    CHECK(rc == -1, "%s: should be refused", name);
    CHECK(strstr(err, want) != NULL, "%s: message '%s' lacks '%s'", name, err, want);
    CHECK(strstr(err, name) != NULL, "%s: message '%s' does not name the file", name, err);
    CHECK(m.file == NULL, "%s: weights left allocated after an error", name);
}

static void test_refused(void) {
    header h = tiny;
    expect_refused("short-header.bin", &h, 0, 10, "shorter than the 28-byte header");
    expect_refused("truncated.bin", &h, -1, 0, "truncated");
    expect_refused("long.bin", &h, 3, 0, "wrong size");
    h = tiny; h.h[5] = -32; /* says unshared, holds no classifier */
    expect_refused("no-classifier.bin", &h, -32 * 16, 0, "shared classifier: vocab_size should be positive");
    h = tiny; /* says shared, holds one */
    expect_refused("extra-classifier.bin", &h, 32 * 16, 0, "unshared classifier: vocab_size should be negative");
    const char *fields[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
    for (int i = 0; i < 7; i++) {
        char name[64];
        snprintf(name, sizeof name, "zero-%s.bin", fields[i]);
        h = tiny;
        h.h[i] = 0;
        expect_refused(name, &h, 0, 0, fields[i]);
    }
    h = tiny; h.h[1] = -40;
    expect_refused("negative-hidden.bin", &h, 0, 0, "hidden_dim is -40, must be positive");
    h = tiny; h.h[4] = 3;
    expect_refused("kv-heads.bin", &h, 0, 0, "not a multiple of n_kv_heads");
    h = tiny; h.h[4] = 8;
    expect_refused("kv-more.bin", &h, 0, 0, "not a multiple of n_kv_heads");
    h = tiny; h.h[0] = 18;
    expect_refused("dim-heads.bin", &h, 0, 0, "not a multiple of n_heads");
    h = tiny; h.h[0] = 12; h.h[4] = 4; /* head size 3 */
    expect_refused("odd-head.bin", &h, 0, 0, "is odd");
    h = tiny; h.h[0] = 1 << 30; h.h[1] = 1 << 30; h.h[2] = 1 << 30; h.h[3] = 2; h.h[4] = 2;
    expect_refused("overflow.bin", &h, 0, 0, "overflow");

    /* a NaN weight */
    h = tiny;
    float *w = write_ckpt("nan.bin", &h, floats_for(&h));
    w[100] = NAN;
    FILE *f = fopen(path_of("nan.bin"), "wb");
    fwrite(h.h, sizeof(int), 7, f);
    fwrite(w, sizeof(float), floats_for(&h), f);
    fclose(f);
    free(w);
    llama_model m;
    char err[512];
    CHECK(llama_load(path_of("nan.bin"), &m, err, sizeof err) == -1 && strstr(err, "non-finite"), "NaN weight: '%s'", err);
    CHECK(llama_load(path_of("missing.bin"), &m, err, sizeof err) == -1 && strstr(err, "missing.bin"), "missing file: '%s'", err);
    CHECK(llama_load(dir, &m, err, sizeof err) == -1 && strstr(err, "not a regular file"), "directory: '%s'", err);
}

int main(void) {
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_layout();
    test_forward();
    test_refused();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_llama2c");
}
