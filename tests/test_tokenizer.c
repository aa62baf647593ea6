/* test_tokenizer.c — tokenizer_encode (a heap of merges, text cut where no
 * merge can cross) against llama2.c's encode as run.c writes it (rescan every
 * pair for every merge, kept here only): random tokenizers over a small
 * alphabet with byte fallback, duplicate spellings and tied scores, random
 * strings; every `want` gives a prefix of the whole encoding; and the real
 * data/tok105.bin (run from the repository root).
 * `test_tokenizer --write-ab PATH` writes the tokenizer of 32 tokens
 * (merges a aa aaaa b ab) for e2e_text.sh. */
#include "check.h"
#include "tokenizer.h"

#include <stdint.h>
#include <unistd.h>

enum { MAX_VOCAB = 400, BYTE_BASE = 3 };

typedef struct {
    int vocab, max_len;
    char str[MAX_VOCAB][16];
    int len[MAX_VOCAB];
    float score[MAX_VOCAB];
} vocab_spec;

static int add_token(vocab_spec *v, const char *s, int len, float score) {
    if (v->vocab == MAX_VOCAB || len > v->max_len) return -1;
    memcpy(v->str[v->vocab], s, (size_t)len);
    v->len[v->vocab] = len;
    v->score[v->vocab] = score;
    return v->vocab++;
}

static int write_vocab(const char *path, const vocab_spec *v) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    int32_t m = v->max_len;
    fwrite(&m, 4, 1, fp);
    for (int i = 0; i < v->vocab; i++) {
        int32_t l = v->len[i];
        fwrite(&v->score[i], 4, 1, fp);
        fwrite(&l, 4, 1, fp);
        fwrite(v->str[i], 1, (size_t)l, fp);
    }
    return fclose(fp);
}

/* the lowest id spelled s[0..len), or -1 */
static int ref_lookup(const vocab_spec *v, const char *s, int len) {
    for (int i = 0; i < v->vocab; i++)
        if (v->len[i] == len && !memcmp(v->str[i], s, (size_t)len)) return i;
    return -1;
}

/* llama2.c's encode (run.c), on counted bytes: BOS, the dummy prefix " ",
 * each UTF-8 character or its bytes + 3; then, over and over, the pair of
 * the best score above -1e10 (the first found of equals) merges. As in the
 * program, the BOS takes no part in the merges and the dummy prefix is left
 * out where " " is no token. The number of tokens, or -1 (a byte without a
 * token). */
static int ref_encode(const vocab_spec *v, const char *text, int len, int *tok) {
    int n = 0;
    char buf[64];
    tok[n++] = 1;
    int space = ref_lookup(v, " ", 1);
    if (len && space >= 0) tok[n++] = space;
    int blen = 0;
    for (int c = 0; c < len; c++) {
        if ((text[c] & 0xC0) != 0x80) blen = 0;
        buf[blen++] = text[c];
        if (c + 1 < len && (text[c + 1] & 0xC0) == 0x80 && blen < 4) continue;
        int id = ref_lookup(v, buf, blen);
        if (id != -1) tok[n++] = id;
        else
            for (int i = 0; i < blen; i++) {
                if ((unsigned char)buf[i] + BYTE_BASE >= v->vocab) return -1;
                tok[n++] = (unsigned char)buf[i] + BYTE_BASE;
            }
        blen = 0;
    }
    for (;;) {
        float best_score = -1e10f;
        int best_id = -1, best_idx = -1;
        for (int i = 1; i < n - 1; i++) {
            int la = v->len[tok[i]], lb = v->len[tok[i + 1]];
            memcpy(buf, v->str[tok[i]], (size_t)la);
            memcpy(buf + la, v->str[tok[i + 1]], (size_t)lb);
            int id = ref_lookup(v, buf, la + lb);
            if (id != -1 && v->score[id] > best_score) { best_score = v->score[id]; best_id = id; best_idx = i; }
        }
        if (best_idx == -1) break;
        tok[best_idx] = best_id;
        for (int i = best_idx + 1; i < n - 1; i++) tok[i] = tok[i + 1];
        n--;
    }
    return n;
}

