/* Top-level member slicing (see json_slice.h). One pass over the text;
 * strings are skipped with memchr, so the scan costs little more than
 * reading the bytes. */
#include "json/json_slice.h"

#include <stdbool.h>
#include <string.h>

static size_t skip_ws(const char *s, size_t i, size_t len)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[i] is the opening quote of a string: the index after its closing one.
 * *escaped tells whether it holds a backslash escape. A quote ends the
 * string unless an odd run of backslashes precedes it. */
static size_t skip_string(const char *s, size_t i, size_t len, bool *escaped)
{
    for (i++; i < len;) {
        const char *q = memchr(s + i, '"', len - i);
        if (!q)
            return len;
        size_t j = (size_t)(q - s), k = j;
        if (memchr(s + i, '\\', j - i))
            *escaped = true;
        while (k > i && s[k - 1] == '\\')
            k--;
        if ((j - k) % 2 == 0)
            return j + 1;
        i = j + 1;
    }
    return len;
}

/* The index after the JSON value that starts at s[i]. */
static size_t skip_value(const char *s, size_t i, size_t len)
{
    bool escaped = false;
    if (i < len && s[i] == '"')
        return skip_string(s, i, len, &escaped);
    if (i < len && (s[i] == '{' || s[i] == '[')) {
        size_t depth = 0;
        for (; i < len; i++) {
            if (s[i] == '"') {
                i = skip_string(s, i, len, &escaped) - 1;
            } else if (s[i] == '{' || s[i] == '[') {
                depth++;
            } else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
                return i + 1;
            }
        }
        return len;
    }
    while (i < len && !strchr(",}] \t\n\r", s[i]))
        i++;
    return i;
}

int json_slice_find(const char *s, size_t len, const char *const *keys, struct json_span *spans)
{
    size_t nkeys = 0;
    while (keys[nkeys] && nkeys < JSON_SLICE_MAX_KEYS) {
        spans[nkeys].found = 0;
        nkeys++;
    }
    size_t i = skip_ws(s, 0, len);
    if (i >= len || s[i] != '{')
        return -1;
    i = skip_ws(s, i + 1, len);
    while (i < len && s[i] == '"') {
        bool escaped = false;
        size_t k0 = i + 1, k1 = skip_string(s, i, len, &escaped);
        if (escaped || k1 >= len)
            return -1;
        i = skip_ws(s, k1, len);
        if (i >= len || s[i] != ':')
            return -1;
        size_t v0 = skip_ws(s, i + 1, len), v1 = skip_value(s, v0, len);
        for (size_t k = 0; k < nkeys; k++) {
            if (strlen(keys[k]) == k1 - 1 - k0 && memcmp(s + k0, keys[k], k1 - 1 - k0) == 0) {
                spans[k].from = v0;
                spans[k].to = v1;
                spans[k].found = 1;
            }
        }
        i = skip_ws(s, v1, len);
        if (i < len && s[i] == ',')
            i = skip_ws(s, i + 1, len);
    }
    return 0;
}

void json_slice_object(const char *s, const char *const *keys, const struct json_span *spans, size_t n,
                       struct buf *out)
{
    bool first = true;
    buf_putc(out, '{');
    for (size_t k = 0; k < n; k++) {
        if (!spans[k].found)
            continue;
        buf_printf(out, "%s\"%s\":", first ? "" : ",", keys[k]);
        buf_append(out, s + spans[k].from, spans[k].to - spans[k].from);
        first = false;
    }
    buf_putc(out, '}');
}

int json_slice_members(const char *s, size_t len, const char *const *keys, struct buf *out)
{
    struct json_span spans[JSON_SLICE_MAX_KEYS];
    size_t n = 0;
    if (json_slice_find(s, len, keys, spans) < 0)
        return -1;
    while (keys[n] && n < JSON_SLICE_MAX_KEYS)
        n++;
    json_slice_object(s, keys, spans, n, out);
    return 0;
}
