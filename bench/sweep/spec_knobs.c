/* spec_knobs.c — the knob domain rules of the spec language: which
 * registry entries a spec may set and for which commands, the kind and
 * canonical text of their values, the knobs an input fixes, whether a knob
 * applies to a point's method (spec.h). The registry is knobs.h. */
#include "spec.h"
#include "spec_internal.h"

#include "knobs.h"
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const command_names[] = {[SPEC_RUN] = "run", [SPEC_FFN] = "ffn", [SPEC_EVAL] = "eval",
                                             [SPEC_DECODE] = "decode"};

const char *spec_command_name(int command) {
    return command >= 0 && command <= SPEC_DECODE && command_names[command] ? command_names[command] : "run";
}

int spec_command_find(const char *name) {
    for (int c = 0; c <= SPEC_DECODE; c++)
        if (command_names[c] && !strcmp(command_names[c], name)) return c;
    return -1;
}

const char *spec_knob_name(int knob) { return knob_defs[knob].name; }

int spec_knob_column(int knob) { return (knob_defs[knob].flags & KF_ID) ? knob_defs[knob].column : -1; }

int spec_knob_find(const char *name) {
    int k = knob_find(name);
    return k >= 0 && (knob_defs[k].flags & KF_SPEC) ? k : -1;
}

int spec_knob_takes(int knob, int command) {
    return (knob_defs[knob].flags & KF_SPEC) && (knob_defs[knob].commands & (1u << command));
}

void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int spec_knob_is_flag(int knob) { return knob_defs[knob].type == KT_FLAG; }

int fixed_by_input(int knob) { return (knob_defs[knob].flags & KF_FIXED) != 0; }

int spec_knob_applies(int knob, const char *attention, const char *projection) {
    return knob_applies(knob, SPEC_RUN, attention, projection);
}

int spec_knob_applies_to(int knob, int command, const char *attention, const char *projection) {
    return knob_applies(knob, command, attention, projection);
}

/* ---- values --------------------------------------------------------- */

/* The canonical text of a value, so "4", "4.0" and "04" are one point;
 * NULL (and *why set) when it is not of the knob's kind. */
char *canonical_value(int knob, const char *text, const char **why) {
    char *end, *out = NULL;
    errno = 0;
    switch (knob_defs[knob].type) {
    case KT_SIZE:
    case KT_U64: {
        if (!isdigit((unsigned char)text[0])) { *why = "a whole number >= 0"; return NULL; }
        unsigned long long v = strtoull(text, &end, 10);
        if (*end || errno) { *why = "a whole number >= 0"; return NULL; }
        /* the registry's range, as `run` checks it on its command line (a
         * method's knob is checked once the method is known to read it) */
        const knob_def *d = &knob_defs[knob];
        const int method_knob = KNOB_IS_METHOD(d->bit);
        if (d->type == KT_SIZE && d->max && !method_knob && (v < d->min || v > d->max)) {
            static _Thread_local char range[64];
            snprintf(range, sizeof range, "a whole number in %zu..%zu", d->min, d->max);
            *why = range;
            return NULL;
        }
        if (asprintf(&out, "%llu", v) < 0) out = NULL;
        break;
    }
    case KT_REAL: {
        double v = strtod(text, &end);
        if (end == text || *end || errno || v != v || v - v != 0) { *why = "a finite number"; return NULL; }
        if (asprintf(&out, "%.15g", v == 0 ? 0.0 : v) < 0) out = NULL;
        break;
    }
    case KT_FLAG:
        if (strcmp(text, "0") && strcmp(text, "1")) { *why = "0 or 1"; return NULL; }
        out = strdup(text);
        break;
    default:
        for (const char *c = text; *c; c++)
            if (*c == ',' || *c == '"' || (unsigned char)*c < ' ') { *why = "a name without commas or quotes"; return NULL; }
        out = strdup(text);
    }
    if (!out) *why = "(out of memory)";
    return out;
}

