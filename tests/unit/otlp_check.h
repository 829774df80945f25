/* What the OTLP unit tests (test_otlp_proto.c, test_otlp_json.c) do to
 * every body: decode it from a heap block of exactly its size (a read past
 * the end is an error under the sanitizers and valgrind), hold a model to
 * the promises of otlp_model.h and an error to having a reason, read an
 * attribute as JSON text, and re-encode a model in both formats to check
 * it decodes to itself (tests/reference/otlp_encode.c). */
#ifndef AGORA_OTLP_CHECK_H
#define AGORA_OTLP_CHECK_H

#include <stddef.h>

#include "otlp/otlp_decode.h"

/* The limits of the tests: OTLP_LIMITS_DEFAULT for a 16 MiB body. */
extern const struct otlp_limits otlp_test_limits;

enum otlp_err otlp_test_decode(enum otlp_format fmt, const void *data, size_t len, struct otlp_request **out,
                               char *why, size_t cap);
/* Decodes, asserting it works. */
struct otlp_request *otlp_test_decode_ok(enum otlp_format fmt, const void *data, size_t len);
/* The value of the last attribute named key as JSON text (valid until the
 * next call), asserting there is one. */
const char *otlp_test_attr(const struct otlp_attrs *attrs, const char *key);
/* Asserts that the attributes hold what both decoders must make of the
 * same values, whichever format they came in (otlp_check.c lists them:
 * big and small integers, NaN, infinities, bytes, empty values, arrays,
 * kvlists, a repeated key). */
void otlp_test_values_are(const struct otlp_attrs *attrs);
/* Asserts that the model re-encodes to itself, as protobuf and as JSON. */
void otlp_test_round_trip(const struct otlp_request *req);

#endif
