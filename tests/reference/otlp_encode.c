/* REFERENCE ONLY: an OTLP model written back out, compared and checked
 * (otlp_encode.h). The protobuf side builds protobuf-c's own structures
 * and packs them, so the decoder is held to protobuf-c's encoder; the
 * JSON side writes the text by hand, as an SDK's exporter would. */
#include "otlp_encode.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/trace.pb-c.h"
#include "util/text.h"

/* ---- protobuf --------------------------------------------------------- */

/* Every block of a message being built, freed together after packing. */
struct arena {
    void **blocks;
    size_t n, cap;
};

static void *grab(struct arena *a, size_t n, size_t size)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->blocks = xrealloc(a->blocks, a->cap * sizeof *a->blocks);
    }
    return a->blocks[a->n++] = xcalloc(n ? n : 1, size);
}

static void arena_free(struct arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->blocks[i]);
    free(a->blocks);
}

static Otlp__KeyValue **kvs_of(struct arena *a, struct json_object *obj, size_t *n);

static Otlp__AnyValue *any_of(struct arena *a, struct json_object *v)
{
    Otlp__AnyValue *av = grab(a, 1, sizeof *av);
    otlp__any_value__init(av);
    switch (json_object_get_type(v)) {
    case json_type_null:
        break;
    case json_type_boolean:
        av->value_case = OTLP__ANY_VALUE__VALUE_BOOL_VALUE;
        av->bool_value = json_object_get_boolean(v);
        break;
    case json_type_int:
        av->value_case = OTLP__ANY_VALUE__VALUE_INT_VALUE;
        av->int_value = json_object_get_int64(v);
        break;
    case json_type_double:
        av->value_case = OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE;
        av->double_value = json_object_get_double(v);
        break;
    case json_type_string:
        av->value_case = OTLP__ANY_VALUE__VALUE_STRING_VALUE;
        av->string_value = (char *)json_object_get_string(v);
        break;
    case json_type_array: {
        Otlp__ArrayValue *arr = grab(a, 1, sizeof *arr);
        otlp__array_value__init(arr);
        arr->n_values = json_object_array_length(v);
        arr->values = grab(a, arr->n_values, sizeof *arr->values);
        for (size_t i = 0; i < arr->n_values; i++)
            arr->values[i] = any_of(a, json_object_array_get_idx(v, i));
        av->value_case = OTLP__ANY_VALUE__VALUE_ARRAY_VALUE;
        av->array_value = arr;
        break;
    }
    case json_type_object: {
        Otlp__KeyValueList *kl = grab(a, 1, sizeof *kl);
        otlp__key_value_list__init(kl);
        kl->values = kvs_of(a, v, &kl->n_values);
        av->value_case = OTLP__ANY_VALUE__VALUE_KVLIST_VALUE;
        av->kvlist_value = kl;
        break;
    }
    }
    return av;
}

static Otlp__KeyValue *kv_of(struct arena *a, const char *key, struct json_object *val)
{
    Otlp__KeyValue *kv = grab(a, 1, sizeof *kv);
    otlp__key_value__init(kv);
    kv->key = (char *)key;
    kv->value = any_of(a, val);
    return kv;
}

/* A kvlist's members. */
static Otlp__KeyValue **kvs_of(struct arena *a, struct json_object *obj, size_t *n)
{
    *n = (size_t)json_object_object_length(obj);
    Otlp__KeyValue **kvs = grab(a, *n, sizeof *kvs);
    size_t i = 0;
    json_object_object_foreach(obj, key, val)
        kvs[i++] = kv_of(a, key, val);
    return kvs;
}

/* An attribute set. */
static Otlp__KeyValue **attrs_of(struct arena *a, const struct otlp_attrs *set, size_t *n)
{
    Otlp__KeyValue **kvs = grab(a, set->n, sizeof *kvs);
    for (size_t i = 0; i < set->n; i++)
        kvs[i] = kv_of(a, set->items[i].key, set->items[i].value);
    *n = set->n;
    return kvs;
}