/* the specials and the 256 byte tokens, as llama2.c's tokenizer.bin has them */
static void base_vocab(vocab_spec *v, int max_len) {
    v->vocab = 0;
    v->max_len = max_len;
    add_token(v, "<unk>", 5, 0);
    add_token(v, "\n<s>\n", 5, 0);
    add_token(v, "\n</s>\n", 6, 0);
    for (int b = 0; b < 256; b++) {
        char s[8];
        snprintf(s, sizeof s, "<0x%02X>", b);
        add_token(v, s, 6, 0);
    }
}

static float random_score(void) {
    return test_rand64() % 16 == 0 ? -2e10f : (float)(int)(test_rand64() % 7) - 3.0f; /* ties; some never merge */
}

static const char *const alphabet[] = {"a", "b", "c", " ", "\xc3\xa9", "\x80"};
enum { ALPHABET = sizeof alphabet / sizeof *alphabet };

/* the byte tokens, some characters of the alphabet (a and b always), then
 * tokens that join two earlier ones: pieces a merge can make, and some
 * spelled twice */
static void random_vocab(vocab_spec *v) {
    base_vocab(v, 6 + (int)(test_rand64() % 5));
    int first = v->vocab;
    for (int i = 0; i < ALPHABET; i++)
        if (i < 2 || test_rand64() % 2) add_token(v, alphabet[i], (int)strlen(alphabet[i]), random_score());
    int merges = (int)(test_rand64() % 40);
    for (int m = 0; m < merges; m++) {
        int a = first + (int)(test_rand64() % (uint64_t)(v->vocab - first));
        int b = first + (int)(test_rand64() % (uint64_t)(v->vocab - first));
        if (test_rand64() % 8 == 0) a = BYTE_BASE + 'a' + (int)(test_rand64() % 3); /* a byte token joins */
        char s[32];
        memcpy(s, v->str[a], (size_t)v->len[a]);
        memcpy(s + v->len[a], v->str[b], (size_t)v->len[b]);
        add_token(v, s, v->len[a] + v->len[b], random_score());
    }
}

/* len bytes of random characters of the alphabet, runs of one often */
static int random_text(char *s, int maxlen) {
    int n = 0, len = (int)(test_rand64() % (uint64_t)(maxlen + 1));
    const char *run = alphabet[0];
    while (n < len) {
        if (test_rand64() % 3) run = alphabet[test_rand64() % ALPHABET];
        int l = (int)strlen(run);
        if (n + l > len) break;
        memcpy(s + n, run, (size_t)l);
        n += l;
    }
    return n;
}

static size_t first_difference(const int *a, size_t na, const int *b, size_t nb) {
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i]) i++;
    return i;
}

/* the whole encoding as the reference gives it, and a prefix for a random
 * want: the same tokens where they overlap, at least want of them */
static int stopped_early; /* encodings that did not read all of their text */
static void compare(const char *what, const vocab_spec *v, const tokenizer *t, const char *text, int len) {
    int *ref = malloc(((size_t)len + 2) * sizeof(int)), *got = NULL;
    size_t n = 0, used = 0;
    char err[256];
    int rn = ref_encode(v, text, len, ref);
    int rc = tokenizer_encode(t, text, (size_t)len, SIZE_MAX, &got, &n, &used, err, sizeof err);
    if (rn < 0) CHECK(rc != 0 && strstr(err, "not in the tokenizer's vocabulary"), "%s: a byte without a token accepted", what);
    else if (rc) CHECK(0, "%s: %s", what, err);
    else {
        int same = n == (size_t)rn && !memcmp(got, ref, n * sizeof(int)) && used == (size_t)len;
        CHECK(same, "%s: \"%.*s\": %zu tokens, the reference %d; first differing token %zu", what, len, text, n, rn,
              first_difference(got, n, ref, (size_t)rn));
        free(got);
        size_t want = test_rand64() % ((size_t)rn + 2);
        got = NULL;
        if (tokenizer_encode(t, text, (size_t)len, want, &got, &n, &used, err, sizeof err) == 0) {
            CHECK(n >= (want < (size_t)rn ? want : (size_t)rn) && n <= (size_t)rn && !memcmp(got, ref, n * sizeof(int)),
                  "%s: want %zu: %zu tokens, not a prefix of the whole encoding's %d", what, want, n, rn);
            CHECK((used == (size_t)len) == (n == (size_t)rn), "%s: want %zu: read %zu of %d bytes, %zu of %d tokens", what,
                  want, used, len, n, rn);
            if (used < (size_t)len) stopped_early++;
        } else {
            CHECK(0, "%s: want %zu: %s", what, want, err);
        }
    }
    free(got);
    free(ref);
}

