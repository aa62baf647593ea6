/* llama2c.c — see llama2c.h. One forward function serves both the prefill
 * (all n positions at once, every projection one sgemm over n rows) and the
 * incremental steps that sampling needs (m = 1 against the K/V cache). */
#include "llama2c.h"
#include "errmsg.h"
#include "attention.h" /* size_mul */
#include "report.h"    /* first_nonfinite */
#include "rng.h"

#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

enum { HEADER_BYTES = 7 * 4, QUERY_BLOCK = 64, LOGIT_BLOCK = 64 };
#define RMS_EPS 1e-5
#define ROPE_THETA 10000.0

static int32_t le_int32(const unsigned char *b) {
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

/* floats the tensors take after the header, with or without the unshared
 * classifier; -1 on overflow */
static int weight_floats(const llama_config *c, int with_classifier, size_t *out) {
    size_t d = (size_t)c->dim, hid = (size_t)c->hidden_dim, L = (size_t)c->n_layers,
           kv = (size_t)c->kv_dim, V = (size_t)(c->vocab_size < 0 ? -(long long)c->vocab_size : c->vocab_size);
    size_t parts[11];
    if (size_mul(V, d, &parts[0]) ||                    /* token embedding */
        size_mul(L, d, &parts[1]) ||                    /* rms_att */
        size_mul3(L, d, d, &parts[2]) ||                /* wq */
        size_mul3(L, kv, d, &parts[3]) ||               /* wk */
        size_mul3(L, kv, d, &parts[4]) ||               /* wv */
        size_mul3(L, d, d, &parts[5]) ||                /* wo */
        size_mul(L, d, &parts[6]) ||                    /* rms_ffn */
        size_mul3(3 * L, hid, d, &parts[7]) ||          /* w1, w2, w3 */
        size_mul((size_t)c->seq_len, (size_t)c->head_size, &parts[9]) || /* the two RoPE tables */
        size_mul(with_classifier ? V : 0, d, &parts[10]))
        return -1;
    parts[8] = d; /* rms_final */
    size_t total = 0;
    for (int i = 0; i < 11; i++)
        if (__builtin_add_overflow(total, parts[i], &total)) return -1;
    *out = total;
    return 0;
}

/* the header's fields, checked one by one; 0 or -1 with err. A header that
 * fails here is not a checkpoint at all (a text file read as 7 int32 gives
 * fields in the billions), so the message says so first. */
#define NOT_CKPT "not a llama2.c checkpoint: "
enum { MAX_DIM = 1 << 20, MAX_LAYERS = 4096, MAX_VOCAB = 1 << 24, MAX_SEQ = 1 << 24 };
static int check_config(const char *path, llama_config *c, char *err, size_t errlen) {
    const char *names[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
    const int vals[7] = {c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size, c->seq_len};
    for (int i = 0; i < 7; i++) {
        if (i == 5) {
            if (vals[i] == 0 || vals[i] == INT_MIN) return err_set(err, errlen, "%s: " NOT_CKPT "header field vocab_size is %d", path, vals[i]);
        } else if (vals[i] <= 0) {
            return err_set(err, errlen, "%s: " NOT_CKPT "header field %s is %d, must be positive", path, names[i], vals[i]);
        }
    }
    const int limits[7] = {MAX_DIM, MAX_DIM, MAX_LAYERS, MAX_DIM, MAX_DIM, MAX_VOCAB, MAX_SEQ};
    for (int i = 0; i < 7; i++)
        if ((vals[i] < 0 ? -(long long)vals[i] : vals[i]) > limits[i])
            return err_set(err, errlen, "%s: " NOT_CKPT "header field %s is %d, beyond the plausible %d", path, names[i],
                        vals[i], limits[i]);
    c->shared_classifier = c->vocab_size > 0;
    if (c->vocab_size < 0) c->vocab_size = -c->vocab_size;
    if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads)
        return err_set(err, errlen, "%s: " NOT_CKPT "n_heads %d is not a multiple of n_kv_heads %d", path, c->n_heads, c->n_kv_heads);
    if (c->dim % c->n_heads)
        return err_set(err, errlen, "%s: " NOT_CKPT "dim %d is not a multiple of n_heads %d", path, c->dim, c->n_heads);
    c->head_size = c->dim / c->n_heads;
    c->kv_dim = c->head_size * c->n_kv_heads;
    if (c->head_size % 2)
        return err_set(err, errlen, "%s: " NOT_CKPT "head size %d (dim / n_heads) is odd; rotary embeddings need pairs", path, c->head_size);
    return 0;
}

/* the 7 int32 of a header into c, checked: 0, or -1 with err */
static int header_config(const char *path, const unsigned char *head, llama_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->dim = le_int32(head); c->hidden_dim = le_int32(head + 4); c->n_layers = le_int32(head + 8);
    c->n_heads = le_int32(head + 12); c->n_kv_heads = le_int32(head + 16);
    c->vocab_size = le_int32(head + 20); c->seq_len = le_int32(head + 24);
    return check_config(path, c, err, errlen);
}

int llama_read_config(const char *path, llama_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return err_set(err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    unsigned char head[HEADER_BYTES];
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, head, HEADER_BYTES) == HEADER_BYTES;
    close(fd);
    if (!ok) return err_set(err, errlen, "%s: not a regular file of at least %d bytes", path, HEADER_BYTES);
    return header_config(path, head, c, err, errlen);
}

int llama_load(const char *path, llama_model *m, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    /* O_NONBLOCK: a FIFO must not block the open; anything but a regular
     * file (FIFO, /dev/zero, a directory) is refused before a byte is read */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return err_set(err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, errlen, "%s: not a regular file", path);
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) { close(fd); return err_set(err, errlen, "%s: %s", path, strerror(errno)); }
    size_t bytes = (size_t)st.st_size;
    unsigned char head[HEADER_BYTES];
    if (bytes < HEADER_BYTES || fread(head, 1, HEADER_BYTES, f) != HEADER_BYTES) {
        fclose(f);
        return err_set(err, errlen, "%s: truncated: %zu bytes, shorter than the %d-byte header", path, bytes, HEADER_BYTES);
    }
    llama_config *c = &m->c;
    if (header_config(path, head, c, err, errlen)) { fclose(f); return -1; }

    size_t floats, other, want, want_other;
    if (weight_floats(c, !c->shared_classifier, &floats) || weight_floats(c, c->shared_classifier, &other) ||
        size_mul(floats, 4, &want) || __builtin_add_overflow(want, (size_t)HEADER_BYTES, &want)) {
        fclose(f);
        return err_set(err, errlen, "%s: the header's sizes overflow (dim %d, hidden_dim %d, n_layers %d, vocab %d)",
                    path, c->dim, c->hidden_dim, c->n_layers, c->vocab_size);
    }
    if (bytes != want) {
        fclose(f);
        /* name the likely cause when the size fits the other classifier layout */
        int other_fits = !size_mul(other, 4, &want_other) && want_other + HEADER_BYTES == bytes;
        return err_set(err, errlen, "%s: %s: %zu bytes, but the header (dim %d, hidden_dim %d, n_layers %d, n_heads %d, "
                    "n_kv_heads %d, vocab_size %d, seq_len %d) implies %zu%s", path,
                    bytes < want ? "truncated" : "wrong size", bytes, c->dim, c->hidden_dim, c->n_layers, c->n_heads,
                    c->n_kv_heads, c->shared_classifier ? c->vocab_size : -c->vocab_size, c->seq_len, want,
                    !other_fits ? "" : c->shared_classifier ? " (the size fits an unshared classifier: vocab_size should be negative)"
                                                           : " (the size fits a shared classifier: vocab_size should be positive)");
    }
    m->file = malloc(floats ? floats * sizeof(float) : 1);
    if (!m->file) { fclose(f); return err_set(err, errlen, "%s: out of memory for %zu weights", path, floats); }
    size_t got = fread(m->file, sizeof(float), floats, f);
    fclose(f);
    if (got != floats) { llama_free(m); return err_set(err, errlen, "%s: read error after %zu of %zu weights", path, got, floats); }
    for (size_t i = 0; i < floats; i++)
        if (!isfinite(m->file[i])) {
            llama_free(m);
            return err_set(err, errlen, "%s: non-finite weight (float %zu of %zu)", path, i, floats);
        }

    size_t d = (size_t)c->dim, hid = (size_t)c->hidden_dim, L = (size_t)c->n_layers, kv = (size_t)c->kv_dim;
    const float *p = m->file;
    m->token_embedding = p; p += (size_t)c->vocab_size * d;
    m->rms_att = p;         p += L * d;
    m->wq = p;              p += L * d * d;
    m->wk = p;              p += L * kv * d;
    m->wv = p;              p += L * kv * d;
    m->wo = p;              p += L * d * d;
    m->rms_ffn = p;         p += L * d;
    m->w1 = p;              p += L * hid * d;
    m->w2 = p;              p += L * d * hid;
    m->w3 = p;              p += L * hid * d;
    m->rms_final = p;       p += d;
    p += (size_t)c->seq_len * (size_t)c->head_size; /* freq_cis_real, freq_cis_imag: recomputed instead */
    m->wcls = c->shared_classifier ? m->token_embedding : p;
    if (llama_mhe_attach(path, m, err, errlen)) { llama_free(m); return -1; }
    return 0;
}

