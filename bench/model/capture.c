/* capture.c — `attnbench capture`: the q, k, v a real pretrained model makes.
 *
 * Reads a llama2.c checkpoint, takes a token sequence (sampled by the model
 * itself from BOS, or --tokens), runs the whole sequence through the model
 * at once and writes, per layer L, DIR/layerL/{q,k,v}.npy
 * ([heads, n, head_size] float32, post-rotary, K/V heads repeated), plus
 * DIR/tokens.npy and DIR/capture.txt (per-layer logit std and attention
 * entropy, and the sequence's negative log-likelihood under the model).
 *
 * Order of work: every option, the checkpoint and the tokens are validated
 * before anything is written (bad input: one line, exit 2, no output). */
#include "attention.h" /* size_mul */
#include "capture_layer.h"
#include "commands.h"
#include "exit_status.h"
#include "env.h"
#include "llama2c.h"
#include "npy.h"
#include "options.h"
#include "report.h"
#include "memlimit.h"

#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const cmd = "capture";

enum { STATS_BLOCK = 64 };

typedef struct {
    const char *ckpt, *out, *tokens;
    size_t n, threads;
    uint64_t seed;
    double temperature;
    int given_n, given_seed, given_temperature;
} capture_options;

static void usage(void) {
    printf("usage: attnbench capture --llama2c CHECKPOINT --out DIR [options]\n\n"
           "Runs a llama2.c checkpoint (legacy float32 layout) on a token sequence and\n"
           "writes, per layer L, DIR/layerL/q.npy, k.npy, v.npy ([heads, n, head_size]\n"
           "float32, after rotary embeddings, K/V heads repeated to the query heads),\n"
           "DIR/tokens.npy and DIR/capture.txt (per-layer logit std and attention\n"
           "entropy, negative log-likelihood of the sequence). A layer directory is\n"
           "what `attnbench run --input DIR/layerL` reads.\n\noptions:\n");
    options_usage(stdout, OPTS_CAPTURE);
    printf("\nexit status: 0 ok; 2 bad input (nothing written), a checkpoint whose activations\n"
           "overflow float32 included; 3 out of memory (the address-space limit, checked\n"
           "before the checkpoint is read); 1 any other failure.\n");
}

/* ---- options --------------------------------------------------------------- */

/* 0; 1 after --help; 2 after a one-line error */
static int parse_options(capture_options *o, int argc, char **argv) {
    run_options ro;
    options_defaults(&ro, OPTS_CAPTURE);
    int rc = options_parse(&ro, OPTS_CAPTURE, argc, argv);
    if (rc) return rc;
    memset(o, 0, sizeof *o);
    o->ckpt = ro.llama2c;
    o->out = ro.out;
    o->tokens = ro.tokens;
    o->n = ro.n;
    o->threads = ro.threads;
    o->seed = ro.seed;
    o->temperature = ro.temperature;
    o->given_n = options_given(&ro, "n");
    o->given_seed = options_given(&ro, "seed");
    o->given_temperature = options_given(&ro, "temperature");
    if (o->temperature < 0) return bad_input(cmd, "--temperature %g: must be 0 (greedy) or positive", o->temperature);
    if (!o->ckpt) return bad_input(cmd, "--llama2c CHECKPOINT is required");
    if (!o->out) return bad_input(cmd, "--out DIR is required");
    if (o->threads < 1 || o->threads > 1024) return bad_input(cmd, "--threads %zu: must be 1..1024", o->threads);
    if (o->tokens && (o->given_seed || o->given_temperature))
        return bad_input(cmd, "--%s applies to sampling only, not --tokens", o->given_seed ? "seed" : "temperature");
    return 0;
}

