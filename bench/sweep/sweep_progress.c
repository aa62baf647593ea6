/* sweep_progress.c — the sweep's progress line, warnings and closing count. */
#include "sweep_progress.h"
#include "measure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

static void count_status(progress *pg, const char *st) {
    int i = result_status_find(st);
    pg->counts[i < 0 ? ST_COUNT : i]++;
}

static void fmt_duration(double s, char *out, size_t cap) {
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, cap, "%lds", t);
}

void progress_show(progress *pg, size_t running) {
    if (!pg->tty) return;
    double el = now_seconds() - pg->t0;
    char e[32], eta[32] = "?";
    fmt_duration(el, e, sizeof e);
    if (pg->weight_done > 0 && pg->weight_total >= pg->weight_done)
        fmt_duration(el * (pg->weight_total - pg->weight_done) / pg->weight_done, eta, sizeof eta);
    char more[32] = "", line[512];
    if (running > 1) snprintf(more, sizeof more, " (+%zu more)", running - 1);
    int len = snprintf(line, sizeof line, "[%zu/%zu] %s elapsed, ETA %s | %s%s", pg->finished, pg->total,
                       e, eta, pg->shown, more);
    /* one terminal line, or the \r cannot take it back */
    struct winsize ws;
    size_t width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? ws.ws_col : 80;
    if (len > 0 && (size_t)len >= width && width < sizeof line) line[width - 1] = '\0';
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

void progress_clear(progress *pg) {
    if (pg->tty) fprintf(stderr, "\r\033[K");
}

/* the children's warnings (OpenBLAS on a generic core, ...), each once */
void progress_warnings(progress *pg, const char *errtext) {
    if (!errtext) return;
    const char *p = errtext;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len && memmem(p, len, "warning", 7)) {
            int seen = 0;
            for (size_t i = 0; i < pg->nwarnings && !seen; i++)
                seen = strlen(pg->warnings[i]) == len && !strncmp(pg->warnings[i], p, len);
            char **grown = seen ? NULL : realloc(pg->warnings, (pg->nwarnings + 1) * sizeof *grown);
            if (grown) {
                pg->warnings = grown;
                pg->warnings[pg->nwarnings] = strndup(p, len);
                if (pg->warnings[pg->nwarnings]) {
                    progress_clear(pg);
                    fprintf(stderr, "%s\n", pg->warnings[pg->nwarnings++]);
                }
            }
        }
        p += len + (eol ? 1 : 0);
    }
}

void progress_record(progress *pg, const plan *pl, const char *status) {
    pg->finished++;
    if (!pl->skip) pg->weight_done += pl->weight;
    count_status(pg, status);
}

void progress_done(progress *pg, const char *out, int io_failed) {
    progress_clear(pg);
    char el[32];
    fmt_duration(now_seconds() - pg->t0, el, sizeof el);
    fprintf(stderr, "attnbench sweep: %s%zu of %zu point(s) in %s:", io_failed ? "stopped after " : "",
            pg->finished, pg->total, el);
    for (int i = 0; i <= ST_COUNT; i++)
        if (pg->counts[i]) fprintf(stderr, " %zu %s", pg->counts[i], i < ST_COUNT ? result_status_names[i] : "other");
    fprintf(stderr, "%s -> %s%s\n", pg->finished ? "" : " nothing done", out,
            io_failed ? " (the same command resumes)" : "");
    for (size_t i = 0; i < pg->nwarnings; i++) free(pg->warnings[i]);
    free(pg->warnings);
    pg->warnings = NULL;
    pg->nwarnings = 0;
}