void llama_free(llama_model *m) {
    llama_mhe_free(m->mhe);
    free(m->file);
    memset(m, 0, sizeof *m);
}

/* ---- state --------------------------------------------------------------- */

float *llama_alloc_floats(size_t a, size_t b, size_t c, int *bad) {
    size_t count;
    if (*bad || size_mul3(a, b, c, &count) || count > SIZE_MAX / sizeof(float)) { *bad = 1; return NULL; }
    float *p = malloc(count ? count * sizeof(float) : 1);
    if (!p) *bad = 1;
    return p;
}

int llama_state_init(llama_state *s, const llama_config *c, size_t max_n, size_t max_m, int record_q,
                     char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (!max_n || !max_m || max_m > max_n || max_n > (size_t)INT_MAX)
        return err_set(err, errlen, "state for %zu positions, %zu at a time: not supported", max_n, max_m);
    s->max_n = max_n;
    s->max_m = max_m;
    size_t L = (size_t)c->n_layers, d = (size_t)c->dim, block = max_m < QUERY_BLOCK ? max_m : QUERY_BLOCK;
    int bad = 0;
    s->k_cache = llama_alloc_floats(L, max_n, (size_t)c->kv_dim, &bad);
    s->v_cache = llama_alloc_floats(L, max_n, (size_t)c->kv_dim, &bad);
    if (record_q) s->q_record = llama_alloc_floats(L, max_n, d, &bad);
    s->x = llama_alloc_floats(max_m, d, 1, &bad);
    s->xb = llama_alloc_floats(max_m, d, 1, &bad);
    s->q = llama_alloc_floats(max_m, d, 1, &bad);
    s->att = llama_alloc_floats(max_m, d, 1, &bad);
    s->h1 = llama_alloc_floats(max_m, (size_t)c->hidden_dim, 1, &bad);
    s->h3 = llama_alloc_floats(max_m, (size_t)c->hidden_dim, 1, &bad);
    s->scores = llama_alloc_floats(block, max_n, 1, &bad);
    s->rope = llama_alloc_floats(max_m, (size_t)c->head_size, 1, &bad);
    if (bad) {
        llama_state_free(s);
        return err_set(err, errlen, "out of memory (or sizes that overflow) for %zu positions of the model's state", max_n);
    }
    return 0;
}