static char path[] = "/tmp/attnbench-tok-XXXXXX";

static void test_random(void) {
    static vocab_spec v;
    stopped_early = 0;
    char text[600], err[256];
    for (int k = 0; k < 150; k++) {
        random_vocab(&v);
        tokenizer t;
        if (write_vocab(path, &v) || tokenizer_load(path, v.vocab, &t, err, sizeof err)) {
            CHECK(0, "tokenizer %d: %s", k, err);
            continue;
        }
        char what[32];
        snprintf(what, sizeof what, "tokenizer %d", k);
        for (int s = 0; s < 12; s++) compare(what, &v, &t, text, random_text(text, 40));
        if (k % 15 == 0) compare(what, &v, &t, text, random_text(text, (int)sizeof text));
        tokenizer_free(&t);
    }
    CHECK(stopped_early > 0, "no encoding stopped before the end of its text");
}

/* the real tokenizer: characters only (no merges), no byte tokens */
static void test_tok105(void) {
    static vocab_spec v;
    tokenizer t;
    char err[512];
    if (tokenizer_load("data/tok105.bin", 105, &t, err, sizeof err)) {
        CHECK(0, "%s (run from the repository root)", err);
        return;
    }
    v.vocab = t.vocab;
    v.max_len = t.max_token_length;
    for (int i = 0; i < t.vocab; i++) {
        v.len[i] = (int)t.len[i];
        memcpy(v.str[i], t.bytes + t.offset[i], t.len[i]);
        v.score[i] = t.scores[i];
    }
    static const char *const chars[] = {"e", "t", " ", "a", ".", "T", "\xe2\x80\x9c", "\xc3\xa9", "\xe2\x80\xa6", "!", "\n"};
    char text[400];
    for (int k = 0; k < 200; k++) {
        int n = 0, len = (int)(test_rand64() % 300);
        while (n + 3 < len) {
            const char *c = chars[test_rand64() % (sizeof chars / sizeof *chars - (k % 2))]; /* "\n": no token, on even k */
            memcpy(text + n, c, strlen(c));
            n += (int)strlen(c);
        }
        compare("tok105", &v, &t, text, n);
    }
    tokenizer_free(&t);
}

/* the tokenizer: merges a aa aaaa b ab, 32 tokens for test_eval's checkpoint */
static int write_ab(const char *p) {
    static vocab_spec v;
    v.vocab = 0;
    v.max_len = 6;
    add_token(&v, "<unk>", 5, 0);
    add_token(&v, "\n<s>\n", 5, 0);
    add_token(&v, "\n</s>\n", 6, 0);
    add_token(&v, " ", 1, -1);
    add_token(&v, "a", 1, -2);
    add_token(&v, "aa", 2, 1);
    add_token(&v, "aaaa", 4, 2);
    add_token(&v, "b", 1, -3);
    add_token(&v, "ab", 2, 0.5f);
    while (v.vocab < 32) {
        char c = (char)('c' + v.vocab - 9);
        add_token(&v, &c, 1, -10);
    }
    return write_vocab(p, &v);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-ab")) return write_ab(argv[2]) ? 1 : 0;
    int fd = mkstemp(path);
    if (fd < 0 || close(fd)) { fprintf(stderr, "cannot create %s\n", path); return 1; }
    test_random();
    test_tok105();
    unlink(path);
    if (check_failures) fprintf(stderr, "%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}
