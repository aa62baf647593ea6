/* tokenizer.c — see tokenizer.h. The merge loop is llama2.c's, run word by
 * word: where no token holds a space after its first byte (SentencePiece's
 * split by whitespace), no merge can cross the boundary before a space, so
 * merging each word on its own gives the same tokens as merging the whole
 * text at once, in time linear in the text instead of quadratic. */
#include "tokenizer.h"
#include "readfile.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BOS = 1, BYTE_FALLBACK_BASE = 3, MAX_TOKEN_LENGTH_LIMIT = 1 << 16 };

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int32_t le_i32(const unsigned char *b) {
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

static const tokenizer *sort_ctx; /* qsort has no context argument; loading is single-threaded */

static int cmp_bytes(const unsigned char *a, size_t la, const unsigned char *b, size_t lb) {
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int cmp_ids(const void *x, const void *y) {
    const tokenizer *t = sort_ctx;
    int a = *(const int *)x, b = *(const int *)y;
    int c = cmp_bytes(t->bytes + t->offset[a], t->len[a], t->bytes + t->offset[b], t->len[b]);
    return c ? c : (a > b) - (a < b); /* equal strings: the lower id first, found first */
}

/* the id of the token spelled s[0..len), or -1 (the lowest id of equal spellings) */
static int lookup(const tokenizer *t, const unsigned char *s, size_t len) {
    int lo = 0, hi = t->vocab; /* first sorted entry >= s */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, id = t->sorted[mid];
        if (cmp_bytes(t->bytes + t->offset[id], t->len[id], s, len) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo < t->vocab) {
        int id = t->sorted[lo];
        if (!cmp_bytes(t->bytes + t->offset[id], t->len[id], s, len)) return id;
    }
    return -1;
}

/* the entries of buf[4..size): 0, or -1 with err; fills t when t->scores is set */
static int parse_entries(const char *path, const unsigned char *buf, size_t size, tokenizer *t, int *count,
                         char *err, size_t errlen) {
    size_t at = 4, bytes = 0;
    int i = 0;
    while (at < size) {
        if (size - at < 8) return fail(err, errlen, "%s: not a llama2.c tokenizer: token %d's header is cut off at byte %zu", path, i, at);
        float score;
        memcpy(&score, buf + at, 4);
        int32_t len = le_i32(buf + at + 4);
        if (!isfinite(score)) return fail(err, errlen, "%s: not a llama2.c tokenizer: token %d has a non-finite score", path, i);
        if (len < 1 || len > t->max_token_length)
            return fail(err, errlen, "%s: not a llama2.c tokenizer: token %d has length %d (max_token_length %d)", path, i,
                        (int)len, t->max_token_length);
        if (size - at - 8 < (size_t)len)
            return fail(err, errlen, "%s: not a llama2.c tokenizer: token %d's %d bytes run past the end", path, i, (int)len);
        if (t->scores) {
            t->scores[i] = score;
            t->offset[i] = (unsigned)bytes;
            t->len[i] = (unsigned)len;
            memcpy(t->bytes + bytes, buf + at + 8, (size_t)len);
            for (int32_t j = 1; j < len; j++) if (buf[at + 8 + (size_t)j] == ' ') t->space_inside = 1;
        }
        bytes += (size_t)len;
        at += 8 + (size_t)len;
        if (++i > t->vocab) return fail(err, errlen, "%s: more tokens than the checkpoint's vocabulary of %d", path, t->vocab);
    }
    *count = i;
    return 0;
}

int tokenizer_load(const char *path, int vocab, tokenizer *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    char *text;
    size_t size;
    if (readfile_all(path, TOKENIZER_MAX_FILE, &text, &size, err, errlen)) return -1;
    unsigned char *buf = (unsigned char *)text;
    t->vocab = vocab;
    int count = 0, rc = 0;
    if (size < 4) rc = fail(err, errlen, "%s: not a llama2.c tokenizer: %zu bytes", path, size);
    if (!rc) {
        t->max_token_length = le_i32(buf);
        if (t->max_token_length < 1 || t->max_token_length > MAX_TOKEN_LENGTH_LIMIT)
            rc = fail(err, errlen, "%s: not a llama2.c tokenizer: max_token_length %d", path, t->max_token_length);
    }
    if (!rc) rc = parse_entries(path, buf, size, t, &count, err, errlen);
    if (!rc && count != vocab)
        rc = fail(err, errlen, "%s: %d tokens, but the checkpoint's vocabulary has %d", path, count, vocab);
    if (!rc) {
        t->scores = malloc((size_t)vocab * sizeof(float));
        t->offset = malloc((size_t)vocab * sizeof(unsigned));
        t->len = malloc((size_t)vocab * sizeof(unsigned));
        t->bytes = malloc(size);
        t->sorted = malloc((size_t)vocab * sizeof(int));
        if (!t->scores || !t->offset || !t->len || !t->bytes || !t->sorted) rc = fail(err, errlen, "%s: out of memory", path);
    }
    if (!rc) rc = parse_entries(path, buf, size, t, &count, err, errlen);
    free(buf);
    if (rc) { tokenizer_free(t); return -1; }
    for (int i = 0; i < vocab; i++) t->sorted[i] = i;
    sort_ctx = t;
    qsort(t->sorted, (size_t)vocab, sizeof(int), cmp_ids);
    sort_ctx = NULL;
    return 0;
}

void tokenizer_free(tokenizer *t) {
    free(t->scores); free(t->offset); free(t->len); free(t->bytes); free(t->sorted);
    memset(t, 0, sizeof *t);
}

/* llama2.c's merge loop on tok[0..n): the best-scoring adjacent pair whose
 * concatenation is a token merges, until none does; returns the new n.
 * scratch: at least 2 * max_token_length bytes */
static size_t merge_piece(const tokenizer *t, int *tok, size_t n, unsigned char *scratch) {
    for (;;) {
        float best = -1e10f;
        int best_id = -1;
        size_t best_at = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            unsigned la = t->len[tok[i]], lb = t->len[tok[i + 1]];
            if (la + lb > (unsigned)t->max_token_length) continue; /* no token is that long */
            memcpy(scratch, t->bytes + t->offset[tok[i]], la);
            memcpy(scratch + la, t->bytes + t->offset[tok[i + 1]], lb);
            int id = lookup(t, scratch, la + lb);
            if (id >= 0 && t->scores[id] > best) { best = t->scores[id]; best_id = id; best_at = i; }
        }
        if (best_id < 0) return n;
        tok[best_at] = best_id;
        memmove(tok + best_at + 1, tok + best_at + 2, (n - best_at - 2) * sizeof(int));
        n--;
    }
}

/* the length of the UTF-8 character at s[0..left) as llama2.c reads it: a
 * lead byte and at most 3 continuation bytes */
static size_t utf8_char(const unsigned char *s, size_t left) {
    size_t l = 1;
    while (l < left && l < 4 && (s[l] & 0xC0) == 0x80) l++;
    return l;
}

int tokenizer_encode(const tokenizer *t, const char *text, size_t len, int **tokens, size_t *n,
                     char *err, size_t errlen) {
    const unsigned char *s = (const unsigned char *)text;
    int *tok = malloc((len + 2) * sizeof(int));
    unsigned char *scratch = malloc(2 * (size_t)t->max_token_length);
    if (!tok || !scratch) { free(tok); free(scratch); return fail(err, errlen, "out of memory to encode %zu bytes", len); }
    size_t m = 0;
    tok[m++] = BOS;
    int space = lookup(t, (const unsigned char *)" ", 1);
    if (len && space >= 0) tok[m++] = space; /* the dummy prefix */
    for (size_t i = 0; i < len;) {
        size_t l = utf8_char(s + i, len - i);
        int id = lookup(t, s + i, l);
        if (id >= 0) {
            tok[m++] = id;
        } else {
            for (size_t b = 0; b < l; b++) {
                int fb = BYTE_FALLBACK_BASE + s[i + b];
                if (fb >= t->vocab) {
                    free(tok); free(scratch);
                    return fail(err, errlen, "byte 0x%02x at offset %zu is not in the tokenizer's vocabulary of %d", s[i + b],
                                i + b, t->vocab);
                }
                tok[m++] = fb;
            }
        }
        i += l;
    }
    /* merge word by word (see the top of the file); the BOS never merges */
    size_t out = 1, start = 1;
    for (size_t i = 1; i <= m; i++) {
        int boundary = i == m || (!t->space_inside && i > start && t->len[tok[i]] >= 1 &&
                                  t->bytes[t->offset[tok[i]]] == ' ');
        if (!boundary) continue;
        size_t k = merge_piece(t, tok + start, i - start, scratch);
        memmove(tok + out, tok + start, k * sizeof(int));
        out += k;
        start = i;
    }
    free(scratch);
    *tokens = tok;
    *n = out;
    return 0;
}