void llama_state_free(llama_state *s) {
    free(s->k_cache); free(s->v_cache); free(s->q_record);
    free(s->x); free(s->xb); free(s->q); free(s->att); free(s->h1); free(s->h3); free(s->scores); free(s->rope);
    memset(s, 0, sizeof *s);
}

/* ---- the forward pass ------------------------------------------------------ */

/* out = x / rms(x) * w, row by row; x, out: (m, dim); out may be x */
static void rmsnorm_rows(float *out, const float *x, const float *w, size_t m, size_t dim) {
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * dim;
        double ss = 0;
        for (size_t i = 0; i < dim; i++) ss += (double)xr[i] * xr[i];
        float scale = (float)(1.0 / sqrt(ss / (double)dim + RMS_EPS));
        for (size_t i = 0; i < dim; i++) out[r * dim + i] = w[i] * (xr[i] * scale);
    }
}

/* rope (m, head_size): cos and sin of pair i at position pos + r, interleaved */
static void rope_table(float *rope, size_t pos, size_t m, int head_size) {
    for (size_t r = 0; r < m; r++)
        for (int i = 0; i < head_size / 2; i++) {
            double angle = (double)(pos + r) * pow(ROPE_THETA, -2.0 * i / head_size);
            rope[r * (size_t)head_size + 2 * (size_t)i] = (float)cos(angle);
            rope[r * (size_t)head_size + 2 * (size_t)i + 1] = (float)sin(angle);
        }
}