/* the token ids of a 1-D integer .npy, each < vocab; 0 or 2 after a message */
static int load_tokens(const char *path, int vocab, int seq_len, int **tokens, size_t *n) {
    char err[1024];
    npy_array a;
    /* the header and shape first: a huge or wrong file is refused unread */
    if (npy_open(path, &a, err, sizeof err)) return bad_input(cmd, "--tokens %s", err);
    int rc = 0;
    if (a.descr[1] != 'i' && a.descr[1] != 'u')
        rc = bad_input(cmd, "--tokens %s: dtype %s, expected integers", path, a.descr);
    else if (a.ndim != 1)
        rc = bad_input(cmd, "--tokens %s: %d dimensions, expected a 1-D array", path, a.ndim);
    else if (a.count < 2 || a.count > (size_t)seq_len)
        rc = bad_input(cmd, "--tokens %s: %zu tokens; the checkpoint takes 2 to seq_len %d", path, a.count, seq_len);
    else if (npy_load(path, &a, err, sizeof err))
        rc = bad_input(cmd, "--tokens %s", err);
    for (size_t i = 0; !rc && i < a.count; i++)
        if (!(a.data[i] >= 0 && a.data[i] < vocab))
            rc = bad_input(cmd, "--tokens %s: token %zu is %.0f, outside the vocabulary 0..%d", path, i, a.data[i], vocab - 1);
    if (!rc) {
        *tokens = malloc(a.count * sizeof(int));
        if (!*tokens) { npy_free(&a); fprintf(stderr, "attnbench capture: out of memory\n"); return 1; }
        for (size_t i = 0; i < a.count; i++) (*tokens)[i] = (int)a.data[i];
        *n = a.count;
    }
    npy_free(&a);
    return rc;
}

/* DIR exists as a directory afterwards (*created: made here, if not NULL);
 * 0 or 2 after a message */
static int make_dir(const char *dir, const char *what, int *created) {
    struct stat st;
    if (created) *created = 0;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        return bad_input(cmd, "%s %s: not a directory", what, dir);
    }
    if (mkdir(dir, 0777) != 0) return bad_input(cmd, "%s %s: cannot create: %s", what, dir, strerror(errno));
    if (created) *created = 1;
    return 0;
}

/* ---- figures of one layer ----------------------------------------------------- */

/* q, k: (heads, n, d). std of q.k/sqrt(d) over the causal pairs of all heads,
 * and the mean entropy (nats) of the causal softmax rows; 0 or -1 (memory) */
static int attention_stats(const float *q, const float *k, size_t heads, size_t n, size_t d,
                           double *logit_std, double *entropy) {
    size_t block = n < STATS_BLOCK ? n : STATS_BLOCK;
    float *s = malloc(block * n * sizeof(float));
    if (!s) return -1;
    double sum = 0, sum2 = 0, pairs = 0, ent = 0;
    for (size_t h = 0; h < heads; h++)
        for (size_t r0 = 0; r0 < n; r0 += block) {
            size_t rows = n - r0 < block ? n - r0 : block, keys = r0 + rows;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)keys, (int)d,
                        (float)(1.0 / sqrt((double)d)), q + (h * n + r0) * d, (int)d, k + h * n * d, (int)d,
                        0.0f, s, (int)keys);
            for (size_t r = 0; r < rows; r++) {
                const float *sr = s + r * keys;
                size_t seen = r0 + r + 1;
                double mx = sr[0];
                for (size_t j = 0; j < seen; j++) {
                    sum += sr[j]; sum2 += (double)sr[j] * sr[j];
                    if (sr[j] > mx) mx = sr[j];
                }
                pairs += (double)seen;
                /* H = log Z - sum_j p_j (s_j - mx), Z = sum_j exp(s_j - mx) */
                double z = 0, zs = 0;
                for (size_t j = 0; j < seen; j++) {
                    double e = exp(sr[j] - mx);
                    z += e; zs += e * (sr[j] - mx);
                }
                ent += log(z) - zs / z;
            }
        }
    free(s);
    double mean = sum / pairs, var = sum2 / pairs - mean * mean;
    *logit_std = sqrt(var > 0 ? var : 0);
    *entropy = ent / (double)(heads * n);
    return 0;
}

/* ---- writing -------------------------------------------------------------------- */

/* tokens as a 1-D int32 .npy (format 1.0); 0, or -1 with errno */
static int write_tokens_npy(const char *path, const int *tokens, size_t n) {
    char dict[128];
    int len = snprintf(dict, sizeof dict, "{'descr': '<i4', 'fortran_order': False, 'shape': (%zu,), }", n);
    size_t total = 10 + (size_t)len + 1, pad = (64 - total % 64) % 64; /* data 64-byte aligned */
    size_t hlen = (size_t)len + pad + 1;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)len, f) == (size_t)len;
    for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    for (size_t i = 0; ok && i < n; i++) {
        uint32_t u = (uint32_t)tokens[i];
        unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16), (unsigned char)(u >> 24)};
        ok = fwrite(b, 1, 4, f) == 4;
    }
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}

