/* main.c — build/attnbench: the program's entry, above every layer: the
 * command table, dispatching to bench's commands and the analysis's. */
#include "analyze.h"
#include "commands.h"
#include "exit_status.h"
#include "env.h"
#include "measure.h"
#include "memlimit.h"
#include "report.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
} command;

static const command commands[] = {
    {"run", cmd_run, "run   [options]          one configuration, one CSV row"},
    {"ffn", cmd_ffn, "ffn   [options]          one feed-forward configuration, one CSV row"},
    {"sweep", cmd_sweep, "sweep SPEC [options]     every point of SPEC, each in its own process"},
    {"merge", cmd_merge, "merge OUT SHARD...       one results CSV from shard files"},
    {"analyze", cmd_analyze, "analyze CSV [options]    summary and plot data from a results CSV"},
    {"capture", cmd_capture, "capture --llama2c CKPT --out DIR   real q, k, v from a llama2.c checkpoint"},
    {"eval", cmd_eval, "eval --llama2c CKPT [options]   one model-level configuration, one CSV row"},
    {"train", cmd_train, "train --llama2c CKPT --projection P [options]   uptrain a converted student, one CSV row"},
    {"decode", cmd_decode, "decode [options]         one decoding configuration, one CSV row"},
    {"env-get", cmd_env_get, "env-get KEY FILE         one key of a .env sidecar (for scripts)"},
    {"point-key", cmd_point_key, "point-key CSV            each row's point identity, a line each (for scripts)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f) {
    fprintf(f, "attnbench %s: error, memory and time of attention approximations\n\n"
               "usage:\n", ATTNBENCH_VERSION);
    for (const command *c = commands; c->name; c++) fprintf(f, "  attnbench %s\n", c->usage);
    fprintf(f, "  attnbench --help | --version\n\n"
               "'attnbench COMMAND --help' lists a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_BAD_INPUT;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("attnbench %s (commit %s)\n", ATTNBENCH_VERSION, env_commit());
        return 0;
    }
    for (const command *c = commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) {
            blas_ensure_native_core(argv); /* may re-execute the program */
            mem_note_blas_start();
            const int rc = c->fn(argc - 1, argv + 1);
            /* under an address-space limit an OpenBLAS worker may be
             * retrying a refused buffer, and exit's handlers wait for it */
            if (mem_as_limit() && !mem_under_asan()) exit_now(rc);
            return rc;
        }
    fprintf(stderr, "attnbench: unknown command '%s' (see attnbench --help)\n", argv[1]);
    return EXIT_BAD_INPUT;
}
