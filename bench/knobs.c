/* knobs.c — the registry's table (knobs.h) and what iterates it for the
 * commands: which knobs apply to a method, filling attn_knobs, the columns. */
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

unsigned knob_method_bits(int cmd, const char *attention) {
    run_options d;
    options_defaults(&d, (opts_kind)cmd);
    if (!attention) attention = d.attention;
    if (cmd == OPTS_FFN) {
        const ffn_method *f = ffn_method_find(attention);
        return f ? f->knobs : 0;
    }
    const attn_method *m = attn_method_find(attention);
    return m ? m->knobs : 0;
}

int knob_applies(int knob, int cmd, const char *attention, const char *projection) {
    const knob_def *k = &knob_defs[knob];
    if (!(k->commands & (1u << cmd))) return 0;
    if (!k->bit) return 1;
    if (!KNOB_IS_METHOD(k->bit)) { /* a projection scheme's knob */
        run_options d;
        options_defaults(&d, (opts_kind)cmd);
        const proj_scheme *p = proj_scheme_find(projection ? projection : d.projection);
        return p && (p->knobs & k->bit);
    }
    return (knob_method_bits(cmd, attention) & k->bit) != 0;
}

void knobs_fill(const run_options *o, attn_knobs *kn) {
    memset(kn, 0, sizeof *kn);
    for (int i = 0; i < KN_COUNT; i++) {
        size_t *f = knob_field(kn, knob_defs[i].bit);
        if (f) *f = options_given(o, knob_defs[i].name) ? *(const size_t *)((const char *)o + knob_defs[i].offset)
                                                         : ATTN_KNOB_UNSET;
    }
    kn->seed = o->seed;
    kn->threads = o->threads;
}

int knobs_check_read(const run_options *o, int cmd, unsigned reads, const char *flag, const char *method,
                     char *err, size_t cap) {
    for (int i = 0; i < KN_COUNT; i++) {
        const knob_def *k = &knob_defs[i];
        if (!KNOB_IS_METHOD(k->bit) || !(k->commands & (1u << cmd))) continue;
        if (!options_given(o, k->name)) continue;
        if (!(reads & k->bit)) {
            snprintf(err, cap, "--%s is not read by --%s %s", k->name, flag, method);
            return -1;
        }
        const size_t v = *(const size_t *)((const char *)o + k->offset);
        if (k->max && !(k->lists & (1u << cmd)) && (v < k->min || v > k->max)) {
            snprintf(err, cap, "--%s %zu: must be %zu..%zu", k->name, v, k->min, k->max);
            return -1;
        }
    }
    return 0;
}

int knobs_resolve(const run_options *o, int cmd, const attn_method *m, const attn_shape *s, attn_knobs *kn,
                  char *err, size_t cap) {
    if (knobs_check_read(o, cmd, m->knobs, "attention", m->name, err, cap)) return -1;
    knobs_fill(o, kn);
    char why[300] = "";
    if (m->resolve(s, kn, why, sizeof why) != ATTN_OK) {
        snprintf(err, cap, "%s", why[0] ? why : "knobs the method cannot take");
        return -1;
    }
    knobs_clear_unread(kn, m->knobs);
    return 0;
}

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
