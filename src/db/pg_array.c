/* PostgreSQL array literals, text format (pg_array.h). */
#include "db/pg_array.h"

#include <string.h>

#include "util/text.h"

void pg_array_sep(struct buf *b)
{
    if (b->len > 1)
        buf_putc(b, ',');
}

void pg_array_open(struct buf *b)
{
    buf_putc(b, '{');
}

void pg_array_raw(struct buf *b, const char *s)
{
    pg_array_sep(b);
    buf_puts(b, s ? s : "NULL");
}

void pg_array_null(struct buf *b)
{
    pg_array_sep(b);
    buf_puts(b, "NULL");
}

void pg_array_text(struct buf *b, const char *s)
{
    if (!s) {
        pg_array_null(b);
        return;
    }
    pg_array_sep(b);
    buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s, *run = p;
    size_t left = strlen(s);
    while (left > 0) {
        if (*p == '"' || *p == '\\') {
            buf_append(b, run, (size_t)(p - run));
            buf_putc(b, '\\');
            run = p; /* the character itself starts the next run */
            p++;
            left--;
        } else if (*p < 0x80) {
            p++;
            left--;
        } else {
            size_t n = utf8_seq_len(p, left);
            if (n == 0) {
                buf_append(b, run, (size_t)(p - run));
                buf_puts(b, "\xef\xbf\xbd");
                n = 1;
                run = p + 1;
            }
            p += n;
            left -= n;
        }
    }
    buf_append(b, run, (size_t)(p - run));
    buf_putc(b, '"');
}

void pg_array_close(struct buf *b)
{
    buf_putc(b, '}');
    buf_putc(b, '\0');
}
