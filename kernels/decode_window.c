/* decode_window.c — sinks + sliding window as a decode step (decode.h): a
 * bounded cache of sink + window slots per K/V head, the first `sink`
 * positions kept and the others in a ring (each new one evicts the oldest),
 * and the exact step over the slots held: position i's query sees keys
 * 0 .. sink-1 and i-window+1 .. i (decode_window_sees), as window_forward's
 * causal row i. */
#include "decode.h"
#include "methods.h"

#include <stdio.h>

/* as window_resolve, then sink + window within the cache of the context */
static int window_decode_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    const int rc = window_resolve(s, kn, why, cap);
    if (rc == ATTN_OK && size_add_sat(kn->sink, kn->window) > s->n) {
        if (why && cap)
            snprintf(why, cap, "--sink %zu + --window %zu is larger than the cache of --context %zu",
                     kn->sink, kn->window, s->n);
        return ATTN_EINVAL;
    }
    return rc;
}

static size_t window_slots(const decode_config *c) { return size_add_sat(c->kn.sink, c->kn.window); }

/* a sink slot, or the ring slot the position evicts */
static size_t window_slot_of(const decode_ctx *d, const decode_seq *s, size_t g, size_t pos) {
    (void)s; (void)g;
    const size_t sink = d->c.kn.sink;
    return pos < sink ? pos : sink + (pos - sink) % d->c.kn.window;
}

/* --cache-ratio: sink + window = ratio max_len rows (the sinks as resolved) */
static int window_fit_ratio(decode_config *c, double ratio) {
    const size_t tokens = decode_ratio_tokens(c, ratio);
    if (tokens <= c->kn.sink) return -1;
    c->kn.window = tokens - c->kn.sink;
    return 0;
}

const attn_decode decode_window = {
    .name = "window",
    .summary = "--sink first + --window most recent keys: a bounded cache with eviction",
    .knobs = KNOB_SINK | KNOB_WINDOW,
    .resolve = window_decode_resolve,
    .slots = window_slots,
    .slot_of = window_slot_of,
    .scratch_floats = decode_range_scratch,
    .attend_range = decode_attend_range,
    .read_bytes = decode_exact_read_bytes,
    .fit_ratio = window_fit_ratio,
};