static Otlp__Span *span_of(struct arena *a, const struct otlp_span *s)
{
    Otlp__Span *p = grab(a, 1, sizeof *p);
    otlp__span__init(p);
    p->trace_id = (ProtobufCBinaryData){sizeof s->trace_id, (uint8_t *)s->trace_id};
    p->span_id = (ProtobufCBinaryData){sizeof s->span_id, (uint8_t *)s->span_id};
    if (s->has_parent)
        p->parent_span_id = (ProtobufCBinaryData){sizeof s->parent_span_id, (uint8_t *)s->parent_span_id};
    p->trace_state = s->trace_state;
    p->flags = s->flags;
    p->name = s->name;
    p->kind = (Otlp__Span__SpanKind)s->kind;
    p->start_time_unix_nano = s->start_unix_nano;
    p->end_time_unix_nano = s->end_unix_nano;
    p->attributes = attrs_of(a, &s->attributes, &p->n_attributes);
    p->dropped_attributes_count = s->dropped_attributes_count;
    p->n_events = s->n_events;
    p->events = grab(a, s->n_events, sizeof *p->events);
    for (size_t i = 0; i < s->n_events; i++) {
        Otlp__Span__Event *e = p->events[i] = grab(a, 1, sizeof *e);
        otlp__span__event__init(e);
        e->time_unix_nano = s->events[i].time_unix_nano;
        e->name = s->events[i].name;
        e->attributes = attrs_of(a, &s->events[i].attributes, &e->n_attributes);
        e->dropped_attributes_count = s->events[i].dropped_attributes_count;
    }
    p->dropped_events_count = s->dropped_events_count;
    p->n_links = s->n_links;
    p->links = grab(a, s->n_links, sizeof *p->links);
    for (size_t i = 0; i < s->n_links; i++) {
        p->links[i] = grab(a, 1, sizeof *p->links[i]);
        otlp__span__link__init(p->links[i]);
    }
    p->dropped_links_count = s->dropped_links_count;
    p->status = grab(a, 1, sizeof *p->status);
    otlp__status__init(p->status);
    p->status->code = (Otlp__Status__StatusCode)s->status_code;
    p->status->message = s->status_message;
    return p;
}

static Otlp__ScopeSpans *scope_of(struct arena *a, const struct otlp_scope *sc)
{
    Otlp__ScopeSpans *p = grab(a, 1, sizeof *p);
    otlp__scope_spans__init(p);
    p->scope = grab(a, 1, sizeof *p->scope);
    otlp__instrumentation_scope__init(p->scope);
    p->scope->name = sc->name;
    p->scope->version = sc->version;
    p->scope->attributes = attrs_of(a, &sc->attributes, &p->scope->n_attributes);
    p->scope->dropped_attributes_count = sc->dropped_attributes_count;
    p->schema_url = sc->schema_url;
    p->spans = grab(a, sc->n_spans, sizeof *p->spans);
    for (size_t i = 0; i < sc->n_spans; i++)
        if (!sc->spans[i].rejected)
            p->spans[p->n_spans++] = span_of(a, &sc->spans[i]);
    return p;
}

/* protobuf-c's output into a struct buf. */
struct pb_sink {
    ProtobufCBuffer base;
    struct buf *out;
};

static void sink_append(ProtobufCBuffer *base, size_t len, const uint8_t *data)
{
    buf_append(((struct pb_sink *)base)->out, data, len);
}

void otlp_encode_proto(const struct otlp_request *req, struct buf *out)
{
    struct arena a = {0};
    Otlp__ExportTraceServiceRequest msg = OTLP__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    msg.resource_spans = grab(&a, req->n_resources, sizeof *msg.resource_spans);
    for (size_t r = 0; r < req->n_resources; r++) {
        const struct otlp_resource *res = &req->resources[r];
        if (res->rejected)
            continue;
        Otlp__ResourceSpans *rs = msg.resource_spans[msg.n_resource_spans++] = grab(&a, 1, sizeof *rs);
        otlp__resource_spans__init(rs);
        rs->resource = grab(&a, 1, sizeof *rs->resource);
        otlp__resource__init(rs->resource);
        rs->resource->attributes = attrs_of(&a, &res->attributes, &rs->resource->n_attributes);
        rs->resource->dropped_attributes_count = res->dropped_attributes_count;
        rs->schema_url = res->schema_url;
        rs->scope_spans = grab(&a, res->n_scopes, sizeof *rs->scope_spans);
        for (size_t c = 0; c < res->n_scopes; c++)
            if (!res->scopes[c].rejected)
                rs->scope_spans[rs->n_scope_spans++] = scope_of(&a, &res->scopes[c]);
    }
    struct pb_sink sink = {{sink_append}, out};
    otlp__export_trace_service_request__pack_to_buffer(&msg, &sink.base);
    arena_free(&a);
}

