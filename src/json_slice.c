/* Top-level member slicing (see json_slice.h). One pass over the text;
 * strings are skipped with memchr, so the scan costs little more than
 * reading the bytes. */
#include "json_slice.h"

#include <stdbool.h>
#include <string.h>

#define SLICE_MAX_KEYS 16

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

int json_slice_members(const char *s, size_t len, const char *const *keys, struct buf *out)
{
    size_t from[SLICE_MAX_KEYS], to[SLICE_MAX_KEYS], nkeys = 0;
    bool found[SLICE_MAX_KEYS] = {false};
    while (keys[nkeys] && nkeys < SLICE_MAX_KEYS)
        nkeys++;

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
                from[k] = v0;
                to[k] = v1;
                found[k] = true;
            }
        }
        i = skip_ws(s, v1, len);
        if (i < len && s[i] == ',')
            i = skip_ws(s, i + 1, len);
    }
    buf_putc(out, '{');
    bool first = true;
    for (size_t k = 0; k < nkeys; k++) {
        if (!found[k])
            continue;
        buf_printf(out, "%s\"%s\":", first ? "" : ",", keys[k]);
        buf_append(out, s + from[k], to[k] - from[k]);
        first = false;
    }
    buf_putc(out, '}');
    return 0;
}
