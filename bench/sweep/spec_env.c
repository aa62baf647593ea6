/* spec_env.c — the variables of a spec: --define NAME=VALUE, --capture DIR's
 * capture.txt, and ${NAME} in knob values (spec.h). */
#include "spec.h"
#include "spec_internal.h"

#include "readfile.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- variables ------------------------------------------------------ */

int is_var_name(const char *s, size_t len) {
    if (!len || isdigit((unsigned char)s[0])) return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
    return 1;
}

const char *env_lookup(const spec_env *e, const char *name, size_t len) {
    for (size_t i = 0; e && i < e->count; i++)
        if (strlen(e->names[i]) == len && !strncmp(e->names[i], name, len)) return e->values[i];
    return NULL;
}

const char *spec_env_get(const spec_env *e, const char *name) { return env_lookup(e, name, strlen(name)); }

static int env_set(spec_env *e, const char *name, size_t len, const char *value, char *err, size_t errlen) {
    if (!is_var_name(name, len)) {
        set_err(err, errlen, "--define '%.*s': a name is letters, digits and '_', not starting with a digit", (int)len, name);
        return -1;
    }
    if (env_lookup(e, name, len)) {
        set_err(err, errlen, "variable %.*s defined twice", (int)len, name);
        return -1;
    }
    char **n = realloc(e->names, (e->count + 1) * sizeof *n);
    if (n) e->names = n;
    char **v = n ? realloc(e->values, (e->count + 1) * sizeof *v) : NULL;
    if (v) e->values = v;
    char *nc = v ? strndup(name, len) : NULL, *vc = nc ? strdup(value) : NULL;
    if (!vc) {
        free(nc);
        set_err(err, errlen, "out of memory");
        return -1;
    }
    e->names[e->count] = nc;
    e->values[e->count++] = vc;
    return 0;
}

int spec_env_define(spec_env *e, const char *assignment, char *err, size_t errlen) {
    const char *eq = strchr(assignment, '=');
    if (!eq) {
        set_err(err, errlen, "--define '%s': expected NAME=VALUE", assignment);
        return -1;
    }
    return env_set(e, assignment, (size_t)(eq - assignment), eq + 1, err, errlen);
}

void spec_env_free(spec_env *e) {
    for (size_t i = 0; i < e->count; i++) {
        free(e->names[i]);
        free(e->values[i]);
    }
    free(e->names);
    free(e->values);
    e->names = e->values = NULL;
    e->count = 0;
}

int spec_env_capture(spec_env *e, const char *dir, char *err, size_t errlen) {
    char path[4096], line[1024], why[4200];
    snprintf(path, sizeof path, "%s/capture.txt", dir);
    int fd = readfile_open(path, READFILE_SPEC_MAX, why, sizeof why);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        set_err(err, errlen, "--capture %s: cannot read %s (not a directory written by attnbench capture?)",
                dir, fd >= 0 ? path : why);
        return -1;
    }
    unsigned long long n = 0;
    int dim = 0, heads = 0, layers = 0;
    char stds[4096] = "";
    size_t len = 0;
    while (fgets(line, sizeof line, f)) {
        int l;
        double sd, ent;
        char v[32];
        if (sscanf(line, "n %llu", &n) == 1) continue;
        if (sscanf(line, "config dim %d hidden_dim %*d n_layers %*d n_heads %d", &dim, &heads) == 2) continue;
        if (sscanf(line, "layer %d logit_std %lf entropy %lf", &l, &sd, &ent) != 3 || !(sd > 0) || !isfinite(sd))
            continue;
        layers++;
        snprintf(v, sizeof v, "%.3g", sd);
        /* each value once: two layers as sharp as each other share a twin */
        int seen = 0;
        for (const char *w = stds; *w && !seen;) {
            size_t wl = strcspn(w, " ");
            seen = wl == strlen(v) && !strncmp(w, v, wl);
            w += wl + (w[wl] == ' ');
        }
        if (!seen && len + strlen(v) + 2 < sizeof stds)
            len += (size_t)snprintf(stds + len, sizeof stds - len, "%s%s", len ? " " : "", v);
    }
    fclose(f);
    if (!n || dim <= 0 || heads <= 0 || dim % heads || !layers) {
        set_err(err, errlen, "--capture %s: %s lacks the n, config or layer lines attnbench capture writes", dir, path);
        return -1;
    }
    char nb[32], hb[32], db[32];
    snprintf(nb, sizeof nb, "%llu", n);
    snprintf(hb, sizeof hb, "%d", heads);
    snprintf(db, sizeof db, "%d", dim / heads);
    static const char *const names[] = {"CAPTURE", "CAPTURE_N", "CAPTURE_HEADS", "CAPTURE_D_HEAD", "CAPTURE_LOGIT_STDS"};
    const char *values[] = {dir, nb, hb, db, stds};
    for (int i = 0; i < 5; i++)
        if (env_set(e, names[i], strlen(names[i]), values[i], err, errlen)) return -1;
    return 0;
}

/* The line with each ${NAME} replaced by its value; NULL with err (an
 * undefined name, a '$' that starts no ${NAME}, out of memory). */
char *expand_vars(const char *line, const spec_env *env, const char *file, int lineno,
                         char *err, size_t errlen) {
    size_t cap = strlen(line) + 1, len = 0;
    char *out = malloc(cap);
    for (const char *p = line; out && *p;) {
        const char *piece = p;
        size_t plen = 1;
        if (*p == '$') {
            const char *close = p[1] == '{' ? strchr(p + 2, '}') : NULL;
            if (!close || !is_var_name(p + 2, (size_t)(close - p - 2))) {
                set_err(err, errlen, "%s:%d: '$' starts a variable, written ${NAME} (letters, digits, '_')", file, lineno);
                free(out);
                return NULL;
            }
            piece = env_lookup(env, p + 2, (size_t)(close - p - 2));
            if (!piece) {
                set_err(err, errlen, "%s:%d: ${%.*s} is not defined (attnbench sweep --define %.*s=VALUE%s)",
                        file, lineno, (int)(close - p - 2), p + 2, (int)(close - p - 2), p + 2,
                        !strncmp(p + 2, "CAPTURE", 7) ? ", or --capture DIR" : "");
                free(out);
                return NULL;
            }
            plen = strlen(piece);
            p = close + 1;
        } else {
            p++;
        }
        if (len + plen + 1 > cap) {
            while (len + plen + 1 > cap) cap *= 2;
            char *grown = realloc(out, cap);
            if (!grown) { free(out); out = NULL; break; }
            out = grown;
        }
        memcpy(out + len, piece, plen);
        len += plen;
    }
    if (!out) {
        set_err(err, errlen, "%s:%d: out of memory", file, lineno);
        return NULL;
    }
    out[len] = '\0';
    return out;
}

/* glob(3) matches in natural order: layer2 before layer10 */
int by_version(const void *a, const void *b) {
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

