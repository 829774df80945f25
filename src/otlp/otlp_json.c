/* Decoding OTLP/JSON (part of otlp_decode.h): the proto3 JSON mapping of
 * an ExportTraceServiceRequest, read in one pass with the scanner of
 * json_scan.h (no tree of the text: only the model is built), under the
 * decoding's budget. This file reads the messages down to a span, each
 * from a table of its members; otlp_json_value.c reads attributes.
 *
 * The mapping, as OTLP/HTTP specifies it:
 * - keys in lowerCamelCase; the proto's own snake_case names are accepted
 *   too, and unknown keys are skipped (a newer sender stays readable);
 * - trace and span ids are hex strings (OTLP's exception to proto3's
 *   base64); bytesValue is base64 (standard or URL-safe, padded or not);
 * - enums are numbers or their names; 64-bit integers numbers or strings;
 * - null is the same as an absent member.
 * A member of the wrong type makes the request malformed, as in every
 * proto3 JSON parser; an id that is not hex rejects its span only, like
 * an id of the wrong length in protobuf. */
#include "otlp/otlp_jread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/otlp_decode.h"
#include "util/buf.h"
#include "util/text.h"

/* The scanner's depth limit: above the deepest valid AnyValue (one of
 * depth d is at level 8 + 4d, in an event's attributes) with room for the
 * skipped members of a newer sender. */
#define JSON_DEPTH (16 + 4 * (OTLP_MAX_ANY_DEPTH + 1))

static const char WHY_HEX[] = "an id is not a hex string";
static const char WHY_TIME[] = "times must be 64-bit unsigned integers (nanoseconds)";
static const char WHY_COUNT[] = "dropped counts and flags must be 32-bit unsigned integers";

/* ---- single members ------------------------------------------------- */

bool jr_fail(struct jreader *r, enum otlp_err err, const char *why)
{
    r->err = err;
    r->why = why;
    return false;
}

bool jr_over(struct jreader *r)
{
    return jr_fail(r, OTLP_ERR_DECODED_SIZE, otlp_err_text(OTLP_ERR_DECODED_SIZE));
}

bool jr_stopped(struct jreader *r)
{
    return jr_fail(r, OTLP_ERR_MALFORMED, NULL);
}

bool jr_key_is(const struct jstr *k, const char *camel, const char *snake)
{
    char buf[32];
    const char *p = k->raw;
    size_t n = k->len;
    if (k->escaped) {
        n = jstr_unescape(k, buf, sizeof buf);
        if (n > sizeof buf)
            return false;
        p = buf;
    }
    return (strlen(camel) == n && memcmp(p, camel, n) == 0) || (strlen(snake) == n && memcmp(p, snake, n) == 0);
}

bool jr_null(struct jreader *r)
{
    return js_peek(&r->s) == JT_NULL && js_literal(&r->s) == 0;
}

bool jr_expect(struct jreader *r, enum jtype want, const char *why)
{
    enum jtype t = js_peek(&r->s);
    if (t == want)
        return true;
    if (t == JT_NONE) {
        js_skip(&r->s, 1, NULL);
        return jr_stopped(r);
    }
    return jr_fail(r, OTLP_ERR_MALFORMED, why);
}

const char *jr_string_value(const struct jstr *str, size_t *len, char **heap)
{
    *heap = NULL;
    if (!str->escaped) {
        *len = str->len;
        return str->raw;
    }
    *heap = xmalloc(str->len ? str->len : 1); /* unescaping never lengthens */
    *len = jstr_unescape(str, *heap, str->len);
    return *heap;
}

