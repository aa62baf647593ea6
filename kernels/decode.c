/* decode.c — the decode framework (decode.h): a configuration resolved and
 * checked through the operator's entry, the sizes it implies (scratch,
 * workspace, cache), the sequences' storage, and the append and step loops
 * that run the entry's hooks, one task per (sequence, unit) on the threads
 * (a split step's blocks: decode_split.c).
 * The operators' steps are in decode_exact.c, decode_topk.c,
 * decode_window.c, decode_performer.c; the cache rows in decode_cache.c. */
#include "decode.h"
#include "methods.h"
#include "pool.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

int decode_config_of(decode_config *c, const attn_method *m, const proj_scheme *ps, size_t heads,
                     size_t kv_heads, size_t d_head, size_t max_len, const attn_knobs *kn) {
    memset(c, 0, sizeof *c);
    if (!m || !m->decode) return ATTN_EINVAL;
    c->op = m->decode;
    c->heads = heads;
    c->embed = ps ? ps->embed : NULL;
    c->kv_heads = c->embed ? 1 : kv_heads;
    c->d_head = d_head;
    c->max_len = max_len;
    c->batch = 1;
    if (kn) c->kn = *kn;
    return ATTN_OK;
}

static size_t hook_or(size_t (*f)(const decode_config *), const decode_config *c, size_t def) {
    return f ? f(c) : def;
}

/* the sizes a configuration implies, into d (nothing allocated): c's knobs
 * resolved by the entry (no context bound: decode_init holds what it is
 * told), the shape and the format checked; 0, or -1 where decode_init
 * refuses it (the format's reason in why) */
static int sizes_of_why(const decode_config *c, decode_ctx *d, char *why, size_t cap) {
    memset(d, 0, sizeof *d);
    d->c = *c;
    if (!c->op || !c->heads || !c->kv_heads || c->heads % c->kv_heads || !c->d_head || !c->max_len)
        return -1;
    /* an entry deciding by its queries keeps one set per stored K/V head:
     * under head embeddings that is one set for every head, where its
     * prefill (per-head K, V) keeps one per head */
    if (c->embed && (c->kv_heads != 1 || c->op->queries)) return -1;
    const attn_shape s = {c->heads, c->kv_heads, SIZE_MAX, c->d_head, 1};
    if (c->op->resolve && c->op->resolve(&s, &d->c.kn, NULL, 0) != ATTN_OK) return -1;
    const decode_config *r = &d->c;
    const attn_decode *op = c->op;
    d->slots = hook_or(op->slots, r, 0);
    d->units = hook_or(op->units, r, r->kv_heads);
    /* a cache is written per K/V head: one unit each */
    if (!d->units || r->heads % d->units || (d->slots && d->units != r->kv_heads)) return -1;
    d->state_floats = hook_or(op->state_floats, r, 0);
    d->scratch_floats = hook_or(op->scratch_floats, r, 0);
    d->shared_floats = hook_or(op->shared_floats, r, 0);
    size_t tasks = size_mul_sat(r->batch ? r->batch : 1, d->units);
    if (op->attend_range) {
        if (!d->slots) return -1;
        d->block = r->block ? r->block : DECODE_BLOCK;
        d->blocks = d->slots / d->block + (d->slots % d->block != 0);
        d->part_floats = size_mul_sat(r->heads / d->units, size_add_sat(r->d_head, 2));
        tasks = size_mul_sat(tasks, d->blocks);
    } else if (!op->attend) {
        return -1;
    }
    d->threads = par_threads(&r->kn, tasks);
    const size_t big = (size_t)INT_MAX;
    if (!(r->d_head <= big && d->slots <= big && r->heads <= big && d->state_floats <= big)) return -1;
    return decode_format_check(r, d->slots, why, cap);
}

static int sizes_of(const decode_config *c, decode_ctx *d) { return sizes_of_why(c, d, NULL, 0); }

int decode_format_ok(const decode_config *c, char *why, size_t cap) {
    decode_ctx z;
    if (why && cap) why[0] = '\0';
    if (!sizes_of_why(c, &z, why, cap)) return 0;
    if (why && cap && !why[0]) snprintf(why, cap, "a configuration decode cannot take");
    return -1;
}

double decode_bits_per_value(const decode_config *c) {
    decode_ctx z;
    if (sizes_of(c, &z) || !z.slots) return 0;
    return 8.0 * (double)decode_kv_bytes(&z.c, z.slots) / (2.0 * (double)z.c.kv_heads * (double)z.slots * (double)z.c.d_head);
}

/* floats of a split step's parts: batch units blocks part_floats */
static size_t parts_floats(const decode_ctx *z) {
    const size_t units = size_mul_sat(z->c.batch ? z->c.batch : 1, z->units);
    return size_mul_sat(units, size_mul_sat(z->blocks, z->part_floats));
}

size_t decode_workspace_bytes(const decode_config *c) {
    decode_ctx z;
    if (sizes_of(c, &z)) return 0;
    const size_t floats = size_add_sat(size_mul_sat(z.threads, z.scratch_floats), z.shared_floats);
    return size_mul_sat(size_add_sat(floats, parts_floats(&z)), sizeof(float));
}

