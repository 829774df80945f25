/* Building the OTLP model (otlp_build.h): the budget every allocation is
 * charged to, the rules that reject a span, and attribute values as json-c
 * objects, shared by the protobuf and the JSON decoder so both read a
 * request to the same model. */
#include "otlp/otlp_build.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/text.h"

const char OB_WHY_NUL[] = "a string holds NUL (\\u0000)";
const char OB_WHY_ATTR_UTF8[] = "an attribute is not valid UTF-8";

/* JSON numbers are doubles to most readers (and to jsonb's users):
 * integers beyond +-2^53 stay exact only as text. */
#define EXACT_IN_DOUBLE (INT64_C(1) << 53)

void ob_init(struct otlp_build *b, const struct otlp_limits *lim, size_t len)
{
    size_t f = lim->decode_factor, floor = lim->decode_floor, most = SIZE_MAX - floor;
    b->budget = floor + (f && len > most / f ? most : len * f);
    b->over = false;
    b->reject = NULL;
}

bool ob_charge(struct otlp_build *b, size_t n)
{
    if (b->over || n > b->budget) {
        b->over = true;
        return false;
    }
    b->budget -= n;
    return true;
}

void *ob_array(struct otlp_build *b, size_t n, size_t size)
{
    if (n == 0 || n > SIZE_MAX / size || !ob_charge(b, n * size))
        return NULL;
    return xcalloc(n, size);
}

/* The capacity ob_push gave an array of n items. */
static size_t push_capacity(size_t n)
{
    size_t cap = n ? 4 : 0;
    while (cap < n)
        cap *= 2;
    return cap;
}

void *ob_push(struct otlp_build *b, void *arr, size_t n, size_t size)
{
    size_t cap = push_capacity(n);
    if (n < cap)
        return arr;
    size_t grown = cap ? cap * 2 : 4;
    if (grown > SIZE_MAX / size || !ob_charge(b, (grown - cap) * size))
        return NULL;
    char *p = xrealloc(arr, grown * size);
    memset(p + cap * size, 0, (grown - cap) * size);
    return p;
}

