/* What both OTLP harnesses (fuzz_otlp_proto.c, fuzz_otlp_json.c) check
 * of one body decoded: an error has a clean reason and a 400 or 413; a
 * model keeps the promises of otlp_model.h, re-encodes as protobuf and as
 * OTLP/JSON (tests/reference/otlp_encode.c) to bodies that decode, with
 * nothing rejected, to the same model, and its answers read back with its
 * count; and under a budget cut to 4 times the body, the answer is the
 * same or 413 (the cleanup of a decoding stopped anywhere runs under the
 * sanitizers). Any breach aborts, with what differed. */
#ifndef AGORA_FUZZ_OTLP_H
#define AGORA_FUZZ_OTLP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../tests/reference/otlp_encode.h"
#include "fuzz_common.h"
#include "otlp/otlp_decode.h"
#include "otlp/trace.pb-c.h"
#include "util/text.h"

typedef enum otlp_err (*otlp_decoder)(const char *, size_t, const struct otlp_limits *, struct otlp_request **,
                                      char *, size_t);

static const struct otlp_limits fuzz_otlp_limits = OTLP_LIMITS_DEFAULT(16u << 20);
/* For the re-encoded bodies: their models are known to be small. */
static const struct otlp_limits fuzz_otlp_roomy = {16u << 20, 100, 1000, OTLP_DECODE_FLOOR};
static const struct otlp_limits fuzz_otlp_tight = {16u << 20, 100, 4, 0};

static inline void fuzz_otlp_fail(const char *what, const char *detail)
{
    fprintf(stderr, "otlp: %s: %s\n", what, detail);
    abort();
}

/* Well-formed UTF-8 without control characters: what goes into an
 * answer's message. */
static inline void fuzz_otlp_clean(const char *what, const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
        if (n == 0 || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            fuzz_otlp_fail(what, s);
        i += n;
    }
}

/* Decodes a re-encoded body: it must decode, with nothing rejected, to
 * the model m. */
static inline void fuzz_otlp_again(const char *what, otlp_decoder decode, const struct buf *b,
                                   const struct otlp_request *m)
{
    struct otlp_request *again;
    char why[256] = "", diff[256];
    if (decode(b->data ? b->data : "", b->len, &fuzz_otlp_roomy, &again, why, sizeof why) != OTLP_OK)
        fuzz_otlp_fail(what, why);
    if (again->n_rejected)
        fuzz_otlp_fail(what, "a re-encoded span is rejected");
    if (otlp_model_compare(m, again, diff, sizeof diff) < 0)
        fuzz_otlp_fail(what, diff);
    otlp_request_free(again);
}

/* The answers to the request read back with its count. */
static inline void fuzz_otlp_answers(const struct otlp_request *m)
{
    char msg[512];
    struct buf b;
    otlp_rejection_message(m, msg, sizeof msg);
    fuzz_otlp_clean("rejection message", msg);
    if ((msg[0] != '\0') != (m->n_rejected > 0))
        fuzz_otlp_fail("rejection message", msg);
    buf_init(&b);
    otlp_response(OTLP_JSON, (int64_t)m->n_rejected, msg, &b);
    struct json_object *o = json_tokener_parse(b.data), *ps, *n;
    char count[32];
    snprintf(count, sizeof count, "%zu", m->n_rejected);
    if (!o || (m->n_rejected ? !json_object_object_get_ex(o, "partialSuccess", &ps) ||
                                   !json_object_object_get_ex(ps, "rejectedSpans", &n) ||
                                   strcmp(json_object_get_string(n), count) != 0
                             : strcmp(b.data, "{}") != 0))
        fuzz_otlp_fail("JSON answer", b.data);
    json_object_put(o);
    buf_reset(&b);
    otlp_response(OTLP_PROTOBUF, (int64_t)m->n_rejected, msg, &b);
    Otlp__ExportTraceServiceResponse *r =
        otlp__export_trace_service_response__unpack(NULL, b.len, (const uint8_t *)(b.data ? b.data : ""));
    if (!r || (r->partial_success ? r->partial_success->rejected_spans : 0) != (int64_t)m->n_rejected)
        fuzz_otlp_fail("protobuf answer", "the count does not read back");
    otlp__export_trace_service_response__free_unpacked(r, NULL);
    buf_free(&b);
}

static inline void fuzz_otlp_check(otlp_decoder decode, const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    struct otlp_request *m, *tight;
    char why[256] = "", what[256];
    enum otlp_err err = decode(text, size, &fuzz_otlp_limits, &m, why, sizeof why);
    if (err != OTLP_OK) {
        int status = otlp_err_http(err);
        if (m || !why[0] || (status != 400 && status != 413))
            fuzz_otlp_fail("an error without a reason or status", why);
        fuzz_otlp_clean("error reason", why);
    } else {
        struct buf pb, js;
        if (otlp_model_check(m, what, sizeof what) < 0)
            fuzz_otlp_fail("model", what);
        buf_init(&pb);
        buf_init(&js);
        otlp_encode_proto(m, &pb);
        fuzz_otlp_again("protobuf round trip", otlp_decode_proto, &pb, m);
        otlp_encode_json(m, &js);
        fuzz_otlp_again("JSON round trip", otlp_decode_json, &js, m);
        fuzz_otlp_answers(m);
        buf_free(&pb);
        buf_free(&js);
    }
    enum otlp_err small = decode(text, size, &fuzz_otlp_tight, &tight, why, sizeof why);
    if (small != err && small != OTLP_ERR_DECODED_SIZE)
        fuzz_otlp_fail("under a tight budget", otlp_err_text(small));
    if (small == OTLP_OK) {
        if (otlp_model_compare(m, tight, what, sizeof what) < 0)
            fuzz_otlp_fail("under a tight budget", what);
        otlp_request_free(tight);
    }
    otlp_request_free(m);
    free(text);
}

#endif
