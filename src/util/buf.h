/* A growable byte buffer: the one way this code builds strings of unknown
 * length (response bodies, SQL-free text, JSON escapes). The buffer owns its
 * memory; buf_free() releases it. Appends abort the process on out of memory
 * (see README, "Out of memory"): a worker that cannot allocate is restarted
 * by its supervisor rather than limping on. */
#ifndef AGORA_BUF_H
#define AGORA_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;  /* always NUL-terminated when len > 0 or after buf_init */
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Appends v in decimal, as "%lld" would, without printf's parsing of a
 * format (a large OTLP request writes thousands of integers). */
void buf_put_int(struct buf *b, long long v);
/* Appends s (len bytes) as a JSON string literal, quotes included: the one
 * JSON string writer. Control characters and DEL are escaped; a byte that
 * is not part of a well-formed UTF-8 character becomes \ufffd. */
void buf_json_string(struct buf *b, const char *s, size_t len);
/* Takes the buffer's memory: the caller owns the returned string and the
 * buffer is left empty. Never NULL. */
char *buf_steal(struct buf *b);

/* Aborts with a message: the single out-of-memory policy of the project. */
_Noreturn void agora_oom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
