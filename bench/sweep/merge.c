/* merge.c — `attnbench merge OUT SHARD...`: one results CSV from the files
 * of a sharded sweep: one header, every row once, in shard order. */
#include "cli.h"
#include "commands.h"
#include "env.h"
#include "options.h"
#include "point_id.h"
#include "readfile.h"
#include "sweep_out.h"
#include "csv_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const CMD = "merge";

static const cli_opt opts[] = {
    {"allow-partial", NULL, 0, "merge even when shards of the split are missing (default: refuse,\n"
     "                       naming the missing shard indices)"},
};
enum { NOPTS = sizeof opts / sizeof opts[0] };

static void usage(FILE *f) {
    fprintf(f, "usage: attnbench merge OUT SHARD... [--allow-partial]\n\n"
               "Writes OUT (a temporary file in OUT's directory, renamed into place; an\n"
               "existing OUT with rows is first moved aside to OUT-STEM.old-N.csv with its\n"
               "sidecar) with the header of the shard files once and each row once, in the\n"
               "order given. Refused (exit 2, one line): a shard that is not a regular file\n"
               "or is given twice (the same file, or the same shard=I/N); OUT that is a\n"
               "directory, a device or other non-regular file, or one of the shards; shards\n"
               "whose header differs; shards of different code or specs (each shard's .env\n"
               "sidecar must record the first shard's source_hash (else commit=),\n"
               "spec_fnv1a64=, spec_points_fnv1a64= and the N of shard=I/N; a shard without\n"
               "a sidecar is refused); a point (its method and resolved knobs) that two\n"
               "rows hold; a split with shards missing, unless --allow-partial.\n"
               "OUT.env gets the shards' .env sidecars (each distinct one once).\n\n"
               "options:\n");
    cli_usage(f, opts, NOPTS);
    fprintf(f, "\nExit status: 0 merged; 2 refused; 1 I/O.\n");
}

/* the sidecar's text (bounded, a regular file), or NULL */
static char *sidecar_read(const char *csv, char **path_out) {
    char *path = env_sidecar_path(csv), *text = NULL, err[64];
    size_t len;
    *path_out = path;
    if (path && readfile_all(path, READFILE_SPEC_MAX, &text, &len, err, sizeof err)) text = NULL;
    return text;
}

/* the text with its "date=" line left out, for comparing sidecars */
static char *without_date(const char *text) {
    char *out = malloc(strlen(text) + 1), *o = out;
    if (!out) return NULL;
    for (const char *l = text; *l;) {
        size_t len = strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n');
        if (strncmp(l, "date=", 5)) { memcpy(o, l, len); o += len; }
        l += len;
    }
    *o = '\0';
    return out;
}

/* ---- shards of one sweep: same code, same spec, same split ------------------ */

/* what a shard's sidecar says about where its rows came from */
typedef struct {
    char *env;                          /* the sidecar's path */
    char *commit, *spec, *spec_hash, *points_hash, *shard, *source;  /* NULL where it records none */
} origin;

static void origin_free(origin *o) {
    free(o->env); free(o->commit); free(o->spec); free(o->spec_hash); free(o->points_hash); free(o->shard);
    free(o->source);
}

