/* Where a streamed answer goes. A module that streams (the execution
 * reads, whose answers may hold millions of rows) writes to a sink and
 * knows nothing of who reads it: the HTTP layer's sink sends its status
 * and headers on begin, then the bytes; a test's sink keeps them. */
#ifndef AGORA_SINK_H
#define AGORA_SINK_H

#include <stdbool.h>
#include <stddef.h>

struct sink {
    int (*begin)(void *ctx);                               /* once, before the first byte */
    int (*write)(void *ctx, const char *data, size_t len); /* 0, or -1: the reader went away */
    void *ctx;
    const char *log_tag; /* names the answer in log lines (the request id) */
    bool begun;          /* begin has been called */
};

/* Begins the answer once; 0, or -1 when the reader went away. */
static inline int sink_begin(struct sink *s)
{
    if (s->begun)
        return 0;
    s->begun = true;
    return s->begin(s->ctx);
}

static inline int sink_write(struct sink *s, const char *data, size_t len)
{
    return s->write(s->ctx, data, len);
}

#endif