/* the layers' q, k, v and figures; 0 or 1 after a message */
static int write_layers(const llama_model *md, const llama_state *s, size_t n, const char *out,
                        double *logit_std, double *entropy) {
    const llama_config *c = &md->c;
    size_t count = (size_t)c->n_heads * n * (size_t)c->head_size;
    float *q = malloc(count * sizeof(float)), *k = malloc(count * sizeof(float)), *v = malloc(count * sizeof(float));
    int rc = 0;
    if (!q || !k || !v) { fprintf(stderr, "attnbench capture: out of memory for one layer's q, k, v\n"); rc = 1; }
    for (int l = 0; !rc && l < c->n_layers; l++) {
        llama_layer_qkv(c, s, l, n, q, k, v);
        if (attention_stats(q, k, (size_t)c->n_heads, n, (size_t)c->head_size, &logit_std[l], &entropy[l])) {
            fprintf(stderr, "attnbench capture: out of memory for the attention figures\n");
            rc = 1;
            break;
        }
        char dir[4096], path[4200], err[1024];
        snprintf(dir, sizeof dir, "%s/layer%d", out, l);
        if (make_dir(dir, "layer directory", NULL)) { rc = 1; break; }
        size_t shape[3] = {(size_t)c->n_heads, n, (size_t)c->head_size};
        const char *names[3] = {"q.npy", "k.npy", "v.npy"};
        const float *data[3] = {q, k, v};
        for (int i = 0; i < 3 && !rc; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            if (npy_write_f32(path, data[i], 3, shape, err, sizeof err)) {
                fprintf(stderr, "attnbench capture: %s\n", err);
                rc = 1;
            }
        }
    }
    free(q); free(k); free(v);
    return rc;
}

static int write_summary(const char *path, const capture_options *o, const llama_config *c, size_t n,
                         double nll, const double *logit_std, const double *entropy) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "# attnbench capture: q, k, v of a llama2.c checkpoint\n");
    fprintf(f, "checkpoint %s\n", o->ckpt);
    fprintf(f, "config dim %d hidden_dim %d n_layers %d n_heads %d n_kv_heads %d vocab_size %d seq_len %d shared_classifier %d\n",
            c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size, c->seq_len, c->shared_classifier);
    fprintf(f, "n %zu\n", n);
    if (o->tokens) {
        fprintf(f, "tokens %s\n", o->tokens);
    } else {
        fprintf(f, "tokens sampled from BOS\n");
        fprintf(f, "seed %llu\n", (unsigned long long)o->seed);
        fprintf(f, "temperature %g\n", o->temperature);
    }
    fprintf(f, "# mean negative log-likelihood of tokens 1..n-1 given their prefixes; ln(vocab) = %.4f\n",
            log((double)c->vocab_size));
    fprintf(f, "nll_nats_per_token %.6f\n", nll);
    fprintf(f, "# per layer: std of q.k/sqrt(head_size) over causal pairs; mean causal attention row entropy (nats)\n");
    for (int l = 0; l < c->n_layers; l++)
        fprintf(f, "layer %d logit_std %.6f entropy %.6f\n", l, logit_std[l], entropy[l]);
    int bad = ferror(f);
    return fclose(f) == 0 && !bad ? 0 : -1;
}

/* ---- the command ----------------------------------------------------------------- */

