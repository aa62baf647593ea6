/* merge.c — `attnbench merge OUT SHARD...`: one results CSV from the files
 * of a sharded sweep: one header, every row once, in shard order. */
#include "commands.h"
#include "env.h"
#include "options.h"
#include "table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const CMD = "merge";

static void usage(FILE *f) {
    fprintf(f, "usage: attnbench merge OUT SHARD...\n\n"
               "Writes OUT (atomically: a temporary file renamed into place) with the\n"
               "header of the shard files once and each distinct row once, in the order\n"
               "given. Files whose header differs from the first shard's are refused.\n"
               "So are shards of different code or specs: each shard's .env sidecar must\n"
               "record the first shard's commit=, spec_fnv1a64= and spec_points_fnv1a64=\n"
               "(hashes of the spec's text and of its points) and the N of shard=I/N; a\n"
               "shard without a sidecar is refused.\n"
               "OUT.env gets the shards' .env sidecars (each distinct one once).\n"
               "Exit status: 0 merged; 2 refused (one line naming the two files); 1 I/O.\n");
}

/* rows as CSV text, for finding the ones seen before */
typedef struct {
    char **lines;
    size_t count, cap;
} line_set;

static int line_set_add(line_set *s, const char *line) { /* 1 added, 0 seen, -1 no memory */
    for (size_t i = 0; i < s->count; i++)
        if (!strcmp(s->lines[i], line)) return 0;
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        char **grown = realloc(s->lines, cap * sizeof *grown);
        if (!grown) return -1;
        s->lines = grown;
        s->cap = cap;
    }
    if (!(s->lines[s->count] = strdup(line))) return -1;
    s->count++;
    return 1;
}

static char *row_text(char *const *fields, size_t n) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    int bad = table_write_line(f, fields, n);
    if (fclose(f) != 0 || bad) { free(text); return NULL; }
    return text;
}

/* the file's text with its "date=" line left out, for comparing sidecars */
static char *sidecar_text(const char *csv, char **path_out) {
    char *path = env_sidecar_path(csv);
    *path_out = path;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return NULL;
    char *text = NULL, line[8192];
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    while (m && fgets(line, sizeof line, f))
        if (strncmp(line, "date=", 5)) fputs(line, m);
    fclose(f);
    if (m) fclose(m);
    return text;
}

/* ---- shards of one sweep: same code, same spec, same split ------------------ */

/* what a shard's sidecar says about where its rows came from */
typedef struct {
    char *env;                          /* the sidecar's path */
    char *commit, *spec, *spec_hash, *points_hash, *shard;  /* NULL where it records none */
} origin;

static void origin_free(origin *o) {
    free(o->env); free(o->commit); free(o->spec); free(o->spec_hash); free(o->points_hash); free(o->shard);
}

/* Reads the sidecar of csv. 0, or -1 when it cannot be read. */
static int origin_read(const char *csv, origin *o) {
    memset(o, 0, sizeof *o);
    o->env = env_sidecar_path(csv);
    FILE *f = o->env ? fopen(o->env, "r") : NULL;
    if (!f) return -1;
    static const char *const keys[] = {"commit=", "spec=", "spec_fnv1a64=", "spec_points_fnv1a64=", "shard="};
    char **slots[] = {&o->commit, &o->spec, &o->spec_hash, &o->points_hash, &o->shard};
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        for (int k = 0; k < 5; k++) {
            size_t kl = strlen(keys[k]);
            if (!strncmp(line, keys[k], kl) && !*slots[k]) *slots[k] = strdup(line + kl);
        }
    }
    fclose(f);
    return 0;
}

static int same_text(const char *a, const char *b) { return a && b ? !strcmp(a, b) : a == b; }
static const char *shown(const char *v) { return v ? v : "(none)"; }
static const char *shard_n(const char *shard) { /* "2/3" -> "3" */
    const char *slash = shard ? strchr(shard, '/') : NULL;
    return slash ? slash + 1 : NULL;
}

/* Refuses (exit 2, one line naming both files) a shard whose sidecar is
 * missing or records another commit, spec hash, points hash or shard count
 * than the first shard's. Rows of different code or specs never mix. */
static int origin_read_or_refuse(const char *csv, origin *o) {
    if (!origin_read(csv, o)) return 0;
    return bad_input(CMD, "%s: no readable sidecar %s: cannot tell which code and spec made it; refusing to merge",
                     csv, shown(o->env));
}

/* 0, or refuses (exit 2) shard o, whose sidecar disagrees with the first's */
static int compare_origin(const origin *first, const char *first_csv, const origin *o, const char *csv) {
    if (!same_text(first->commit, o->commit))
        return bad_input(CMD, "%s was made by commit %s, %s by commit %s (commit= in their .env); "
                              "refusing to merge rows of different code",
                         csv, shown(o->commit), first_csv, shown(first->commit));
    if (!same_text(first->spec_hash, o->spec_hash))
        return bad_input(CMD, "%s ran spec %s (spec_fnv1a64=%s), %s ran spec %s (spec_fnv1a64=%s); "
                              "refusing to merge shards of different specs",
                         csv, shown(o->spec), shown(o->spec_hash), first_csv, shown(first->spec),
                         shown(first->spec_hash));
    if (!same_text(first->points_hash, o->points_hash))
        return bad_input(CMD, "%s ran other points (spec_points_fnv1a64=%s) than %s (%s) of the same spec %s: "
                              "other --define or --capture values?; refusing to merge",
                         csv, shown(o->points_hash), first_csv, shown(first->points_hash), shown(o->spec));
    if (!same_text(shard_n(first->shard), shard_n(o->shard)))
        return bad_input(CMD, "%s is shard %s, %s is shard %s (shard= in their .env): shards of different "
                              "splits overlap; refusing to merge",
                         csv, shown(o->shard), first_csv, shown(first->shard));
    return 0;
}