/* rotates the pairs (2i, 2i+1) of every head of x (m, width), row stride ld */
static void rope_rows(float *x, size_t m, size_t ld, int width, int head_size, const float *rope) {
    for (size_t r = 0; r < m; r++) {
        float *xr = x + r * ld;
        const float *cs = rope + r * (size_t)head_size;
        for (int i = 0; i < width; i += 2) {
            int j = i % head_size;
            float c = cs[j], s = cs[j + 1], a = xr[i], b = xr[i + 1];
            xr[i] = a * c - b * s;
            xr[i + 1] = a * s + b * c;
        }
    }
}

/* y (m, out) = x (m, in) . w^T for w stored (out, in); beta 1 adds to y */
static void matmul_wt(float *y, const float *x, const float *w, size_t m, int out, int in, float beta) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, out, in, 1.0f, x, in, w, in, beta, y, out);
}

/* att (m, dim) = causal softmax(q k^T / sqrt(head_size)) v for query rows at
 * positions pos..pos+m-1 against the cached keys 0..pos+m-1 of one layer */
static void attention_rows(const llama_config *c, llama_state *s, const float *kc, const float *vc,
                           size_t pos, size_t m) {
    const int hs = c->head_size, dim = c->dim, kvd = c->kv_dim, kv_mul = c->n_heads / c->n_kv_heads;
    const float scale = (float)(1.0 / sqrt((double)hs));
    for (int h = 0; h < c->n_heads; h++) {
        const float *kh = kc + (size_t)(h / kv_mul) * hs, *vh = vc + (size_t)(h / kv_mul) * hs;
        for (size_t r0 = 0; r0 < m; r0 += QUERY_BLOCK) {
            size_t rows = m - r0 < QUERY_BLOCK ? m - r0 : QUERY_BLOCK, keys = pos + r0 + rows;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)keys, hs, scale,
                        s->q + r0 * dim + (size_t)h * hs, dim, kh, kvd, 0.0f, s->scores, (int)keys);
            for (size_t r = 0; r < rows; r++) {
                float *sr = s->scores + r * keys;
                size_t seen = pos + r0 + r + 1; /* keys 0..pos+r0+r */
                float mx = sr[0];
                for (size_t j = 1; j < seen; j++) if (sr[j] > mx) mx = sr[j];
                double sum = 0;
                for (size_t j = 0; j < seen; j++) { sr[j] = expf(sr[j] - mx); sum += sr[j]; }
                float inv = (float)(1.0 / sum);
                for (size_t j = 0; j < seen; j++) sr[j] *= inv;
                for (size_t j = seen; j < keys; j++) sr[j] = 0.0f;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, hs, (int)keys, 1.0f, s->scores,
                        (int)keys, vh, kvd, 0.0f, s->att + r0 * dim + (size_t)h * hs, dim);
        }
    }
}

