/* Decoding an OTLP/HTTP trace export (POST /v1/traces) into the model of
 * otlp_model.h, and the answers OTLP/HTTP expects. What a handler does:
 *
 *   otlp_format_parse(Content-Type)        -> protobuf or JSON, or 415
 *   otlp_encoding_parse(Content-Encoding)  -> none, gzip or deflate, or 415
 *   otlp_inflate(body)                     -> the body itself, or 400/413
 *   otlp_decode(format, body)              -> the model, or 400/413
 *   ... the domain stores the spans that are not rejected ...
 *   otlp_response(format, rejected, msg)   -> 200 with its body
 *   otlp_status(format, code, msg)         -> the body of a 4xx
 *
 * Every error is an enum otlp_err; otlp_err_http() is the one mapping to an
 * HTTP status. Memory stays within fixed multiples of the body: inflating
 * stops at the body limit and at max_ratio times the compressed size, and
 * decoding (protobuf-c's tree and the model) within decode_factor times
 * the body, so a small body cannot make a large worker. Out of memory
 * within those limits aborts the worker, as everywhere (README).
 *
 * The parts: otlp_inflate.c (zlib), otlp_proto.c (protobuf, through
 * protobuf-c and a wire pre-check), otlp_json.c (OTLP's JSON, through the
 * scanner of json_scan.h), otlp_answer.c (the answers), otlp_build.c (what
 * the decoders share: the budget, the rules of a span, attribute values);
 * otlp_decode.c the small parsers of the headers and the dispatch. */
#ifndef AGORA_OTLP_DECODE_H
#define AGORA_OTLP_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "otlp/otlp_model.h"
#include "util/buf.h"

enum otlp_format { OTLP_PROTOBUF, OTLP_JSON };
enum otlp_encoding { OTLP_IDENTITY, OTLP_GZIP, OTLP_DEFLATE };

enum otlp_err {
    OTLP_OK = 0,
    OTLP_ERR_MEDIA_TYPE,    /* 415: neither application/x-protobuf nor application/json */
    OTLP_ERR_ENCODING,      /* 415: a Content-Encoding other than gzip, deflate, identity */
    OTLP_ERR_CORRUPT,       /* 400: the compressed body does not inflate */
    OTLP_ERR_INFLATED_SIZE, /* 413: it inflates beyond the body limit */
    OTLP_ERR_RATIO,         /* 413: it inflates beyond max_ratio times its size (a bomb) */
    OTLP_ERR_MALFORMED,     /* 400: not an ExportTraceServiceRequest in that format */
    OTLP_ERR_TOO_DEEP,      /* 400: attribute values nested deeper than OTLP_MAX_ANY_DEPTH */
    OTLP_ERR_DECODED_SIZE,  /* 413: decoding needs more than decode_factor times the body */
};

/* How deep AnyValues may nest (an attribute's value is level 1; each
 * arrayValue or kvlistValue inside adds one). Deeper is OTLP_ERR_TOO_DEEP,
 * found before anything recurses: protobuf-c itself has no limit and
 * overflows the stack on a body of nested values. */
#define OTLP_MAX_ANY_DEPTH 32

struct otlp_limits {
    size_t max_body;        /* the largest body, inflated (the route's body limit) */
    unsigned max_ratio;     /* the largest inflated:compressed ratio */
    unsigned decode_factor; /* decoding may use this many times the body's size, */
    size_t decode_floor;    /* plus this */
};
/* The defaults: a compression ratio of 100 (OTLP's batches compress 5 to
 * 20 times); 16 times the body to decode, which measured 6 times for a
 * protobuf export of SDK-made GenAI spans and 14 for spans of 30
 * attributes with 2-byte keys (protobuf-c's tree and the model at their
 * peak; JSON, larger for the same spans, takes 3); and 256 KiB whatever
 * the size, the fixed cost of a small request. */
#define OTLP_DECODE_FLOOR ((size_t)256 << 10)
#define OTLP_LIMITS_DEFAULT(body_limit) ((struct otlp_limits){(body_limit), 100, 16, OTLP_DECODE_FLOOR})

/* The HTTP status a handler answers an error with (200 for OTLP_OK), and
 * a short sentence saying what was wrong (static text). */
int otlp_err_http(enum otlp_err err);
const char *otlp_err_text(enum otlp_err err);

/* Content-Type: application/x-protobuf (or application/protobuf), or
 * application/json with no charset or charset=utf-8; case and whitespace
 * as HTTP allows. NULL or anything else is OTLP_ERR_MEDIA_TYPE. */
enum otlp_err otlp_format_parse(const char *content_type, enum otlp_format *out);
/* Content-Encoding: absent (NULL or empty), identity, gzip (x-gzip), or
 * deflate; a list of several is OTLP_ERR_ENCODING. */
enum otlp_err otlp_encoding_parse(const char *content_encoding, enum otlp_encoding *out);

/* The body (len bytes) without its content coding. For OTLP_IDENTITY,
 * *out is the body itself and *owned NULL; otherwise *out is a new buffer
 * of *out_len bytes that *owned holds (free() it). The inflated size may
 * reach neither lim->max_body nor lim->max_ratio times len (nor that much
 * memory be taken): OTLP_ERR_INFLATED_SIZE or OTLP_ERR_RATIO, whichever
 * limit is the lower. An identity body longer than max_body is
 * OTLP_ERR_INFLATED_SIZE too. gzip may hold several members; deflate is
 * zlib's format (RFC 1950) or, as some clients send, a raw stream. */
enum otlp_err otlp_inflate(enum otlp_encoding enc, const char *body, size_t len, const struct otlp_limits *lim,
                           const char **out, size_t *out_len, char **owned);

/* Decodes an inflated body (len bytes; no terminating NUL needed) into a
 * new request in *out (otlp_request_free() it). On an error *out is NULL
 * and why (cap bytes) says what was wrong, for the answer's message.
 * Spans that break a rule are not errors: they are in the model, rejected
 * (otlp_model.h). */
enum otlp_err otlp_decode(enum otlp_format fmt, const char *body, size_t len, const struct otlp_limits *lim,
                          struct otlp_request **out, char *why, size_t cap);
/* The two decoders behind it. */
enum otlp_err otlp_decode_proto(const char *body, size_t len, const struct otlp_limits *lim,
                                struct otlp_request **out, char *why, size_t cap);
enum otlp_err otlp_decode_json(const char *body, size_t len, const struct otlp_limits *lim,
                               struct otlp_request **out, char *why, size_t cap);

/* Appends the body of a 200 answer to out: an ExportTraceServiceResponse
 * in the request's format. With rejected_spans 0 it is empty: no bytes in
 * protobuf, {} in JSON. Otherwise its partial_success holds the count and
 * error_message (control characters and bytes that are not UTF-8
 * dropped, cut at 1 KiB), in JSON as
 * {"partialSuccess":{"rejectedSpans":"N","errorMessage":"..."}}. */
void otlp_response(enum otlp_format fmt, int64_t rejected_spans, const char *error_message, struct buf *out);

/* Appends the body of an error answer to out: a google.rpc.Status with the
 * gRPC code (3, INVALID_ARGUMENT, for a 400) and message (cleaned as
 * above), in the request's format; in JSON {"code":3,"message":"..."}. */
void otlp_status(enum otlp_format fmt, int32_t code, const char *message, struct buf *out);
/* The gRPC code of an error's status body: INVALID_ARGUMENT (3) for 400s,
 * RESOURCE_EXHAUSTED (8) for 413s, UNIMPLEMENTED (12) for 415s. */
int32_t otlp_err_rpc_code(enum otlp_err err);

#endif
