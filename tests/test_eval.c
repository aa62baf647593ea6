/* test_eval.c — `attnbench eval`'s substitution inside the llama2.c forward
 * pass, on a tiny random checkpoint written here: exact substitutions
 * (chunked, vanilla, top-k with k = n, window over everything, gqa with the
 * checkpoint's own K/V heads, mha) give the exact model's NLL (the one
 * llama_nll gives, as capture reports it), ΔNLL = 0, KL = 0 and top-1 = 1;
 * approximations do not; a single substituted layer measures only itself;
 * the decoding cache; the feed-forward top-k; greedy generation; the
 * llama2.c tokenizer (merges by score, garbage refused); the substituted
 * layers through the decode path (--kv-format: f32 equals the prefill for
 * exact, top-k, window; q4_0 moves the figures; the KL spread in order).
 * `test_eval --write-ckpt PATH` writes the checkpoint for e2e_eval.sh. */
#include "check.h"
#include "eval.h"
#include "llama_tiny.h"
#include "methods.h"
#include "tokenizer.h"

#include <unistd.h>

static const llama_tiny_header tiny = {{16, 40, 2, 4, 2, 32, 32}};
enum { N = 3, NT = 24 };
static char path[] = "/tmp/attnbench-eval-XXXXXX";

typedef struct {
    llama_model md;
    int tokens[N * NT];
    eval_exact ex;
    double nll_capture; /* mean of llama_nll over the sequences */
} fixture;

static void setup(fixture *f) {
    char err[512];
    CHECK(llama_load(path, &f->md, err, sizeof err) == 0, "load: %s", err);
    for (int i = 0; i < N * NT; i++) f->tokens[i] = (int)(test_rand64() % 32);
    CHECK(eval_exact_run(&f->md, &f->ex, f->tokens, N, NT, err, sizeof err) == 0, "exact: %s", err);
    llama_state s;
    CHECK(llama_state_init(&s, &f->md.c, NT, NT, 0, err, sizeof err) == 0, "state: %s", err);
    f->nll_capture = 0;
    for (int i = 0; i < N; i++) {
        double nll;
        llama_forward(&f->md, &s, f->tokens + i * NT, 0, NT);
        CHECK(llama_nll(&f->md, s.x, f->tokens + i * NT, NT, &nll, err, sizeof err) == 0, "nll: %s", err);
        f->nll_capture += nll / N;
    }
    llama_state_free(&s);
}

/* the cache format measure() gives the substituted layers (NULL: prefill) */
static const kv_format *measure_fmt;

/* one configuration over the fixture: op/ps by name ("model": none), every
 * layer or only `only` (>= 0), knobs for all layers */
static int measure(fixture *f, const char *op, const char *ps, size_t kv, int only, attn_knobs kn, size_t ffn_k,
                   eval_sub *e, eval_stats *st) {
    static int sub[8];
    static attn_knobs knobs[8];
    char err[512];
    memset(e, 0, sizeof *e);
    e->md = &f->md;
    e->op = strcmp(op, "model") ? attn_method_find(op) : NULL;
    e->ps = proj_scheme_find(ps);
    e->kv = kv;
    for (int l = 0; l < f->md.c.n_layers; l++) { sub[l] = only < 0 || only == l; knobs[l] = kn; }
    e->sub = sub;
    e->knobs = knobs;
    e->ffn_k = ffn_k;
    e->measure_err = 1;
    e->max_n = NT;
    e->fmt = measure_fmt;
    e->kvp = kv_params_default;
    CHECK(eval_sub_init(e, err, sizeof err) == 0, "init: %s", err);
    int rc = eval_measure(e, &f->ex, st, err, sizeof err);
    CHECK(rc == 0, "%s/%s: %s", op, ps, err);
    return rc;
}

static void test_exact(fixture *f) {
    const struct { const char *op, *ps; size_t kv; attn_knobs kn; } cases[] = {
        {"chunked", "gqa", 2, {.chunk = 5}},
        {"vanilla", "gqa", 2, {0}},
        {"topk", "gqa", 2, {.k = NT, .chunk = 7}},
        {"window", "gqa", 2, {.sink = 0, .window = NT}},
        {"chunked", "mha", 4, {.chunk = 8}},
        {"model", "gqa", 2, {0}},
    };
    CHECK(fabs(f->nll_capture - 0) > 0.1, "nll %g", f->nll_capture);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eval_sub e;
        eval_stats st;
        if (measure(f, cases[i].op, cases[i].ps, cases[i].kv, -1, cases[i].kn, 0, &e, &st)) { eval_sub_free(&e); continue; }
        CHECK(fabs(st.nll_exact - f->nll_capture) < 1e-9, "%s: exact nll %.12g, llama_nll %.12g", cases[i].op, st.nll_exact, f->nll_capture);
        CHECK(fabs(st.dnll) < 1e-5 && fabs(st.nll - f->nll_capture) < 1e-5, "%s/%s: dnll %g", cases[i].op, cases[i].ps, st.dnll);
        CHECK(st.kl < 1e-9 && st.top1 == 1.0, "%s/%s: kl %g top1 %g", cases[i].op, cases[i].ps, st.kl, st.top1);
        for (int l = 0; l < 2 && e.op; l++)
            CHECK(st.layer_rel_err[l] < 1e-5, "%s/%s: layer %d rel_err %g", cases[i].op, cases[i].ps, l, st.layer_rel_err[l]);
        free(st.layer_rel_err);
        eval_sub_free(&e);
    }
}

