/* tokenizer_encode.c — llama2.c's encode (run.c) with the same tokens, in
 * O(n log n) instead of O(n^2), reading only as much of the text as the
 * tokens asked for need.
 *
 * llama2.c starts from one symbol per UTF-8 character (per byte, 3 + byte,
 * where the character is no token) after a dummy prefix " ", then merges
 * the adjacent pair whose concatenation is the token of the highest score,
 * the leftmost of equal scores, until no pair is a token, scanning every
 * pair for every merge. Here (merge_segment):
 *  - the symbols are a doubly linked list over the array of the initial
 *    symbols; a merge keeps the left node and unlinks the right one, so the
 *    array order stays the list order, and a node's index is its place for
 *    the tie-break;
 *  - every pair that is a token (scoring above llama2.c's start -1e10) is
 *    in a binary heap ordered by score, then by left node: pushed when the
 *    pair comes to be, at the start and, after a merge, the pairs the new
 *    symbol makes with its two neighbours;
 *  - a pair a merge changed stays in the heap, stale, and is skipped when it
 *    comes up: each node has a version, bumped whenever the pair starting at
 *    it changes (its symbol, or its right neighbour, changes, or it merges
 *    away), and an entry holds the version it was pushed with.
 * Every present pair has its entry with the version of now, so the first
 * entry that is not stale is the pair llama2.c's scan picks: the merges are
 * its merges, in its order.
 *
 * Segments. A merge across the boundary between initial symbols A and B
 * makes a token whose spelling holds A's followed by B's, so A's last byte
 * followed by B's first. Where no token holds those two bytes adjacent
 * (tokenizer.adjacent), no pair across the boundary is ever a token: the
 * pair llama2.c picks is the better of the best pairs of the two sides (the
 * left one on equal scores), and each side changes by its own merges only,
 * so each side merges as it would alone. The text is therefore cut at every
 * such boundary (for SentencePiece's vocabularies, whose tokens hold no
 * space after the first byte, before every space) and each segment merged
 * on its own, with the tokens of the whole text merged at once; and once the
 * segments merged hold the `want` tokens asked for, nothing after them can
 * change those, and the rest of the text is not read. Text with no such
 * boundary (every pair of bytes inside some token) is merged whole. */
#include "tokenizer.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BOS = 1, BYTE_FALLBACK_BASE = 3 };
#define NO_MERGE (-1e10f) /* llama2.c's best score before its scan: a pair must score above it */
#define NONE UINT_MAX

typedef struct { int sym; unsigned prev, next, version; } node;
typedef struct { float score; unsigned at, version; } candidate;

typedef struct {
    const tokenizer *t;
    unsigned char *scratch; /* 2 * max_token_length bytes */
    node *node;             /* the segment's symbols */
    size_t n, cap;
    candidate *heap;
    size_t hn, hcap;
    int *out;               /* the tokens merged so far, BOS first */
    size_t on, ocap;
} encoder;

/* p (of *cap elements of `size` bytes) grown to hold `need`: the new
 * pointer (cap updated), or NULL with p unchanged */
static void *grow(void *p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return p;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = c <= SIZE_MAX / size ? realloc(p, c * size) : NULL;
    if (q) *cap = c;
    return q;
}

/* the token of node a's symbol followed by its right neighbour's, or -1 */
static int pair_token(const encoder *e, unsigned a) {
    const tokenizer *t = e->t;
    unsigned b = e->node[a].next;
    if (b == NONE) return -1;
    int x = e->node[a].sym, y = e->node[b].sym;
    unsigned lx = t->len[x], ly = t->len[y];
    if (lx + ly > (unsigned)t->max_token_length) return -1; /* no token is that long */
    memcpy(e->scratch, t->bytes + t->offset[x], lx);
    memcpy(e->scratch + lx, t->bytes + t->offset[y], ly);
    return tokenizer_lookup(t, e->scratch, lx + ly);
}

/* llama2.c's order: the higher score first, the leftmost of equal scores */
static int before(const candidate *a, const candidate *b) {
    return a->score > b->score || (a->score == b->score && a->at < b->at);
}

/* the pair starting at node a into the heap, where it is a token: 0, or -1 out of memory */
static int push(encoder *e, unsigned a) {
    int id = pair_token(e, a);
    if (id < 0 || !(e->t->scores[id] > NO_MERGE)) return 0;
    candidate *h = grow(e->heap, &e->hcap, e->hn + 1, sizeof *h);
    if (!h) return -1;
    e->heap = h;
    candidate c = {e->t->scores[id], a, e->node[a].version};
    size_t i = e->hn++;
    for (; i && before(&c, &h[(i - 1) / 2]); i = (i - 1) / 2) h[i] = h[(i - 1) / 2];
    h[i] = c;
    return 0;
}

