/* test_traits.c — what the analysis asks of a method instead of its name
 * (analysis/traits.h): the tables' flags hold what they claim, and the
 * traits the analysis derives from them and the registry (exactness, a
 * family's knob, minor knob and setting label) are those of the methods
 * the tables hold. */
#include "check.h"
#include "knobs.h"
#include "methods.h"
#include "regime_rows.h"
#include "traits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HEADS = 4, D_HEAD = 12 };

/* every method knob at a valid value away from any exact limit for n keys
 * (knob_list.h's test values) */
static attn_knobs some_knobs(size_t n) {
#define KNOB_TEST_VALUE(A, ID, field, cmds, lists, flags, label, min, max, test, help) .field = (test),
    return (attn_knobs){ATTN_KNOB_LIST(KNOB_TEST_VALUE, ) .seed = 1, .threads = 1};
#undef KNOB_TEST_VALUE
}

/* one baseline, exact; an ATTN_EXACT method's exact limit is the knobs as
 * given (whatever they are); one reference projection, exact as it is; an
 * embedding scheme holds as many K/V heads as query heads (one shared K, V
 * and an embedding per head); an exact FFN reports no mass */
static void check_flags(void) {
    size_t baselines = 0, references = 0;
    for (const attn_method *m = attn_methods; m->name; m++) {
        CHECK(!(m->flags & ~(unsigned)(ATTN_EXACT | ATTN_BASELINE | ATTN_CAUSAL_ONLY)), "%s: unknown flags %#x", m->name,
              m->flags);
        CHECK(!(m->flags & ATTN_CAUSAL_ONLY) || !(m->flags & ATTN_BASELINE), "%s: a causal-only baseline", m->name);
        baselines += (m->flags & ATTN_BASELINE) != 0;
        CHECK(!(m->flags & ATTN_BASELINE) || (m->flags & ATTN_EXACT), "%s: a baseline that is not exact", m->name);
        if (!(m->flags & ATTN_EXACT) || !m->exact_limit) continue;
        attn_shape s = {HEADS, HEADS, 37, D_HEAD, 1};
        attn_knobs kn = some_knobs(s.n), ex = kn;
        CHECK(m->exact_limit(&s, &ex) == 1 && !memcmp(&kn, &ex, sizeof kn),
              "%s: ATTN_EXACT, but its exact limit is not the knobs as given", m->name);
    }
    CHECK(baselines == 1, "%zu methods flagged ATTN_BASELINE, want 1", baselines);
    for (const proj_scheme *p = proj_schemes; p->name; p++) {
        CHECK(!(p->flags & ~(unsigned)PROJ_REFERENCE), "%s: unknown flags %#x", p->name, p->flags);
        references += (p->flags & PROJ_REFERENCE) != 0;
        size_t kv = 1;
        CHECK(!(p->flags & PROJ_REFERENCE) || (p->exact_limit && p->exact_limit(HEADS, &kv) && kv == 0),
              "%s: the reference projection, but not exact as it is", p->name);
        CHECK(!p->embed || p->kv_heads_for(HEADS, 0) == HEADS, "%s: head embeddings, but %zu K/V heads of %d",
              p->name, p->kv_heads_for(HEADS, 0), HEADS);
    }
    CHECK(references == 1, "%zu projections flagged PROJ_REFERENCE, want 1", references);
    for (const ffn_method *f = ffn_methods; f->name; f++)
        CHECK(!(f->flags & ~(unsigned)ATTN_EXACT) && (!(f->flags & ATTN_EXACT) || f->mass == ATTN_MASS_NONE),
              "ffn %s: flags %#x (ATTN_EXACT only, and an exact layer reports no mass)", f->name, f->flags);
}

/* the registry's entry of a results column, or NULL */
static const knob_def *entry_of_column(int column) {
    for (int i = 0; i < KN_COUNT; i++)
        if (knob_defs[i].column == column && knob_defs[i].bit) return &knob_defs[i];
    return NULL;
}

/* per method and scheme of the tables: its family's knob is one it reads,
 * never a tuning or minor one where it has another; the setting names it by
 * the registry's label; the exact methods are exact; eval's own is exact */
static void check_families(void) {
    CHECK(op_exact(EVAL_OWN) && !op_exact("not-a-method") && !proj_reference("not-a-scheme"),
          "eval's own attention is exact; a name no table knows has no trait");
    for (const attn_method *m = attn_methods; m->name; m++) {
        CHECK(op_exact(m->name) == !!(m->flags & ATTN_EXACT), "%s: op_exact %d", m->name, op_exact(m->name));
        CHECK(op_baseline(m->name) == !strcmp(baseline_name(), m->name), "%s: baseline", m->name);
        if (m->flags & ATTN_EXACT) continue;
        const int col = family_knob_column(m->name);
        const knob_def *k = entry_of_column(col);
        CHECK(!m->knobs || (k && (m->knobs & k->bit)), "%s: its family's knob (column %d) is not one it reads", m->name, col);
        if (!k) continue;
        unsigned plain = 0;
        for (int i = 0; i < KN_COUNT; i++)
            if ((knob_defs[i].bit & m->knobs) && !(knob_defs[i].flags & (KF_TUNING | KF_MINOR))) plain |= knob_defs[i].bit;
        CHECK(!plain || (plain & k->bit), "%s: its family's knob --%s is tuning or minor beside a main one", m->name, k->name);
        char set[64], want[64];
        family_setting(m->name, 7, 0, set, sizeof set);
        snprintf(want, sizeof want, "%s=7", k->label);
        CHECK(!strcmp(set, want), "%s: setting '%s', want '%s' (the registry's label)", m->name, set, want);
        const int minor = family_minor_column(m->name);
        if (minor >= 0) {
            family_setting(m->name, 7, 3, set, sizeof set);
            CHECK(strstr(set, want) && strstr(set, "=3"), "%s: with its minor knob: '%s'", m->name, set);
            CHECK(entry_of_column(minor) && (entry_of_column(minor)->flags & KF_MINOR), "%s: minor column %d", m->name, minor);
        }
        char combo[64];
        for (const proj_scheme *p = proj_schemes; p->name; p++) { /* on another projection: the operator's knob */
            snprintf(combo, sizeof combo, "%s+%s", m->name, p->name);
            CHECK(family_knob_column(combo) == col, "%s: knob column %d, want %d", combo, family_knob_column(combo), col);
        }
    }
    for (const proj_scheme *p = proj_schemes; p->name; p++) {
        CHECK(family_reference(p->name) == !!(p->flags & PROJ_REFERENCE), "%s: family_reference", p->name);
        const int col = family_knob_column(p->name);
        CHECK((col >= 0) == (p->knobs != 0), "%s: reads %#x, family knob column %d", p->name, p->knobs, col);
        CHECK(col < 0 || !family_ramps(p->name), "%s: a projection's knob draws no ramp", p->name);
    }
    const char *topk = keeps_largest_name();
    CHECK(!topk || (family_keeps_largest(topk) && family_ramps(topk)), "top-k (%s): keeps the largest, ramps", topk ? topk : "none");
}

int main(void) {
    check_flags();
    check_families();
    return check_summary("test_traits");
}