void llama_forward(const llama_model *md, llama_state *s, const int *tokens, size_t pos, size_t m) {
    (void)llama_forward_with(md, s, tokens, pos, m, NULL);
}

int llama_forward_with(const llama_model *md, llama_state *s, const int *tokens, size_t pos, size_t m,
                       const llama_override *ov) {
    const llama_config *c = &md->c;
    const size_t d = (size_t)c->dim, hid = (size_t)c->hidden_dim, kvd = (size_t)c->kv_dim;
    for (size_t r = 0; r < m; r++) memcpy(s->x + r * d, md->token_embedding + (size_t)tokens[r] * d, d * sizeof(float));
    rope_table(s->rope, pos, m, c->head_size);

    for (size_t l = 0; l < (size_t)c->n_layers; l++) {
        float *kc = s->k_cache + l * s->max_n * kvd, *vc = s->v_cache + l * s->max_n * kvd;
        /* attention: x += wo . attention(rope(wq xb), rope(wk xb), wv xb) */
        rmsnorm_rows(s->xb, s->x, md->rms_att + l * d, m, d);
        int sub = ov && ov->attention ? ov->attention(ov->ctx, (int)l, s->xb, pos, m, s->att) : 0;
        if (sub < 0) return -1;
        if (!sub) {
            matmul_wt(s->q, s->xb, md->wq + l * d * d, m, c->dim, c->dim, 0.0f);
            matmul_wt(kc + pos * kvd, s->xb, md->wk + l * kvd * d, m, c->kv_dim, c->dim, 0.0f);
            matmul_wt(vc + pos * kvd, s->xb, md->wv + l * kvd * d, m, c->kv_dim, c->dim, 0.0f);
            if (md->mhe) llama_mhe_bias(md, (int)l, s->q, d, kc + pos * kvd, vc + pos * kvd, kvd, m);
            rope_rows(s->q, m, d, c->dim, c->head_size, s->rope);
            rope_rows(kc + pos * kvd, m, kvd, c->kv_dim, c->head_size, s->rope);
            if (s->q_record) memcpy(s->q_record + (l * s->max_n + pos) * d, s->q, m * d * sizeof(float));
            attention_rows(c, s, kc, vc, pos, m);
        }
        matmul_wt(s->x, s->att, md->wo + l * d * d, m, c->dim, c->dim, 1.0f);

        /* feed-forward: x += w2 . (silu(w1 xb) * w3 xb) */
        rmsnorm_rows(s->xb, s->x, md->rms_ffn + l * d, m, d);
        matmul_wt(s->h1, s->xb, md->w1 + l * hid * d, m, c->hidden_dim, c->dim, 0.0f);
        matmul_wt(s->h3, s->xb, md->w3 + l * hid * d, m, c->hidden_dim, c->dim, 0.0f);
        for (size_t i = 0; i < m * hid; i++) {
            float a = s->h1[i];
            s->h1[i] = a / (1.0f + expf(-a)) * s->h3[i];
        }
        if (ov && ov->ffn && ov->ffn(ov->ctx, (int)l, s->h1, m) < 0) return -1;
        matmul_wt(s->x, s->h1, md->w2 + l * d * hid, m, c->dim, c->hidden_dim, 1.0f);
    }
    rmsnorm_rows(s->x, s->x, md->rms_final, m, d);
    return 0;
}