bool jr_integer(struct jreader *r, bool is_signed, uint64_t max, uint64_t *v, const char *why)
{
    struct jstr str;
    struct jnum num;
    const char *p, *end;
    enum jtype t = js_peek(&r->s);
    if (t == JT_NUMBER) {
        if (js_number(&r->s, &num) < 0)
            return jr_stopped(r);
        if (num.is_double) { /* 1e3, 5.0: integral, in range, as a double reads it */
            double d = jnum_double(&num);
            if (d != floor(d) || d >= 0x1p64 || d < (is_signed ? -0x1p63 : 0) || (d >= 0 && (uint64_t)d > max))
                return jr_fail(r, OTLP_ERR_MALFORMED, why);
            *v = d < 0 ? (uint64_t)(int64_t)d : (uint64_t)d;
            return true;
        }
        p = num.raw;
        end = p + num.len;
    } else if (t == JT_STRING) {
        if (js_string(&r->s, &str) < 0)
            return jr_stopped(r);
        if (str.escaped) /* digits need no escapes */
            return jr_fail(r, OTLP_ERR_MALFORMED, why);
        p = str.raw;
        end = p + str.len;
    } else {
        return jr_expect(r, JT_NUMBER, why);
    }
    bool neg = is_signed && p < end && *p == '-';
    uint64_t m = 0, most = neg ? max + 1 : max;
    p += neg;
    if (p == end)
        return jr_fail(r, OTLP_ERR_MALFORMED, why);
    for (; p < end; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (d > 9 || m > (most - d) / 10)
            return jr_fail(r, OTLP_ERR_MALFORMED, why);
        m = m * 10 + d;
    }
    *v = neg ? (uint64_t)0 - m : m;
    return true;
}

bool jr_array(struct jreader *r, int level, const char *why, jr_item item, void *ctx)
{
    struct jcont c;
    int rc = 0;
    if (jr_null(r))
        return true;
    if (!jr_expect(r, JT_ARRAY, why))
        return false;
    js_enter(&r->s, &c, level);
    while ((rc = js_next(&r->s, &c, NULL)) > 0)
        if (!item(r, level + 1, ctx))
            return false;
    return rc < 0 ? jr_stopped(r) : true;
}

/* The string member name into *out (replacing a repeated one). */
static bool read_text(struct jreader *r, char **out, const char *bad_utf8, const char *name)
{
    struct jstr str;
    char *heap;
    size_t len;
    if (jr_null(r))
        return true;
    if (js_peek(&r->s) != JT_STRING) {
        snprintf(r->text, sizeof r->text, "%s must be a string", name);
        return jr_expect(r, JT_STRING, r->text);
    }
    if (js_string(&r->s, &str) < 0)
        return jr_stopped(r);
    const char *v = jr_string_value(&str, &len, &heap);
    char *copy = ob_string(r->b, v, len, bad_utf8);
    free(heap);
    if (!copy)
        return jr_over(r);
    free(*out);
    *out = copy;
    return true;
}

/* An enum: its number, or one of its names (names[i] is i); an unknown
 * name is 0, as an unknown number becomes (ob_span_rules). */
static bool read_enum(struct jreader *r, const char *const *names, int *out, const char *why)
{
    struct jstr str;
    uint64_t v;
    if (jr_null(r))
        return true;
    if (js_peek(&r->s) != JT_STRING) {
        if (!jr_integer(r, true, INT32_MAX, &v, why))
            return false;
        *out = (int)(int32_t)v;
        return true;
    }
    if (js_string(&r->s, &str) < 0)
        return jr_stopped(r);
    *out = 0;
    for (int i = 0; names[i]; i++)
        if (!str.escaped && strlen(names[i]) == str.len && memcmp(names[i], str.raw, str.len) == 0)
            *out = i;
    return true;
}

static bool read_u32(struct jreader *r, uint32_t *out, const char *why)
{
    uint64_t v;
    if (jr_null(r))
        return true;
    if (!jr_integer(r, false, UINT32_MAX, &v, why))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* One of a span's ids, from its hex digits (ob_span_id's rules). */
static bool read_id(struct jreader *r, struct otlp_span *s, enum ob_id which)
{
    struct jstr str;
    uint8_t id[16];
    if (jr_null(r))
        return true;
    if (!jr_expect(r, JT_STRING, "ids must be hex strings"))
        return false;
    if (js_string(&r->s, &str) < 0)
        return jr_stopped(r);
    for (size_t i = 0; i < str.len; i++) {
        if (str.escaped || hex_digit_value(str.raw[i]) < 0) {
            ob_reject(r->b, WHY_HEX);
            return true;
        }
    }
    size_t len = str.len % 2 ? SIZE_MAX : str.len / 2; /* odd: a length no id has */
    for (size_t i = 0; len <= sizeof id && i < len; i++)
        id[i] = (uint8_t)(hex_digit_value(str.raw[2 * i]) << 4 | hex_digit_value(str.raw[2 * i + 1]));
    ob_span_id(r->b, s, which, id, len);
    return true;
}

