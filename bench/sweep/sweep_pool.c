/* sweep_pool.c — the sweep's children: started under the limits, their
 * output collected, each one's outcome turned into its point's row from its
 * exit status and its row (never from the words of its stderr). */
#include "sweep_pool.h"
#include "exit_status.h"
#include "csv_table.h"
#include "env.h"
#include "measure.h"
#include "memlimit.h"
#include "point_id.h"
#include "spec.h"
#include "sweep_out.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* AddressSanitizer reserves terabytes of address space: RLIMIT_AS would stop
 * an instrumented child before main, so such builds run children unlimited
 * (points over the limit are still skipped from the workspace formula). */
int sweep_under_asan(void) { return mem_under_asan(); }

/* The address space any point needs before its tensors and OpenBLAS's
 * buffers: this program and its libraries (VmSize now, less any buffer
 * OpenBLAS has mapped), computed, never measured by a BLAS call: under a
 * low limit OpenBLAS retries a refused buffer forever. plan_point adds each
 * point's buffers and stacks (mem_threads_bytes), so a limit below them is a
 * `skipped` row at once, not a child spinning on a refused buffer. */
size_t sweep_runtime_bytes(void) {
    if (mem_under_asan()) return 0; /* its shadow memory is address space no child is limited by */
    return mem_base_bytes();
}

typedef struct {
    char *data;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap) cap *= 2;
        if (cap > (1u << 22)) return; /* a runaway child: keep the first 4 MiB */
        char *grown = realloc(b->data, cap);
        if (!grown) return;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

typedef struct {
    plan *pl;
    pid_t pid;
    int fd[2];           /* child's stdout, stderr; -1 once closed */
    buf out, err;
    double start, deadline;
    int timed_out, exited, wstatus;
} slot;

/* Starts the child for pl: its own process group (so a timeout kills all of
 * it), killed if the sweep dies, RLIMIT_AS = mem_limit. 0, or -1. */
static int child_start(slot *s, plan *pl, const sweep_pool_cfg *so) {
    memset(s, 0, sizeof *s);
    s->pl = pl;
    s->fd[0] = s->fd[1] = -1;
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC)) return -1;
    if (pipe2(pe, O_CLOEXEC)) { close(po[0]); close(po[1]); return -1; }
    const sweep_point *p = pl->pt;
    char **argv = calloc((size_t)p->argc + 4, sizeof *argv);
    if (!argv) { close(po[0]); close(po[1]); close(pe[0]); close(pe[1]); return -1; }
    int a = 0;
    argv[a++] = "attnbench";
    argv[a++] = (char *)spec_command_name(p->command); /* execv takes char *const[] */
    for (int i = 0; i < p->argc; i++) argv[a++] = p->argv[i];
    argv[a++] = "--row-only";
    argv[a] = NULL;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        if (so->mem_limit && !mem_under_asan()) {
            struct rlimit rl = {so->mem_limit, so->mem_limit};
            setrlimit(RLIMIT_AS, &rl);
        }
        execv("/proc/self/exe", argv);
        fprintf(stderr, "attnbench sweep: cannot execute /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    free(argv);
    close(po[1]);
    close(pe[1]);
    if (pid < 0) { close(po[0]); close(pe[0]); return -1; }
    setpgid(pid, pid); /* also here, so the group exists before any kill */
    s->pid = pid;
    s->fd[0] = po[0];
    s->fd[1] = pe[0];
    s->start = now_seconds();
    s->deadline = s->start + so->timeout_s;
    return 0;
}

/* the last non-empty line of text (in place), or "" */
static const char *last_line(char *text) {
    if (!text) return "";
    size_t len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) text[--len] = '\0';
    char *nl = strrchr(text, '\n');
    return nl ? nl + 1 : text;
}

/* The CSV line the child printed (its last line), as a row; -1 when there is none. */
static int parse_child_row(char *text, result_row *r) {
    const char *line = last_line(text);
    char *head = results_header_line();
    if (!*line || !head) { free(head); return -1; }
    size_t hl = strlen(head), ll = strlen(line);
    char *csv = malloc(hl + ll + 2);
    if (!csv) { free(head); return -1; }
    memcpy(csv, head, hl);
    memcpy(csv + hl, line, ll);
    csv[hl + ll] = '\n';
    free(head);
    csv_table t;
    int rc = -1;
    if (table_parse(csv, hl + ll + 1, &t, NULL, 0) == 0) {
        if (t.nrows == 1 && t.ncols == COL_COUNT && !t.bad_rows) {
            for (int c = 0; c < COL_COUNT; c++)
                if (t.rows[0][c][0]) row_set(r, c, "%s", t.rows[0][c]);
            rc = 0;
        }
        table_free(&t);
    }
    free(csv);
    return rc;
}