/* ---- JSON ---------------------------------------------------------- */

static void json_text(struct buf *b, const char *s)
{
    buf_json_string(b, s, strlen(s));
}

static void json_hex(struct buf *b, const uint8_t *id, size_t n)
{
    char hex[33];
    hex_encode(id, n, hex);
    buf_printf(b, "\"%s\"", hex);
}

static void json_kvlist(struct buf *b, struct json_object *obj);

static void json_any(struct buf *b, struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        buf_puts(b, "{}");
        break;
    case json_type_boolean:
        buf_printf(b, "{\"boolValue\":%s}", json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int: /* proto3 writes 64-bit integers as strings */
        buf_printf(b, "{\"intValue\":\"%" PRId64 "\"}", json_object_get_int64(v));
        break;
    case json_type_double:
        buf_printf(b, "{\"doubleValue\":%.17g}", json_object_get_double(v));
        break;
    case json_type_string:
        buf_puts(b, "{\"stringValue\":");
        buf_json_string(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        buf_putc(b, '}');
        break;
    case json_type_array:
        buf_puts(b, "{\"arrayValue\":{\"values\":[");
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (i)
                buf_putc(b, ',');
            json_any(b, json_object_array_get_idx(v, i));
        }
        buf_puts(b, "]}}");
        break;
    case json_type_object:
        buf_puts(b, "{\"kvlistValue\":{\"values\":");
        json_kvlist(b, v);
        buf_puts(b, "}}");
        break;
    }
}

static void json_key_value(struct buf *b, bool first, const char *key, struct json_object *val)
{
    buf_puts(b, first ? "{\"key\":" : ",{\"key\":");
    json_text(b, key);
    buf_puts(b, ",\"value\":");
    json_any(b, val);
    buf_putc(b, '}');
}

static void json_kvlist(struct buf *b, struct json_object *obj)
{
    bool first = true;
    buf_putc(b, '[');
    json_object_object_foreach(obj, key, val) {
        json_key_value(b, first, key, val);
        first = false;
    }
    buf_putc(b, ']');
}

static void json_attributes(struct buf *b, const struct otlp_attrs *set)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < set->n; i++)
        json_key_value(b, i == 0, set->items[i].key, set->items[i].value);
    buf_putc(b, ']');
}

static void json_span(struct buf *b, const struct otlp_span *s)
{
    buf_puts(b, "{\"traceId\":");
    json_hex(b, s->trace_id, sizeof s->trace_id);
    buf_puts(b, ",\"spanId\":");
    json_hex(b, s->span_id, sizeof s->span_id);
    if (s->has_parent) {
        buf_puts(b, ",\"parentSpanId\":");
        json_hex(b, s->parent_span_id, sizeof s->parent_span_id);
    }
    buf_puts(b, ",\"traceState\":");
    json_text(b, s->trace_state);
    buf_printf(b, ",\"flags\":%" PRIu32 ",\"name\":", s->flags);
    json_text(b, s->name);
    buf_printf(b, ",\"kind\":%d,\"startTimeUnixNano\":\"%" PRIu64 "\",\"endTimeUnixNano\":\"%" PRIu64 "\"",
               (int)s->kind, s->start_unix_nano, s->end_unix_nano);
    buf_puts(b, ",\"attributes\":");
    json_attributes(b, &s->attributes);
    buf_printf(b, ",\"droppedAttributesCount\":%" PRIu32 ",\"events\":[", s->dropped_attributes_count);
    for (size_t i = 0; i < s->n_events; i++) {
        const struct otlp_event *e = &s->events[i];
        buf_printf(b, "%s{\"timeUnixNano\":\"%" PRIu64 "\",\"name\":", i ? "," : "", e->time_unix_nano);
        json_text(b, e->name);
        buf_puts(b, ",\"attributes\":");
        json_attributes(b, &e->attributes);
        buf_printf(b, ",\"droppedAttributesCount\":%" PRIu32 "}", e->dropped_attributes_count);
    }
    buf_printf(b, "],\"droppedEventsCount\":%" PRIu32 ",\"links\":[", s->dropped_events_count);
    for (size_t i = 0; i < s->n_links; i++)
        buf_puts(b, i ? ",{}" : "{}");
    buf_printf(b, "],\"droppedLinksCount\":%" PRIu32 ",\"status\":{\"code\":%d,\"message\":",
               s->dropped_links_count, (int)s->status_code);
    json_text(b, s->status_message);
    buf_puts(b, "}}");
}