/* K and V in the format (f32: 4 * 2 kv_heads slots d) + 4 units state_floats */
size_t decode_cache_bytes(const decode_config *c) {
    decode_ctx z;
    if (sizes_of(c, &z)) return 0;
    return size_add_sat(decode_kv_bytes(&z.c, z.slots), size_mul_sat(size_mul_sat(z.units, z.state_floats), sizeof(float)));
}

double decode_read_bytes(const decode_config *c, double held) {
    decode_ctx z;
    if (sizes_of(c, &z)) return 0;
    /* an entry that decides by its queries is told the tokens and counts its own keys */
    if (z.slots && held > (double)z.slots && !c->op->queries) held = (double)z.slots;
    const double scale = z.slots ? decode_format_bits(&z.c, z.slots, held) / 32 : 1;
    return c->op->read_bytes(&z.c, held) * scale;
}

double decode_step_flops(const decode_config *c, double held) {
    decode_ctx z;
    if (sizes_of(c, &z)) return 0;
    if (z.slots && held > (double)z.slots) held = (double)z.slots;
    if (c->op->step_flops) return c->op->step_flops(&z.c, held);
    return z.slots ? 4.0 * (double)z.c.heads * held * (double)z.c.d_head : 0;
}

int decode_init(decode_ctx *d, const decode_config *c, workspace *ws) {
    if (sizes_of(c, d) || (c->embed && (!c->ek || !c->ev))) {
        memset(d, 0, sizeof *d);
        return ATTN_EINVAL;
    }
    if (d->scratch_floats == SIZE_MAX) return ATTN_ENOMEM;
    if (d->scratch_floats) {
        d->scratch = ws_alloc_n(ws, size_mul_sat(d->threads, d->scratch_floats), sizeof(float));
        if (!d->scratch) return ATTN_ENOMEM;
    }
    if (d->shared_floats) {
        d->shared = ws_alloc_n(ws, d->shared_floats, sizeof(float));
        if (!d->shared) { decode_free(d, ws); return ATTN_ENOMEM; }
        d->c.op->shared_init(d, d->shared, d->scratch);
    }
    if (d->blocks) {
        d->parts = ws_alloc_n(ws, parts_floats(d), sizeof(float));
        if (!d->parts) { decode_free(d, ws); return ATTN_ENOMEM; }
    }
    return ATTN_OK;
}

void decode_free(decode_ctx *d, workspace *ws) {
    ws_free(ws, d->scratch);
    ws_free(ws, d->shared);
    ws_free(ws, d->parts);
    d->scratch = d->shared = d->parts = NULL;
}

int decode_seq_init(const decode_ctx *d, decode_seq *s, workspace *ws) {
    memset(s, 0, sizeof *s);
    const decode_config *c = &d->c;
    const size_t rows = size_mul_sat(c->kv_heads, size_mul_sat(d->slots, c->d_head));
    const size_t state = size_mul_sat(d->units, d->state_floats);
    if (rows && decode_format_on(d)) {
        if (decode_format_alloc(d, s, ws)) { decode_seq_free(s, ws); return ATTN_ENOMEM; }
    } else if (rows) {
        s->k = ws_alloc_n(ws, rows, sizeof(float));
        s->v = ws_alloc_n(ws, rows, sizeof(float));
        if (!s->k || !s->v) { decode_seq_free(s, ws); return ATTN_ENOMEM; }
    }
    if (state) {
        s->state = ws_alloc_n(ws, state, sizeof(float));
        if (!s->state) { decode_seq_free(s, ws); return ATTN_ENOMEM; }
        if (c->op->state_init) c->op->state_init(d, s->state);
        else memset(s->state, 0, state * sizeof(float));
    }
    return ATTN_OK;
}

void decode_seq_free(decode_seq *s, workspace *ws) {
    ws_free(ws, s->k); ws_free(ws, s->v); ws_free(ws, s->state); ws_free(ws, s->kf); ws_free(ws, s->vf);
    memset(s, 0, sizeof *s);
}

/* ---- the loops ------------------------------------------------------------ */

/* rows tokens into unit u: the entry's state, or the cache (unit u is K/V head u) */
static void append_unit(const decode_ctx *d, decode_seq *s, size_t u, size_t rows, const float *k,
                        const float *v, size_t ld, float *scratch) {
    if (d->c.op->append) d->c.op->append(d, s, u, rows, k, v, ld, scratch);
    else decode_cache_store(d, s, u, rows, k, v, ld);
}

typedef struct {
    const decode_ctx *d;
    decode_seq *seqs;
    const float *q, *k, *v;
    size_t ldq, ldkv;
    float *out;
} step_job;

/* sequence b = task / units, unit u: append its token's part, then attend
 * with the unit's query heads */