/* The row for a finished child, from its exit status and its row, never
 * from the words of its stderr (which only fills `note`): its own row when
 * it printed one (ok, nonfinite, oom, ...); else exit 3 is oom (run's status
 * for memory refused), exit 2 invalid, a signal or any other exit crashed. */
static void child_row(slot *s, result_row *r, char *status_out, size_t cap) {
    char note[600];
    const char *line = last_line(s->err.data);
    int code = WIFEXITED(s->wstatus) ? WEXITSTATUS(s->wstatus) : -1;
    const char *status = NULL;
    if (s->timed_out) {
        snprintf(note, sizeof note, "killed after %.4g s (--timeout)", s->deadline - s->start);
        status = "timeout";
    } else if (WIFSIGNALED(s->wstatus)) {
        int sig = WTERMSIG(s->wstatus);
        snprintf(note, sizeof note, "signal %d (%s)%s%s%s", sig, strsignal(sig),
                 sig == SIGKILL ? "; the kernel's OOM killer?" : "", *line ? ": " : "", line);
        status = "crashed";
    } else if ((code == EXIT_ROW || code == EXIT_OOM) && parse_child_row(s->out.data, r) == 0) {
        snprintf(status_out, cap, "%s", row_get(r, COL_status));
        char *got = point_id_row(r);
        const char *want = plan_key(s->pl);
        if (got && want && strcmp(got, want))
            fprintf(stderr, "\nattnbench sweep: warning: point %zu's row records other knobs than the sweep "
                            "resolved for it; a resume will not find it\n", s->pl->pt->index);
        free(got);
        return;
    } else if (code == EXIT_OOM) {
        snprintf(note, sizeof note, "out of memory (exit 3)%s%s", *line ? ": " : "", line);
        status = "oom";
    } else if (code == EXIT_BAD_INPUT) {
        snprintf(note, sizeof note, "%s", *line ? line : "exit 2 (bad input)");
        status = "invalid";
    } else if (code == 0) {
        snprintf(note, sizeof note, "exit 0 without a CSV row on stdout");
        status = "crashed";
    } else {
        snprintf(note, sizeof note, "exit %d%s%s", code, *line ? ": " : "", line);
        status = "crashed";
    }
    point_row(s->pl, status, note, r);
    snprintf(status_out, cap, "%s", status);
}

/* ---- the pool ------------------------------------------------------------- */

typedef struct {
    slot *slots;
    const sweep_pool_cfg *cfg;
    progress *pg;
    size_t running;
} pool;

/* Starts points while slots are free; a skipped one is recorded at once.
 * 0, or 1 after a message (a row not written, a child not started). */
static int start_points(pool *po, plan *pl, size_t np, size_t *next) {
    const sweep_pool_cfg *cfg = po->cfg;
    while (po->running < cfg->jobs && *next < np) {
        plan *p = &pl[(*next)++];
        if (p->done) continue;
        if (p->skip) {
            result_row r;
            point_row(p, p->skip, p->why, &r);
            int failed = sweep_out_append(cfg->fd, cfg->out, &r);
            if (!failed) progress_record(po->pg, p, "skipped");
            row_free(&r);
            if (failed) return 1;
            continue;
        }
        size_t si = 0;
        while (po->slots[si].pl) si++;
        if (child_start(&po->slots[si], p, cfg)) {
            fprintf(stderr, "attnbench sweep: cannot start a child: %s\n", strerror(errno));
            return 1;
        }
        po->running++;
        char *d = spec_point_describe(p->pt);
        snprintf(po->pg->shown, sizeof po->pg->shown, "%s", d ? d : "");
        free(d);
    }
    return 0;
}

/* Waits for output, an exit, a deadline, or the next progress tick, and
 * reads what came. 0, or 1 after a message (poll failed). */