/* ---- messages, from tables of their members -------------------------- */

enum member_kind {
    M_TEXT,  /* a string: char * at `at`; why: the rejection for bad UTF-8 */
    M_U32,   /* uint32_t at `at` */
    M_U64,   /* uint64_t at `at` */
    M_ATTRS, /* attributes: struct otlp_attrs at `at` */
    M_ID,    /* one of a span's ids: `at` is its enum ob_id */
    M_CALL,  /* read(r, level, the message) reads the value */
    M_ARRAY, /* an array of objects: a T * at `at`, its size_t count at `count_at`; read(r, level,
                the new item) reads each */
};

struct member {
    const char *camel, *snake;
    enum member_kind kind;
    size_t at, count_at, item_size;
    bool (*read)(struct jreader *r, int level, void *target);
    const char *why;
};

#define TEXT(c, s, type, field, why) {c, s, M_TEXT, offsetof(type, field), 0, 0, NULL, why}
#define U32(c, s, type, field) {c, s, M_U32, offsetof(type, field), 0, 0, NULL, WHY_COUNT}
#define U64(c, s, type, field) {c, s, M_U64, offsetof(type, field), 0, 0, NULL, WHY_TIME}
#define ATTRS(type) {"attributes", "attributes", M_ATTRS, offsetof(type, attributes), 0, 0, NULL, NULL}
#define DROPPED(type) U32("droppedAttributesCount", "dropped_attributes_count", type, dropped_attributes_count)
#define CALL(c, s, fn) {c, s, M_CALL, 0, 0, 0, fn, NULL}
#define ID(c, s, which) {c, s, M_ID, which, 0, 0, NULL, NULL}
#define ARRAY(c, s, type, field, count, fn, why)                                                        \
    {c, s, M_ARRAY, offsetof(type, field), offsetof(type, count), sizeof(*((type *)0)->field), fn, why}

static bool read_object(struct jreader *r, int level, const struct member *members, void *msg,
                        const char **own, const char *why);

/* An array member being read: the member, and the message it is in. */
struct in_message {
    const struct member *m;
    void *msg;
};

/* Appends an item to the array of m in msg, zeroed and counted at once
 * (so otlp_request_free frees what it holds), and reads it. */
static bool read_item(struct jreader *r, int level, void *ctx)
{
    const struct member *m = ((struct in_message *)ctx)->m;
    void *msg = ((struct in_message *)ctx)->msg;
    char *arr;
    if (!jr_expect(r, JT_OBJECT, m->why))
        return false;
    size_t *n = (size_t *)((char *)msg + m->count_at);
    memcpy(&arr, (char *)msg + m->at, sizeof arr); /* the T * as a char * */
    if (!(arr = ob_push(r->b, arr, *n, m->item_size)))
        return jr_over(r);
    memcpy((char *)msg + m->at, &arr, sizeof arr);
    return m->read(r, level, arr + m->item_size * (*n)++);
}

/* Reads the object at level into msg by the table of its members (ended
 * by a NULL name; unknown members are skipped). With own, every member
 * but the arrays is read with the rejections reset and its first one is
 * kept in *own: a scope's or resource's own, apart from its spans'. */
static bool read_object(struct jreader *r, int level, const struct member *members, void *msg,
                        const char **own, const char *why)
{
    struct jcont c;
    struct jstr k;
    int rc = 0;
    bool ok = true;
    if (jr_null(r))
        return true;
    if (!jr_expect(r, JT_OBJECT, why))
        return false;
    js_enter(&r->s, &c, level);
    while (ok && (rc = js_next(&r->s, &c, &k)) > 0) {
        const struct member *m = members;
        while (m->camel && !jr_key_is(&k, m->camel, m->snake))
            m++;
        if (own && m->kind != M_ARRAY)
            r->b->reject = NULL;
        char *at = (char *)msg + m->at; /* not for M_ID */
        if (!m->camel)
            ok = js_skip(&r->s, level + 1, NULL) == 0 || jr_stopped(r);
        else if (m->kind == M_TEXT)
            ok = read_text(r, (char **)at, m->why, m->camel);
        else if (m->kind == M_U32)
            ok = read_u32(r, (uint32_t *)at, m->why);
        else if (m->kind == M_U64)
            ok = jr_null(r) || jr_integer(r, false, UINT64_MAX, (uint64_t *)at, m->why);
        else if (m->kind == M_ATTRS)
            ok = jr_attributes(r, level + 1, (struct otlp_attrs *)at, NULL);
        else if (m->kind == M_ID)
            ok = read_id(r, msg, (enum ob_id)m->at);
        else if (m->kind == M_CALL)
            ok = m->read(r, level + 1, msg);
        else
            ok = jr_array(r, level + 1, m->why, read_item, &(struct in_message){m, msg});
        if (ok && own && m->kind != M_ARRAY && !*own)
            *own = r->b->reject;
    }
    return ok && (rc < 0 ? jr_stopped(r) : true);
}

