/* libFuzzer harness: the RFC 3339 parser (timestamp.c). Properties: what
 * parses lies in 0001..9999, formats to the canonical 27 characters, and
 * that text parses back to the same microsecond. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/timestamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    int64_t us = 0, back = 0;
    if (ts_parse(text, size, &us) == 0) {
        char out[TS_TEXT_LEN + 1];
        ts_format(us, out);
        if (strlen(out) != TS_TEXT_LEN || out[TS_TEXT_LEN - 1] != 'Z')
            abort();
        if (ts_parse(out, strlen(out), &back) != 0 || back != us) {
            fprintf(stderr, "round trip: %.*s -> %lld -> %s -> %lld\n", (int)size, text, (long long)us, out,
                    (long long)back);
            abort();
        }
    }
    free(text);
    return 0;
}
