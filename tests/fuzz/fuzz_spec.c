/* fuzz_spec.c — libFuzzer target for the sweep-spec parser (bench/sweep/spec.c).
 * Parses the input as spec text with a few variables defined (globbing off:
 * the target never touches the file system); on failure the message must be
 * one line; on success the spec is expanded (when its cross product is small
 * enough to expand in a moment) and every point must be well formed and
 * accepted by the option parser of its command, as the sweep's child will
 * be. The input's first line is also tried as a --shard value and as a
 * --define NAME=VALUE. */
#include "options.h"
#include "spec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECT(cond, ...)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_spec: %s: ", #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            abort();                                                          \
        }                                                                     \
    } while (0)

/* points expanded per input at most: spec_expand is quadratic in the points
 * (duplicate check) and a few lines can ask for 255^20 of them */
enum { MAX_POINTS = 512 };

/* an upper bound of the spec's points (the product of each group's list
 * lengths, defaults included), saturating at MAX_POINTS + 1 */
static size_t points_bound(const sweep_spec *s) {
    size_t total = 0;
    for (size_t g = 0; g < s->ngroups; g++) {
        size_t prod = 1;
        for (int k = 0; k < SK_COUNT && prod <= MAX_POINTS; k++) {
            size_t len = 1;
            for (size_t i = 0; i < s->groups[g].nlists; i++)
                if (s->groups[g].lists[i].knob == k) len = s->groups[g].lists[i].count;
            if (len == 1)
                for (size_t i = 0; i < s->defaults.nlists; i++)
                    if (s->defaults.lists[i].knob == k) len = s->defaults.lists[i].count;
            prod *= len ? len : 1;
        }
        total += prod;
        if (total > MAX_POINTS) return MAX_POINTS + 1;
    }
    return total;
}

static void check_point(const sweep_point *p, size_t i) {
    EXPECT(p->index == i, "point %zu has index %zu", i, p->index);
    EXPECT(p->command == SPEC_RUN || p->command == SPEC_FFN || p->command == SPEC_DECODE || p->command == SPEC_EVAL,
           "command %d", p->command);
    EXPECT(p->argc >= 0 && p->argv[p->argc] == NULL, "argv not NULL-terminated");
    EXPECT(p->group != NULL, "no group");
    for (int a = 0; a < p->argc; a++) EXPECT(p->argv[a] != NULL, "argv[%d] NULL", a);
    char *d = spec_point_describe(p);
    EXPECT(d != NULL, "describe");
    free(d);
    /* the child parses exactly these arguments */
    opts_kind kind = (opts_kind)p->command; /* SPEC_* are the commands' opts_kind */
    char *args[2 * SK_COUNT + 2];
    EXPECT(p->argc <= 2 * SK_COUNT, "argc %d", p->argc);
    args[0] = (char *)spec_command_name(p->command);
    for (int a = 0; a < p->argc; a++) args[a + 1] = p->argv[a];
    args[p->argc + 1] = NULL;
    run_options o;
    options_defaults(&o, kind);
    int rc = options_parse(&o, kind, p->argc + 1, args);
    EXPECT(rc == 0, "point %zu: the spec accepted values `attnbench %s` refuses (rc %d)", i, args[0], rc);
}

/* the variables a spec may use here: one value, several, a path */
static spec_env env;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    /* EMPTY: a knob line that expands to nothing (once a heap use after free,
     * tests/fuzz/spec/bad-empty-expansion.sweep) */
    static const char *const defs[] = {"N=64 128", "K=4", "STDS=1 4.0 8", "CAPTURE=/nonexistent/capture",
                                       "CAPTURE_N=32", "EMPTY=", NULL};
    char err[300];
    for (int i = 0; defs[i]; i++)
        EXPECT(spec_env_define(&env, defs[i], err, sizeof err) == 0, "define %s: %s", defs[i], err);
    env.glob = 0;
    return 0;
}

/* the first line as a --define: accepted ones must be found again */
static void check_define(const char *text) {
    char line[256];
    size_t len = strcspn(text, "\n");
    if (len >= sizeof line) return;
    memcpy(line, text, len);
    line[len] = '\0';
    spec_env e = {0};
    char err[300] = "";
    if (spec_env_define(&e, line, err, sizeof err) == 0) {
        char *eq = strchr(line, '=');
        EXPECT(eq != NULL, "'%s' accepted without '='", line);
        *eq = '\0';
        const char *v = spec_env_get(&e, line);
        EXPECT(v != NULL && !strcmp(v, eq + 1), "'%s' defined but not found", line);
    } else {
        EXPECT(err[0] && !strchr(err, '\n'), "define: message '%s'", err);
    }
    spec_env_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    size_t si, sn;
    char err[600] = "";
    if (spec_parse_shard(text, &si, &sn, err, sizeof err) == 0)
        EXPECT(si >= 1 && si <= sn, "shard %zu/%zu", si, sn);
    check_define(text);

    sweep_spec s;
    err[0] = '\0';
    if (spec_parse_env(text, "fuzz.sweep", &env, &s, err, sizeof err) != 0) {
        EXPECT(err[0] != '\0', "no message");
        EXPECT(strchr(err, '\n') == NULL, "message is not one line: '%s'", err);
        EXPECT(s.groups == NULL && s.file == NULL, "spec left allocated after an error");
        free(text);
        return 0;
    }
    EXPECT(s.ngroups >= 1, "a spec without groups parsed");
    if (points_bound(&s) <= MAX_POINTS) {
        sweep_point *pts = NULL;
        size_t np = 0;
        EXPECT(spec_expand(&s, &pts, &np, err, sizeof err) == 0, "expand: %s", err);
        EXPECT(np <= points_bound(&s), "%zu points, bound %zu", np, points_bound(&s));
        for (size_t i = 0; i < np; i++) check_point(&pts[i], i);
        spec_points_free(pts, np);
    }
    spec_free(&s);
    free(text);
    return 0;
}
