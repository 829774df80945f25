/* libFuzzer harness: what agora-upload reads from a server or a payload
 * file (ingest_client.c, retry.c). Byte 0 picks one, byte 1 is a status:
 *   0: a Retry-After value (retry_after_parse): a wait from 0 to 10^9 s,
 *      and for digits their number (capped);
 *   1: an answer: header lines (ingest_answer_header) up to a blank line,
 *      then the body (ingest_answer_verdict): a verdict of the four, the
 *      server's words without control characters, a described line and a
 *      JSON record that json-c reads back as an object;
 *   2: a payload (ingest_payload_execution_id): an id found is at most 64
 *      bytes, lowercase;
 *   3: a configured URL (ingest_url): what is accepted is the input up to
 *      its trailing slashes, maybe /api, then /executions/ingest. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "domain/ingest_client.h"
#include "fuzz_common.h"
#include "util/retry.h"

#define NOW ((time_t)1700000000)

static void check_retry_after(const char *text, size_t len)
{
    long long s = -1;
    if (retry_after_parse(text, len, NOW, &s) < 0)
        return;
    if (s < 0 || s > 1000000000LL)
        abort();
    size_t a = 0, b = len;
    while (a < b && (text[a] == ' ' || text[a] == '\t'))
        a++;
    while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t'))
        b--;
    if (a < b && isdigit((unsigned char)text[a])) {
        long long v = 0;
        for (size_t i = a; i < b; i++) {
            if (!isdigit((unsigned char)text[i]))
                abort(); /* accepted a number with something else in it */
            if (v < 1000000000LL)
                v = v * 10 + (text[i] - '0');
        }
        if (s != (v < 1000000000LL ? v : 1000000000LL))
            abort();
    }
}

static void check_clean(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        abort(); /* not terminated */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

static void check_answer(long status, const char *text, size_t len)
{
    struct ingest_answer a;
    ingest_answer_init(&a);
    const char *p = text, *end = text + len;
    /* Header lines until an empty one; the rest is the body. */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (n == 1 || (n == 2 && p[0] == '\r'))
            break;
        ingest_answer_header(&a, p, n, NOW);
        p += n;
    }
    p = p < end ? p + (*p == '\r' ? 2 : 1) : end;
    if (p > end)
        p = end;
    a.status = status;
    enum ingest_verdict v = ingest_answer_verdict(&a, p, (size_t)(end - p));
    if (v != IV_STORED && v != IV_REFUSED && v != IV_RETRY && v != IV_STOP)
        abort();
    if ((v == IV_STORED) != ((status == 200 || status == 201) ? a.execution_id[0] != '\0' : a.closed))
        abort();
    if (a.retry_after_s < -1 || a.retry_after_s > 1000000000LL)
        abort();
    check_clean(a.code, sizeof a.code);
    check_clean(a.path, sizeof a.path);
    check_clean(a.message, sizeof a.message);
    check_clean(a.request_id, sizeof a.request_id);
    check_clean(a.execution_id, sizeof a.execution_id);

    struct buf b;
    buf_init(&b);
    ingest_answer_describe(&a, &b);
    check_clean(b.data, b.len + 1);
    buf_reset(&b);
    ingest_answer_json(&a, "source", &b);
    struct json_object *obj = json_tokener_parse(b.data);
    if (!obj || !json_object_is_type(obj, json_type_object))
        abort();
    json_object_put(obj);
    buf_free(&b);
}

static void check_execution_id(const char *text, size_t len)
{
    char id[INGEST_EXECUTION_ID_MAX + 1];
    if (!ingest_payload_execution_id(text, len, id))
        return;
    size_t n = strnlen(id, sizeof id);
    if (n > INGEST_EXECUTION_ID_MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if (isupper((unsigned char)id[i]))
            abort();
}

static void check_url(const char *url)
{
    static const char tail[] = "/executions/ingest";
    struct buf b;
    const char *why = NULL;
    buf_init(&b);
    if (ingest_url(url, &b, &why) == 0) {
        size_t n = strlen(url), t = sizeof tail - 1;
        while (n > 8 && url[n - 1] == '/')
            n--;
        if (b.len < n + t || strncmp(b.data, url, n) != 0 || strcmp(b.data + b.len - t, tail) != 0 ||
            strncasecmp(b.data, "https://", 8) != 0 || strpbrk(b.data, "?# ") ||
            (b.len != n + t && (b.len != n + 4 + t || strncmp(b.data + n, "/api", 4) != 0)))
            abort();
    } else if (!why || b.len != 0) {
        abort();
    }
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 201, 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 301};
    if (size < 2)
        return 0;
    /* No NUL after the text: ASan sees any read past its end. */
    char *text = fuzz_copy(data + 2, size - 2);
    long status = statuses[data[1] % (sizeof statuses / sizeof statuses[0])];
    switch (data[0] % 4) {
    case 0: check_retry_after(text, size - 2); break;
    case 1: check_answer(status, text, size - 2); break;
    case 2: check_execution_id(text, size - 2); break;
    default: {
        char *url = fuzz_cstring(data + 2, size - 2);
        check_url(url);
        free(url);
        break;
    }
    }
    free(text);
    return 0;
}
