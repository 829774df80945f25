/* The window buffer of agora-live's project channels (live_batch.h). Each
 * open window is one slot holding its message's text as it will be sent,
 * head included, so publishing copies nothing: the closing tail is
 * appended in the room every add leaves for it. Slots are allocated when
 * first needed and kept for the process's life: a host's set of busy
 * projects changes slowly, and a slot is LIVE_BATCH_MAX bytes. */
#include "domain/live_batch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static const char PREFIX[] = LIVE_ROWS_HEAD;
static const char SUFFIX[] = LIVE_ROWS_TAIL;
#define PREFIX_LEN (sizeof PREFIX - 1)
#define SUFFIX_LEN (sizeof SUFFIX - 1)

struct window {
    char channel[LIVE_CHANNEL_MAX + 1];
    uint64_t ends;               /* when it publishes (the caller's clock, ms) */
    unsigned count;              /* rows held; 0: the slot is free */
    size_t len;                  /* bytes of text, PREFIX included */
    char text[LIVE_BATCH_MAX + 1];
};

struct live_batcher {
    uint32_t window_ms;
    size_t slots_made;
    struct window *slots[LIVE_BATCH_CHANNELS];
};

struct live_batcher *live_batcher_new(uint32_t window_ms)
{
    struct live_batcher *b = xcalloc(1, sizeof *b);
    b->window_ms = window_ms;
    return b;
}

void live_batcher_free(struct live_batcher *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->slots_made; i++)
        free(b->slots[i]);
    free(b);
}

/* Publishes w's message and frees its slot. */
static void publish(struct window *w, live_emit_fn emit, void *ctx)
{
    memcpy(w->text + w->len, SUFFIX, SUFFIX_LEN + 1);
    emit(ctx, w->channel, w->text, w->len + SUFFIX_LEN);
    w->count = 0;
}

/* Publishes row (n bytes) in a message of its own, now. */
static void publish_alone(const char *channel, const char *row, size_t n, live_emit_fn emit, void *ctx)
{
    char *m = xmalloc(PREFIX_LEN + n + SUFFIX_LEN + 1);
    memcpy(m, PREFIX, PREFIX_LEN);
    memcpy(m + PREFIX_LEN, row, n);
    memcpy(m + PREFIX_LEN + n, SUFFIX, SUFFIX_LEN + 1);
    emit(ctx, channel, m, PREFIX_LEN + n + SUFFIX_LEN);
    free(m);
}

static struct window *open_window_of(struct live_batcher *b, const char *channel)
{
    for (size_t i = 0; i < b->slots_made; i++)
        if (b->slots[i]->count && strcmp(b->slots[i]->channel, channel) == 0)
            return b->slots[i];
    return NULL;
}

/* The open window that ends first, or NULL. */
static struct window *oldest(struct live_batcher *b)
{
    struct window *o = NULL;
    for (size_t i = 0; i < b->slots_made; i++)
        if (b->slots[i]->count && (!o || b->slots[i]->ends < o->ends))
            o = b->slots[i];
    return o;
}

/* A free slot: one made before, a new one, or (all taken) the oldest
 * window's, published first. */
static struct window *free_slot(struct live_batcher *b, live_emit_fn emit, void *ctx)
{
    for (size_t i = 0; i < b->slots_made; i++)
        if (!b->slots[i]->count)
            return b->slots[i];
    if (b->slots_made < LIVE_BATCH_CHANNELS) {
        struct window *w = xmalloc(sizeof *w);
        w->count = 0;
        b->slots[b->slots_made++] = w;
        return w;
    }
    struct window *w = oldest(b);
    publish(w, emit, ctx);
    return w;
}

/* Whether n more bytes of row go in w (a comma before it when w holds one
 * already), with room left for the closing SUFFIX. */
static bool fits(const struct window *w, size_t n)
{
    size_t len = (w->count ? w->len + 1 : PREFIX_LEN) + SUFFIX_LEN;
    return len <= LIVE_BATCH_MAX && n <= LIVE_BATCH_MAX - len;
}

void live_batcher_add(struct live_batcher *b, const char *channel, const char *row, uint64_t now_ms,
                      live_emit_fn emit, void *ctx)
{
    size_t n = strlen(row);
    if (b->window_ms == 0) {
        publish_alone(channel, row, n, emit, ctx);
        return;
    }
    struct window *w = open_window_of(b, channel);
    if (w && !fits(w, n)) {
        publish(w, emit, ctx);
        w = NULL;
    }
    static const struct window empty;
    if (!fits(&empty, n)) {
        /* Larger than a window's message may be (never from
         * live_announce, whose rows are under NOTIFY's 8,000 bytes): in a
         * message of its own, after what the channel held, so the order
         * stays. */
        publish_alone(channel, row, n, emit, ctx);
        return;
    }
    if (!w) {
        w = free_slot(b, emit, ctx);
        size_t c = strlen(channel);
        if (c > LIVE_CHANNEL_MAX)
            c = LIVE_CHANNEL_MAX;
        memcpy(w->channel, channel, c);
        w->channel[c] = '\0';
        memcpy(w->text, PREFIX, PREFIX_LEN);
        w->len = PREFIX_LEN;
        w->ends = now_ms + b->window_ms;
    } else {
        w->text[w->len++] = ',';
    }
    memcpy(w->text + w->len, row, n + 1);
    w->len += n;
    w->count++;
}

int live_batcher_due(struct live_batcher *b, uint64_t now_ms, live_emit_fn emit, void *ctx)
{
    struct window *w;
    while ((w = oldest(b)) != NULL && w->ends <= now_ms)
        publish(w, emit, ctx);
    /* A window ends at most window_ms (<= LIVE_BATCH_MS_MAX) from now. */
    return w ? (int)(w->ends - now_ms) : -1;
}

void live_batcher_flush(struct live_batcher *b, live_emit_fn emit, void *ctx)
{
    struct window *w;
    while ((w = oldest(b)) != NULL)
        publish(w, emit, ctx);
}
