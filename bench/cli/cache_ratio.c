/* cache_ratio.c — see cache_ratio.h */
#include "cache_ratio.h"
#include "knobs.h"

int cache_ratio_chooses_kv(const run_options *o, const proj_scheme *ps, const attn_decode *dec) {
    return options_given(o, "cache-ratio") && !options_given(o, "kv-heads") && options_given(o, "projection") &&
           (ps->knobs & KNOB_KV_HEADS) && dec && !dec->fit_ratio;
}

int cache_ratio_fit(const char *cmd, const run_options *o, decode_config *c, const attn_knobs *given, size_t ref_bytes,
                    int choose_kv, double *achieved) {
    char why[400];
    if (decode_fit_ratio(c, o->cache_ratio, ref_bytes, choose_kv, achieved, why, sizeof why)) return bad_input(cmd, "%s", why);
    for (int i = 0; i < KN_COUNT; i++) {
        const knob_def *k = &knob_defs[i];
        const size_t *was = knob_field((attn_knobs *)given, k->bit), *now = knob_field(&c->kn, k->bit);
        if (!was || !(c->op->knobs & k->bit) || !options_given(o, k->name) || *was == *now) continue;
        if (*now == ATTN_KNOB_UNSET) /* the operator's default of the fitted knobs */
            return bad_input(cmd, "--cache-ratio sets --%s (its default for the fitted knobs); leave --%s out", k->name, k->name);
        return bad_input(cmd, "--cache-ratio sets --%s (%zu for %g); leave --%s out", k->name, *now, o->cache_ratio, k->name);
    }
    return 0;
}