static int wait_output(pool *po) {
    struct pollfd fds[2 * 1024];
    slot *owner[2 * 1024];
    int which[2 * 1024];
    nfds_t nf = 0;
    double now = now_seconds(), wait_s = po->pg->tty ? 1.0 : 5.0;
    for (size_t i = 0; i < po->cfg->jobs; i++) {
        slot *s = &po->slots[i];
        if (!s->pl) continue;
        for (int f = 0; f < 2; f++)
            if (s->fd[f] >= 0) {
                fds[nf] = (struct pollfd){.fd = s->fd[f], .events = POLLIN};
                owner[nf] = s;
                which[nf++] = f;
            }
        if (s->fd[0] < 0 && s->fd[1] < 0) wait_s = fmin(wait_s, 0.02); /* closed, not yet reaped */
        if (!s->timed_out) wait_s = fmin(wait_s, s->deadline - now);
    }
    int ms = wait_s <= 0 ? 0 : (int)ceil(wait_s * 1000);
    int pr = poll(fds, nf, ms);
    if (pr < 0 && errno != EINTR) {
        fprintf(stderr, "attnbench sweep: poll: %s\n", strerror(errno));
        return 1;
    }
    for (nfds_t i = 0; pr > 0 && i < nf; i++) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char chunk[8192];
        ssize_t got = read(fds[i].fd, chunk, sizeof chunk);
        if (got > 0) {
            buf_add(which[i] ? &owner[i]->err : &owner[i]->out, chunk, (size_t)got);
        } else if (got == 0 || errno != EINTR) {
            close(fds[i].fd);
            owner[i]->fd[which[i]] = -1;
        }
    }
    return 0;
}

/* Kills the children past their deadline and turns each finished one (exited,
 * its pipes closed) into its row. 0, or 1 when a row could not be written. */
static int reap(pool *po) {
    int io_failed = 0;
    double now = now_seconds();
    for (size_t i = 0; i < po->cfg->jobs; i++) {
        slot *s = &po->slots[i];
        if (!s->pl) continue;
        if (!s->exited && waitpid(s->pid, &s->wstatus, WNOHANG) == s->pid) s->exited = 1;
        if (!s->exited && !s->timed_out && now >= s->deadline) {
            kill(-s->pid, SIGKILL);
            s->timed_out = 1;
        }
        if (s->exited && (s->fd[0] >= 0 || s->fd[1] >= 0) && s->timed_out)
            kill(-s->pid, SIGKILL); /* a leftover grandchild holds the pipes */
        if (!s->exited || s->fd[0] >= 0 || s->fd[1] >= 0) continue;
        if (!s->timed_out) kill(-s->pid, SIGKILL); /* nothing of the point outlives it */
        result_row r;
        char status[32];
        row_init(&r);
        child_row(s, &r, status, sizeof status);
        progress_warnings(po->pg, s->err.data);
        if (sweep_out_append(po->cfg->fd, po->cfg->out, &r)) io_failed = 1;
        else progress_record(po->pg, s->pl, status);
        row_free(&r);
        free(s->out.data);
        free(s->err.data);
        memset(s, 0, sizeof *s);
        po->running--;
    }
    return io_failed;
}

/* on an I/O failure, stops the points still running */
static void stop_all(pool *po) {
    for (size_t i = 0; i < po->cfg->jobs; i++) {
        slot *s = &po->slots[i];
        if (!s->pl) continue;
        kill(-s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        if (s->fd[0] >= 0) close(s->fd[0]);
        if (s->fd[1] >= 0) close(s->fd[1]);
        free(s->out.data);
        free(s->err.data);
        memset(s, 0, sizeof *s);
    }
}

int sweep_pool_run(plan *pl, size_t np, const sweep_pool_cfg *cfg, progress *pg) {
    pool po = {calloc(cfg->jobs, sizeof(slot)), cfg, pg, 0};
    if (!po.slots) {
        fprintf(stderr, "attnbench sweep: out of memory\n");
        return 1;
    }
    int io_failed = 0;
    size_t next = 0;
    while (!io_failed) {
        io_failed = start_points(&po, pl, np, &next);
        if (io_failed || po.running == 0) break;
        progress_show(pg, po.running);
        io_failed = wait_output(&po);
        if (!io_failed) io_failed = reap(&po);
    }
    stop_all(&po);
    free(po.slots);
    return io_failed;
}
