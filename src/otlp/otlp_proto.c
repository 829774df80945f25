/* Decoding a protobuf ExportTraceServiceRequest (part of otlp_decode.h):
 * protobuf-c unpacks it (trace.proto, generated at build time) with an
 * allocator that charges the decoding's budget, then the tree is read
 * into the model and freed.
 *
 * Before protobuf-c sees a byte, wire_check() walks the message once
 * without recursing: protobuf-c recurses once per nested message with no
 * limit, and a body of AnyValues nested in one another (a few bytes a
 * level) overflowed its stack at 100,000 levels, well inside a 16 MiB
 * body.
 * The walk refuses values nested deeper than OTLP_MAX_ANY_DEPTH, and
 * anything that is not wire format (a varint of more than 10 bytes, a
 * length past its message's end, a group, an unknown wire type), so
 * protobuf-c never goes deeper than the walk went. */
#include "otlp/otlp_build.h"
#include "otlp/otlp_decode.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/trace.pb-c.h"
#include "util/buf.h"

/* The deepest a message can lie in a valid request: the request, its
 * resource spans, scope spans, span, event, key-value (6), then three per
 * level of AnyValue (value, kvlist, key-value) and the last value's array
 * (1). */
#define WIRE_STACK (7 + 3 * OTLP_MAX_ANY_DEPTH + 1)

struct wire_frame {
    const uint8_t *end;
    const ProtobufCMessageDescriptor *desc;
};

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t c = *(*p)++;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

static enum otlp_err wire_check(const uint8_t *p, size_t len)
{
    struct wire_frame st[WIRE_STACK];
    int top = 0, anys = 0;
    st[0] = (struct wire_frame){p + len, &otlp__export_trace_service_request__descriptor};
    for (;;) {
        const uint8_t *end = st[top].end;
        if (p == end) {
            anys -= st[top].desc == &otlp__any_value__descriptor;
            if (top-- == 0)
                return OTLP_OK;
            continue;
        }
        uint64_t tag, n;
        if (read_varint(&p, end, &tag) < 0 || tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
            return OTLP_ERR_MALFORMED;
        switch (tag & 7) {
        case 0: /* varint */
            if (read_varint(&p, end, &n) < 0)
                return OTLP_ERR_MALFORMED;
            break;
        case 1: /* 64 bits */
        case 5: /* 32 bits */
            n = (tag & 7) == 1 ? 8 : 4;
            if ((uint64_t)(end - p) < n)
                return OTLP_ERR_MALFORMED;
            p += n;
            break;
        case 2: { /* length-delimited: a message of the schema is entered */
            if (read_varint(&p, end, &n) < 0 || n > (uint64_t)(end - p))
                return OTLP_ERR_MALFORMED;
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(st[top].desc, (unsigned)(tag >> 3));
            if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE) {
                p += n;
                break;
            }
            /* An empty message holds nothing to walk, and nests nothing:
             * an empty AnyValue is an empty value (JSON's null), which the
             * JSON decoder takes at any depth too. */
            if (n == 0)
                break;
            const ProtobufCMessageDescriptor *sub = f->descriptor;
            bool any = sub == &otlp__any_value__descriptor;
            if (top + 1 == WIRE_STACK || (any && anys == OTLP_MAX_ANY_DEPTH))
                return OTLP_ERR_TOO_DEEP;
            anys += any;
            st[++top] = (struct wire_frame){p + n, sub};
            break;
        }
        default: /* groups (deprecated, not in OTLP), and no wire type */
            return OTLP_ERR_MALFORMED;
        }
    }
}

/* protobuf-c's allocations, charged to the budget; a header keeps each
 * block's size so that freeing gives it back. */
#define HEADER alignof(max_align_t)

static void *pb_alloc(void *data, size_t size)
{
    struct otlp_build *b = data;
    if (size > SIZE_MAX - HEADER || !ob_charge(b, size + HEADER))
        return NULL; /* protobuf-c fails the unpack, freeing what it made */
    unsigned char *p = xmalloc(size + HEADER);
    memcpy(p, &size, sizeof size);
    return p + HEADER;
}

static void pb_free(void *data, void *ptr)
{
    struct otlp_build *b = data;
    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - HEADER;
    size_t size;
    memcpy(&size, p, sizeof size);
    b->budget += size + HEADER;
    free(p);
}

/* ---- the tree into the model ---------------------------------------- */

static bool attributes(struct otlp_build *b, Otlp__KeyValue *const *kv, size_t n, struct otlp_attrs *set,
                       struct json_object *obj);