void llama_logits(const llama_model *md, const float *x, size_t m, float *logits) {
    matmul_wt(logits, x, md->wcls, m, md->c.vocab_size, md->c.dim, 0.0f);
}

int llama_nll(const llama_model *md, const float *x, const int *tokens, size_t n, double *nll,
              char *err, size_t errlen) {
    const size_t V = (size_t)md->c.vocab_size, d = (size_t)md->c.dim;
    if (n < 2) return err_set(err, errlen, "the likelihood needs at least 2 tokens, got %zu", n);
    float *logits = malloc(LOGIT_BLOCK * V * sizeof(float));
    if (!logits) return err_set(err, errlen, "out of memory for the logits");
    double total = 0;
    /* position t predicts token t+1 */
    for (size_t t0 = 0; t0 + 1 < n; t0 += LOGIT_BLOCK) {
        size_t rows = n - 1 - t0 < LOGIT_BLOCK ? n - 1 - t0 : LOGIT_BLOCK;
        llama_logits(md, x + t0 * d, rows, logits);
        for (size_t r = 0; r < rows; r++) {
            const float *lr = logits + r * V;
            double mx = lr[0], sum = 0;
            for (size_t j = 1; j < V; j++) if (lr[j] > mx) mx = lr[j];
            for (size_t j = 0; j < V; j++) sum += exp((double)lr[j] - mx);
            total += mx + log(sum) - (double)lr[tokens[t0 + r + 1]];
        }
    }
    free(logits);
    *nll = total / (double)(n - 1);
    return 0;
}

int llama_state_finite(const llama_config *c, const llama_state *s, size_t n, char *err, size_t errlen) {
    const struct { const char *name; const float *a; size_t width; } t[3] = {
        {"q", s->q_record, (size_t)c->dim}, {"k", s->k_cache, (size_t)c->kv_dim}, {"v", s->v_cache, (size_t)c->kv_dim}};
    for (int l = 0; l < c->n_layers; l++)
        for (int i = 0; i < 3; i++) {
            const size_t cnt = n * t[i].width;
            const size_t at = t[i].a ? first_nonfinite(t[i].a + (size_t)l * s->max_n * t[i].width, cnt) : cnt;
            if (at < cnt)
                return err_set(err, errlen, "layer %d's %s is not finite at position %zu: the checkpoint's values overflow float32",
                            l, t[i].name, at / t[i].width);
        }
    const size_t cnt = n * (size_t)c->dim, at = first_nonfinite(s->x, cnt);
    if (at < cnt)
        return err_set(err, errlen, "the final hidden state is not finite at position %zu: the checkpoint's values overflow float32",
                    at / (size_t)c->dim);
    return 0;
}

void llama_layer_qkv(const llama_config *c, const llama_state *s, int layer, size_t n, float *q,
                     float *k, float *v) {
    const size_t d = (size_t)c->dim, kvd = (size_t)c->kv_dim, hs = (size_t)c->head_size;
    const size_t kv_mul = (size_t)(c->n_heads / c->n_kv_heads), L = (size_t)layer;
    for (size_t h = 0; h < (size_t)c->n_heads; h++)
        for (size_t t = 0; t < n; t++) {
            size_t o = (h * n + t) * hs, kvo = (L * s->max_n + t) * kvd + h / kv_mul * hs;
            if (q) memcpy(q + o, s->q_record + (L * s->max_n + t) * d + h * hs, hs * sizeof(float));
            memcpy(k + o, s->k_cache + kvo, hs * sizeof(float));
            memcpy(v + o, s->v_cache + kvo, hs * sizeof(float));
        }
}

/* ---- for `attnbench eval` and `capture` ---------------------------------- */

