/* train_data.c — the held-out and training sequences of `attnbench train`
 * (train_data.h). Bad input: one line, exit 2. */
#include "train_data.h"
#include "eval_seq.h"
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRAIN_SEED_OFFSET (1ull << 32) /* training seeds: far from eval's seed..seed+N-1 */
enum { DEFAULT_HELDOUT = 8, DEFAULT_TRAIN = 256, DEFAULT_N_CAP = 512 };

/* count sequences of n tokens: read from path when it exists, else sampled
 * with seeds seed0.. and written there (path "": not cached). 0, 1 or 2. */
static int cached(const char *cmd, const run_options *o, const llama_model *md, const char *path, size_t count,
                  size_t n, uint64_t seed0, int **out) {
    char err[1024];
    *out = malloc(count * n * sizeof(int));
    if (!*out) { fprintf(stderr, "attnbench %s: out of memory for %zu sequences\n", cmd, count); return 1; }
    if (path[0] && access(path, F_OK) == 0) {
        npy_array a;
        if (npy_read(path, &a, err, sizeof err)) return bad_input(cmd, "--cache %s", err);
        int rc = 0;
        if ((a.descr[1] != 'i' && a.descr[1] != 'u') || a.ndim != 2 || a.shape[0] != count || a.shape[1] != n)
            rc = bad_input(cmd, "--cache %s: %s of %d dimensions, not the (%zu, %zu) integers it should hold", path, a.descr,
                           a.ndim, count, n);
        for (size_t i = 0; !rc && i < a.count; i++) {
            if (!(a.data[i] >= 0 && a.data[i] < md->c.vocab_size))
                rc = bad_input(cmd, "--cache %s: token %zu is %.0f, outside the vocabulary", path, i, a.data[i]);
            else (*out)[i] = (int)a.data[i];
        }
        npy_free(&a);
        return rc;
    }
    for (size_t s = 0; s < count; s++)
        if (llama_sample(md, *out + s * n, n, seed0 + s, o->temperature, err, sizeof err)) {
            fprintf(stderr, "attnbench %s: sampling: %s\n", cmd, err);
            return 1;
        }
    if (!path[0]) return 0;
    int32_t *t32 = malloc(count * n * sizeof(int32_t));
    if (!t32) { fprintf(stderr, "attnbench %s: out of memory\n", cmd); return 1; }
    for (size_t i = 0; i < count * n; i++) t32[i] = (*out)[i];
    size_t shape[2] = {count, n};
    int rc = npy_write_i32(path, t32, 2, shape, err, sizeof err);
    free(t32);
    if (rc) { fprintf(stderr, "attnbench %s: --cache %s\n", cmd, err); return 1; }
    return 0;
}

static int sampled(const char *cmd, const run_options *o, const llama_model *md, train_data *d) {
    const llama_config *c = &md->c;
    size_t cap = (size_t)c->seq_len < DEFAULT_N_CAP ? (size_t)c->seq_len : DEFAULT_N_CAP;
    d->n = options_given(o, "n") ? o->n : cap;
    d->N = options_given(o, "sequences") ? o->sequences : DEFAULT_HELDOUT;
    d->M = options_given(o, "train-sequences") ? o->train_sequences : DEFAULT_TRAIN;
    if (o->temperature < 0) return bad_input(cmd, "--temperature %g: must be 0 (greedy) or positive", o->temperature);
    if (d->n < 2 || d->n > (size_t)c->seq_len) return bad_input(cmd, "--n %zu: must be 2 to the checkpoint's seq_len %d", d->n, c->seq_len);
    if (d->N > ((size_t)1 << 20) || d->M > ((size_t)1 << 24) || d->n * (d->N + d->M) > ((size_t)1 << 30))
        return bad_input(cmd, "%zu held-out and %zu training sequences of %zu tokens: too many to hold", d->N, d->M, d->n);
    char train_path[1024] = "";
    if (o->cache) {
        if (mkdir(o->cache, 0777) != 0 && errno != EEXIST) return bad_input(cmd, "--cache %s: %s", o->cache, strerror(errno));
        const char *base = strrchr(o->llama2c, '/') ? strrchr(o->llama2c, '/') + 1 : o->llama2c;
        char stem[900];
        snprintf(stem, sizeof stem, "%s/%s-n%zu-seed%llu-T%g", o->cache, base, d->n, (unsigned long long)o->seed,
                 o->temperature);
        snprintf(d->heldout_path, sizeof d->heldout_path, "%s-heldout%zu.npy", stem, d->N);
        snprintf(train_path, sizeof train_path, "%s-train%zu.npy", stem, d->M);
    }
    int rc = cached(cmd, o, md, d->heldout_path, d->N, d->n, o->seed, &d->heldout);
    if (!rc) rc = cached(cmd, o, md, train_path, d->M, d->n, o->seed + TRAIN_SEED_OFFSET, &d->train);
    snprintf(d->source, sizeof d->source, "sampled from BOS at temperature %g: held-out seeds %llu..%llu, training seeds "
             "%llu + 2^32 + 0..%zu", o->temperature, (unsigned long long)o->seed, (unsigned long long)(o->seed + d->N - 1),
             (unsigned long long)o->seed, d->M - 1);
    return rc;
}

int train_data_get(const char *cmd, const run_options *o, const llama_model *md, train_data *d) {
    memset(d, 0, sizeof *d);
    if (options_given(o, "sequences") && o->sequences < 1) return bad_input(cmd, "--sequences must be at least 1");
    if (o->tokens && o->text) return bad_input(cmd, "--tokens and --text are two sources; give one");
    if ((o->tokens || o->text) && (options_given(o, "temperature") || o->cache))
        return bad_input(cmd, "--%s applies to sampled sequences only", o->cache ? "cache" : "temperature");
    if (!o->tokens && !o->text) {
        if (o->tokenizer) return bad_input(cmd, "--text and --tokenizer go together");
        return sampled(cmd, o, md, d);
    }
    eval_tokens t;
    int rc = eval_tokens_all(cmd, o, md, &t);
    if (rc) return rc;
    d->N = options_given(o, "sequences") ? o->sequences : DEFAULT_HELDOUT;
    d->n = t.n;
    if (t.N <= d->N) {
        rc = bad_input(cmd, "%s holds %zu sequences of %zu tokens: none left to train on after the %zu held out",
                       o->tokens ? o->tokens : o->text, t.N, t.n, d->N);
    } else if (options_given(o, "train-sequences") && o->train_sequences > t.N - d->N) {
        rc = bad_input(cmd, "--train-sequences %zu: %s has %zu after the %zu held out", o->train_sequences,
                       o->tokens ? o->tokens : o->text, t.N - d->N, d->N);
    }
    if (rc) { eval_tokens_free(&t); return rc; }
    d->M = options_given(o, "train-sequences") ? o->train_sequences : t.N - d->N;
    d->heldout = t.tokens; /* the first N rows; the training rows follow */
    d->train = malloc(d->M * d->n * sizeof(int));
    if (!d->train) { train_data_free(d); fprintf(stderr, "attnbench %s: out of memory\n", cmd); return 1; }
    memcpy(d->train, t.tokens + d->N * d->n, d->M * d->n * sizeof(int));
    snprintf(d->source, sizeof d->source, "%s; the first %zu held out, the next %zu train", t.source, d->N, d->M);
    return 0;
}

void train_data_free(train_data *d) {
    free(d->heldout);
    free(d->train);
    d->heldout = d->train = NULL;
}
