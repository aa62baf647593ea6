/* sidecar.c — reading .env sidecars, and `attnbench env-get KEY FILE`. */
#include "sidecar.h"
#include "commands.h"
#include "env.h"
#include "options.h"
#include "readfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sidecar_value(const char *text, const char *key) {
    const size_t kl = strlen(key);
    for (const char *l = text; l && *l;) {
        const size_t len = strcspn(l, "\r\n");
        if (len > kl && !strncmp(l, key, kl) && l[kl] == '=') return strndup(l + kl + 1, len - kl - 1);
        l += len;
        while (*l == '\r' || *l == '\n') l++;
    }
    return NULL;
}

char *sidecar_load(const char *file, char *err, size_t errlen) {
    const size_t fl = strlen(file);
    char *path = fl > 4 && !strcmp(file + fl - 4, ".csv") ? env_sidecar_path(file) : strdup(file);
    char *text = NULL;
    size_t len;
    if (!path) { snprintf(err, errlen, "out of memory"); return NULL; }
    if (readfile_all(path, READFILE_SPEC_MAX, &text, &len, err, errlen)) text = NULL;
    free(path);
    return text;
}

/* exit 0 and the value on stdout; 1 (nothing printed) when the sidecar has
 * no such key; 2 and one line when the file cannot be read */
int cmd_env_get(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: attnbench env-get KEY FILE\n\n"
               "Prints the value of KEY in the .env sidecar FILE (or in the sidecar of the\n"
               "results CSV FILE): e.g. env-get source_hash results/sweep.env.\n"
               "exit status: 0 printed; 1 the sidecar has no KEY; 2 FILE cannot be read.\n");
        return 0;
    }
    if (argc != 3 || !argv[1][0] || strchr(argv[1], '=')) return bad_input("env-get", "usage: attnbench env-get KEY FILE");
    char err[4200];
    char *text = sidecar_load(argv[2], err, sizeof err);
    if (!text) return bad_input("env-get", "%s", err);
    char *v = sidecar_value(text, argv[1]);
    free(text);
    if (!v) return 1;
    printf("%s\n", v);
    free(v);
    return 0;
}
