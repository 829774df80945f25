/* Unit tests for the protobuf decoder (otlp_proto.c): messages built with
 * protobuf-c's own structures and packer read into the model, values
 * converted for jsonb, spans rejected alone (ids of the wrong length,
 * strings that are not UTF-8, times) while the others are kept, and
 * bodies refused whole: cut short, wrong wire types, groups, values
 * nested deeper than OTLP_MAX_ANY_DEPTH (protobuf-c alone would overflow
 * the stack), and repeated fields beyond the decoding budget. The model
 * re-encodes (tests/reference/otlp_encode.c) to itself. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../reference/otlp_encode.h"
#include "otlp/otlp_decode.h"
#include "otlp/trace.pb-c.h"
#include "otlp_check.h"

static const uint8_t TRACE[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                                  0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
static const uint8_t SPAN[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74};
static const uint8_t PARENT[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73};

static struct otlp_request *decode_ok(const struct buf *b)
{
    return otlp_test_decode_ok(OTLP_PROTOBUF, b->data, b->len);
}

static void span_init(Otlp__Span *s, const char *name)
{
    otlp__span__init(s);
    s->trace_id = (ProtobufCBinaryData){sizeof TRACE, (uint8_t *)TRACE};
    s->span_id = (ProtobufCBinaryData){sizeof SPAN, (uint8_t *)SPAN};
    s->name = (char *)name;
    s->start_time_unix_nano = UINT64_C(1731600000000000000);
    s->end_time_unix_nano = UINT64_C(1731600000500000000);
}

/* Packs a request of one resource (with its attributes) and one scope
 * holding the spans. */
static void pack_spans(struct buf *out, Otlp__Span **spans, size_t n, Otlp__KeyValue **res_attrs, size_t n_res)
{
    Otlp__ExportTraceServiceRequest req = OTLP__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    Otlp__ResourceSpans rs = OTLP__RESOURCE_SPANS__INIT, *rsp = &rs;
    Otlp__Resource res = OTLP__RESOURCE__INIT;
    Otlp__ScopeSpans ss = OTLP__SCOPE_SPANS__INIT, *ssp = &ss;
    Otlp__InstrumentationScope scope = OTLP__INSTRUMENTATION_SCOPE__INIT;
    scope.name = "opentelemetry.instrumentation.openai_v2";
    scope.version = "2.1b0";
    ss.scope = &scope;
    ss.spans = spans;
    ss.n_spans = n;
    res.attributes = res_attrs;
    res.n_attributes = n_res;
    rs.resource = &res;
    rs.scope_spans = &ssp;
    rs.n_scope_spans = 1;
    rs.schema_url = "https://opentelemetry.io/schemas/1.27.0";
    req.resource_spans = &rsp;
    req.n_resource_spans = 1;
    buf_init(out);
    size_t len = otlp__export_trace_service_request__get_packed_size(&req);
    uint8_t *bytes = malloc(len ? len : 1);
    otlp__export_trace_service_request__pack(&req, bytes);
    buf_append(out, bytes, len);
    free(bytes);
}

static Otlp__AnyValue any_string(const char *s)
{
    Otlp__AnyValue v = OTLP__ANY_VALUE__INIT;
    v.value_case = OTLP__ANY_VALUE__VALUE_STRING_VALUE;
    v.string_value = (char *)s;
    return v;
}

TestSuite(otlp_proto);