static candidate pop(encoder *e) {
    candidate *h = e->heap, top = h[0], last = h[--e->hn];
    size_t i = 0, n = e->hn;
    for (size_t c; (c = 2 * i + 1) < n; i = c) {
        if (c + 1 < n && before(&h[c + 1], &h[c])) c++;
        if (!before(&h[c], &last)) break;
        h[i] = h[c];
    }
    h[i] = last;
    return top;
}

/* merges the segment as llama2.c would (see the top) and moves its tokens
 * to out: 0, or -1 out of memory */
static int merge_segment(encoder *e) {
    e->hn = 0;
    for (unsigned i = 0; i + 1 < e->n; i++)
        if (push(e, i)) return -1;
    node *nd = e->node;
    while (e->hn) {
        candidate c = pop(e);
        unsigned a = c.at;
        if (c.version != nd[a].version) continue; /* stale: that pair is gone */
        unsigned b = nd[a].next;
        nd[a].sym = pair_token(e, a);
        nd[a].next = nd[b].next;
        if (nd[b].next != NONE) nd[nd[b].next].prev = a;
        nd[a].version++;
        nd[b].version++;
        if (push(e, a)) return -1;
        if (nd[a].prev != NONE) {
            nd[nd[a].prev].version++;
            if (push(e, nd[a].prev)) return -1;
        }
    }
    int *o = grow(e->out, &e->ocap, e->on + e->n, sizeof *o);
    if (!o) return -1;
    e->out = o;
    for (unsigned i = 0; e->n && i != NONE; i = nd[i].next) o[e->on++] = nd[i].sym;
    e->n = 0;
    return 0;
}

/* appends the initial symbol id, which starts at byte `at` of the text,
 * first merging the segment before it where the boundary is one no merge
 * crosses: 0; 1 when the tokens merged then hold the `want` asked (*used =
 * at); -1 out of memory */
static int add_symbol(encoder *e, int id, size_t at, size_t want, size_t *used) {
    const tokenizer *t = e->t;
    if (e->n) {
        int a = e->node[e->n - 1].sym;
        unsigned x = t->bytes[t->offset[a] + t->len[a] - 1], y = t->bytes[t->offset[id]];
        if (!(t->adjacent[x * 32 + y / 8] >> (y % 8) & 1)) {
            if (merge_segment(e)) return -1;
            if (e->on >= want) { *used = at; return 1; }
        }
    }
    node *nd = grow(e->node, &e->cap, e->n + 1, sizeof *nd);
    if (!nd) return -1;
    e->node = nd;
    unsigned i = (unsigned)e->n++;
    nd[i] = (node){id, i ? i - 1 : NONE, NONE, 0};
    if (i) nd[i - 1].next = i;
    return 0;
}

/* the length of the UTF-8 character at s[0..left) as llama2.c reads it: a
 * lead byte and at most 3 continuation bytes */
static size_t utf8_char(const unsigned char *s, size_t left) {
    size_t l = 1;
    while (l < left && l < 4 && (s[l] & 0xC0) == 0x80) l++;
    return l;
}

int tokenizer_encode(const tokenizer *t, const char *text, size_t len, size_t want, int **tokens, size_t *n,
                     size_t *used, char *err, size_t errlen) {
    const unsigned char *s = (const unsigned char *)text;
    encoder e = {.t = t};
    size_t read = len;
    int rc = 0; /* 0 going on, 1 stopped with enough tokens, -1 out of memory, -2 a byte the vocabulary lacks */
    e.scratch = malloc(2 * (size_t)t->max_token_length);
    e.out = grow(NULL, &e.ocap, 1, sizeof(int));
    if (!e.scratch || !e.out || len >= NONE) rc = -1; /* a segment's nodes are numbered in unsigned */
    else e.out[e.on++] = BOS;
    int space = tokenizer_lookup(t, (const unsigned char *)" ", 1);
    if (!rc && len && space >= 0) rc = add_symbol(&e, space, 0, want, &read); /* the dummy prefix */
    for (size_t i = 0; !rc && i < len;) {
        size_t l = utf8_char(s + i, len - i);
        int id = tokenizer_lookup(t, s + i, l);
        if (id >= 0) rc = add_symbol(&e, id, i, want, &read);
        for (size_t b = 0; id < 0 && !rc && b < l; b++) {
            int fb = BYTE_FALLBACK_BASE + s[i + b];
            if (fb < t->vocab) rc = add_symbol(&e, fb, i + b, want, &read);
            else {
                snprintf(err, errlen, "byte 0x%02x at offset %zu is not in the tokenizer's vocabulary of %d", s[i + b], i + b,
                         t->vocab);
                rc = -2;
            }
        }
        i += l;
    }
    if (!rc) rc = merge_segment(&e);
    if (rc == -1) snprintf(err, errlen, "out of memory to encode %zu bytes", len);
    free(e.scratch);
    free(e.node);
    free(e.heap);
    if (rc < 0) { free(e.out); return -1; }
    *tokens = e.out;
    *n = e.on;
    if (used) *used = read;
    return 0;
}