/* Whether s (len bytes) is well-formed UTF-8; *nul when it holds a NUL. */
static bool utf8_ok(const char *s, size_t len, bool *nul)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    *nul = false;
    while (p < end) {
        if (*p < 0x80) {
            *nul |= *p == 0;
            p++;
            continue;
        }
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

/* Rejects for a string that PostgreSQL would refuse. */
static void check_text(struct otlp_build *b, const char *s, size_t len, const char *bad_utf8)
{
    bool nul;
    if (!utf8_ok(s, len, &nul))
        ob_reject(b, bad_utf8);
    else if (nul)
        ob_reject(b, OB_WHY_NUL);
}

char *ob_string(struct otlp_build *b, const char *s, size_t len, const char *bad_utf8)
{
    if (len > SIZE_MAX - OB_COST_STRING || !ob_charge(b, OB_COST_STRING + len + 1))
        return NULL;
    check_text(b, s, len, bad_utf8);
    char *copy = xmalloc(len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

void ob_span_id(struct otlp_build *b, struct otlp_span *s, enum ob_id which, const uint8_t *id, size_t len)
{
    static const char *const wrong[] = {"trace_id must be 16 bytes", "span_id must be 8 bytes",
                                        "parent_span_id must be empty or 8 bytes"};
    uint8_t *dst = which == OB_TRACE_ID ? s->trace_id : which == OB_SPAN_ID ? s->span_id : s->parent_span_id;
    size_t want = which == OB_TRACE_ID ? sizeof s->trace_id : sizeof s->span_id;
    if (len != want && (len != 0 || which != OB_PARENT_ID)) {
        ob_reject(b, wrong[which]);
        len = 0;
    }
    memset(dst, 0, want);
    if (len)
        memcpy(dst, id, len);
    /* Zeros are no id (OTLP): some exporters send them for a root span. */
    if (which == OB_PARENT_ID)
        s->has_parent = !all_zero(dst, want);
}

void ob_span_rules(struct otlp_build *b, struct otlp_span *s)
{
    /* The domain keeps nanoseconds in bigint columns. */
    const uint64_t last = (uint64_t)INT64_MAX;
    if (all_zero(s->trace_id, sizeof s->trace_id))
        ob_reject(b, "trace_id must be set, not all zeros");
    if (all_zero(s->span_id, sizeof s->span_id))
        ob_reject(b, "span_id must be set, not all zeros");
    if (s->start_unix_nano == 0)
        ob_reject(b, "start_time_unix_nano must be set");
    else if (s->end_unix_nano < s->start_unix_nano)
        ob_reject(b, "end_time_unix_nano is before start_time_unix_nano");
    else if (s->end_unix_nano > last)
        ob_reject(b, "a time is beyond the year 2262");
    for (size_t i = 0; i < s->n_events; i++)
        if (s->events[i].time_unix_nano > last)
            ob_reject(b, "a time is beyond the year 2262");
    if ((unsigned)s->kind > OTLP_KIND_CONSUMER)
        s->kind = OTLP_KIND_UNSPECIFIED;
    if ((unsigned)s->status_code > OTLP_STATUS_ERROR)
        s->status_code = OTLP_STATUS_UNSET;
}

void ob_finish(struct otlp_request *req)
{
    req->n_spans = req->n_rejected = 0;
    for (size_t r = 0; r < req->n_resources; r++) {
        struct otlp_resource *res = &req->resources[r];
        for (size_t c = 0; c < res->n_scopes; c++) {
            struct otlp_scope *sc = &res->scopes[c];
            const char *why = res->rejected ? res->rejected : sc->rejected;
            for (size_t i = 0; i < sc->n_spans; i++) {
                struct otlp_span *s = &sc->spans[i];
                if (!s->rejected)
                    s->rejected = why;
                req->n_spans++;
                req->n_rejected += s->rejected != NULL;
            }
        }
    }
}

struct json_object *ob_json_ok(struct json_object *o)
{
    if (!o)
        agora_oom();
    return o;
}

struct json_object *ob_json_string(struct otlp_build *b, const char *s, size_t len)
{
    if (len > INT32_MAX || !ob_charge(b, OB_COST_VALUE + len))
        return NULL;
    check_text(b, s, len, OB_WHY_ATTR_UTF8);
    return ob_json_ok(json_object_new_string_len(s, (int)len));
}

struct json_object *ob_json_int64(struct otlp_build *b, int64_t v)
{
    if (!ob_charge(b, OB_COST_VALUE))
        return NULL;
    if (v >= -EXACT_IN_DOUBLE && v <= EXACT_IN_DOUBLE)
        return ob_json_ok(json_object_new_int64(v));
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, v);
    return ob_json_ok(json_object_new_string(text));
}

struct json_object *ob_json_double(struct otlp_build *b, double d)
{
    if (!ob_charge(b, OB_COST_VALUE + 32))
        return NULL;
    if (isnan(d))
        return ob_json_ok(json_object_new_string("NaN"));
    if (isinf(d))
        return ob_json_ok(json_object_new_string(d > 0 ? "Infinity" : "-Infinity"));
    /* The shortest text that reads back as d: json-c would print 0.2 as
     * 0.20000000000000001, and jsonb keeps every digit it is given. */
    char text[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof text - 2, "%.*g", digits, d);
        if (strtod(text, NULL) == d)
            break;
    }
    if (!strpbrk(text, ".e"))
        strcat(text, ".0"); /* still a double to whoever reads it back */
    return ob_json_ok(json_object_new_double_s(d, text));
}

struct json_object *ob_json_bytes(struct otlp_build *b, const uint8_t *data, size_t len)
{
    size_t n = 4 * ((len + 2) / 3);
    if (len > (size_t)INT32_MAX / 2 || !ob_charge(b, OB_COST_VALUE + 2 * n + 1))
        return NULL;
    char *text = xmalloc(n + 1);
    EVP_EncodeBlock((unsigned char *)text, data, (int)len);
    struct json_object *o = ob_json_ok(json_object_new_string_len(text, (int)n));
    free(text);
    return o;
}

struct json_object *ob_json_bool(struct otlp_build *b, bool v)
{
    return ob_charge(b, OB_COST_VALUE) ? ob_json_ok(json_object_new_boolean(v)) : NULL;
}

struct json_object *ob_json_array(struct otlp_build *b)
{
    return ob_charge(b, OB_COST_VALUE) ? ob_json_ok(json_object_new_array_ext(0)) : NULL;
}

struct json_object *ob_json_object(struct otlp_build *b)
{
    return ob_charge(b, OB_COST_OBJECT) ? ob_json_ok(json_object_new_object()) : NULL;
}

bool ob_item(struct otlp_build *b, struct json_object *arr, struct json_object *val)
{
    if (!ob_charge(b, OB_COST_ITEM)) {
        json_object_put(val);
        return false;
    }
    if (json_object_array_add(arr, val) != 0)
        agora_oom();
    return true;
}

bool ob_attr(struct otlp_build *b, struct otlp_attrs *set, struct json_object *obj, const char *key, size_t len,
             struct json_object *val)
{
    if (set) {
        struct otlp_attr *items = ob_push(b, set->items, set->n, sizeof *items);
        char *k = items ? ob_string(b, key, len, OB_WHY_ATTR_UTF8) : NULL;
        if (items)
            set->items = items;
        if (!k) {
            json_object_put(val);
            return false;
        }
        items[set->n++] = (struct otlp_attr){k, strnlen(k, len), val}; /* a NUL cuts it, as strlen did */
        return true;
    }
    if (len == SIZE_MAX || !ob_charge(b, OB_COST_MEMBER + len + 1)) {
        json_object_put(val);
        return false;
    }
    check_text(b, key, len, OB_WHY_ATTR_UTF8);
    /* json-c keys are C strings: a key with a NUL (rejected above) is cut. */
    char small[64], *k = len < sizeof small ? small : xmalloc(len + 1);
    memcpy(k, key, len);
    k[len] = '\0';
    if (json_object_object_add(obj, k, val) != 0)
        agora_oom();
    if (k != small)
        free(k);
    return true;
}

enum otlp_err ob_fail(enum otlp_err err, const char *text, char *why, size_t cap)
{
    if (cap)
        snprintf(why, cap, "%s", text);
    return err;
}