void otlp_encode_json(const struct otlp_request *req, struct buf *out)
{
    bool first_res = true;
    buf_puts(out, "{\"resourceSpans\":[");
    for (size_t r = 0; r < req->n_resources; r++) {
        const struct otlp_resource *res = &req->resources[r];
        bool first_scope = true;
        if (res->rejected)
            continue;
        buf_puts(out, first_res ? "{\"resource\":{\"attributes\":" : ",{\"resource\":{\"attributes\":");
        first_res = false;
        json_attributes(out, &res->attributes);
        buf_printf(out, ",\"droppedAttributesCount\":%" PRIu32 "},\"schemaUrl\":", res->dropped_attributes_count);
        json_text(out, res->schema_url);
        buf_puts(out, ",\"scopeSpans\":[");
        for (size_t c = 0; c < res->n_scopes; c++) {
            const struct otlp_scope *sc = &res->scopes[c];
            bool first_span = true;
            if (sc->rejected)
                continue;
            buf_puts(out, first_scope ? "{\"scope\":{\"name\":" : ",{\"scope\":{\"name\":");
            first_scope = false;
            json_text(out, sc->name);
            buf_puts(out, ",\"version\":");
            json_text(out, sc->version);
            buf_puts(out, ",\"attributes\":");
            json_attributes(out, &sc->attributes);
            buf_printf(out, ",\"droppedAttributesCount\":%" PRIu32 "},\"schemaUrl\":", sc->dropped_attributes_count);
            json_text(out, sc->schema_url);
            buf_puts(out, ",\"spans\":[");
            for (size_t i = 0; i < sc->n_spans; i++) {
                if (sc->spans[i].rejected)
                    continue;
                if (!first_span)
                    buf_putc(out, ',');
                first_span = false;
                json_span(out, &sc->spans[i]);
            }
            buf_puts(out, "]}");
        }
        buf_puts(out, "]}");
    }
    buf_puts(out, "]}");
}

/* ---- comparing ------------------------------------------------------- */

static int differ(char *diff, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int differ(char *diff, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diff, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* The same keys and values, in the same order. */
static bool attrs_equal(const struct otlp_attrs *a, const struct otlp_attrs *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i].key, b->items[i].key) != 0 || !json_object_equal(a->items[i].value, b->items[i].value))
            return false;
    return true;
}

static const char *attrs_text(const struct otlp_attrs *a, struct buf *b)
{
    buf_reset(b);
    otlp_attrs_json(a, b);
    return b->data;
}

#define STR_EQ(x, y) (strcmp((x), (y)) == 0)

