/* json-c's readings of single tokens (json_scan.h), on the text in place:
 * numbers (does it fit a double, its double, its clamped 64-bit integer)
 * and strings (code points with escapes decoded, the unescaped bytes).
 * Tokens come from the scanner, so they are lexically valid; the readers
 * still stay inside the token whatever it holds. */
#include "json/json_scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- numbers ----------------------------------------------------------- */

/* A number's decimal anatomy: value = 0.d1d2... x 10^e10, d1 the first
 * non-zero digit (none: the literal is a zero). */
struct anatomy {
    bool negative;
    const char *int_start, *int_end;   /* integer digits */
    const char *frac_start, *frac_end; /* fraction digits (empty when none) */
    bool zero;
    int64_t e10;
};

#define EXP_CAP INT64_C(1000000000000)

static void anatomy_of(const struct jnum *n, struct anatomy *a)
{
    const char *p = n->raw, *end = n->raw + n->len;
    int64_t exp = 0;
    a->negative = *p == '-';
    if (a->negative)
        p++;
    a->int_start = p;
    while (p < end && is_digit(*p))
        p++;
    a->int_end = p;
    a->frac_start = a->frac_end = p;
    if (p < end && *p == '.') {
        a->frac_start = ++p;
        while (p < end && is_digit(*p))
            p++;
        a->frac_end = p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool neg = *++p == '-';
        if (*p == '+' || *p == '-')
            p++;
        for (; p < end; p++)
            if (exp < EXP_CAP)
                exp = exp * 10 + (*p - '0');
        if (neg)
            exp = -exp;
    }
    a->zero = false;
    for (const char *q = a->int_start; q < a->int_end; q++)
        if (*q != '0') {
            a->e10 = (int64_t)(a->int_end - q) + exp;
            return;
        }
    for (const char *q = a->frac_start; q < a->frac_end; q++)
        if (*q != '0') {
            a->e10 = -(int64_t)(q - a->frac_start) + exp;
            return;
        }
    a->zero = true;
    a->e10 = 0;
}

/* Significant digits kept for strtod: more than the 767 a double's
 * rounding can depend on; a trailing 1 stands for any non-zero digit cut
 * off, so the rounding direction is kept and the result stays exact. */
#define KEEP_DIGITS 780

double jnum_double(const struct jnum *n)
{
    char buf[KEEP_DIGITS + 32];
    if (n->len < 64) {
        memcpy(buf, n->raw, n->len);
        buf[n->len] = '\0';
        return strtod(buf, NULL);
    }
    struct anatomy a;
    anatomy_of(n, &a);
    if (a.zero)
        return a.negative ? -0.0 : 0.0;
    size_t o = 0, kept = 0;
    bool started = false, cut = false;
    if (a.negative)
        buf[o++] = '-';
    buf[o++] = '0';
    buf[o++] = '.';
    const char *parts[2][2] = {{a.int_start, a.int_end}, {a.frac_start, a.frac_end}};
    for (int k = 0; k < 2; k++) {
        for (const char *q = parts[k][0]; q < parts[k][1]; q++) {
            if (!started && *q == '0')
                continue;
            started = true;
            if (kept < KEEP_DIGITS) {
                buf[o++] = *q;
                kept++;
            } else if (*q != '0') {
                cut = true;
            }
        }
    }
    if (cut)
        buf[o++] = '1';
    int64_t e = a.e10 > 99999 ? 99999 : a.e10 < -99999 ? -99999 : a.e10;
    snprintf(buf + o, sizeof buf - o, "e%lld", (long long)e);
    return strtod(buf, NULL);
}

bool jnum_fits_double(const struct jnum *n)
{
    if (!jnum_may_overflow(n))
        return true;
    struct anatomy a;
    anatomy_of(n, &a);
    if (a.zero)
        return true;
    /* The value lies in [10^(e10-1), 10^e10). */
    if (a.e10 >= -320 && a.e10 <= 308)
        return true;
    if (a.e10 > 309 || a.e10 < -324)
        return false;
    double d = jnum_double(n); /* near the edges: what strtod makes of it */
    return isfinite(d) && d != 0.0;
}

int64_t jnum_int64(const struct jnum *n)
{
    const char *p = n->raw, *end = n->raw + n->len;
    bool neg = *p == '-';
    uint64_t v = 0;
    bool over = false;
    if (neg)
        p++;
    for (; p < end && is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            over = true;
            break;
        }
        v = v * 10 + d;
    }
    if (neg)
        return over || v >= (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return over || v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* ---- strings ----------------------------------------------------------- */

void jstr_iter_init(struct jstr_iter *it, const struct jstr *s)
{
    it->p = s->raw;
    it->end = s->raw + s->len;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t jstr_iter_next(struct jstr_iter *it, uint32_t *cp, char utf8[4])
{
    if (it->p >= it->end)
        return 0;
    unsigned char c = (unsigned char)*it->p;
    if (c != '\\') {
        size_t n = c < 0x80 ? 1 : utf8_seq_len((const unsigned char *)it->p, (size_t)(it->end - it->p));
        if (n == 0) /* not from the lexer: take the byte as it is */
            n = 1;
        memcpy(utf8, it->p, n);
        *cp = utf8_decode((const unsigned char *)it->p, n);
        it->p += n;
        return n;
    }
    char e = it->end - it->p > 1 ? it->p[1] : '\\';
    long v = 0;
    it->p += 2;
    switch (e) {
    case 'b': v = '\b'; break;
    case 'f': v = '\f'; break;
    case 'n': v = '\n'; break;
    case 'r': v = '\r'; break;
    case 't': v = '\t'; break;
    case 'u':
        v = hex4_value(it->p, it->end);
        it->p += 4;
        if (v >= 0xD800 && v <= 0xDBFF) {
            long lo = hex4_value(it->p + 2, it->end);
            it->p += 6;
            v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (v < 0) /* not from the lexer */
            v = 0xFFFD;
        break;
    default: v = (unsigned char)e; break; /* " \ / */
    }
    if (it->p > it->end)
        it->p = it->end;
    *cp = (uint32_t)v;
    return utf8_encode(*cp, utf8);
}

size_t jstr_unescape(const struct jstr *s, char *dst, size_t cap)
{
    if (!s->escaped) {
        memcpy(dst, s->raw, s->len < cap ? s->len : cap);
        return s->len;
    }
    struct jstr_iter it;
    uint32_t cp;
    char u[4];
    size_t n, total = 0;
    jstr_iter_init(&it, s);
    while ((n = jstr_iter_next(&it, &cp, u)) > 0) {
        for (size_t k = 0; k < n; k++, total++)
            if (total < cap)
                dst[total] = u[k];
    }
    return total;
}
