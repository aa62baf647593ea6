/* knob_fill.c — the registry (knobs.h) applied to one command's parsed
 * options (options.c): which knobs apply to a method, the refusal of a knob
 * the method does not read, filling attn_knobs and the method's resolve. */
#include "knobs.h"
#include "methods.h"
#include "options.h"
#include "results.h"

#include <stdio.h>
#include <string.h>

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