int cmd_capture(int argc, char **argv) {
    capture_options o;
    int rc = parse_options(&o, argc, argv);
    if (rc == 1) { usage(); return 0; }
    if (rc) return rc;

    char err[1024];
    /* the address-space limit, before the checkpoint is read: its size and
     * OpenBLAS's buffers must fit (not exit(): OpenBLAS may be stuck) */
    struct stat cst;
    if (stat(o.ckpt, &cst) == 0 && S_ISREG(cst.st_mode) &&
        mem_fits_as_limit(size_add_sat((size_t)cst.st_size, (size_t)64 << 20), o.threads, err, sizeof err)) {
        fprintf(stderr, "attnbench capture: out of memory: %s\n", err);
        exit_now(EXIT_OOM);
    }
    llama_model md;
    if (llama_load(o.ckpt, &md, err, sizeof err)) return bad_input(cmd, "--llama2c %s", err);
    const llama_config *c = &md.c;

    int *tokens = NULL;
    /* the default is the checkpoint's seq_len, at most CAPTURE_DEFAULT_N_MAX:
     * a header claiming 2^20 positions would sample for minutes, silently */
    enum { CAPTURE_DEFAULT_N_MAX = 2048 };
    size_t n = o.given_n ? o.n : (size_t)c->seq_len;
    if (!o.given_n && !o.tokens && n > CAPTURE_DEFAULT_N_MAX) {
        fprintf(stderr, "attnbench capture: note: --n %d (seq_len %d) is more than the default captures; "
                "n %d (give --n for more)\n", c->seq_len, c->seq_len, CAPTURE_DEFAULT_N_MAX);
        n = CAPTURE_DEFAULT_N_MAX;
    }
    if (o.tokens) {
        size_t have = 0;
        rc = load_tokens(o.tokens, c->vocab_size, c->seq_len, &tokens, &have);
        if (!rc && o.given_n && have != o.n) {
            rc = bad_input(cmd, "--n %zu disagrees with the %zu tokens in %s", o.n, have, o.tokens);
            free(tokens);
        }
        n = have;
    } else if (n < 2) {
        rc = bad_input(cmd, "--n %zu: must be at least 2", n);
    } else if (n > (size_t)c->seq_len) {
        rc = bad_input(cmd, "--n %zu exceeds the checkpoint's seq_len %d", n, c->seq_len);
    }
    int out_created = 0;
    if (!rc) {
        rc = make_dir(o.out, "--out", &out_created);
        if (rc) free(tokens);
    }
    if (rc) { llama_free(&md); return rc; }

    blas_set_threads((int)o.threads);
    rc = 1;
    llama_state s = {0};
    double *stats = malloc(2 * (size_t)c->n_layers * sizeof(double)), nll = 0;
    if (!tokens) tokens = malloc(n * sizeof(int));
    if (!tokens || !stats) { fprintf(stderr, "attnbench capture: out of memory\n"); goto done; }
    if (!o.tokens && llama_sample(&md, tokens, n, o.seed, o.temperature, err, sizeof err)) {
        fprintf(stderr, "attnbench capture: sampling: %s\n", err);
        goto done;
    }

    /* the whole sequence at once; q, k, v recorded from this pass only, so a
     * sampled sequence and the same tokens given by --tokens capture alike */
    if (llama_state_init(&s, c, n, n, 1, err, sizeof err) != 0) { fprintf(stderr, "attnbench capture: %s\n", err); goto done; }
    llama_forward(&md, &s, tokens, 0, n);
    if (llama_nll(&md, s.x, tokens, n, &nll, err, sizeof err)) { fprintf(stderr, "attnbench capture: %s\n", err); goto done; }
    err[0] = '\0';
    if (llama_state_finite(c, &s, n, err, sizeof err) || !isfinite(nll)) {
        /* nothing is written yet: the --out this run made goes too */
        if (out_created) rmdir(o.out);
        rc = bad_input(cmd, "--llama2c %s: %s", o.ckpt, err[0] ? err : "the likelihood is not finite");
        goto done;
    }

    char path[4200];
    if (write_layers(&md, &s, n, o.out, stats, stats + c->n_layers)) goto done;
    if (capture_layer_forms(&md, tokens, n, o.out)) goto done; /* DIR/layerL/layer/: x, wq, wk, wv */
    snprintf(path, sizeof path, "%s/tokens.npy", o.out);
    if (write_tokens_npy(path, tokens, n)) { fprintf(stderr, "attnbench capture: %s: %s\n", path, strerror(errno)); goto done; }
    snprintf(path, sizeof path, "%s/capture.txt", o.out);
    if (write_summary(path, &o, c, n, nll, stats, stats + c->n_layers)) {
        fprintf(stderr, "attnbench capture: %s: %s\n", path, strerror(errno));
        goto done;
    }
    printf("attnbench capture: %d layers x %d heads, n %zu, NLL %.4f nats/token (ln vocab %.4f) -> %s\n",
           c->n_layers, c->n_heads, n, nll, log((double)c->vocab_size), o.out);
    rc = 0;
done:
    llama_state_free(&s);
    free(stats);
    free(tokens);
    llama_free(&md);
    return rc;
}
