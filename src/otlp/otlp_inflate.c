/* Undoing an OTLP/HTTP body's Content-Encoding (gzip or deflate) with
 * zlib, within two limits that hold whatever the body claims (part of
 * otlp_decode.h): the route's body limit, and a ratio to the compressed
 * size. A few hundred kilobytes of gzip can hold gigabytes of zeros: the
 * output grows by doubling and inflating stops as soon as it would pass
 * the lower limit, so no more than that is ever allocated. */
#include "otlp/otlp_decode.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "util/buf.h"

/* A body may always inflate to this much (within the body limit): the
 * ratio is for large bodies; a tiny one that compresses well is no bomb. */
#define INFLATE_FLOOR ((size_t)64 << 10)

/* Whether the text starts with a zlib header (RFC 1950: deflate, a window
 * of at most 32 KiB, a check value that makes the two bytes a multiple of
 * 31). HTTP's deflate is that format, but some clients send the raw
 * stream (RFC 1951), which cannot start so by more than chance. */
static bool zlib_header(const unsigned char *p, size_t len)
{
    return len >= 2 && (p[0] & 0x0f) == Z_DEFLATED && (p[0] >> 4) <= 7 && ((p[0] << 8) | p[1]) % 31 == 0;
}

static uInt clamp_uint(size_t n)
{
    return n > UINT_MAX ? UINT_MAX : (uInt)n;
}

enum otlp_err otlp_inflate(enum otlp_encoding enc, const char *body, size_t len, const struct otlp_limits *lim,
                           const char **out, size_t *out_len, char **owned)
{
    *out = NULL;
    *out_len = 0;
    *owned = NULL;
    if (enc == OTLP_IDENTITY) {
        if (len > lim->max_body)
            return OTLP_ERR_INFLATED_SIZE;
        *out = body;
        *out_len = len;
        return OTLP_OK;
    }
    const unsigned char *in = (const unsigned char *)body;
    size_t by_ratio = lim->max_ratio && len > SIZE_MAX / lim->max_ratio ? SIZE_MAX : len * lim->max_ratio;
    if (by_ratio < INFLATE_FLOOR)
        by_ratio = INFLATE_FLOOR;
    size_t limit = by_ratio < lim->max_body ? by_ratio : lim->max_body;
    enum otlp_err too_much = by_ratio < lim->max_body ? OTLP_ERR_RATIO : OTLP_ERR_INFLATED_SIZE;
    if (limit == SIZE_MAX)
        limit--;

    z_stream z;
    memset(&z, 0, sizeof z);
    int window = enc == OTLP_GZIP ? 16 + MAX_WBITS : zlib_header(in, len) ? MAX_WBITS : -MAX_WBITS;
    if (inflateInit2(&z, window) != Z_OK)
        agora_oom(); /* its only failure with valid arguments */
    /* One byte more than the limit, so passing it can be seen. */
    size_t cap = len < INFLATE_FLOOR / 4 ? INFLATE_FLOOR : len * 4;
    if (cap > limit + 1)
        cap = limit + 1;
    char *buf = xmalloc(cap);
    size_t used_in = 0, produced = 0;
    enum otlp_err err = OTLP_ERR_CORRUPT;
    for (;;) {
        if (produced == cap) {
            if (cap > limit) {
                err = too_much;
                goto fail;
            }
            cap = cap > (limit + 1) / 2 ? limit + 1 : cap * 2;
            buf = xrealloc(buf, cap);
        }
        z.next_in = (Bytef *)(in + used_in); /* zlib only reads it */
        z.avail_in = clamp_uint(len - used_in);
        z.next_out = (Bytef *)buf + produced;
        z.avail_out = clamp_uint(cap - produced);
        int rc = inflate(&z, Z_NO_FLUSH);
        used_in = (size_t)(z.next_in - in);
        produced = (size_t)(z.next_out - (Bytef *)buf);
        if (produced > limit) {
            err = too_much;
            goto fail;
        }
        if (rc == Z_STREAM_END) {
            if (used_in == len)
                break;
            /* gzip may hold several members; anything else after the
             * stream is not part of it. */
            if (enc != OTLP_GZIP || inflateReset(&z) != Z_OK)
                goto fail;
            continue;
        }
        if (rc == Z_MEM_ERROR)
            agora_oom();
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            goto fail; /* Z_DATA_ERROR, Z_NEED_DICT */
        if (used_in == len && produced < cap)
            goto fail; /* all read, room left, no end: cut short */
    }
    inflateEnd(&z);
    *out = buf;
    *out_len = produced;
    *owned = buf;
    return OTLP_OK;
fail:
    inflateEnd(&z);
    free(buf);
    return err;
}
