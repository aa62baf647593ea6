/* knobs.c — the registry's table (knobs.h) and what needs only the table:
 * lookups, a knob's attn_knobs field, labels, the columns. Applying it to a
 * command's options (which knobs a method reads, filling attn_knobs) is
 * knob_fill.c, above the option parser. */
#include "knobs.h"
#include "methods.h"
#include "options.h"
#include "results.h"

#include <stdio.h>
#include <string.h>

const knob_def knob_defs[KN_COUNT] = {
#define KNOB_DEF(id, nm, ty, field, cmds, lst, col, bt, fl, lab, lo, hi, hlp) \
    [KN_##id] = {nm, ty, offsetof(run_options, field), cmds, lst, col, bt, fl, lab, lo, hi, hlp},
    KNOB_REGISTRY(KNOB_DEF)
#undef KNOB_DEF
};

/* a method knob's bit i is attn_knobs' i-th size_t (attention.h) */
#define KNOB_AT_INDEX(A, ID, field, ...)                                                                     \
    _Static_assert(offsetof(attn_knobs, field) == ATTN_KNOB_INDEX_##ID * sizeof(size_t), #field " is field " \
                                                                                          "i of attn_knobs");
ATTN_KNOB_LIST(KNOB_AT_INDEX, )
#undef KNOB_AT_INDEX
_Static_assert(C_RUN == 1u << OPTS_RUN && C_FFN == 1u << OPTS_FFN && C_CAP == 1u << OPTS_CAPTURE &&
               C_EVAL == 1u << OPTS_EVAL && C_DEC == 1u << OPTS_DECODE && C_TRAIN == 1u << OPTS_TRAIN,
               "C_* bits are opts_kind bits");

int knob_find(const char *name) {
    for (int i = 0; i < KN_COUNT; i++)
        if (!strcmp(knob_defs[i].name, name)) return i;
    return -1;
}

/* the attn_knobs field of a method knob, or NULL */
size_t *knob_field(attn_knobs *kn, unsigned bit) {
    if (!KNOB_IS_METHOD(bit)) return NULL;
    return (size_t *)kn + __builtin_ctz(bit);
}

size_t knob_attn_offset(unsigned bit) { return (size_t)__builtin_ctz(bit) * sizeof(size_t); }

void knobs_clear_unread(attn_knobs *kn, unsigned reads) {
    for (unsigned bit = 1; bit & KNOB_METHOD_ALL; bit <<= 1)
        if (!(reads & bit)) *knob_field(kn, bit) = 0;
}

void knobs_set_columns(result_row *row, unsigned reads, const attn_knobs *kn) {
    for (int i = 0; i < KN_COUNT; i++) {
        const knob_def *k = &knob_defs[i];
        const size_t *f = knob_field((attn_knobs *)kn, k->bit);
        if (f && (reads & k->bit) && k->column >= 0) row_set(row, k->column, "%zu", *f);
    }
}

const char *knob_label_of_column(int column) {
    for (int i = 0; i < KN_COUNT; i++)
        if (knob_defs[i].column == column && knob_defs[i].label) return knob_defs[i].label;
    return NULL;
}

void knobs_describe(unsigned bits, char *out, size_t cap) {
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < KN_COUNT && len < cap; i++)
        if (knob_defs[i].bit & bits)
            len += (size_t)snprintf(out + len, cap - len, "%s--%s", len ? ", " : " (reads ", knob_defs[i].name);
    if (len && len + 1 < cap) snprintf(out + len, cap - len, ")");
}
