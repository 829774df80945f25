/* Coalescing a project channel's live messages (docs/LIVE.md section 3,
 * DESIGN.md "Live monitoring"). nginx's cost of a message is one write per
 * subscriber, so a busy project watched by many costs subscribers x
 * messages a second; agora-live holds a project channel's messages for a
 * short window and publishes them as one. This is the buffer, without
 * sockets or clocks: the caller passes the time and a function that
 * publishes, so it is unit-tested (tests/unit/test_live.c).
 *
 * What it is given are rows (live_announce.h, LIVE_PROJECT_COLUMNS: one
 * JSON array per ingest); what a channel's window publishes is always one
 * message, LIVE_ROWS_HEAD r1,r2,... LIVE_ROWS_TAIL, with the rows in the
 * order they were added (commit order), so the column names go once per
 * window, however many rows it caught. A message never exceeds
 * LIVE_BATCH_MAX bytes: a row that would make it larger publishes the
 * window's message first (a burst goes out in full messages, not late). */
#ifndef AGORA_LIVE_BATCH_H
#define AGORA_LIVE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "domain/live_announce.h"

/* The largest message a window publishes, bytes. Two rows of the
 * largest size NOTIFY carries (under 8,000) fit with the head; nginx keeps up to 1,000
 * per channel (nginx/agora.conf.in), so one channel holds at most 16 MiB
 * of the 64 MiB Nchan zone, and the publisher location's body buffer
 * (client_body_buffer_size) is larger than this. */
#define LIVE_BATCH_MAX 16384
/* Channels with a window open at once; one more publishes the oldest
 * window early (a host sees few busy projects; this bounds the memory). */
#define LIVE_BATCH_CHANNELS 256
/* AGORA_LIVE_BATCH_MS: its default and largest value. */
#define LIVE_BATCH_MS_DEFAULT 500
#define LIVE_BATCH_MS_MAX 1000

/* Publishes message (len bytes, NUL-terminated, borrowed for the call) on
 * channel. Its result is not looked at: a publish that failed is the
 * publisher's to log and count. */
typedef void (*live_emit_fn)(void *ctx, const char *channel, const char *message, size_t len);

struct live_batcher;

/* A buffer whose windows last window_ms from their first row; 0 publishes
 * every row at once, in a message of its own. Never NULL (out of memory
 * aborts, util/buf.h). */
struct live_batcher *live_batcher_new(uint32_t window_ms);
/* Frees b and what it holds, unpublished: call live_batcher_flush first. */
void live_batcher_free(struct live_batcher *b);

/* Adds row (NUL-terminated, one JSON array) for channel at now_ms (a
 * monotonic clock). Publishes through emit what must go first: the
 * channel's window when the row would overfill it, the oldest window when
 * every slot is taken, and the row in a message of its own when the
 * window is 0 or it is too large to share one. */
void live_batcher_add(struct live_batcher *b, const char *channel, const char *row, uint64_t now_ms,
                      live_emit_fn emit, void *ctx);

/* Publishes every window that has ended by now_ms, oldest first. Returns
 * the milliseconds until the next window ends, or -1 when none is open. */
int live_batcher_due(struct live_batcher *b, uint64_t now_ms, live_emit_fn emit, void *ctx);

/* Publishes every open window (shutdown, a lost database connection). */
void live_batcher_flush(struct live_batcher *b, live_emit_fn emit, void *ctx);

#endif
