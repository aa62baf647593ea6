/* spec_hash.c — the spec a sweep ran, by path, FNV-1a/64 of its text and
 * of its points, and its shard, for the .env sidecar (see spec_hash.h). */
#include "spec_hash.h"
#include "readfile.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

uint64_t spec_hash_bytes(uint64_t hash, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ull; /* the 64-bit FNV prime */
    }
    return hash;
}

int spec_hash_file(const char *path, uint64_t *hash) {
    char err[64];
    int fd = readfile_open(path, READFILE_SPEC_MAX, err, sizeof err); /* a FIFO: refused, not waited on */
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) { if (fd >= 0) close(fd); return -1; }
    uint64_t h = SPEC_HASH_INIT;
    unsigned char buf[8192];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) h = spec_hash_bytes(h, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad) { errno = EIO; return -1; }
    *hash = h;
    return 0;
}

uint64_t spec_point_hash(uint64_t h, const sweep_point *p) {
    const char *cmd = spec_command_name(p->command);
    h = spec_hash_bytes(h, cmd, strlen(cmd) + 1); /* each string with its NUL: no two lists run together */
    for (int a = 0; a < p->argc; a++) h = spec_hash_bytes(h, p->argv[a], strlen(p->argv[a]) + 1);
    return spec_hash_bytes(h, "\n", 1);
}

/* One sweep per process: what it noted, for the sidecar it writes later. */
static struct {
    int noted, hashed;
    char path[4096];
    uint64_t hash, points_hash;
    size_t shard_i, shard_n;
    char capture[4096], capture_hash[17];
} sweep_note;

const char *env_note_capture(const char *dir) {
    char path[4200];
    uint64_t h;
    snprintf(sweep_note.capture, sizeof sweep_note.capture, "%s", dir);
    for (char *c = sweep_note.capture; *c; c++)
        if (*c == '\n' || *c == '\r') *c = '?';
    snprintf(path, sizeof path, "%s/capture.txt", dir);
    sweep_note.capture_hash[0] = '\0';
    if (spec_hash_file(path, &h) == 0)
        snprintf(sweep_note.capture_hash, sizeof sweep_note.capture_hash, "%016llx", (unsigned long long)h);
    return sweep_note.capture_hash;
}

void env_note_sweep(const char *spec_path, uint64_t points_hash, size_t shard_i, size_t shard_n) {
    sweep_note.noted = 1;
    sweep_note.points_hash = points_hash;
    snprintf(sweep_note.path, sizeof sweep_note.path, "%s", spec_path);
    /* one key=value a line: a newline in the path must not start another */
    for (char *c = sweep_note.path; *c; c++)
        if (*c == '\n' || *c == '\r') *c = '?';
    sweep_note.hashed = spec_hash_file(spec_path, &sweep_note.hash) == 0;
    sweep_note.shard_i = shard_i;
    sweep_note.shard_n = shard_n;
}

void env_write_sweep_lines(FILE *f) {
    if (!sweep_note.noted) return;
    fprintf(f, "spec=%s\n", sweep_note.path);
    if (sweep_note.hashed) fprintf(f, "spec_fnv1a64=%016llx\n", (unsigned long long)sweep_note.hash);
    fprintf(f, "spec_points_fnv1a64=%016llx\n", (unsigned long long)sweep_note.points_hash);
    if (sweep_note.shard_n) fprintf(f, "shard=%zu/%zu\n", sweep_note.shard_i, sweep_note.shard_n);
    if (sweep_note.capture[0]) fprintf(f, "capture=%s\n", sweep_note.capture);
    if (sweep_note.capture_hash[0]) fprintf(f, "capture_fnv1a64=%s\n", sweep_note.capture_hash);
}
