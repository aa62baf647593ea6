/* workspace.c — the counting allocator every kernel takes its scratch from. */
#include "attention.h"

#include <sys/mman.h>

/* Each block is one anonymous mapping with a 64-byte header holding its size,
 * so ws_free knows what to unmap and what to uncount. */
enum { WS_HEADER = 64 };

void ws_init(workspace *ws, size_t limit) {
    ws->live = 0;
    ws->peak = 0;
    ws->limit = limit;
    ws->allocs = 0;
}

void *ws_alloc(workspace *ws, size_t bytes) {
    size_t total;
    if (__builtin_add_overflow(bytes, (size_t)WS_HEADER, &total))
        return NULL;
    if (ws->limit && (bytes > ws->limit || ws->live > ws->limit - bytes))
        return NULL;
    void *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    *(size_t *)base = bytes;
    ws->live += bytes;
    if (ws->live > ws->peak)
        ws->peak = ws->live;
    ws->allocs++;
    return (char *)base + WS_HEADER;
}

void *ws_alloc_n(workspace *ws, size_t count, size_t elem) {
    size_t bytes;
    if (size_mul(count, elem, &bytes))
        return NULL;
    return ws_alloc(ws, bytes);
}

void ws_free(workspace *ws, void *p) {
    if (!p)
        return;
    char *base = (char *)p - WS_HEADER;
    size_t bytes = *(size_t *)base;
    ws->live -= bytes;
    munmap(base, bytes + WS_HEADER);
}
