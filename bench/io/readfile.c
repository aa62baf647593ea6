/* readfile.c — bounded reads of regular files (see readfile.h). */
#include "readfile.h"
#include "errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* what a file that is not a regular one is, for messages */
static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "is a directory";
    if (S_ISFIFO(m)) return "not a regular file (a FIFO)";
    if (S_ISCHR(m)) return "not a regular file (a character device)";
    if (S_ISBLK(m)) return "not a regular file (a block device)";
    if (S_ISSOCK(m)) return "not a regular file (a socket)";
    return "not a regular file";
}

int readfile_open(const char *path, size_t max, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        err_set(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err_set(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set(err, errlen, "%s: %s", path, kind_of(st.st_mode));
        close(fd);
        return -1;
    }
    if ((unsigned long long)st.st_size > (unsigned long long)max) {
        err_set(err, errlen, "%s: %lld bytes, larger than the %zu MiB limit of such a file", path,
                (long long)st.st_size, max >> 20);
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

int readfile_all(const char *path, size_t max, char **text, size_t *len, char *err, size_t errlen) {
    *text = NULL;
    *len = 0;
    int fd = readfile_open(path, max, err, errlen);
    if (fd < 0) return -1;
    struct stat st;
    size_t cap = fstat(fd, &st) == 0 ? (size_t)st.st_size + 1 : 4096;
    char *buf = malloc(cap);
    size_t got = 0;
    int bad = 0;
    while (buf) {
        if (got + 1 >= cap) { /* it grew while being read: up to the bound */
            if (cap > max) { bad = EFBIG; break; }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *grown = realloc(buf, ncap);
            if (!grown) { bad = ENOMEM; break; }
            buf = grown;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { bad = errno; break; }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || bad) {
        err_set(err, errlen, "%s: read error: %s", path, strerror(buf ? bad : ENOMEM));
        free(buf);
        return -1;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return 0;
}

int readfile_check_regular_or_absent(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        err_set(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode)) return 0;
    err_set(err, errlen, "%s: %s", path, kind_of(st.st_mode));
    return -1;
}
