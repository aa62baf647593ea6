/* tokenizer.h — llama2.c tokenizer files (tokenizer.bin, tok512.bin,
 * tok105.bin) read, validated and used to encode text for `attnbench eval`.
 *
 * The file: int32 max_token_length, then per token: float32 score, int32
 * length, that many bytes (no terminator); as many tokens as the model's
 * vocabulary. Encoding is llama2.c's: BOS, a dummy prefix " " (where the
 * vocabulary holds one), every UTF-8 character looked up (bytes not in the
 * vocabulary fall back to the byte tokens 3 + byte, where those exist), then
 * merges of adjacent pairs, the pair whose merged string has the highest
 * score first (the leftmost of equals), until no pair merges. The BOS takes
 * no part in the merges. tokenizer_encode.c gives llama2.c's tokens in
 * O(n log n) instead of its O(n^2), and only as many as are asked for.
 *
 * Library code: errors come back as one line of text; nothing is printed. */
#ifndef TOKENIZER_H
#define TOKENIZER_H

#include <stddef.h>

typedef struct {
    int vocab, max_token_length;
    float *scores;         /* (vocab) */
    unsigned *offset, *len; /* (vocab): token i is bytes[offset[i] .. offset[i] + len[i]) */
    unsigned char *bytes;
    int *sorted;           /* (vocab) ids by their bytes, for lookup */
    /* bit y of adjacent[x * 32 + y / 8]: some token holds byte x followed by
     * byte y; where not, no merge joins a symbol ending in x to one starting with y */
    unsigned char adjacent[256 * 256 / 8];
} tokenizer;

enum { TOKENIZER_MAX_FILE = 64 << 20, TEXT_MAX_FILE = 16 << 20 };

/* Reads PATH (a regular file of at most TOKENIZER_MAX_FILE bytes) for a
 * model of `vocab` tokens. 0, or -1 with "PATH: problem" in err ("not a
 * llama2.c tokenizer: ..." for a file of another format). */
int tokenizer_load(const char *path, int vocab, tokenizer *t, char *err, size_t errlen);
void tokenizer_free(tokenizer *t);

/* the id of the token spelled s[0..len) (the lowest of equal spellings), or -1 */
int tokenizer_lookup(const tokenizer *t, const unsigned char *s, size_t len);

/* the first tokens (malloc'ed, *n of them) of text[0..len), BOS first: at
 * least `want` of them (SIZE_MAX: all), each the token llama2.c's encoding
 * of the whole text has there, or all of them where the text has fewer.
 * *used (may be NULL): the bytes of text read, len once all were. 0, or -1
 * with err (a byte the vocabulary cannot express, out of memory). */
int tokenizer_encode(const tokenizer *t, const char *text, size_t len, size_t want, int **tokens, size_t *n,
                     size_t *used, char *err, size_t errlen);


#endif
