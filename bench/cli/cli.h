/* cli.h — the options of sweep, merge and analyze, parsed as run's are: an
 * option given twice is refused (unless repeatable), a value never starts
 * with "--" (`--out --dry-run` is an error, not a file named --dry-run),
 * --name=value works too, and --help lists every option with its default. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

typedef struct {
    const char *name;     /* "out" for --out */
    const char *arg;      /* "FILE"; NULL: a flag */
    int repeatable;
    const char *help;     /* may hold '\n' + indentation for more lines */
} cli_opt;

/* Calls on(ctx, i, value) for each option (i its index in opts; value "1"
 * for a flag) and on(ctx, -1, word) for each positional argument, in order.
 * Returns 0; 1 for --help (nothing else parsed after it); 2 after one line on
 * stderr (or whatever non-zero `on` returned). */
int cli_parse(const char *cmd, const cli_opt *opts, int nopts, int argc, char **argv,
              int (*on)(void *ctx, int opt, const char *value), void *ctx);

/* "  --out FILE   help" lines, for usage texts */
void cli_usage(FILE *f, const cli_opt *opts, int nopts);

/* --out FILE: refused (2, one line) when FILE is a directory or exists and is
 * not a regular file; 0 otherwise */
int cli_out_file(const char *cmd, const char *opt, const char *path);

#endif
