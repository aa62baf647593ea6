/* errmsg.c — see errmsg.h. */
#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>

static int put(char *err, size_t errlen, const char *prefix, const char *fmt, va_list ap) {
    if (!err || !errlen) return -1;
    char msg[1024], raw[1536];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (prefix) snprintf(raw, sizeof raw, "%s: %s", prefix, msg);
    else snprintf(raw, sizeof raw, "%s", msg);
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)raw; *c && o + 5 < errlen; c++) {
        if (*c < 0x20 || *c == 0x7f) o += (size_t)snprintf(err + o, errlen - o, "\\x%02x", *c);
        else err[o++] = (char)*c;
    }
    err[o < errlen ? o : errlen - 1] = '\0';
    return -1;
}

int err_set(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    put(err, errlen, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int err_set_at(char *err, size_t errlen, const char *prefix, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    put(err, errlen, prefix, fmt, ap);
    va_end(ap);
    return -1;
}