/* Strings are never NULL in the model: "" for an absent one. */
static bool fill_texts(struct jreader *r, const struct member *members, void *msg)
{
    for (const struct member *m = members; m->camel; m++) {
        char **at = (char **)((char *)msg + m->at);
        if (m->kind == M_TEXT && !*at && !(*at = ob_string(r->b, "", 0, NULL)))
            return jr_over(r);
    }
    return true;
}

static bool read_kind(struct jreader *r, int level, void *span)
{
    static const char *const names[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                                        "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER", NULL};
    struct otlp_span *s = span;
    int kind = s->kind;
    (void)level;
    if (!read_enum(r, names, &kind, "kind must be a SpanKind"))
        return false;
    s->kind = (enum otlp_span_kind)kind;
    return true;
}

static bool read_code(struct jreader *r, int level, void *span)
{
    static const char *const names[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR", NULL};
    struct otlp_span *s = span;
    int code = s->status_code;
    (void)level;
    if (!read_enum(r, names, &code, "status.code must be a StatusCode"))
        return false;
    s->status_code = (enum otlp_status_code)code;
    return true;
}

/* Status's members go to the span's own. */
static const struct member status_members[] = {
    TEXT("message", "message", struct otlp_span, status_message, "status.message is not valid UTF-8"),
    CALL("code", "code", read_code),
    {0},
};

static bool read_status(struct jreader *r, int level, void *span)
{
    return read_object(r, level, status_members, span, NULL, "status must be an object");
}

/* Links are counted: each is checked as JSON only. */
static bool count_link(struct jreader *r, int level, void *span)
{
    if (js_skip(&r->s, level, NULL) < 0)
        return jr_stopped(r);
    ((struct otlp_span *)span)->n_links++;
    return true;
}

static bool count_links(struct jreader *r, int level, void *span)
{
    return jr_array(r, level, "links must be an array", count_link, span);
}

static const struct member event_members[] = {
    U64("timeUnixNano", "time_unix_nano", struct otlp_event, time_unix_nano),
    TEXT("name", "name", struct otlp_event, name, "an event name is not valid UTF-8"),
    ATTRS(struct otlp_event),
    DROPPED(struct otlp_event),
    {0},
};

static bool read_event(struct jreader *r, int level, void *event)
{
    return read_object(r, level, event_members, event, NULL, "events must be objects") &&
           fill_texts(r, event_members, event);
}

static const struct member span_members[] = {
    ID("traceId", "trace_id", OB_TRACE_ID),
    ID("spanId", "span_id", OB_SPAN_ID),
    ID("parentSpanId", "parent_span_id", OB_PARENT_ID),
    TEXT("traceState", "trace_state", struct otlp_span, trace_state, "trace_state is not valid UTF-8"),
    U32("flags", "flags", struct otlp_span, flags),
    TEXT("name", "name", struct otlp_span, name, "name is not valid UTF-8"),
    CALL("kind", "kind", read_kind),
    U64("startTimeUnixNano", "start_time_unix_nano", struct otlp_span, start_unix_nano),
    U64("endTimeUnixNano", "end_time_unix_nano", struct otlp_span, end_unix_nano),
    ATTRS(struct otlp_span),
    DROPPED(struct otlp_span),
    ARRAY("events", "events", struct otlp_span, events, n_events, read_event, "events must be an array of objects"),
    U32("droppedEventsCount", "dropped_events_count", struct otlp_span, dropped_events_count),
    CALL("links", "links", count_links),
    U32("droppedLinksCount", "dropped_links_count", struct otlp_span, dropped_links_count),
    CALL("status", "status", read_status),
    {0},
};

static bool read_span(struct jreader *r, int level, void *span)
{
    struct otlp_span *s = span;
    r->b->reject = NULL;
    if (!read_object(r, level, span_members, s, NULL, "spans must be objects") ||
        !fill_texts(r, span_members, s) || !fill_texts(r, status_members, s))
        return false;
    ob_span_rules(r->b, s);
    s->rejected = r->b->reject;
    return true;
}

static const struct member scope_info_members[] = {
    TEXT("name", "name", struct otlp_scope, name, "the scope's name is not valid UTF-8"),
    TEXT("version", "version", struct otlp_scope, version, "the scope's version is not valid UTF-8"),
    ATTRS(struct otlp_scope),
    DROPPED(struct otlp_scope),
    {0},
};

static bool read_scope_info(struct jreader *r, int level, void *scope)
{
    return read_object(r, level, scope_info_members, scope, NULL, "scope must be an object");
}

static const struct member scope_members[] = {
    CALL("scope", "scope", read_scope_info),
    ARRAY("spans", "spans", struct otlp_scope, spans, n_spans, read_span, "spans must be an array of objects"),
    TEXT("schemaUrl", "schema_url", struct otlp_scope, schema_url, "schema_url is not valid UTF-8"),
    {0},
};

static bool read_scope(struct jreader *r, int level, void *scope)
{
    struct otlp_scope *sc = scope;
    return read_object(r, level, scope_members, sc, &sc->rejected, "scopeSpans must be objects") &&
           fill_texts(r, scope_members, sc) && fill_texts(r, scope_info_members, sc);
}

static const struct member resource_info_members[] = {
    ATTRS(struct otlp_resource),
    DROPPED(struct otlp_resource),
    {0},
};

static bool read_resource_info(struct jreader *r, int level, void *resource)
{
    return read_object(r, level, resource_info_members, resource, NULL, "resource must be an object");
}

static const struct member resource_members[] = {
    CALL("resource", "resource", read_resource_info),
    ARRAY("scopeSpans", "scope_spans", struct otlp_resource, scopes, n_scopes, read_scope,
          "scopeSpans must be an array of objects"),
    TEXT("schemaUrl", "schema_url", struct otlp_resource, schema_url, "schema_url is not valid UTF-8"),
    {0},
};

static bool read_resource(struct jreader *r, int level, void *resource)
{
    struct otlp_resource *res = resource;
    return read_object(r, level, resource_members, res, &res->rejected, "resourceSpans must be objects") &&
           fill_texts(r, resource_members, res);
}

static const struct member request_members[] = {
    ARRAY("resourceSpans", "resource_spans", struct otlp_request, resources, n_resources, read_resource,
          "resourceSpans must be an array of objects"),
    {0},
};

enum otlp_err otlp_decode_json(const char *body, size_t len, const struct otlp_limits *lim,
                               struct otlp_request **out, char *why, size_t cap)
{
    struct otlp_build b;
    struct jreader r = {.b = &b};
    struct otlp_request *req = NULL;
    *out = NULL;
    ob_init(&b, lim, len);
    js_init(&r.s, body, len, JSON_DEPTH);
    if (!ob_charge(&b, sizeof *req))
        return ob_fail(OTLP_ERR_DECODED_SIZE, otlp_err_text(OTLP_ERR_DECODED_SIZE), why, cap);
    req = xcalloc(1, sizeof *req);
    if (js_peek(&r.s) == JT_NULL) /* the body must be a message, not null */
        jr_fail(&r, OTLP_ERR_MALFORMED, "the body is not a JSON object");
    else if (read_object(&r, 1, request_members, req, NULL, "the body is not a JSON object") &&
             (js_finish(&r.s) == 0 || jr_stopped(&r))) {
        ob_finish(req);
        *out = req;
        return OTLP_OK;
    }
    otlp_request_free(req);
    if (r.why)
        return ob_fail(r.err, r.why, why, cap);
    js_settle(&r.s); /* a lexical problem later in the text is the reason */
    if (cap)
        snprintf(why, cap, "the body is not JSON: %s", r.s.why ? r.s.why : "unexpected end of data");
    return OTLP_ERR_MALFORMED;
}