static int check_same_origin(int nshards, char **shards) {
    origin first, o;
    int rc = origin_read_or_refuse(shards[0], &first);
    for (int i = 1; i < nshards && !rc; i++) {
        rc = origin_read_or_refuse(shards[i], &o);
        if (!rc) rc = compare_origin(&first, shards[0], &o, shards[i]);
        origin_free(&o);
    }
    if (!rc) {
        const char *c = first.commit;
        if (!c || !strcmp(c, "unknown") || (strlen(c) > 6 && !strcmp(c + strlen(c) - 6, "-dirty")))
            fprintf(stderr, "attnbench merge: note: commit %s: built outside a clean git tree, so the commit "
                            "cannot tell the shards' code apart\n", shown(c));
        if (!first.spec_hash)
            fprintf(stderr, "attnbench merge: note: %s records no spec hash: the shards' specs are not compared\n",
                    first.env);
    }
    origin_free(&first);
    return rc;
}

/* OUT.env: each distinct shard sidecar, under a comment naming its shard */
static void merge_sidecars(const char *out, int nshards, char **shards) {
    char *dest = env_sidecar_path(out);
    char **seen = calloc((size_t)nshards, sizeof *seen);
    FILE *f = NULL;
    int nseen = 0;
    for (int i = 0; dest && seen && i < nshards; i++) {
        char *path;
        char *text = sidecar_text(shards[i], &path);
        int dup = 0;
        for (int j = 0; text && j < nseen && !dup; j++) dup = !strcmp(seen[j], text);
        if (text && !dup) {
            FILE *src = fopen(path, "r");
            if (!f) f = fopen(dest, "w");
            if (f && src) {
                fprintf(f, "# from %s\n", path);
                char line[8192];
                while (fgets(line, sizeof line, src)) fputs(line, f);
            }
            if (src) fclose(src);
            seen[nseen++] = text;
            text = NULL;
        }
        free(text);
        free(path);
    }
    if (f && fclose(f) != 0) fprintf(stderr, "attnbench merge: cannot write %s\n", dest);
    for (int j = 0; j < nseen; j++) free(seen[j]);
    free(seen);
    free(dest);
}

int cmd_merge(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
    if (argc < 3) return bad_input(CMD, "expected OUT SHARD... (see attnbench merge --help)");
    const char *out = argv[1];
    int nshards = argc - 2;
    char **shards = argv + 2;
    csv_table *t = calloc((size_t)nshards, sizeof *t);
    if (!t) { fprintf(stderr, "attnbench merge: out of memory\n"); return 1; }
    int rc = 0, loaded = 0;
    char err[600];
    for (int i = 0; i < nshards && !rc; i++, loaded++) {
        if (table_read(shards[i], &t[i], err, sizeof err)) { rc = bad_input(CMD, "%s", err); break; }
        if (!t[i].ncols) rc = bad_input(CMD, "%s: empty, no header", shards[i]);
        else if (i && !table_same_header(&t[0], &t[i]))
            rc = bad_input(CMD, "%s: its header differs from %s's; refusing to merge", shards[i], shards[0]);
        if (!rc && t[i].torn_bytes)
            fprintf(stderr, "attnbench merge: %s: left out a torn last line (%zu bytes)\n", shards[i], t[i].torn_bytes);
        if (!rc && t[i].bad_rows)
            fprintf(stderr, "attnbench merge: %s: left out %zu malformed row(s)\n", shards[i], t[i].bad_rows);
    }
    char *tmp = NULL;
    FILE *f = NULL;
    line_set seen = {0};
    size_t rows = 0, dups = 0;
    if (!rc) rc = check_same_origin(nshards, shards);
    if (rc) goto done;
    if (asprintf(&tmp, "%s.tmp.%ld", out, (long)getpid()) < 0) { tmp = NULL; rc = 1; goto done; }
    if (!(f = fopen(tmp, "w"))) {
        fprintf(stderr, "attnbench merge: %s: %s\n", tmp, strerror(errno));
        rc = 1;
        goto done;
    }
    int bad = table_write_line(f, t[0].header, t[0].ncols);
    for (int i = 0; i < nshards && !bad; i++)
        for (size_t r = 0; r < t[i].nrows && !bad; r++) {
            char *line = row_text(t[i].rows[r], t[i].ncols);
            int added = line ? line_set_add(&seen, line) : -1;
            if (added > 0) bad = fputs(line, f) < 0, rows++;
            else if (added == 0) dups++;
            else bad = 1;
            free(line);
        }
    if (fclose(f) != 0) bad = 1;
    f = NULL;
    if (bad || rename(tmp, out) != 0) {
        fprintf(stderr, "attnbench merge: cannot write %s: %s\n", out, strerror(errno ? errno : EIO));
        unlink(tmp);
        rc = 1;
        goto done;
    }
    merge_sidecars(out, nshards, shards);
    fprintf(stderr, "attnbench merge: %zu row(s) from %d file(s) -> %s", rows, nshards, out);
    if (dups) fprintf(stderr, " (%zu duplicate row(s) left out)", dups);
    fprintf(stderr, "\n");
done:
    for (size_t i = 0; i < seen.count; i++) free(seen.lines[i]);
    free(seen.lines);
    free(tmp);
    for (int i = 0; i < loaded; i++) table_free(&t[i]);
    free(t);
    return rc;
}