void llama_rope_heads(const llama_config *c, float *x, size_t heads, size_t n, size_t pos) {
    const size_t hs = (size_t)c->head_size;
    for (size_t t = 0; t < n; t++)
        for (int i = 0; i < c->head_size / 2; i++) {
            /* the same expressions as rope_table, so the rotation is bit for bit the model's */
            double angle = (double)(pos + t) * pow(ROPE_THETA, -2.0 * i / c->head_size);
            float co = (float)cos(angle), si = (float)sin(angle);
            for (size_t h = 0; h < heads; h++) {
                float *xr = x + (h * n + t) * hs + 2 * (size_t)i, a = xr[0], b = xr[1];
                xr[0] = a * co - b * si;
                xr[1] = a * si + b * co;
            }
        }
}

void llama_layer_mha_weights(const llama_model *md, int layer, float *wq, float *wk, float *wv) {
    const llama_config *c = &md->c;
    const size_t d = (size_t)c->dim, hs = (size_t)c->head_size, kvd = (size_t)c->kv_dim, L = (size_t)layer;
    const size_t kv_mul = (size_t)(c->n_heads / c->n_kv_heads);
    const float *src[3] = {md->wq + L * d * d, md->wk + L * kvd * d, md->wv + L * kvd * d};
    float *dst[3] = {wq, wk, wv};
    for (int t = 0; t < 3; t++) {
        if (!dst[t]) continue;
        /* checkpoint rows are outputs: row (g * hs + j) of head group g, column i */
        for (size_t h = 0; h < (size_t)c->n_heads; h++) {
            size_t g = t == 0 ? h : h / kv_mul;
            for (size_t i = 0; i < d; i++)
                for (size_t j = 0; j < hs; j++)
                    dst[t][(h * d + i) * hs + j] = src[t][(g * hs + j) * d + i];
        }
    }
}

#define SAMPLING_STREAM 0x6361707475726500ull /* "capture": the rng stream of the sampler */

/* a token from logits (vocab): argmax at temperature 0, else softmax(logits / T) */
static int sample_token(const float *logits, int vocab, double temperature, rng *r) {
    int best = 0;
    for (int j = 1; j < vocab; j++) if (logits[j] > logits[best]) best = j;
    if (temperature == 0) return best;
    double mx = logits[best], z = 0;
    for (int j = 0; j < vocab; j++) z += exp(((double)logits[j] - mx) / temperature);
    double u = rng_uniform(r) * z, cum = 0;
    for (int j = 0; j < vocab; j++) {
        cum += exp(((double)logits[j] - mx) / temperature);
        if (u < cum) return j;
    }
    return best; /* u within rounding of z */
}

int llama_sample(const llama_model *md, int *tokens, size_t n, uint64_t seed, double temperature,
                 char *err, size_t errlen) {
    llama_state s;
    if (llama_state_init(&s, &md->c, n, 1, 0, err, errlen)) return -1;
    float *logits = malloc((size_t)md->c.vocab_size * sizeof(float));
    if (!logits) { llama_state_free(&s); return err_set(err, errlen, "out of memory for the logits"); }
    rng r;
    rng_seed(&r, seed, SAMPLING_STREAM);
    tokens[0] = 1; /* BOS */
    for (size_t t = 0; t + 1 < n; t++) {
        llama_forward(md, &s, tokens + t, t, 1);
        llama_logits(md, s.x, 1, logits);
        tokens[t + 1] = sample_token(logits, md->c.vocab_size, temperature, &r);
    }
    free(logits);
    llama_state_free(&s);
    return 0;
}

size_t llama_log_softmax(const float *logits, size_t V, double *lp) {
    size_t best = 0;
    for (size_t j = 1; j < V; j++) if (logits[j] > logits[best]) best = j;
    double mx = logits[best], z = 0;
    for (size_t j = 0; j < V; j++) z += exp((double)logits[j] - mx);
    double lz = mx + log(z);
    for (size_t j = 0; j < V; j++) lp[j] = (double)logits[j] - lz;
    return best;
}