/* An AnyValue as a json-c value (NULL for an empty one) in *out; false
 * when the budget runs out. Nesting is bounded by wire_check. */
static bool any_value(struct otlp_build *b, const Otlp__AnyValue *v, struct json_object **out)
{
    *out = NULL;
    if (!v)
        return true;
    switch (v->value_case) {
    case OTLP__ANY_VALUE__VALUE_STRING_VALUE:
        *out = ob_json_string(b, v->string_value, strlen(v->string_value));
        break;
    case OTLP__ANY_VALUE__VALUE_BOOL_VALUE:
        *out = ob_json_bool(b, v->bool_value);
        break;
    case OTLP__ANY_VALUE__VALUE_INT_VALUE:
        *out = ob_json_int64(b, v->int_value);
        break;
    case OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE:
        *out = ob_json_double(b, v->double_value);
        break;
    case OTLP__ANY_VALUE__VALUE_BYTES_VALUE:
        *out = ob_json_bytes(b, v->bytes_value.data, v->bytes_value.len);
        break;
    case OTLP__ANY_VALUE__VALUE_ARRAY_VALUE: {
        struct json_object *arr = ob_json_array(b), *item;
        if (!arr)
            return false;
        for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++) {
            if (!any_value(b, v->array_value->values[i], &item) || !ob_item(b, arr, item)) {
                json_object_put(arr);
                return false;
            }
        }
        *out = arr;
        break;
    }
    case OTLP__ANY_VALUE__VALUE_KVLIST_VALUE: {
        const Otlp__KeyValueList *kl = v->kvlist_value;
        struct json_object *obj = ob_json_object(b);
        if (!obj || (kl && !attributes(b, kl->values, kl->n_values, NULL, obj))) {
            json_object_put(obj);
            return false;
        }
        *out = obj;
        break;
    }
    default:
        return true;
    }
    return *out != NULL;
}

/* Adds the key-values to the set, or to obj (ob_attr). */
static bool attributes(struct otlp_build *b, Otlp__KeyValue *const *kv, size_t n, struct otlp_attrs *set,
                       struct json_object *obj)
{
    for (size_t i = 0; i < n; i++) {
        struct json_object *val;
        if (!any_value(b, kv[i]->value, &val) || !ob_attr(b, set, obj, kv[i]->key, strlen(kv[i]->key), val))
            return false;
    }
    return true;
}

static char *text(struct otlp_build *b, const char *s, const char *bad_utf8)
{
    return ob_string(b, s ? s : "", s ? strlen(s) : 0, bad_utf8);
}

static bool read_event(struct otlp_build *b, const Otlp__Span__Event *in, struct otlp_event *e)
{
    e->time_unix_nano = in->time_unix_nano;
    e->dropped_attributes_count = in->dropped_attributes_count;
    return (e->name = text(b, in->name, "an event name is not valid UTF-8")) &&
           attributes(b, in->attributes, in->n_attributes, &e->attributes, NULL);
}

static bool read_span(struct otlp_build *b, const Otlp__Span *in, struct otlp_span *s)
{
    b->reject = NULL;
    ob_span_id(b, s, OB_TRACE_ID, in->trace_id.data, in->trace_id.len);
    ob_span_id(b, s, OB_SPAN_ID, in->span_id.data, in->span_id.len);
    ob_span_id(b, s, OB_PARENT_ID, in->parent_span_id.data, in->parent_span_id.len);
    s->flags = in->flags;
    s->kind = (enum otlp_span_kind)in->kind;
    s->start_unix_nano = in->start_time_unix_nano;
    s->end_unix_nano = in->end_time_unix_nano;
    s->status_code = in->status ? (enum otlp_status_code)in->status->code : OTLP_STATUS_UNSET;
    s->n_links = in->n_links;
    s->dropped_attributes_count = in->dropped_attributes_count;
    s->dropped_events_count = in->dropped_events_count;
    s->dropped_links_count = in->dropped_links_count;
    if (!(s->trace_state = text(b, in->trace_state, "trace_state is not valid UTF-8")) ||
        !(s->name = text(b, in->name, "name is not valid UTF-8")) ||
        !(s->status_message = text(b, in->status ? in->status->message : NULL,
                                   "status.message is not valid UTF-8")) ||
        !attributes(b, in->attributes, in->n_attributes, &s->attributes, NULL))
        return false;
    s->events = ob_array(b, in->n_events, sizeof *s->events);
    if (b->over)
        return false;
    s->n_events = in->n_events;
    for (size_t i = 0; i < in->n_events; i++)
        if (!read_event(b, in->events[i], &s->events[i]))
            return false;
    ob_span_rules(b, s);
    s->rejected = b->reject;
    return true;
}