static void test_approximate(fixture *f) {
    eval_sub e;
    eval_stats st;
    /* mqa pools the two K/V heads into one: no longer the model */
    if (!measure(f, "chunked", "mqa", 1, -1, (attn_knobs){.chunk = 8}, 0, &e, &st)) {
        CHECK(st.kl > 1e-6 && st.layer_rel_err[0] > 1e-3, "mqa: kl %g rel_err %g", st.kl, st.layer_rel_err[0]);
        CHECK(eval_cache_bytes(&e, NT) == 2 * 1 * 4 * 4 * NT * 2, "mqa cache %zu", eval_cache_bytes(&e, NT));
        free(st.layer_rel_err);
    }
    eval_sub_free(&e);
    /* top-k k = 2 in layer 1 only: layer 0 is not measured, layer 1 is */
    if (!measure(f, "topk", "gqa", 2, 1, (attn_knobs){.k = 2, .chunk = 8}, 0, &e, &st)) {
        CHECK(isnan(st.layer_rel_err[0]) && st.layer_rel_err[1] > 1e-3, "topk k 2 in layer 1: rel_err %g, %g",
              st.layer_rel_err[0], st.layer_rel_err[1]);
        CHECK(st.kl > 1e-6 && st.top1 <= 1, "topk k 2: kl %g", st.kl);
        CHECK(eval_cache_bytes(&e, NT) == 2 * 2 * 4 * 4 * NT * 2, "topk cache %zu (k does not change it)", eval_cache_bytes(&e, NT));
        free(st.layer_rel_err);
    }
    eval_sub_free(&e);
    /* window: sink 1 + window 4 per layer */
    if (!measure(f, "window", "gqa", 2, -1, (attn_knobs){.sink = 1, .window = 4}, 0, &e, &st)) {
        CHECK(eval_cache_bytes(&e, NT) == 2 * 2 * 4 * 4 * 5 * 2, "window cache %zu", eval_cache_bytes(&e, NT));
        /* the same operator without a decode entry: no cache to count, not exact's */
        attn_method no_decode = *e.op;
        const attn_method *op = e.op;
        no_decode.decode = NULL;
        e.op = &no_decode;
        CHECK(eval_cache_bytes(&e, NT) == 0, "an operator without decode: cache %zu, want 0", eval_cache_bytes(&e, NT));
        e.op = op;
        free(st.layer_rel_err);
    }
    eval_sub_free(&e);
}

static void test_ffn_and_generation(fixture *f) {
    eval_sub e;
    eval_stats st;
    if (!measure(f, "model", "gqa", 2, -1, (attn_knobs){0}, 40, &e, &st)) {
        CHECK(st.kl == 0 && st.dnll == 0, "ffn-k = hidden_dim: kl %g", st.kl);
        free(st.layer_rel_err);
    }
    eval_sub_free(&e);
    if (!measure(f, "model", "gqa", 2, -1, (attn_knobs){0}, 3, &e, &st)) {
        CHECK(st.kl > 1e-4, "ffn-k 3 of 40: kl %g", st.kl);
        free(st.layer_rel_err);
    }
    eval_sub_free(&e);
    char err[512];
    double first = 0, match = 0;
    if (!measure(f, "chunked", "gqa", 2, -1, (attn_knobs){.chunk = 8}, 0, &e, &st)) {
        CHECK(eval_generate(&e, f->tokens, N, NT, 8, &first, &match, err, sizeof err) == 0, "generate: %s", err);
        CHECK(first == -1 && match == 1, "exact generation: first diff %g, match %g", first, match);
        free(st.layer_rel_err);
    }
    eval_sub_free(&e);
    if (!measure(f, "topk", "gqa", 2, -1, (attn_knobs){.k = 1, .chunk = 8}, 0, &e, &st)) {
        CHECK(eval_generate(&e, f->tokens, N, NT, 8, &first, &match, err, sizeof err) == 0, "generate: %s", err);
        CHECK(match < 1 && first >= 0 && first <= 8, "top-1 generation: first diff %g, match %g", first, match);
        free(st.layer_rel_err);
    }
    eval_sub_free(&e);
}

/* a tokenizer of 32 tokens: <unk> <s> </s> " " a b ab " ab", then c..z */
static void write_tokenizer(const char *p, int vocab) {
    FILE *fp = fopen(p, "wb");
    int32_t max_len = 5;
    fwrite(&max_len, 4, 1, fp);
    const char *fixed[8] = {"<unk>", "<s>", "</s>", " ", "a", "b", "ab", " ab"};
    const float score[8] = {0, 0, 0, -1, -2, -3, 1, 2};
    for (int i = 0; i < vocab; i++) {
        char one[2] = {(char)('c' + i - 8), 0};
        const char *s = i < 8 ? fixed[i] : one;
        float sc = i < 8 ? score[i] : -10.0f - (float)i;
        int32_t len = (int32_t)strlen(s);
        fwrite(&sc, 4, 1, fp);
        fwrite(&len, 4, 1, fp);
        fwrite(s, 1, (size_t)len, fp);
    }
    fclose(fp);
}