Test(otlp_proto, every_field_of_a_span_is_read_into_the_model)
{
    Otlp__Span s, *sp = &s;
    Otlp__Span__Event ev = OTLP__SPAN__EVENT__INIT, *evp = &ev;
    Otlp__Span__Link link = OTLP__SPAN__LINK__INIT, *links[] = {&link, &link};
    Otlp__Status status = OTLP__STATUS__INIT;
    Otlp__AnyValue model = any_string("gpt-4o"), reason = any_string("upstream timeout");
    Otlp__KeyValue kv_model = {PROTOBUF_C_MESSAGE_INIT(&otlp__key_value__descriptor), "gen_ai.request.model", &model};
    Otlp__KeyValue kv_reason = {PROTOBUF_C_MESSAGE_INIT(&otlp__key_value__descriptor), "exception.message", &reason};
    Otlp__KeyValue *attrs[] = {&kv_model}, *ev_attrs[] = {&kv_reason};
    span_init(&s, "chat gpt-4o");
    s.parent_span_id = (ProtobufCBinaryData){sizeof PARENT, (uint8_t *)PARENT};
    s.trace_state = "rojo=00f067aa0ba902b7";
    s.flags = 0x101;
    s.kind = OTLP__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
    s.attributes = attrs;
    s.n_attributes = 1;
    s.dropped_attributes_count = 3;
    ev.time_unix_nano = UINT64_C(1731600000400000000);
    ev.name = "exception";
    ev.attributes = ev_attrs;
    ev.n_attributes = 1;
    s.events = &evp;
    s.n_events = 1;
    s.dropped_events_count = 4;
    s.links = links;
    s.n_links = 2;
    s.dropped_links_count = 5;
    status.code = OTLP__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
    status.message = "upstream timeout";
    s.status = &status;
    struct buf b;
    pack_spans(&b, &sp, 1, NULL, 0);
    struct otlp_request *req = decode_ok(&b);
    cr_assert_eq(req->n_spans, 1);
    cr_assert_eq(req->n_rejected, 0);
    struct otlp_scope *sc = &req->resources[0].scopes[0];
    cr_assert_str_eq(req->resources[0].schema_url, "https://opentelemetry.io/schemas/1.27.0");
    cr_assert_str_eq(sc->name, "opentelemetry.instrumentation.openai_v2");
    cr_assert_str_eq(sc->version, "2.1b0");
    struct otlp_span *m = &sc->spans[0];
    cr_assert_arr_eq(m->trace_id, TRACE, 16);
    cr_assert_arr_eq(m->span_id, SPAN, 8);
    cr_assert(m->has_parent);
    cr_assert_arr_eq(m->parent_span_id, PARENT, 8);
    cr_assert_str_eq(m->trace_state, "rojo=00f067aa0ba902b7");
    cr_assert_eq(m->flags, 0x101);
    cr_assert_str_eq(m->name, "chat gpt-4o");
    cr_assert_eq(m->kind, OTLP_KIND_CLIENT);
    cr_assert_eq(m->start_unix_nano, UINT64_C(1731600000000000000));
    cr_assert_eq(m->end_unix_nano, UINT64_C(1731600000500000000));
    cr_assert_str_eq(otlp_test_attr(&m->attributes, "gen_ai.request.model"), "\"gpt-4o\"");
    cr_assert_eq(m->dropped_attributes_count, 3);
    cr_assert_eq(m->n_events, 1);
    cr_assert_str_eq(m->events[0].name, "exception");
    cr_assert_eq(m->events[0].time_unix_nano, UINT64_C(1731600000400000000));
    cr_assert_str_eq(otlp_test_attr(&m->events[0].attributes, "exception.message"), "\"upstream timeout\"");
    cr_assert_eq(m->dropped_events_count, 4);
    cr_assert_eq(m->n_links, 2);
    cr_assert_eq(m->dropped_links_count, 5);
    cr_assert_eq(m->status_code, OTLP_STATUS_ERROR);
    cr_assert_str_eq(m->status_message, "upstream timeout");
    otlp_test_round_trip(req);
    otlp_request_free(req);
    buf_free(&b);
}