/* Reads the sidecar of csv. 0, or -1 when it cannot be read. */
static int origin_read(const char *csv, origin *o) {
    memset(o, 0, sizeof *o);
    char *text = sidecar_read(csv, &o->env);
    if (!text || !*text) { free(text); return -1; }
    static const char *const keys[] = {"commit=", "spec=", "spec_fnv1a64=", "spec_points_fnv1a64=", "shard=",
                                       "source_hash="};
    char **slots[] = {&o->commit, &o->spec, &o->spec_hash, &o->points_hash, &o->shard, &o->source};
    for (const char *l = text; *l;) {
        size_t len = strcspn(l, "\r\n");
        for (int k = 0; k < 6; k++) {
            size_t kl = strlen(keys[k]);
            if (len >= kl && !strncmp(l, keys[k], kl) && !*slots[k]) *slots[k] = strndup(l + kl, len - kl);
        }
        l += len;
        while (*l == '\r' || *l == '\n') l++;
    }
    free(text);
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
    if (first->source && o->source ? strcmp(first->source, o->source) != 0 : !same_text(first->commit, o->commit))
        return bad_input(CMD, "%s was made by commit %s (source_hash %s), %s by commit %s (source_hash %s); "
                              "refusing to merge rows of different code",
                         csv, shown(o->commit), shown(o->source), first_csv, shown(first->commit),
                         shown(first->source));
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

/* "I/N" -> I and N; 0 when it is not that */
static int shard_parts(const char *shard, unsigned long *i, unsigned long *n) {
    char tail;
    return shard && sscanf(shard, "%lu/%lu%c", i, n, &tail) == 2 && *i >= 1 && *i <= *n && *n <= 1000000;
}

/* Same origin for every shard; no shard index twice; every index of the
 * split present unless allow_partial. 0, or 2 after one line. */
static int check_same_origin(int nshards, char **shards, int allow_partial) {
    origin first, o;
    int rc = origin_read_or_refuse(shards[0], &first);
    if (rc) { origin_free(&first); return rc; }
    unsigned long i0, n0 = 0, i, n;
    unsigned char *have = NULL;
    if (shard_parts(first.shard, &i0, &n0) && (have = calloc(n0 + 1, 1))) have[i0] = 1;
    for (int s = 1; s < nshards && !rc; s++) {
        rc = origin_read_or_refuse(shards[s], &o);
        if (!rc) rc = compare_origin(&first, shards[0], &o, shards[s]);
        if (!rc && have && shard_parts(o.shard, &i, &n) && n == n0) {
            if (have[i]) rc = bad_input(CMD, "%s is shard %s, as an earlier file is (shard= in their .env): "
                                             "the same shard twice; refusing to merge", shards[s], o.shard);
            have[i] = 1;
        }
        origin_free(&o);
    }
    if (!rc && have) {
        char missing[600] = "";
        size_t len = 0, count = 0;
        for (unsigned long k = 1; k <= n0; k++)
            if (!have[k]) {
                count++;
                if (len < sizeof missing - 24) len += (size_t)snprintf(missing + len, sizeof missing - len, "%s%lu", len ? "," : "", k);
                else if (len < sizeof missing - 4) len += (size_t)snprintf(missing + len, sizeof missing - len, ",...");
            }
        if (count && !allow_partial)
            rc = bad_input(CMD, "%zu of %lu shards missing: %s (of shard=I/%lu); give every shard, or --allow-partial",
                           count, n0, missing, n0);
        else if (count)
            fprintf(stderr, "attnbench merge: note: %zu of %lu shards missing (%s): a partial merge (--allow-partial)\n",
                    count, n0, missing);
    }
    free(have);
    if (!rc && !first.spec_hash)
        fprintf(stderr, "attnbench merge: note: %s records no spec hash: the shards' specs are not compared\n", first.env);
    origin_free(&first);
    return rc;
}

/* text into path atomically: a temporary file beside it, renamed over it */
static int write_atomic(const char *path, const char *text, size_t len) {
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) return -1;
    int fd = mkostemp(tmp, O_CLOEXEC), rc = -1;
    if (fd >= 0) {
        size_t done = 0;
        while (done < len) {
            ssize_t w = write(fd, text + done, len - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            done += (size_t)w;
        }
        if (done == len && fchmod(fd, 0644) == 0 && fsync(fd) == 0) rc = 0;
        if (close(fd) != 0) rc = -1;
        if (rc == 0) rc = rename(tmp, path);
        if (rc != 0) unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* OUT.env: each distinct shard sidecar, under a comment naming its shard */
static int merge_sidecars(const char *out, int nshards, char **shards) {
    char *dest = env_sidecar_path(out), *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    char **seen = calloc((size_t)nshards, sizeof *seen);
    int nseen = 0, rc = -1;
    for (int i = 0; dest && m && seen && i < nshards; i++) {
        char *path, *full = sidecar_read(shards[i], &path);
        char *cmp = full ? without_date(full) : NULL;
        int dup = 0;
        for (int j = 0; cmp && j < nseen && !dup; j++) dup = !strcmp(seen[j], cmp);
        if (cmp && !dup) {
            fprintf(m, "# from %s\n%s", path, full);
            seen[nseen++] = cmp;
            cmp = NULL;
        }
        free(cmp);
        free(full);
        free(path);
    }
    if (m && fclose(m) == 0 && dest && text) rc = write_atomic(dest, text, len);
    if (rc) fprintf(stderr, "attnbench merge: cannot write %s\n", dest ? dest : "the sidecar");
    for (int j = 0; j < nseen; j++) free(seen[j]);
    free(seen);
    free(text);
    free(dest);
    return rc;
}

typedef struct {
    const char *out;
    char **shards;
    int nshards, allow_partial;
} merge_args;

static int on_arg(void *ctx, int opt, const char *val) {
    merge_args *a = ctx;
    if (opt == 0) { a->allow_partial = 1; return 0; }
    if (!a->out) a->out = val;
    else a->shards[a->nshards++] = (char *)val;
    return 0;
}

/* Refuses (2) OUT that is a directory or not a regular file, or one of the
 * shards or their sidecars; a shard given twice (the same file). */
static int check_files(const merge_args *a) {
    char err[4400];
    if (cli_out_file(CMD, "OUT", a->out)) return 2;
    struct stat so, si, sj;
    int have_out = stat(a->out, &so) == 0;
    char *out_env = env_sidecar_path(a->out);
    struct stat se;
    int have_out_env = out_env && stat(out_env, &se) == 0;
    free(out_env);
    for (int i = 0; i < a->nshards; i++) {
        int fd = readfile_open(a->shards[i], READFILE_CSV_MAX, err, sizeof err);
        if (fd < 0) return bad_input(CMD, "%s", err);
        int st = fstat(fd, &si);
        close(fd);
        if (st) return bad_input(CMD, "%s: %s", a->shards[i], strerror(errno));
        if ((have_out && si.st_dev == so.st_dev && si.st_ino == so.st_ino) ||
            (have_out_env && si.st_dev == se.st_dev && si.st_ino == se.st_ino))
            return bad_input(CMD, "OUT %s is the shard %s (or its sidecar): write to a new file", a->out, a->shards[i]);
        char *env = env_sidecar_path(a->shards[i]);
        int same_env = env && have_out && stat(env, &sj) == 0 && sj.st_dev == so.st_dev && sj.st_ino == so.st_ino;
        free(env);
        if (same_env) return bad_input(CMD, "OUT %s is the sidecar of the shard %s: write to a new file", a->out, a->shards[i]);
        for (int j = 0; j < i; j++)
            if (stat(a->shards[j], &sj) == 0 && sj.st_dev == si.st_dev && sj.st_ino == si.st_ino)
                return bad_input(CMD, "%s is given twice (as %s too); refusing to merge a shard twice",
                                 a->shards[i], a->shards[j]);
    }
    return 0;
}

/* Every row of every shard once, or 2 after one line naming a point two rows
 * hold. keep[i][r] = 0 for a row left out: skipped as "unknown method" where
 * another row holds the point (a later sweep ran it). */
static int check_points(csv_table *t, int nshards, char **shards, char **keep) {
    int colmap[COL_COUNT];
    point_id_colmap(&t[0], colmap);
    point_set set = {0};
    int rc = 0;
    for (int pass = 0; pass < 2 && !rc; pass++) /* real rows first, then the unknown-method ones */
        for (int i = 0; i < nshards && !rc; i++)
            for (size_t r = 0; r < t[i].nrows && !rc; r++) {
                int unknown = !strcmp(table_get(&t[i], r, colmap[COL_status]), "skipped") &&
                              !strncmp(table_get(&t[i], r, colmap[COL_note]), "unknown method", 14);
                if (unknown != pass) continue;
                size_t first;
                int added = point_set_add(&set, point_id_table_row(&t[i], r, colmap), (size_t)i << 32 | r, &first);
                if (added < 0) { fprintf(stderr, "attnbench merge: out of memory\n"); rc = 1; }
                else if (added == 0 && unknown) keep[i][r] = 0;
                else if (added == 0)
                    rc = bad_input(CMD, "%s row %zu and %s row %zu are the same point (%s %s n=%s); "
                                        "refusing to merge doubled rows",
                                   shards[first >> 32], (first & 0xffffffffu) + 1, shards[i], r + 1,
                                   table_get(&t[i], r, colmap[COL_layer]), table_get(&t[i], r, colmap[COL_attention]),
                                   table_get(&t[i], r, colmap[COL_n]));
            }
    point_set_free(&set);
    return rc;
}

/* Writes the merged rows to a temporary file in OUT's directory and renames
 * it into place, an existing OUT with rows moved aside first. 0, or 1. */
static int write_out(const char *out, csv_table *t, int nshards, char **keep, size_t *rows) {
    char *tmp = NULL, moved[4200];
    if (asprintf(&tmp, "%s.tmp.XXXXXX", out) < 0) return 1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "attnbench merge: %s: %s\n", tmp, strerror(errno));
        if (fd >= 0) { close(fd); unlink(tmp); }
        free(tmp);
        return 1;
    }
    int bad = table_write_line(f, t[0].header, t[0].ncols);
    *rows = 0;
    for (int i = 0; i < nshards && !bad; i++)
        for (size_t r = 0; r < t[i].nrows && !bad; r++)
            if (keep[i][r]) bad = table_write_line(f, t[i].rows[r], t[i].ncols), ++*rows;
    if (fflush(f) != 0 || fchmod(fileno(f), 0644) != 0 || fsync(fileno(f)) != 0) bad = 1;
    if (fclose(f) != 0) bad = 1;
    struct stat st;
    if (!bad && stat(out, &st) == 0 && st.st_size > 0) {
        if (sweep_out_move_aside(out, moved, sizeof moved) != 0) bad = 1;
        else fprintf(stderr, "attnbench merge: %s existed: moved it to %s (with its .env)\n", out, moved);
    }
    if (bad || rename(tmp, out) != 0) {
        fprintf(stderr, "attnbench merge: cannot write %s: %s\n", out, strerror(errno ? errno : EIO));
        unlink(tmp);
        free(tmp);
        return 1;
    }
    free(tmp);
    return 0;
}

int cmd_merge(int argc, char **argv) {
    merge_args a = {0};
    a.shards = calloc((size_t)argc + 1, sizeof *a.shards);
    if (!a.shards) { fprintf(stderr, "attnbench merge: out of memory\n"); return 1; }
    int rc = cli_parse(CMD, opts, NOPTS, argc, argv, on_arg, &a);
    if (rc == 1) { usage(stdout); free(a.shards); return 0; }
    if (!rc && !a.nshards) rc = bad_input(CMD, "expected OUT SHARD... (see attnbench merge --help)");
    if (!rc) rc = check_files(&a);
    if (rc) { free(a.shards); return rc; }
    size_t nshards = (size_t)a.nshards;
    char **shards = a.shards;
    csv_table *t = calloc(nshards, sizeof *t);
    char **keep = calloc(nshards, sizeof *keep);
    if (!t || !keep) { free(t); free(keep); free(a.shards); fprintf(stderr, "attnbench merge: out of memory\n"); return 1; }
    size_t loaded = 0;
    char err[4400];
    for (size_t i = 0; i < nshards && !rc; i++, loaded++) {
        if (table_read(shards[i], &t[i], err, sizeof err)) { rc = bad_input(CMD, "%s", err); break; }
        if (!t[i].ncols) rc = bad_input(CMD, "%s: empty, no header", shards[i]);
        else if (i && !table_same_header(&t[0], &t[i]))
            rc = bad_input(CMD, "%s: its header differs from %s's; refusing to merge", shards[i], shards[0]);
        if (!rc && !(keep[i] = malloc(t[i].nrows + 1))) rc = 1;
        if (keep[i]) memset(keep[i], 1, t[i].nrows + 1);
        if (!rc && t[i].torn_bytes)
            fprintf(stderr, "attnbench merge: %s: left out a torn last line (%zu bytes)\n", shards[i], t[i].torn_bytes);
        if (!rc) table_note_left_out(&t[i], CMD, shards[i]);
    }
    size_t rows = 0;
    if (!rc) rc = check_same_origin(a.nshards, shards, a.allow_partial);
    if (!rc) rc = check_points(t, a.nshards, shards, keep);
    if (!rc) rc = write_out(a.out, t, a.nshards, keep, &rows);
    if (!rc && merge_sidecars(a.out, a.nshards, shards)) rc = 1;
    if (!rc) fprintf(stderr, "attnbench merge: %zu row(s) from %zu file(s) -> %s\n", rows, nshards, a.out);
    for (size_t i = 0; i < nshards; i++) free(keep[i]);
    free(keep);
    for (size_t i = 0; i < loaded; i++) table_free(&t[i]);
    free(t);
    free(a.shards);
    return rc;
}
