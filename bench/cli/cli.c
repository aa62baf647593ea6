/* cli.c — option parsing for sweep, merge and analyze (see cli.h). */
#include "cli.h"
#include "options.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int cli_parse(const char *cmd, const cli_opt *opts, int nopts, int argc, char **argv,
              int (*on)(void *ctx, int opt, const char *value), void *ctx) {
    unsigned long long seen = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            int rc = on(ctx, -1, a);
            if (rc) return rc;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int o = 0;
        while (o < nopts && !(strlen(opts[o].name) == nlen && !strncmp(opts[o].name, name, nlen))) o++;
        if (o == nopts)
            return bad_input(cmd, "unknown option '%.*s' (see attnbench %s --help)", (int)(nlen + 2), a, cmd);
        if (!opts[o].repeatable && o < 64 && ((seen >> o) & 1))
            return bad_input(cmd, "--%s given twice", opts[o].name);
        if (o < 64) seen |= 1ull << o;
        const char *val = "1";
        if (!opts[o].arg) {
            if (eq) return bad_input(cmd, "--%s takes no value", opts[o].name);
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 >= argc) {
            return bad_input(cmd, "--%s needs a value (%s)", opts[o].name, opts[o].arg);
        } else {
            val = argv[++i];
            if (!strncmp(val, "--", 2))
                return bad_input(cmd, "--%s needs a value (%s), not the option '%s'", opts[o].name, opts[o].arg, val);
        }
        if (opts[o].arg && !*val) return bad_input(cmd, "--%s: empty value", opts[o].name);
        int rc = on(ctx, o, val);
        if (rc) return rc;
    }
    return 0;
}

void cli_usage(FILE *f, const cli_opt *opts, int nopts) {
    for (int o = 0; o < nopts; o++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "--%s%s%s", opts[o].name, opts[o].arg ? " " : "", opts[o].arg ? opts[o].arg : "");
        fprintf(f, "  %-20s %s\n", lhs, opts[o].help);
    }
}

int cli_out_file(const char *cmd, const char *opt, const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return 0; /* absent (or unreachable: the open says why) */
    if (S_ISDIR(st.st_mode))
        return bad_input(cmd, "%s %s: is a directory; give a file name (e.g. %s/sweep.csv)", opt, path, path);
    if (!S_ISREG(st.st_mode)) return bad_input(cmd, "%s %s: not a regular file", opt, path);
    return 0;
}
