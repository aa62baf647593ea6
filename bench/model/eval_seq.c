/* eval_seq.c — the token sequences `attnbench eval` runs: sampled by the
 * exact model from BOS, read from an integer .npy (1-D: one sequence; 2-D:
 * one per row), or a text file encoded with a llama2.c tokenizer (as far as
 * the sequences take) and cut into consecutive sequences of n tokens. Bad
 * input: one line, exit 2. */
#include "eval_seq.h"
#include "readfile.h"
#include "attention.h" /* size_mul, size_mul_sat */
#include "npy.h"
#include "tokenizer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_SEQUENCES = 8, DEFAULT_N_CAP = 512 };

/* a --tokens file of rows sequences of len tokens: the n and N eval runs */
static void npy_counts(const run_options *o, size_t rows, size_t len, size_t *N, size_t *n) {
    *n = options_given(o, "n") ? o->n : len;
    *N = options_given(o, "sequences") ? o->sequences : rows;
}

/* sampled sequences: the n and N eval runs */
static void sampled_counts(const run_options *o, const llama_config *c, size_t *N, size_t *n) {
    size_t cap = (size_t)c->seq_len < DEFAULT_N_CAP ? (size_t)c->seq_len : DEFAULT_N_CAP;
    *n = options_given(o, "n") ? o->n : cap;
    *N = options_given(o, "sequences") ? o->sequences : DEFAULT_SEQUENCES;
}

static int from_npy(const char *cmd, const run_options *o, const llama_config *c, eval_tokens *t) {
    char err[1024];
    npy_array a;
    if (npy_read(o->tokens, &a, err, sizeof err)) return bad_input(cmd, "--tokens %s", err);
    int rc = 0;
    size_t rows = a.ndim == 2 ? a.shape[0] : 1, len = a.ndim == 2 ? a.shape[1] : a.count;
    if (a.descr[1] != 'i' && a.descr[1] != 'u')
        rc = bad_input(cmd, "--tokens %s: dtype %s, expected integers", o->tokens, a.descr);
    else if (a.ndim != 1 && a.ndim != 2)
        rc = bad_input(cmd, "--tokens %s: %d dimensions, expected 1 (one sequence) or 2 (one per row)", o->tokens, a.ndim);
    else if (!rows || len < 2)
        rc = bad_input(cmd, "--tokens %s: sequences of %zu tokens; at least 2 are needed", o->tokens, rows ? len : 0);
    for (size_t i = 0; !rc && i < a.count; i++)
        if (!(a.data[i] >= 0 && a.data[i] < c->vocab_size))
            rc = bad_input(cmd, "--tokens %s: token %zu is %.0f, outside the vocabulary 0..%d", o->tokens, i, a.data[i],
                           c->vocab_size - 1);
    size_t n, N;
    npy_counts(o, rows, len, &N, &n);
    if (!rc && n > len) rc = bad_input(cmd, "--n %zu is longer than the %zu tokens per sequence in %s", n, len, o->tokens);
    if (!rc && N > rows) rc = bad_input(cmd, "--sequences %zu: %s holds %zu", N, o->tokens, rows);
    if (!rc && n > (size_t)c->seq_len)
        rc = bad_input(cmd, "--tokens %s: %zu tokens per sequence, more than the checkpoint's seq_len %d", o->tokens, n, c->seq_len);
    if (!rc) {
        t->tokens = malloc(N * n * sizeof(int));
        if (!t->tokens) { npy_free(&a); fprintf(stderr, "attnbench %s: out of memory\n", cmd); return 1; }
        for (size_t s = 0; s < N; s++)
            for (size_t i = 0; i < n; i++) t->tokens[s * n + i] = (int)a.data[s * len + i];
        t->N = N;
        t->n = n;
        snprintf(t->source, sizeof t->source, "tokens %s", o->tokens);
    }
    npy_free(&a);
    return rc;
}