static int compare_span(const struct otlp_span *a, const struct otlp_span *b, char *diff, size_t cap)
{
    if (memcmp(a->trace_id, b->trace_id, sizeof a->trace_id) || memcmp(a->span_id, b->span_id, sizeof a->span_id) ||
        a->has_parent != b->has_parent || memcmp(a->parent_span_id, b->parent_span_id, sizeof a->parent_span_id))
        return differ(diff, cap, "span '%s': ids differ", a->name);
    if (!STR_EQ(a->name, b->name) || !STR_EQ(a->trace_state, b->trace_state) ||
        !STR_EQ(a->status_message, b->status_message))
        return differ(diff, cap, "span '%s' / '%s': a string differs", a->name, b->name);
    if (a->flags != b->flags || a->kind != b->kind || a->start_unix_nano != b->start_unix_nano ||
        a->end_unix_nano != b->end_unix_nano || a->status_code != b->status_code || a->n_links != b->n_links ||
        a->dropped_attributes_count != b->dropped_attributes_count ||
        a->dropped_events_count != b->dropped_events_count || a->dropped_links_count != b->dropped_links_count)
        return differ(diff, cap, "span '%s': a number differs", a->name);
    if (!attrs_equal(&a->attributes, &b->attributes)) {
        struct buf x, y;
        buf_init(&x);
        buf_init(&y);
        differ(diff, cap, "span '%s': attributes %s / %s", a->name, attrs_text(&a->attributes, &x),
               attrs_text(&b->attributes, &y));
        buf_free(&x);
        buf_free(&y);
        return -1;
    }
    if (a->n_events != b->n_events)
        return differ(diff, cap, "span '%s': %zu / %zu events", a->name, a->n_events, b->n_events);
    for (size_t i = 0; i < a->n_events; i++) {
        const struct otlp_event *x = &a->events[i], *y = &b->events[i];
        if (!STR_EQ(x->name, y->name) || x->time_unix_nano != y->time_unix_nano ||
            x->dropped_attributes_count != y->dropped_attributes_count || !attrs_equal(&x->attributes, &y->attributes))
            return differ(diff, cap, "span '%s': event %zu differs", a->name, i);
    }
    return 0;
}

/* The index of the next accepted span, scope or resource at or after i
 * (n when none is left). */
static size_t next_span(const struct otlp_scope *sc, size_t i)
{
    while (i < sc->n_spans && sc->spans[i].rejected)
        i++;
    return i;
}

static size_t next_scope(const struct otlp_resource *res, size_t i)
{
    while (i < res->n_scopes && res->scopes[i].rejected)
        i++;
    return i;
}

static size_t next_resource(const struct otlp_request *req, size_t i)
{
    while (i < req->n_resources && req->resources[i].rejected)
        i++;
    return i;
}

static int compare_scope(const struct otlp_scope *a, const struct otlp_scope *b, char *diff, size_t cap)
{
    if (!STR_EQ(a->name, b->name) || !STR_EQ(a->version, b->version) || !STR_EQ(a->schema_url, b->schema_url) ||
        a->dropped_attributes_count != b->dropped_attributes_count || !attrs_equal(&a->attributes, &b->attributes))
        return differ(diff, cap, "scope '%s' / '%s' differs", a->name, b->name);
    for (size_t i = next_span(a, 0), j = next_span(b, 0);; i = next_span(a, i + 1), j = next_span(b, j + 1)) {
        if (i == a->n_spans || j == b->n_spans)
            return i < a->n_spans || j < b->n_spans ? differ(diff, cap, "scope '%s': not as many spans", a->name) : 0;
        if (compare_span(&a->spans[i], &b->spans[j], diff, cap) < 0)
            return -1;
    }
}

int otlp_model_compare(const struct otlp_request *a, const struct otlp_request *b, char *diff, size_t cap)
{
    for (size_t r = next_resource(a, 0), q = next_resource(b, 0);;
         r = next_resource(a, r + 1), q = next_resource(b, q + 1)) {
        if (r == a->n_resources || q == b->n_resources)
            return r < a->n_resources || q < b->n_resources ? differ(diff, cap, "not as many resources") : 0;
        const struct otlp_resource *x = &a->resources[r], *y = &b->resources[q];
        if (!STR_EQ(x->schema_url, y->schema_url) || x->dropped_attributes_count != y->dropped_attributes_count ||
            !attrs_equal(&x->attributes, &y->attributes))
            return differ(diff, cap, "resource %zu / %zu differs", r, q);
        for (size_t i = next_scope(x, 0), j = next_scope(y, 0);; i = next_scope(x, i + 1), j = next_scope(y, j + 1)) {
            if (i == x->n_scopes || j == y->n_scopes) {
                if (i < x->n_scopes || j < y->n_scopes)
                    return differ(diff, cap, "resource %zu: not as many scopes", r);
                break;
            }
            if (compare_scope(&x->scopes[i], &y->scopes[j], diff, cap) < 0)
                return -1;
        }
    }
}

/* ---- checking -------------------------------------------------------- */

static bool clean_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
        if (n == 0 || s[i] == '\0')
            return false;
        i += n;
    }
    return true;
}

