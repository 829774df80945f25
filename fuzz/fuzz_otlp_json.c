/* libFuzzer harness: OTLP/JSON bodies through otlp_decode_json (the
 * proto3 mapping over the scanner, the model). The properties are
 * fuzz_otlp.h's: among them, what decodes re-encodes as OTLP/JSON to a
 * body that decodes to the same model, and as protobuf to one the
 * protobuf decoder reads to the same model too. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_otlp_check(otlp_decode_json, data, size);
    return 0;
}