Test(otlp_proto, attribute_values_become_the_json_jsonb_stores)
{
    enum { N = 12 };
    static const char *const keys[N] = {"big", "edge", "min", "nan",   "inf", "bytes",
                                        "empty", "arr", "list", "elist", "dup", "dup"};
    static const uint8_t raw[] = {0xde, 0xad, 0xbe, 0xef};
    Otlp__AnyValue v[N], b_true = OTLP__ANY_VALUE__INIT, quarter = OTLP__ANY_VALUE__INIT;
    Otlp__AnyValue nest = OTLP__ANY_VALUE__INIT, *items[] = {&b_true, &nest}, *inner_items[] = {&quarter};
    Otlp__KeyValue kv[N], *kvp[N], *list_kvp[] = {&kv[10], &kv[11]};
    Otlp__ArrayValue arr = OTLP__ARRAY_VALUE__INIT, inner = OTLP__ARRAY_VALUE__INIT;
    Otlp__KeyValueList list = OTLP__KEY_VALUE_LIST__INIT, empty_list = OTLP__KEY_VALUE_LIST__INIT;
    for (int i = 0; i < N; i++) {
        otlp__any_value__init(&v[i]);
        otlp__key_value__init(&kv[i]);
        kv[i].key = (char *)keys[i];
        kv[i].value = &v[i];
        kvp[i] = &kv[i];
    }
    v[0].value_case = v[1].value_case = v[2].value_case = OTLP__ANY_VALUE__VALUE_INT_VALUE;
    v[0].int_value = (INT64_C(1) << 53) + 1;
    v[1].int_value = -(INT64_C(1) << 53);
    v[2].int_value = INT64_MIN;
    v[3].value_case = v[4].value_case = quarter.value_case = OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE;
    v[3].double_value = NAN;
    v[4].double_value = -INFINITY;
    quarter.double_value = 0.25;
    v[5].value_case = OTLP__ANY_VALUE__VALUE_BYTES_VALUE;
    v[5].bytes_value = (ProtobufCBinaryData){sizeof raw, (uint8_t *)raw};
    /* v[6] stays empty */
    b_true.value_case = OTLP__ANY_VALUE__VALUE_BOOL_VALUE;
    b_true.bool_value = 1;
    inner.values = inner_items;
    inner.n_values = 1;
    nest.value_case = v[7].value_case = OTLP__ANY_VALUE__VALUE_ARRAY_VALUE;
    nest.array_value = &inner;
    arr.values = items;
    arr.n_values = 2;
    v[7].array_value = &arr;
    list.values = list_kvp;
    list.n_values = 2;
    v[8].value_case = v[9].value_case = OTLP__ANY_VALUE__VALUE_KVLIST_VALUE;
    v[8].kvlist_value = &list;
    v[9].kvlist_value = &empty_list;
    v[10] = any_string("first");
    v[11] = any_string("second");

    Otlp__Span s, *sp = &s;
    span_init(&s, "values");
    s.attributes = kvp;
    s.n_attributes = N;
    struct buf b;
    pack_spans(&b, &sp, 1, NULL, 0);
    struct otlp_request *req = decode_ok(&b);
    const struct otlp_attrs *a = &req->resources[0].scopes[0].spans[0].attributes;
    cr_assert_eq(a->n, N, "every attribute is kept, a repeated key too");
    otlp_test_values_are(a);
    otlp_test_round_trip(req);
    otlp_request_free(req);
    buf_free(&b);
}

Test(otlp_proto, a_span_with_ids_of_the_wrong_length_is_rejected_and_the_others_kept)
{
    Otlp__Span s[5], *sp[5];
    static const char *const names[5] = {"ok", "short trace", "long span", "odd parent", "zero trace"};
    static const uint8_t zeros[16] = {0};
    for (int i = 0; i < 5; i++) {
        span_init(&s[i], names[i]);
        sp[i] = &s[i];
    }
    s[1].trace_id.len = 15;
    s[2].span_id = (ProtobufCBinaryData){16, (uint8_t *)TRACE};
    s[3].parent_span_id = (ProtobufCBinaryData){4, (uint8_t *)PARENT};
    s[4].trace_id = (ProtobufCBinaryData){16, (uint8_t *)zeros};
    struct buf b;
    pack_spans(&b, sp, 5, NULL, 0);
    struct otlp_request *req = decode_ok(&b);
    struct otlp_span *m = req->resources[0].scopes[0].spans;
    cr_assert_eq(req->n_spans, 5);
    cr_assert_eq(req->n_rejected, 4);
    cr_assert_null(m[0].rejected);
    cr_assert_str_eq(m[1].rejected, "trace_id must be 16 bytes");
    cr_assert_str_eq(m[2].rejected, "span_id must be 8 bytes");
    cr_assert_str_eq(m[3].rejected, "parent_span_id must be empty or 8 bytes");
    cr_assert_str_eq(m[4].rejected, "trace_id must be set, not all zeros");
    char msg[256];
    otlp_rejection_message(req, msg, sizeof msg);
    cr_assert_str_eq(msg, "4 of 5 spans rejected; the first (resourceSpans[0].scopeSpans[0].spans[1]): "
                          "trace_id must be 16 bytes");
    otlp_request_free(req);
    buf_free(&b);
}