static void test_tokenizer(void) {
    char p[64], err[512];
    snprintf(p, sizeof p, "%s.tok", path);
    write_tokenizer(p, 32);
    tokenizer t;
    CHECK(tokenizer_load(p, 32, &t, err, sizeof err) == 0, "load: %s", err);
    int *tok = NULL;
    size_t n = 0;
    CHECK(tokenizer_encode(&t, "ab abc", 6, SIZE_MAX, &tok, &n, NULL, err, sizeof err) == 0, "encode: %s", err);
    int want[] = {1, 7, 7, 8};
    CHECK(n == 4 && !memcmp(tok, want, sizeof want), "\"ab abc\": %zu tokens %d %d %d %d", n, tok[0], n > 1 ? tok[1] : -1,
          n > 2 ? tok[2] : -1, n > 3 ? tok[3] : -1);
    free(tok);
    CHECK(tokenizer_encode(&t, "a\xff", 2, SIZE_MAX, &tok, &n, NULL, err, sizeof err) != 0 && strstr(err, "0xff"), "byte 0xff accepted");
    tokenizer_free(&t);
    CHECK(tokenizer_load(p, 40, &t, err, sizeof err) != 0 && strstr(err, "32 tokens"), "vocab 40 accepted: %s", err);
    /* garbage: not a tokenizer */
    FILE *fp = fopen(p, "wb");
    for (int i = 0; i < 300; i++) fputc((int)(test_rand64() & 0xff), fp);
    fclose(fp);
    CHECK(tokenizer_load(p, 32, &t, err, sizeof err) != 0 && strstr(err, "not a llama2.c tokenizer"), "garbage: %s", err);
    CHECK(tokenizer_load("/dev/zero", 32, &t, err, sizeof err) != 0 && strstr(err, "not a regular file"), "/dev/zero: %s", err);
    unlink(p);
}

/* the decode path: with f32 as the prefill (nll within 1e-5), with q4_0 not
 * the same; the KL figures in order */
static void test_decode_path(fixture *f) {
    const struct { const char *op; attn_knobs kn; } cases[] = {
        {"vanilla", {0}}, {"chunked", {.chunk = 5}}, {"topk", {.k = 5, .chunk = 7}}, {"window", {.sink = 1, .window = 4}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eval_sub e;
        eval_stats pre, dec, q4;
        measure_fmt = NULL;
        if (measure(f, cases[i].op, "gqa", 2, -1, cases[i].kn, 0, &e, &pre)) { eval_sub_free(&e); continue; }
        eval_sub_free(&e);
        free(pre.layer_rel_err);
        measure_fmt = kv_format_find("f32");
        if (!measure(f, cases[i].op, "gqa", 2, -1, cases[i].kn, 0, &e, &dec)) {
            CHECK(fabs(dec.nll - pre.nll) <= 1e-5 && fabs(dec.kl - pre.kl) <= 1e-5, "%s: decode path nll %.9g kl %.3g, prefill %.9g %.3g",
                  cases[i].op, dec.nll, dec.kl, pre.nll, pre.kl);
            CHECK(dec.kl_p50 <= dec.kl_p90 && dec.kl_p90 <= dec.kl_p99 && dec.kl_p99 <= dec.kl_max && dec.dp_rms >= 0,
                  "%s: kl spread out of order", cases[i].op);
            free(dec.layer_rel_err);
        }
        eval_sub_free(&e);
        measure_fmt = kv_format_find("q4_0");
        if (!measure(f, cases[i].op, "gqa", 2, -1, cases[i].kn, 0, &e, &q4)) {
            CHECK(fabs(q4.nll - pre.nll) > 1e-4 && fabs(q4.kl - pre.kl) > 1e-6 && q4.kl_max > 0 && q4.dp_rms > 0,
                  "%s: q4_0 nll %.9g kl %.3g, prefill %.9g %.3g", cases[i].op, q4.nll, q4.kl, pre.nll, pre.kl);
            free(q4.layer_rel_err);
        }
        eval_sub_free(&e);
    }
    measure_fmt = NULL;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-ckpt")) return llama_tiny_write(argv[2], &tiny) ? 1 : 0;
    int fd = mkstemp(path);
    if (fd < 0 || close(fd) || llama_tiny_write(path, &tiny)) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    fixture f;
    setup(&f);
    test_exact(&f);
    test_approximate(&f);
    test_ffn_and_generation(&f);
    test_decode_path(&f);
    test_tokenizer();
    eval_exact_free(&f.ex);
    llama_free(&f.md);
    unlink(path);
    return check_summary("test_eval");
}