/* every: every sequence the text makes when --sequences is not given */
static int from_text(const char *cmd, const run_options *o, const llama_config *c, eval_tokens *t, int every) {
    char err[1024];
    tokenizer tk;
    if (tokenizer_load(o->tokenizer, c->vocab_size, &tk, err, sizeof err)) return bad_input(cmd, "--tokenizer %s", err);
    char *text;
    size_t len;
    if (readfile_all(o->text, TEXT_MAX_FILE, &text, &len, err, sizeof err)) {
        tokenizer_free(&tk);
        return bad_input(cmd, "--text %s", err);
    }
    /* the most tokens the sequences below take: where the text has that many,
     * n and N come out the same as from the whole text's tokens */
    size_t cap = (size_t)c->seq_len < DEFAULT_N_CAP ? (size_t)c->seq_len : DEFAULT_N_CAP;
    size_t want = size_mul_sat(options_given(o, "n") ? o->n : cap,
                               options_given(o, "sequences") ? o->sequences : DEFAULT_SEQUENCES);
    int *all = NULL;
    size_t total = 0, used = 0;
    int rc = 0;
    if (tokenizer_encode(&tk, (const char *)text, len, want, &all, &total, &used, err, sizeof err))
        rc = bad_input(cmd, "--text %s: %s", o->text, err);
    free(text);
    tokenizer_free(&tk);
    if (rc) return rc;
    size_t n = options_given(o, "n") ? o->n : total < cap ? total : cap;
    size_t have = n >= 2 ? total / n : 0;
    size_t N = options_given(o, "sequences") ? o->sequences : every || have < DEFAULT_SEQUENCES ? have : DEFAULT_SEQUENCES;
    if (n < 2 || n > (size_t)c->seq_len)
        rc = bad_input(cmd, "--n %zu: must be 2 to the checkpoint's seq_len %d", n, c->seq_len);
    else if (!have || N > have)
        rc = bad_input(cmd, "--text %s: %zu tokens make %zu sequences of %zu, fewer than the %zu asked", o->text, total, have, n,
                       N ? N : 1);
    if (rc) { free(all); return rc; }
    t->tokens = all; /* consecutive sequences: the first n*N tokens in place */
    t->N = N;
    t->n = n;
    if (used == len) snprintf(t->source, sizeof t->source, "text %s (%zu tokens)", o->text, total);
    else snprintf(t->source, sizeof t->source, "text %s (%zu tokens of its first %zu bytes)", o->text, total, used);
    return 0;
}

int eval_tokens_get(const char *cmd, const run_options *o, const llama_model *md, eval_tokens *t) {
    const llama_config *c = &md->c;
    memset(t, 0, sizeof *t);
    if (options_given(o, "sequences") && o->sequences < 1) return bad_input(cmd, "--sequences must be at least 1");
    if (o->tokens && o->text) return bad_input(cmd, "--tokens and --text are two sources; give one");
    if (!!o->text != !!o->tokenizer) return bad_input(cmd, "--text and --tokenizer go together");
    if ((o->tokens || o->text) && options_given(o, "temperature"))
        return bad_input(cmd, "--temperature applies to sampled sequences only");
    if (o->tokens) return from_npy(cmd, o, c, t);
    if (o->text) return from_text(cmd, o, c, t, 0);

    size_t n, N;
    sampled_counts(o, c, &N, &n);
    if (o->temperature < 0) return bad_input(cmd, "--temperature %g: must be 0 (greedy) or positive", o->temperature);
    if (n < 2 || n > (size_t)c->seq_len) return bad_input(cmd, "--n %zu: must be 2 to the checkpoint's seq_len %d", n, c->seq_len);
    size_t count;
    if (size_mul(N, n, &count) || count > SIZE_MAX / sizeof(int) || !(t->tokens = malloc(count * sizeof(int))))
        return bad_input(cmd, "--sequences %zu of %zu tokens: too many to hold", N, n);
    char err[512];
    for (size_t s = 0; s < N; s++)
        if (llama_sample(md, t->tokens + s * n, n, o->seed + s, o->temperature, err, sizeof err)) {
            fprintf(stderr, "attnbench %s: sampling: %s\n", cmd, err);
            eval_tokens_free(t);
            return 1;
        }
    t->N = N;
    t->n = n;
    snprintf(t->source, sizeof t->source, "sampled from BOS at temperature %g with seeds %llu..%llu", o->temperature,
             (unsigned long long)o->seed, (unsigned long long)(o->seed + N - 1));
    return 0;
}

int eval_tokens_all(const char *cmd, const run_options *o, const llama_model *md, eval_tokens *t) {
    run_options all = *o;
    all.given[knob_find("sequences")] = 0;
    memset(t, 0, sizeof *t);
    if (!!o->text != !!o->tokenizer) return bad_input(cmd, "--text and --tokenizer go together");
    return o->text ? from_text(cmd, &all, &md->c, t, 1) : from_npy(cmd, &all, &md->c, t);
}

int eval_tokens_shape(const run_options *o, const llama_config *c, size_t *N, size_t *n) {
    if (o->text) return -1;
    if (!o->tokens) {
        sampled_counts(o, c, N, n);
        return 0;
    }
    npy_array a;
    char err[1024];
    if (npy_open(o->tokens, &a, err, sizeof err)) return -1;
    int ok = a.ndim == 1 || a.ndim == 2;
    if (ok) npy_counts(o, a.ndim == 2 ? a.shape[0] : 1, a.ndim == 2 ? a.shape[1] : a.count, N, n);
    npy_free(&a);
    return ok ? 0 : -1;
}

void eval_tokens_free(eval_tokens *t) {
    free(t->tokens);
    t->tokens = NULL;
}