/* Each span's part of the tree is freed once read, giving its budget
 * back: the peak is about the tree, not the tree and the model. */
static bool read_scope(struct otlp_build *b, Otlp__ScopeSpans *in, struct otlp_scope *sc)
{
    ProtobufCAllocator alloc = {pb_alloc, pb_free, b};
    const Otlp__InstrumentationScope *is = in->scope;
    b->reject = NULL;
    if (!(sc->name = text(b, is ? is->name : NULL, "the scope's name is not valid UTF-8")) ||
        !(sc->version = text(b, is ? is->version : NULL, "the scope's version is not valid UTF-8")) ||
        !(sc->schema_url = text(b, in->schema_url, "schema_url is not valid UTF-8")) ||
        (is && !attributes(b, is->attributes, is->n_attributes, &sc->attributes, NULL)))
        return false;
    sc->dropped_attributes_count = is ? is->dropped_attributes_count : 0;
    sc->rejected = b->reject;
    sc->spans = ob_array(b, in->n_spans, sizeof *sc->spans);
    if (b->over)
        return false;
    sc->n_spans = in->n_spans;
    for (size_t i = 0; i < in->n_spans; i++) {
        if (!read_span(b, in->spans[i], &sc->spans[i]))
            return false;
        otlp__span__free_unpacked(in->spans[i], &alloc);
        in->spans[i] = NULL; /* protobuf-c frees the rest, skipping it */
    }
    return true;
}

static bool read_resource(struct otlp_build *b, Otlp__ResourceSpans *in, struct otlp_resource *res)
{
    const Otlp__Resource *r = in->resource;
    b->reject = NULL;
    if (!(res->schema_url = text(b, in->schema_url, "schema_url is not valid UTF-8")) ||
        (r && !attributes(b, r->attributes, r->n_attributes, &res->attributes, NULL)))
        return false;
    res->dropped_attributes_count = r ? r->dropped_attributes_count : 0;
    res->rejected = b->reject;
    res->scopes = ob_array(b, in->n_scope_spans, sizeof *res->scopes);
    if (b->over)
        return false;
    res->n_scopes = in->n_scope_spans;
    for (size_t i = 0; i < in->n_scope_spans; i++)
        if (!read_scope(b, in->scope_spans[i], &res->scopes[i]))
            return false;
    return true;
}

enum otlp_err otlp_decode_proto(const char *body, size_t len, const struct otlp_limits *lim,
                                struct otlp_request **out, char *why, size_t cap)
{
    struct otlp_build b;
    struct otlp_request *req = NULL;
    Otlp__ExportTraceServiceRequest *msg = NULL;
    ProtobufCAllocator alloc = {pb_alloc, pb_free, &b};
    enum otlp_err err;
    *out = NULL;
    ob_init(&b, lim, len);
    if ((err = wire_check((const uint8_t *)body, len)) != OTLP_OK)
        return ob_fail(err, otlp_err_text(err), why, cap);
    msg = otlp__export_trace_service_request__unpack(&alloc, len, (const uint8_t *)body);
    if (!msg) {
        err = b.over ? OTLP_ERR_DECODED_SIZE : OTLP_ERR_MALFORMED;
        return ob_fail(err, b.over ? otlp_err_text(err) : "the body is not a protobuf ExportTraceServiceRequest",
                       why, cap);
    }
    err = OTLP_ERR_DECODED_SIZE;
    if (!ob_charge(&b, sizeof *req))
        goto fail;
    req = xcalloc(1, sizeof *req);
    req->resources = ob_array(&b, msg->n_resource_spans, sizeof *req->resources);
    if (b.over)
        goto fail;
    req->n_resources = msg->n_resource_spans;
    for (size_t i = 0; i < msg->n_resource_spans; i++)
        if (!read_resource(&b, msg->resource_spans[i], &req->resources[i]))
            goto fail;
    otlp__export_trace_service_request__free_unpacked(msg, &alloc);
    ob_finish(req);
    *out = req;
    return OTLP_OK;
fail:
    otlp__export_trace_service_request__free_unpacked(msg, &alloc);
    otlp_request_free(req);
    return ob_fail(err, otlp_err_text(err), why, cap);
}
