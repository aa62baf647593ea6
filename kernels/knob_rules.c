/* knob_rules.c — each method's knob rules, the resolve hooks of the table
 * entries (attention.h): the defaults of the knobs a method reads and their
 * checks against the shape. The tables (methods.c) point here; decode's
 * entries (decode_*.c) call them too. */
#include "methods.h"

#include <stdio.h>
#include <string.h>

static int refuse(char *why, size_t cap, const char *fmt, size_t a, size_t b) {
    if (why && cap) snprintf(why, cap, fmt, a, b);
    return ATTN_EINVAL;
}

/* a knob left unset takes def; then it must be at least min */
static int knob_default(size_t *v, size_t def, size_t min, const char *opt, char *why, size_t cap) {
    if (*v == ATTN_KNOB_UNSET) *v = def;
    if (*v < min) {
        if (why && cap) snprintf(why, cap, "--%s must be at least %zu", opt, min);
        return ATTN_EINVAL;
    }
    return ATTN_OK;
}

int resolve_none(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    (void)s; (void)kn; (void)why; (void)cap;
    return ATTN_OK;
}

int chunked_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    (void)s;
    return knob_default(&kn->chunk, ATTN_DEFAULT_CHUNK, 1, "chunk", why, cap);
}

/* k: min(64, n), at most n */
int topk_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    int rc = knob_default(&kn->k, s->n < 64 ? s->n : 64, 1, "k", why, cap);
    if (!rc && kn->k > s->n) return refuse(why, cap, "--k %zu is larger than --n %zu", kn->k, s->n);
    return rc ? rc : chunked_resolve(s, kn, why, cap);
}

/* features: ceil(d_head ln d_head), 1..2^20 */
int performer_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    int rc = knob_default(&kn->features, performer_default_features(s->d_head), 1, "features", why, cap);
    if (!rc && kn->features > PERFORMER_MAX_FEATURES)
        return refuse(why, cap, "--features %zu: at most %zu", kn->features, PERFORMER_MAX_FEATURES);
    return rc;
}

/* ---- the ffn table's --------------------------------------------------------- */

/* k: min(256, d_ff), at most d_ff */
int ffn_topk_resolve(const ffn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    int rc = knob_default(&kn->k, s->d_ff < 256 ? s->d_ff : 256, 1, "k", why, cap);
    if (!rc && kn->k > s->d_ff) return refuse(why, cap, "--k %zu is larger than --d-ff %zu", kn->k, s->d_ff);
    return rc ? rc : knob_default(&kn->chunk, ATTN_DEFAULT_CHUNK, 1, "chunk", why, cap);
}
int ffn_exact_resolve(const ffn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    (void)s;
    return knob_default(&kn->chunk, ATTN_DEFAULT_CHUNK, 1, "chunk", why, cap);
}
