/* sweep_out.c — a sweep's results file: lock, resume or move aside, sidecar
 * repair (see sweep_out.h). */
#include "sweep_out.h"
#include "env.h"
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* the value of "key=" in sidecar text, into out ("" when absent) */
static void sidecar_value(const char *text, const char *key, char *out, size_t cap) {
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (!strncmp(l, key, kl) && l[kl] == '=') {
            snprintf(out, cap, "%.*s", (int)strcspn(l + kl + 1, "\r\n"), l + kl + 1);
            return;
        }
}

/* the sidecar's text, or NULL when it is missing, empty or unreadable */
static char *sidecar_read(const char *out) {
    char *path = env_sidecar_path(out), *text = NULL, err[64];
    size_t len = 0;
    if (path && readfile_all(path, READFILE_SPEC_MAX, &text, &len, err, sizeof err) == 0 && len == 0) {
        free(text);
        text = NULL;
    }
    free(path);
    return text;
}

/* 1 when out holds something other than blanks */
static int has_rows(const char *out) {
    struct stat st;
    if (stat(out, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return 0;
    if (st.st_size > 65536) return 1;
    char *text, err[64];
    size_t len;
    if (readfile_all(out, 65536, &text, &len, err, sizeof err)) return 1;
    int rows = strspn(text, " \t\r\n") != len;
    free(text);
    return rows;
}

static int dirty(const char *commit) {
    size_t l = strlen(commit);
    return !*commit || !strcmp(commit, "unknown") || (l > 6 && !strcmp(commit + l - 6, "-dirty"));
}

int sweep_out_may_resume(const char *out, resume_mode mode, const sweep_origin *o, char *why, size_t cap) {
    why[0] = '\0';
    if (!has_rows(out) || mode == RESUME_ALWAYS) return 1;
    if (mode == RESUME_NEVER) { snprintf(why, cap, "a fresh start was asked for"); return 0; }
    char *text = sidecar_read(out);
    if (!text) return 1; /* nothing says otherwise: resume; the sidecar is written anew */
    char src[128], commit[128], points[64], capture[64];
    sidecar_value(text, "source_hash", src, sizeof src);
    sidecar_value(text, "commit", commit, sizeof commit);
    sidecar_value(text, "spec_points_fnv1a64", points, sizeof points);
    sidecar_value(text, "capture_fnv1a64", capture, sizeof capture);
    free(text);
    if (*src ? strcmp(src, o->source_hash) != 0 : (dirty(commit) || strcmp(commit, o->commit) != 0))
        snprintf(why, cap, "its rows are of other sources (source_hash %s, commit %s; this build: %s, %s)",
                 *src ? src : "none", *commit ? commit : "none", o->source_hash, o->commit);
    else if (strcmp(points, o->points_hash))
        snprintf(why, cap, "its rows are of other spec points (spec_points_fnv1a64 %s, this sweep %s)",
                 *points ? points : "none", o->points_hash);
    else if (strcmp(capture, o->capture_hash))
        snprintf(why, cap, "its rows are of another capture (capture_fnv1a64 %s, this sweep %s)",
                 *capture ? capture : "none", *o->capture_hash ? o->capture_hash : "none");
    return why[0] == '\0';
}

/* from to to, failing (EEXIST) rather than replacing anything */
static int rename_noreplace(const char *from, const char *to) {
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (link(from, to) != 0) return -1; /* a file system without RENAME_NOREPLACE */
    return unlink(from);
}

/* out and its sidecar to OUT-STEM.old-N.csv / .env, the first N free; the
 * new name into moved. 0, or -1 with errno. */
int sweep_out_move_aside(const char *out, char *moved, size_t cap) {
    size_t len = strlen(out);
    int csv = len > 4 && !strcmp(out + len - 4, ".csv");
    char *env = env_sidecar_path(out);
    if (!env) return -1;
    struct stat st;
    int have_env = stat(env, &st) == 0, rc = -1;
    for (int n = 1; n < 10000; n++) {
        snprintf(moved, cap, "%.*s.old-%d%s", (int)(csv ? len - 4 : len), out, n, csv ? ".csv" : "");
        char *menv = env_sidecar_path(moved);
        if (!menv) break;
        int taken = stat(menv, &st) == 0;
        if (!taken && rename_noreplace(out, moved) == 0) {
            rc = have_env && rename_noreplace(env, menv) != 0 ? -1 : 0;
            free(menv);
            break;
        }
        free(menv);
        if (!taken && errno != EEXIST) break;
    }
    free(env);
    return rc;
}

/* open + exclusive lock of out, checking the lock is on the file the name
 * now names (not one another sweep just moved aside) */
static int open_locked(const char *out, int *status) {
    for (int tries = 0; tries < 20; tries++) {
        int fd = open(out, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "attnbench sweep: %s: %s\n", out, strerror(errno));
            *status = 1;
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK) {
                fprintf(stderr, "attnbench sweep: %s: another sweep is writing it (it holds its lock); "
                                "wait for it to end, or give another --out\n", out);
                *status = 2;
            } else {
                fprintf(stderr, "attnbench sweep: %s: cannot lock it: %s\n", out, strerror(e));
                *status = 1;
            }
            return -1;
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) return fd;
        close(fd); /* moved or replaced meanwhile: the name's new file */
    }
    fprintf(stderr, "attnbench sweep: %s: keeps being replaced while it is opened\n", out);
    *status = 1;
    return -1;
}

int sweep_out_open(const char *out, resume_mode mode, const sweep_origin *o, int *status) {
    int fd = open_locked(out, status);
    if (fd < 0) return -1;
    char why[400], moved[4200];
    /* decided under the lock: no other sweep is appending meanwhile */
    if (!sweep_out_may_resume(out, mode, o, why, sizeof why)) {
        if (sweep_out_move_aside(out, moved, sizeof moved) != 0) {
            fprintf(stderr, "attnbench sweep: %s: %s, and it cannot be moved aside: %s\n", out, why, strerror(errno));
            close(fd);
            *status = 1;
            return -1;
        }
        fprintf(stderr, "attnbench sweep: %s: %s: moved it to %s (with its .env); starting afresh\n", out, why, moved);
        close(fd);
        if ((fd = open_locked(out, status)) < 0) return -1;
    }
    char *text = sidecar_read(out);
    if (!text) { /* new, or missing / empty (a disk that filled): written now */
        if (has_rows(out))
            fprintf(stderr, "attnbench sweep: %s: its .env sidecar was missing or empty: writing it anew\n", out);
        if (env_write_sidecar(out) != 0) {
            fprintf(stderr, "attnbench sweep: cannot write the .env sidecar of %s: %s\n", out, strerror(errno));
            close(fd);
            *status = 1;
            return -1;
        }
    }
    free(text);
    return fd;
}

/* --out results/x.csv: creates results/ when it is missing (one level) */
int sweep_out_make_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char *dir = strndup(path, (size_t)(slash - path));
    if (!dir) return -1;
    int rc = 0;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "attnbench sweep: cannot create %s: %s\n", dir, strerror(errno));
        rc = -1;
    }
    free(dir);
    return rc;
}

/* Appends the row through the locked output (its sidecar was written when
 * it was opened). */
int sweep_out_append(int fd, const char *out, const result_row *r) {
    if (results_append_fd(fd, r, NULL) != 0) {
        fprintf(stderr, "attnbench sweep: cannot append to %s: %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}