Test(otlp_proto, a_string_that_is_not_utf8_rejects_its_span_or_the_spans_under_it)
{
    Otlp__Span s[6], *sp[6];
    Otlp__Span__Event ev = OTLP__SPAN__EVENT__INIT, *evp = &ev;
    Otlp__Status st = OTLP__STATUS__INIT;
    Otlp__AnyValue bad_val = any_string("caf\xe9"), good = any_string("ok");
    Otlp__KeyValue kv_bad_val = {PROTOBUF_C_MESSAGE_INIT(&otlp__key_value__descriptor), "k", &bad_val};
    Otlp__KeyValue kv_bad_key = {PROTOBUF_C_MESSAGE_INIT(&otlp__key_value__descriptor), "\xc0\xaf", &good};
    Otlp__KeyValue *attrs1[] = {&kv_bad_val}, *attrs2[] = {&kv_bad_key};
    for (int i = 0; i < 6; i++) {
        span_init(&s[i], "fine");
        sp[i] = &s[i];
    }
    s[0].name = "\xed\xa0\x80"; /* a surrogate */
    s[1].attributes = attrs1;
    s[1].n_attributes = 1;
    s[2].attributes = attrs2;
    s[2].n_attributes = 1;
    ev.name = "\xff";
    s[3].events = &evp;
    s[3].n_events = 1;
    st.message = "\xe2\x82";
    s[4].status = &st;
    struct buf b;
    pack_spans(&b, sp, 6, NULL, 0);
    struct otlp_request *req = decode_ok(&b);
    struct otlp_span *m = req->resources[0].scopes[0].spans;
    cr_assert_eq(req->n_rejected, 5);
    cr_assert_str_eq(m[0].rejected, "name is not valid UTF-8");
    cr_assert_str_eq(m[1].rejected, "an attribute is not valid UTF-8");
    cr_assert_str_eq(m[2].rejected, "an attribute is not valid UTF-8");
    cr_assert_str_eq(m[3].rejected, "an event name is not valid UTF-8");
    cr_assert_str_eq(m[4].rejected, "status.message is not valid UTF-8");
    cr_assert_null(m[5].rejected);
    otlp_request_free(req);
    buf_free(&b);

    /* in the resource's attributes: every span of the resource */
    Otlp__KeyValue *res_attrs[] = {&kv_bad_val};
    pack_spans(&b, &sp[5], 1, res_attrs, 1);
    req = decode_ok(&b);
    cr_assert_eq(req->n_rejected, 1);
    cr_assert_str_eq(req->resources[0].scopes[0].spans[0].rejected, "an attribute is not valid UTF-8");
    otlp_request_free(req);
    buf_free(&b);
}

Test(otlp_proto, times_kinds_and_codes_follow_the_rules_of_a_span)
{
    Otlp__Span s[5], *sp[5];
    Otlp__Status st = OTLP__STATUS__INIT;
    static const uint8_t zeros[8] = {0};
    for (int i = 0; i < 5; i++) {
        span_init(&s[i], "t");
        sp[i] = &s[i];
    }
    s[0].end_time_unix_nano = s[0].start_time_unix_nano - 1;
    s[1].start_time_unix_nano = 0;
    s[2].end_time_unix_nano = UINT64_C(1) << 63;
    s[3].kind = (Otlp__Span__SpanKind)9;
    st.code = (Otlp__Status__StatusCode)7;
    s[3].status = &st;
    s[4].parent_span_id = (ProtobufCBinaryData){8, (uint8_t *)zeros};
    s[4].end_time_unix_nano = s[4].start_time_unix_nano; /* an instant is a span */
    struct buf b;
    pack_spans(&b, sp, 5, NULL, 0);
    struct otlp_request *req = decode_ok(&b);
    struct otlp_span *m = req->resources[0].scopes[0].spans;
    cr_assert_str_eq(m[0].rejected, "end_time_unix_nano is before start_time_unix_nano");
    cr_assert_str_eq(m[1].rejected, "start_time_unix_nano must be set");
    cr_assert_str_eq(m[2].rejected, "a time is beyond the year 2262");
    cr_assert_null(m[3].rejected);
    cr_assert_eq(m[3].kind, OTLP_KIND_UNSPECIFIED);
    cr_assert_eq(m[3].status_code, OTLP_STATUS_UNSET);
    cr_assert_null(m[4].rejected);
    cr_assert_not(m[4].has_parent, "a parent id of zeros is no parent");
    otlp_request_free(req);
    buf_free(&b);
}

