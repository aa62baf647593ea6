/* tokenizer.c — see tokenizer.h: the file read and validated, the lookup of
 * a spelling; tokenizer_encode.c encodes. */
#include "tokenizer.h"
#include "errmsg.h"
#include "readfile.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_TOKEN_LENGTH_LIMIT = 1 << 16 };

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

int tokenizer_lookup(const tokenizer *t, const unsigned char *s, size_t len) {
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
        if (size - at < 8) return err_set(err, errlen, "%s: not a llama2.c tokenizer: token %d's header is cut off at byte %zu", path, i, at);
        float score;
        memcpy(&score, buf + at, 4);
        int32_t len = le_i32(buf + at + 4);
        if (!isfinite(score)) return err_set(err, errlen, "%s: not a llama2.c tokenizer: token %d has a non-finite score", path, i);
        if (len < 1 || len > t->max_token_length)
            return err_set(err, errlen, "%s: not a llama2.c tokenizer: token %d has length %d (max_token_length %d)", path, i,
                        (int)len, t->max_token_length);
        if (size - at - 8 < (size_t)len)
            return err_set(err, errlen, "%s: not a llama2.c tokenizer: token %d's %d bytes run past the end", path, i, (int)len);
        if (t->scores) {
            t->scores[i] = score;
            t->offset[i] = (unsigned)bytes;
            t->len[i] = (unsigned)len;
            memcpy(t->bytes + bytes, buf + at + 8, (size_t)len);
            for (int32_t j = 1; j < len; j++) {
                unsigned x = buf[at + 8 + (size_t)j - 1], y = buf[at + 8 + (size_t)j];
                t->adjacent[x * 32 + y / 8] |= (unsigned char)(1u << (y % 8));
            }
        }
        bytes += (size_t)len;
        at += 8 + (size_t)len;
        if (++i > t->vocab) return err_set(err, errlen, "%s: more tokens than the checkpoint's vocabulary of %d", path, t->vocab);
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
    if (size < 4) rc = err_set(err, errlen, "%s: not a llama2.c tokenizer: %zu bytes", path, size);
    if (!rc) {
        t->max_token_length = le_i32(buf);
        if (t->max_token_length < 1 || t->max_token_length > MAX_TOKEN_LENGTH_LIMIT)
            rc = err_set(err, errlen, "%s: not a llama2.c tokenizer: max_token_length %d", path, t->max_token_length);
    }
    if (!rc) rc = parse_entries(path, buf, size, t, &count, err, errlen);
    if (!rc && count != vocab)
        rc = err_set(err, errlen, "%s: %d tokens, but the checkpoint's vocabulary has %d", path, count, vocab);
    if (!rc) {
        t->scores = malloc((size_t)vocab * sizeof(float));
        t->offset = malloc((size_t)vocab * sizeof(unsigned));
        t->len = malloc((size_t)vocab * sizeof(unsigned));
        t->bytes = malloc(size);
        t->sorted = malloc((size_t)vocab * sizeof(int));
        if (!t->scores || !t->offset || !t->len || !t->bytes || !t->sorted) rc = err_set(err, errlen, "%s: out of memory", path);
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