/* An attribute value jsonb takes, as otlp_model.h promises. */
static bool value_ok(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
    case json_type_boolean:
        return true;
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        return i >= -(INT64_C(1) << 53) && i <= (INT64_C(1) << 53);
    }
    case json_type_double:
        return isfinite(json_object_get_double(v));
    case json_type_string:
        return clean_text(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (!value_ok(json_object_array_get_idx(v, i)))
                return false;
        return true;
    case json_type_object: {
        json_object_object_foreach(v, key, val) {
            if (!clean_text(key, strlen(key)) || !value_ok(val))
                return false;
        }
        return true;
    }
    }
    return false;
}

static bool attrs_ok(const struct otlp_attrs *a)
{
    for (size_t i = 0; i < a->n; i++)
        if (!a->items[i].key || !clean_text(a->items[i].key, strlen(a->items[i].key)) || !value_ok(a->items[i].value))
            return false;
    return true;
}

static bool zero(const uint8_t *p, size_t n)
{
    while (n--)
        if (p[n])
            return false;
    return true;
}

static int check_span(const struct otlp_span *s, char *what, size_t cap)
{
    if (!s->name || !s->trace_state || !s->status_message)
        return differ(what, cap, "a span has a NULL string");
    if (s->rejected)
        return s->rejected[0] ? 0 : differ(what, cap, "a span is rejected without a reason");
    if (!clean_text(s->name, strlen(s->name)) || !clean_text(s->trace_state, strlen(s->trace_state)) ||
        !clean_text(s->status_message, strlen(s->status_message)))
        return differ(what, cap, "span '%s': a string is not clean UTF-8", s->name);
    if (zero(s->trace_id, sizeof s->trace_id) || zero(s->span_id, sizeof s->span_id) ||
        s->has_parent == zero(s->parent_span_id, sizeof s->parent_span_id))
        return differ(what, cap, "span '%s': ids", s->name);
    if (s->start_unix_nano == 0 || s->end_unix_nano < s->start_unix_nano || s->end_unix_nano > INT64_MAX ||
        (unsigned)s->kind > OTLP_KIND_CONSUMER || (unsigned)s->status_code > OTLP_STATUS_ERROR)
        return differ(what, cap, "span '%s': times, kind or code", s->name);
    if (!attrs_ok(&s->attributes))
        return differ(what, cap, "span '%s': attributes", s->name);
    for (size_t i = 0; i < s->n_events; i++)
        if (!s->events[i].name || !clean_text(s->events[i].name, strlen(s->events[i].name)) ||
            !attrs_ok(&s->events[i].attributes) || s->events[i].time_unix_nano > INT64_MAX)
            return differ(what, cap, "span '%s': event %zu", s->name, i);
    return 0;
}

int otlp_model_check(const struct otlp_request *req, char *what, size_t cap)
{
    size_t spans = 0, rejected = 0;
    for (size_t r = 0; r < req->n_resources; r++) {
        const struct otlp_resource *res = &req->resources[r];
        if (!res->schema_url || (!res->rejected && !attrs_ok(&res->attributes)))
            return differ(what, cap, "resource %zu", r);
        for (size_t c = 0; c < res->n_scopes; c++) {
            const struct otlp_scope *sc = &res->scopes[c];
            if (!sc->name || !sc->version || !sc->schema_url ||
                (!sc->rejected && !res->rejected &&
                 (!attrs_ok(&sc->attributes) || !clean_text(sc->name, strlen(sc->name)))))
                return differ(what, cap, "scope %zu.%zu", r, c);
            for (size_t i = 0; i < sc->n_spans; i++) {
                const struct otlp_span *s = &sc->spans[i];
                if ((res->rejected || sc->rejected) && !s->rejected)
                    return differ(what, cap, "a span of a rejected scope or resource is accepted");
                if (check_span(s, what, cap) < 0)
                    return -1;
                spans++;
                rejected += s->rejected != NULL;
            }
        }
    }
    if (spans != req->n_spans || rejected != req->n_rejected)
        return differ(what, cap, "counts: %zu/%zu spans, %zu/%zu rejected", req->n_spans, spans, req->n_rejected,
                      rejected);
    return 0;
}
