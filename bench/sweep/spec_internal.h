/* spec_internal.h — what the spec's files (spec.c parser, spec_knobs.c knob
 * rules, spec_env.c variables, spec_points.c expansion) share; not an API. */
#ifndef SPEC_INTERNAL_H
#define SPEC_INTERNAL_H

#include "spec.h"

#include <stddef.h>

void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* spec_knobs.c: a spec key (KN_* of a KF_SPEC entry) or -1; whether a
 * command takes it; a flag (--x for 1, nothing for 0); fixed by an input's
 * files; the canonical text of a value (NULL and *why when not of its kind) */
int spec_knob_find(const char *name);
int spec_knob_takes(int knob, int command);
int spec_knob_is_flag(int knob);
int fixed_by_input(int knob);
char *canonical_value(int knob, const char *text, const char **why);
int spec_command_find(const char *name); /* SPEC_*, or -1 */

/* spec_env.c */
int is_var_name(const char *s, size_t len);
const char *env_lookup(const spec_env *e, const char *name, size_t len);
char *expand_vars(const char *line, const spec_env *env, const char *file, int lineno, char *err, size_t errlen);
int by_version(const void *a, const void *b);

/* spec.c */
const spec_list *group_list(const spec_group *g, int knob);

#endif
