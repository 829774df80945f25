/* The uploader's spool: a directory of payloads that could not be sent
 * yet, one file per payload, each exactly the body of an ingest request,
 * so any client can send it again (agora-upload --drain, the Python
 * client; both use the SHA-256 of the bytes as the Idempotency-Key, so
 * whichever sends it, it is stored once).
 *
 *   DIR/NAME.json                  a pending payload
 *   DIR/rejected/NAME.json         a payload the server refused (never retried)
 *   DIR/rejected/NAME.json.error   why: the server's answer, as JSON
 *
 * Writers write a temporary file whose name starts with '.', fsync it,
 * rename it into place and fsync the directory: a pending file is whole
 * or absent, even across a power cut, and readers skip names starting
 * with '.' and names not ending in ".json". The payloads are sent in the
 * order they were kept (modification time, then name): the payloads of a
 * live run must arrive in order.
 *
 * Errors return -1 with errno set; nothing here prints. */
#ifndef AGORA_SPOOL_H
#define AGORA_SPOOL_H

#include <stddef.h>
#include <time.h>

#include "util/buf.h"

/* The subdirectory of refused payloads. */
#define SPOOL_REJECTED "rejected"
/* Room for a name this module makes (48 bytes) or takes from a listing. */
#define SPOOL_NAME_MAX 256

/* Creates dir (mode 0700: payloads may hold private data) and its
 * rejected/ when missing; the parent must exist. 0 or -1. */
int spool_prepare(const char *dir);

/* Keeps a payload: writes body durably as dir/NAME, NAME being
 * "<UTC time to the nanosecond>-<16 hex digits of the body's SHA-256>.json"
 * (so names sort in the order payloads were kept), into name. 0 or -1. */
int spool_put(const char *dir, const void *body, size_t len, char name[SPOOL_NAME_MAX]);

/* Sets aside a refused payload that was not in the spool: writes reason
 * (the answer, reason_len bytes) as dir/rejected/NAME.error and body as
 * dir/rejected/NAME, NAME made as spool_put makes it, into name. 0 or -1. */
int spool_put_rejected(const char *dir, const void *body, size_t len, const char *reason, size_t reason_len,
                       char name[SPOOL_NAME_MAX]);

/* Moves the pending payload dir/name into dir/rejected/, after writing
 * reason beside it as name.error. 0 or -1. */
int spool_reject(const char *dir, const char *name, const char *reason, size_t reason_len);

/* Removes a payload that was stored; one that is already gone (another
 * drain sent it) is no error. The removal is made durable by spool_sync()
 * (one fsync for a whole drain: a removal lost in a crash only means the
 * payload is sent again, and the server replays its first answer). */
int spool_remove(const char *dir, const char *name);
int spool_sync(const char *dir);

/* The pending payloads, in order. */
struct spool_entry {
    char *name;
    struct timespec mtime;
};
struct spool_list {
    struct spool_entry *items;
    size_t count;
};
/* Takes the drain lock: an exclusive flock(2) on dir/.lock, the lock the
 * Python client's drainer takes too, so two drainers never send the same
 * spool at once (idempotency keys are per caller: two drainers with
 * different credentials would each store a payload). Returns the lock's
 * descriptor (close it to release), -2 when another drainer holds it, -1
 * on another error (errno). */
int spool_lock(const char *dir);

/* Lists the regular files dir/NAME.json (NAME not starting with '.') by
 * modification time, then name. 0 with *out filled (spool_list_free), or
 * -1 with *out empty. */
int spool_list(const char *dir, struct spool_list *out);
void spool_list_free(struct spool_list *l);

/* Reads the pending payload dir/name (not following a symbolic link) into
 * out. 0 or -1. */
int spool_read(const char *dir, const char *name, struct buf *out);
/* Reads fd to its end into out: the one reader of payloads (files, stdin,
 * the spool). 0 or -1. */
int spool_read_fd(int fd, struct buf *out);

#endif
