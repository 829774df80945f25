/* Parsing query strings strictly. */
#include "http/query.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "http/errors.h"
#include "util/text.h"

char *query_decode(const char *src, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            int h = hex_digit_value(src[i + 1]), l = hex_digit_value(src[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                free(out);
                return NULL;
            }
            c = (char)(h * 16 + l);
            i += 2;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

int query_parse_or_reply(struct req *r, const char *const *allowed, struct query *q)
{
    memset(q, 0, sizeof *q);
    const char *s = r->query ? r->query : "";
    while (*s) {
        const char *amp = strchr(s, '&');
        size_t plen = amp ? (size_t)(amp - s) : strlen(s);
        const char *eq = memchr(s, '=', plen);
        size_t nlen = eq ? (size_t)(eq - s) : plen;
        if (plen == 0)
            goto next;
        const char *name = NULL;
        for (const char *const *a = allowed; *a; a++) {
            if (strlen(*a) == nlen && memcmp(*a, s, nlen) == 0) {
                name = *a;
                break;
            }
        }
        if (!name) {
            char shown[64];
            char *raw = xstrndup(s, nlen < 60 ? nlen : 60);
            sanitize_text(shown, sizeof shown, raw);
            free(raw);
            reply_error(r, E_VALIDATION, shown, "unknown query parameter %s", shown);
            goto fail;
        }
        if (query_get(q, name)) {
            reply_error(r, E_VALIDATION, name, "%s is given more than once", name);
            goto fail;
        }
        if (q->n == QUERY_MAX_PARAMS) {
            reply_error(r, E_VALIDATION, name, "too many query parameters");
            goto fail;
        }
        char *value = eq ? query_decode(eq + 1, plen - nlen - 1) : xstrdup("");
        if (!value) {
            reply_error(r, E_VALIDATION, name, "%s is not correctly percent-encoded", name);
            goto fail;
        }
        q->name[q->n] = name;
        q->value[q->n] = value;
        q->n++;
    next:
        if (!amp)
            break;
        s = amp + 1;
    }
    return 0;
fail:
    query_free(q);
    return -1;
}

const char *query_get(const struct query *q, const char *name)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->name[i], name) == 0)
            return q->value[i];
    return NULL;
}

void query_free(struct query *q)
{
    for (int i = 0; i < q->n; i++)
        free(q->value[i]);
    memset(q, 0, sizeof *q);
}