/* ---- bodies refused whole ---------------------------------------------- */

static void put_varint(struct buf *b, uint64_t v)
{
    do {
        buf_putc(b, (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}

/* Replaces b's bytes by a field (number field, length-delimited) that
 * holds them. */
static void wrap(struct buf *b, unsigned field)
{
    struct buf w;
    buf_init(&w);
    put_varint(&w, (uint64_t)field << 3 | 2);
    put_varint(&w, b->len);
    buf_append(&w, b->data, b->len);
    buf_free(b);
    *b = w;
}

/* A request whose one span holds the given bytes after its valid ids and
 * times (span fields, wire format). */
static void request_with_span_fields(struct buf *b, const void *fields, size_t len)
{
    Otlp__Span s;
    span_init(&s, "x");
    size_t n = otlp__span__get_packed_size(&s);
    uint8_t *bytes = malloc(n);
    otlp__span__pack(&s, bytes);
    buf_init(b);
    buf_append(b, bytes, n);
    buf_append(b, fields, len);
    free(bytes);
    wrap(b, 2); /* ScopeSpans.spans */
    wrap(b, 2); /* ResourceSpans.scope_spans */
    wrap(b, 1); /* ExportTraceServiceRequest.resource_spans */
}

static enum otlp_err decode_err(const struct buf *b, char *why, size_t cap)
{
    struct otlp_request *req;
    return otlp_test_decode(OTLP_PROTOBUF, b->data, b->len, &req, why, cap);
}

Test(otlp_proto, a_body_cut_short_anywhere_decodes_or_is_malformed)
{
    Otlp__Span s, *sp = &s;
    Otlp__AnyValue v = any_string("a value long enough to cut");
    Otlp__KeyValue kv = {PROTOBUF_C_MESSAGE_INIT(&otlp__key_value__descriptor), "key", &v}, *kvp = &kv;
    span_init(&s, "cut");
    s.attributes = &kvp;
    s.n_attributes = 1;
    struct buf b;
    pack_spans(&b, &sp, 1, NULL, 0);
    size_t malformed = 0;
    for (size_t n = 0; n < b.len; n++) {
        struct otlp_request *req = NULL;
        char why[256] = "";
        enum otlp_err err = otlp_test_decode(OTLP_PROTOBUF, b.data, n, &req, why, sizeof why);
        cr_assert(err == OTLP_OK || err == OTLP_ERR_MALFORMED, "cut at %zu: %s", n, why);
        malformed += err == OTLP_ERR_MALFORMED;
        otlp_request_free(req);
    }
    /* Only a cut between the request's own fields leaves a message:
     * here at 0 (the empty request) alone. */
    cr_assert_eq(malformed, b.len - 1);
    buf_free(&b);
}

Test(otlp_proto, wrong_wire_types_groups_and_bad_varints_are_malformed)
{
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
        {"\x08\x01", 2},                  /* resource_spans as a varint */
        {"\x0d\x01\x02\x03\x04", 5},      /* ... as 32 bits */
        {"\x0a\x05\x12\x03\x10\x01", 6},  /* a length past its message's end */
        {"\x0b\x0c", 2},                  /* a group */
        {"\x0f", 1},                      /* wire type 7 */
        {"\x00\x00", 2},                  /* field number 0 */
        {"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12}, /* a varint of 11 bytes */
        {"\x08", 1},                      /* a tag without its value */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char why[256] = "";
        struct buf b;
        buf_init(&b);
        buf_append(&b, cases[i].bytes, cases[i].len);
        cr_assert_eq(decode_err(&b, why, sizeof why), OTLP_ERR_MALFORMED, "case %zu: %s", i, why);
        cr_assert_eq(otlp_err_http(OTLP_ERR_MALFORMED), 400);
        buf_free(&b);
    }
    /* In a span: span_id (bytes) as a varint, start_time (fixed64) as a
     * varint, name (string) as 64 bits. */
    static const char *const in_span[] = {"\x10\x05", "\x38\x05", "\x29\x01\x02\x03\x04\x05\x06\x07\x08"};
    static const size_t in_span_len[] = {2, 2, 9};
    for (size_t i = 0; i < 3; i++) {
        char why[256] = "";
        struct buf b;
        request_with_span_fields(&b, in_span[i], in_span_len[i]);
        cr_assert_eq(decode_err(&b, why, sizeof why), OTLP_ERR_MALFORMED, "span case %zu", i);
        cr_assert_str_eq(why, "the body is not a protobuf ExportTraceServiceRequest");
        buf_free(&b);
    }
}

Test(otlp_proto, unknown_fields_of_every_wire_type_are_skipped)
{
    /* fields 99 (varint), 100 (64 bits), 101 (bytes holding what would be
     * a deep message), 102 (32 bits) */
    static const char unknown[] = "\x98\x06\x96\x01"
                                  "\xa1\x06\x01\x02\x03\x04\x05\x06\x07\x08"
                                  "\xaa\x06\x04\x2a\x02\x2a\x00"
                                  "\xb5\x06\x01\x02\x03\x04";
    struct buf with, without;
    request_with_span_fields(&with, unknown, sizeof unknown - 1);
    request_with_span_fields(&without, "", 0);
    struct otlp_request *a = decode_ok(&with), *b = decode_ok(&without);
    char diff[256];
    cr_assert_eq(a->n_spans, 1);
    cr_assert_eq(otlp_model_compare(a, b, diff, sizeof diff), 0, "%s", diff);
    otlp_request_free(a);
    otlp_request_free(b);
    buf_free(&with);
    buf_free(&without);
}

/* A request whose one span has an attribute whose value is depth
 * AnyValues, each a kvlist holding the next under the key "k", the last
 * an empty kvlist. Sizes first (inside out), then the bytes (outside in):
 * a deep body in linear time. */
static void nested_request(struct buf *b, size_t depth)
{
    size_t *any = calloc(depth + 1, sizeof *any), *list = calloc(depth + 1, sizeof *list);
    size_t *kv = calloc(depth + 1, sizeof *kv);
    struct buf tmp;
    buf_init(&tmp);
#define VLEN(v) (tmp.len = 0, put_varint(&tmp, (v)), tmp.len)
    for (size_t i = 1; i <= depth; i++) {
        kv[i] = i == 1 ? 0 : 3 + 1 + VLEN(any[i - 1]) + any[i - 1];
        list[i] = kv[i] ? 1 + VLEN(kv[i]) + kv[i] : 0;
        any[i] = 1 + VLEN(list[i]) + list[i];
    }
#undef VLEN
    buf_free(&tmp);
    struct buf value;
    buf_init(&value);
    buf_puts(&value, "\x0a\x01k\x12"); /* KeyValue{key "k", value: ... */
    put_varint(&value, any[depth]);
    for (size_t i = depth; i >= 1; i--) {
        buf_putc(&value, 0x32); /* AnyValue.kvlist_value */
        put_varint(&value, list[i]);
        if (i > 1) {
            buf_putc(&value, 0x0a); /* KeyValueList.values */
            put_varint(&value, kv[i]);
            buf_puts(&value, "\x0a\x01k\x12"); /* KeyValue{key "k", value: ... */
            put_varint(&value, any[i - 1]);
        }
    }
    wrap(&value, 9); /* Span.attributes */
    request_with_span_fields(b, value.data, value.len);
    buf_free(&value);
    free(any);
    free(list);
    free(kv);
}

Test(otlp_proto, values_nest_32_deep_and_no_deeper_without_recursing)
{
    struct buf ok, deep, deeper;
    char why[256];
    nested_request(&ok, OTLP_MAX_ANY_DEPTH);
    nested_request(&deep, OTLP_MAX_ANY_DEPTH + 1);
    nested_request(&deeper, 300000); /* protobuf-c alone overflows the stack on this */
    struct otlp_request *req = decode_ok(&ok);
    struct json_object *v = otlp_attr_get(&req->resources[0].scopes[0].spans[0].attributes, "k", &(bool){0});
    int levels = 0;
    while (v && json_object_object_get_ex(v, "k", &v))
        levels++;
    cr_assert_eq(levels, OTLP_MAX_ANY_DEPTH - 1);
    otlp_request_free(req);
    cr_assert_eq(decode_err(&deep, why, sizeof why), OTLP_ERR_TOO_DEEP);
    cr_assert_str_eq(why, "attribute values are nested too deeply");
    cr_assert_eq(decode_err(&deeper, why, sizeof why), OTLP_ERR_TOO_DEEP);
    cr_assert_eq(otlp_err_http(OTLP_ERR_TOO_DEEP), 400);
    buf_free(&ok);
    buf_free(&deep);
    buf_free(&deeper);
}

/* A JSON request whose attribute "k" is kvlists depth deep around an
 * innermost value (JSON text). */
static void nested_json(struct buf *json, int depth, const char *innermost)
{
    buf_init(json);
    buf_puts(json, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
                    "\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\",\"name\":\"n\","
                    "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\",\"attributes\":[{\"key\":\"k\",\"value\":");
    for (int i = 0; i < depth; i++)
        buf_puts(json, "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":");
    buf_puts(json, innermost);
    for (int i = 0; i < depth; i++)
        buf_puts(json, "}]}}");
    buf_puts(json, "}]}]}]}]}");
}

/* Kvlists OTLP_MAX_ANY_DEPTH deep whose innermost key has an empty value:
 * JSON's null or {} and protobuf's empty AnyValue (as the encoder writes
 * it) decode alike, adding no depth; a value with anything in it there is
 * too deep in both. */
Test(otlp_proto, an_empty_value_under_the_deepest_list_is_taken_by_both_formats)
{
    struct buf json, empty, full, pb;
    char diff[256], why[256];
    nested_json(&json, OTLP_MAX_ANY_DEPTH, "null");
    nested_json(&empty, OTLP_MAX_ANY_DEPTH, "{}");
    nested_json(&full, OTLP_MAX_ANY_DEPTH, "{\"stringValue\":\"x\"}");
    buf_init(&pb);
    struct otlp_request *from_json = otlp_test_decode_ok(OTLP_JSON, json.data, json.len);
    struct otlp_request *from_empty = otlp_test_decode_ok(OTLP_JSON, empty.data, empty.len);
    otlp_encode_proto(from_json, &pb);
    struct otlp_request *from_pb = decode_ok(&pb), *none = NULL;
    cr_assert_eq(otlp_model_compare(from_json, from_pb, diff, sizeof diff), 0, "%s", diff);
    cr_assert_eq(otlp_model_compare(from_json, from_empty, diff, sizeof diff), 0, "%s", diff);
    cr_assert_eq(otlp_test_decode(OTLP_JSON, full.data, full.len, &none, why, sizeof why), OTLP_ERR_TOO_DEEP);
    otlp_request_free(from_json);
    otlp_request_free(from_empty);
    otlp_request_free(from_pb);
    buf_free(&json);
    buf_free(&empty);
    buf_free(&full);
    buf_free(&pb);
}

Test(otlp_proto, huge_repeated_fields_are_refused_within_the_budget)
{
    /* 4 MiB of empty spans (2 bytes each): protobuf-c would take about
     * 200 bytes for each, 400 MiB in all. */
    static const char *const items[] = {"\x12\x00", /* ScopeSpans.spans, empty */
                                        "\x4a\x00"}; /* in a span: Span.attributes, empty */
    for (int k = 0; k < 2; k++) {
        struct buf b;
        buf_init(&b);
        if (k == 1) {
            Otlp__Span s;
            span_init(&s, "many attributes");
            uint8_t bytes[128];
            buf_append(&b, bytes, otlp__span__pack(&s, bytes));
        }
        for (size_t i = 0; i < (size_t)2 << 20; i++)
            buf_append(&b, items[k], 2);
        if (k == 1)
            wrap(&b, 2);
        wrap(&b, 2);
        wrap(&b, 1);
        char why[256];
        clock_t t0 = clock();
        cr_assert_eq(decode_err(&b, why, sizeof why), OTLP_ERR_DECODED_SIZE, "case %d: %s", k, why);
        cr_assert_lt((double)(clock() - t0) / CLOCKS_PER_SEC, 5.0);
        cr_assert_eq(otlp_err_http(OTLP_ERR_DECODED_SIZE), 413);
        buf_free(&b);
    }
}

Test(otlp_proto, an_empty_body_is_a_request_without_spans)
{
    struct otlp_request *req;
    char why[64];
    cr_assert_eq(otlp_test_decode(OTLP_PROTOBUF, "", 0, &req, why, sizeof why), OTLP_OK);
    cr_assert_eq(req->n_resources, 0);
    cr_assert_eq(req->n_spans, 0);
    otlp_request_free(req);
}
