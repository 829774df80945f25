/* libFuzzer harness: opaque keyset cursors (cursor.c). Properties: only
 * canonical text decodes, so a decoded cursor encodes back to exactly the
 * input; and encoding any decoded value decodes to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    struct cursor c, again;
    if (cursor_decode(text, &c) == 0) {
        char out[CURSOR_TEXT_MAX + 1];
        cursor_encode(&c, out);
        if (strcmp(out, text) != 0) {
            fprintf(stderr, "not canonical: %s decodes, but encodes back as %s\n", text, out);
            abort();
        }
        if (cursor_decode(out, &again) != 0 || again.micros != c.micros || again.scope != c.scope || strcmp(again.id, c.id) != 0)
            abort();
    }
    free(text);
    return 0;
}
