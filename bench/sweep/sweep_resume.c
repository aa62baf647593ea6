/* sweep_resume.c — the sweep's points by identity: equivalent points, the
 * shard's slice, and the points a results file already holds. */
#include "sweep_resume.h"
#include "csv_table.h"
#include "methods.h"
#include "point_id.h"
#include "spec_hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Marks .dup on every plan but the first of each set with one identity: two
 * groups that share a point (one leaves score-std to the default 4, another
 * says 4.0) run it once. 0, or -1 when out of memory (nothing marked). */
static int mark_equivalent(plan *pl, size_t count) {
    point_set set = {0};
    for (size_t i = 0; i < count; i++) {
        const char *k = plan_key(&pl[i]);
        char *copy = k ? strdup(k) : NULL;
        int added = point_set_add(&set, copy, i, NULL);
        if (added < 0) { point_set_free(&set); return -1; }
        if (added == 0) pl[i].dup = 1;
    }
    point_set_free(&set);
    return 0;
}

uint64_t sweep_keep_shard(plan *pl, size_t npoints, size_t shard_i, size_t shard_n, size_t *np) {
    /* equivalent points are left out before the shards are cut, so every
     * shard leaves out the same ones; then the shard keeps its own */
    (void)mark_equivalent(pl, npoints); /* out of memory: run them all */
    uint64_t points_hash = SPEC_HASH_INIT;
    *np = 0;
    for (size_t i = 0; i < npoints; i++) {
        if (!pl[i].dup) points_hash = spec_point_hash(points_hash, pl[i].pt);
        if (!pl[i].dup && spec_in_shard(pl[i].pt->index, shard_i, shard_n)) pl[(*np)++] = pl[i];
        else free(pl[i].key);
    }
    return points_hash;
}

/* Marks pl[i].done for the points the table holds (any status: every row is
 * a finished point), in time linear in rows + points; counts the points the
 * table holds more than once into *doubled. Rows skipped as "unknown method"
 * whose method this build has do not count: those points run now. */
static int mark_done(const csv_table *t, plan *pl, size_t np, size_t *doubled) {
    int colmap[COL_COUNT];
    point_id_colmap(t, colmap);
    int status_col = colmap[COL_status], note_col = colmap[COL_note];
    point_set rows = {0};
    *doubled = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        if (!strcmp(table_get(t, r, status_col), "skipped") &&
            !strncmp(table_get(t, r, note_col), "unknown method", 14)) {
            const char *a = table_get(t, r, colmap[COL_attention]), *pr = table_get(t, r, colmap[COL_projection]);
            if ((!*a || attn_method_find(a)) && (!*pr || proj_scheme_find(pr))) continue;
        }
        int added = point_set_add(&rows, point_id_table_row(t, r, colmap), r, NULL);
        if (added < 0) { point_set_free(&rows); return -1; }
        if (added == 0) ++*doubled;
    }
    for (size_t i = 0; i < np; i++) {
        const char *k = plan_key(&pl[i]);
        if (!k) { point_set_free(&rows); return -1; }
        if (point_set_find(&rows, k, NULL)) pl[i].done = 1;
    }
    point_set_free(&rows);
    return 0;
}

/* 1 when the table's header is this attnbench's columns */
static int header_is_ours(const csv_table *t) {
    if (t->ncols != COL_COUNT) return 0;
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->header[c], result_column_names[c])) return 0;
    return 1;
}

int sweep_resume_load(const char *path, int fd, plan *pl, size_t np) {
    if (fd < 0 && access(path, F_OK) != 0 && errno == ENOENT) return 0;
    csv_table t;
    char err[4400];
    if (table_read(path, &t, err, sizeof err)) {
        fprintf(stderr, "attnbench sweep: %s\n", err);
        return -1;
    }
    int rc = -1;
    if (t.ncols && !header_is_ours(&t)) {
        fprintf(stderr, "attnbench sweep: %s: its header is not this attnbench's columns; write to a new --out\n", path);
        goto out;
    }
    if (t.torn_bytes) {
        fprintf(stderr, "attnbench sweep: %s: %s a torn last line (%zu bytes, no newline)\n", path,
                fd < 0 ? "would drop" : "dropped", t.torn_bytes);
        if (fd >= 0 && ftruncate(fd, (off_t)t.whole_bytes) != 0) {
            fprintf(stderr, "attnbench sweep: %s: cannot truncate the torn line: %s\n", path, strerror(errno));
            goto out;
        }
    }
    table_note_left_out(&t, "sweep", path);
    size_t doubled;
    if (mark_done(&t, pl, np, &doubled)) {
        fprintf(stderr, "attnbench sweep: out of memory\n");
        goto out;
    }
    if (doubled)
        fprintf(stderr, "attnbench sweep: %s: warning: %zu row(s) repeat a point an earlier row holds "
                        "(`attnbench analyze` lists them)\n", path, doubled);
    rc = 0;
out:
    table_free(&t);
    return rc;
}