static int step_task(void *ctx, size_t task, size_t thread) {
    const step_job *j = ctx;
    const decode_ctx *d = j->d;
    const decode_config *c = &d->c;
    const size_t b = task / d->units, u = task % d->units, dh = c->d_head, h0 = u * decode_group(d);
    decode_seq *s = &j->seqs[b];
    float *scratch = d->scratch + thread * d->scratch_floats;
    append_unit(d, s, u, 1, j->k + b * j->ldkv, j->v + b * j->ldkv, j->ldkv, scratch);
    if (!c->op->attend) return ATTN_OK; /* a split step attends after every append */
    /* every unit has appended its own part: the length the attend sees */
    decode_seq view = *s;
    view.len = s->len + 1;
    c->op->attend(d, &view, u, j->q + b * j->ldq + h0 * dh, j->out + (b * c->heads + h0) * dh, scratch);
    return ATTN_OK;
}

int decode_step(const decode_ctx *d, decode_seq *seqs, size_t batch, const float *q, size_t ldq,
                const float *k, const float *v, size_t ldkv, float *out) {
    if (!batch || batch > (d->c.batch ? d->c.batch : 1)) return ATTN_EINVAL;
    for (size_t b = 0; b < batch; b++)
        if (seqs[b].len >= d->c.max_len) return ATTN_EINVAL;
    step_job job = {d, seqs, q, k, v, ldq, ldkv, out};
    const size_t tasks = batch * d->units;
    /* a split step's appends are a row copy each: a thread per 16 of them */
    const size_t threads = decode_threads_for(d, d->c.op->attend ? tasks : (tasks + 15) / 16);
    int rc = par_pool_run(d->c.pool, threads, tasks, step_task, &job);
    if (rc == ATTN_OK && !d->c.op->attend) rc = decode_split_attend(d, seqs, batch, q, ldq, out);
    if (rc == ATTN_OK)
        for (size_t b = 0; b < batch; b++) seqs[b].len++;
    return rc;
}

typedef struct {
    const decode_ctx *d;
    decode_seq *s;
    size_t rows, ld;
    const float *k, *v;
} append_job;

static int append_task(void *ctx, size_t u, size_t thread) {
    const append_job *j = ctx;
    append_unit(j->d, j->s, u, j->rows, j->k, j->v, j->ld, j->d->scratch + thread * j->d->scratch_floats);
    return ATTN_OK;
}

int decode_append(const decode_ctx *d, decode_seq *s, size_t rows, const float *k,
                  const float *v, size_t ld) {
    if (rows > d->c.max_len - s->len) return ATTN_EINVAL;
    if (!rows) return ATTN_OK;
    if (d->c.op->queries) return ATTN_EINVAL; /* its context needs its queries: steps */
    append_job job = {d, s, rows, ld, k, v};
    const int rc = par_pool_run(d->c.pool, decode_threads_for(d, d->units), d->units, append_task, &job);
    if (rc == ATTN_OK) s->len += rows;
    return rc;
}

/* ---- --cache-ratio ------------------------------------------------------------ */

int decode_fit_ratio(decode_config *c, double ratio, size_t ref_bytes, int choose_kv, double *achieved,
                     char *why, size_t cap) {
    const double target = ratio * (double)ref_bytes;
    if (!(ratio > 0) || !ref_bytes) {
        if (why && cap) snprintf(why, cap, "--cache-ratio %g: must be positive", ratio);
        return -1;
    }
    if (c->op->fit_ratio) {
        /* the entry's rows against the growing f32 cache of c's K/V heads,
         * at the format's bytes a row: R ref / (that cache) / (bits / 32) */
        const double full = 4.0 * 2 * (double)c->kv_heads * (double)c->max_len * (double)c->d_head;
        const kv_format *f = c->fmt ? c->fmt : &kv_formats[0];
        double rows = ratio * (double)ref_bytes / full / (kv_format_bits(f, c->d_head, &c->kvp) / 32);
        /* the entry's own state beside the rows: shrink until the whole fits */
        for (int tries = 0; tries < 16; tries++) {
            if (c->op->fit_ratio(c, rows)) break;
            const size_t b = decode_cache_bytes(c);
            if (b && (double)b <= target) {
                *achieved = (double)b / (double)ref_bytes;
                return 0;
            }
            rows *= b ? target / (double)b * 0.999 : 0.5;
        }
        if (why && cap)
            snprintf(why, cap, "--cache-ratio %g: --attention %s cannot hold its cache in %.4g%% of the f32 cache (%zu bytes)", ratio,
                     c->op->name, 100 * ratio, ref_bytes);
        return -1;
    }
    if (choose_kv) {
        for (size_t kv = c->heads; kv >= 1; kv--) {
            if (c->heads % kv) continue;
            c->kv_heads = kv;
            const size_t b = decode_cache_bytes(c);
            if (b && (double)b <= target) {
                *achieved = (double)b / (double)ref_bytes;
                return 0;
            }
        }
        if (why && cap)
            snprintf(why, cap, "--cache-ratio %g: even one K/V head holds more than %.4g%% of the f32 cache", ratio, 100 * ratio);
        return -1;
    }
    if (why && cap)
        snprintf(why, cap, "--cache-ratio: --attention %s cannot shrink its cache (it holds every key; a --projection with --kv-heads, gqa, can)",
                 c->op->name);
    return -1;
}
