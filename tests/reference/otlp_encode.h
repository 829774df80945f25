/* REFERENCE ONLY: writing an OTLP model (src/otlp/otlp_model.h) back out
 * as a request, protobuf or JSON, and comparing and checking models: the
 * round trips of the OTLP unit tests (tests/unit/test_otlp_*.c) and fuzz
 * targets (fuzz/fuzz_otlp_*.c), where what decodes must re-encode and
 * decode to the same model in either format. Not linked into the worker. */
#ifndef AGORA_OTLP_ENCODE_H
#define AGORA_OTLP_ENCODE_H

#include <stddef.h>

#include "otlp/otlp_model.h"
#include "util/buf.h"

/* The accepted part of req (rejected resources, scopes and spans are left
 * out: their ids and strings may not be writable) as an
 * ExportTraceServiceRequest, appended to out: protobuf packed by
 * protobuf-c, or OTLP/JSON (ids in hex, 64-bit integers as strings, kinds
 * and codes as numbers). Links are written as empty ones, their count
 * being all the model keeps. */
void otlp_encode_proto(const struct otlp_request *req, struct buf *out);
void otlp_encode_json(const struct otlp_request *req, struct buf *out);

/* 0 when the accepted parts of a and b are the same, else -1 and what
 * differs first in diff (cap bytes). */
int otlp_model_compare(const struct otlp_request *a, const struct otlp_request *b, char *diff, size_t cap);

/* 0 when req keeps the promises of otlp_model.h (counts, rejections with
 * a reason; in what is accepted: strings well-formed UTF-8 without NUL,
 * ids set, times in order, kinds and codes in range, attribute values
 * JSON that jsonb takes), else -1 and what is wrong in what. */
int otlp_model_check(const struct otlp_request *req, char *what, size_t cap);

#endif
