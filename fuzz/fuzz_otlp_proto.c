/* libFuzzer harness: protobuf OTLP bodies through otlp_decode_proto (the
 * wire pre-check, protobuf-c with the counting allocator, the model).
 * The properties are fuzz_otlp.h's: among them, what decodes re-encodes
 * with protobuf-c's packer to a body that decodes to the same model, and
 * as OTLP/JSON to one the JSON decoder reads to the same model too. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_otlp_check(otlp_decode_proto, data, size);
    return 0;
}
