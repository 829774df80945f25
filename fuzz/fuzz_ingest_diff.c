/* libFuzzer harness: the one-pass ingest_validate against the former json-c
 * pipeline it replaced (tests/reference/: the lexical pre-check, json-c in
 * strict mode, the tree walk), on whole bodies, under the default limits
 * and under small ones (depth 8, 3 items, 16-byte names) so limits are
 * reached often. Any disagreement tests/reference/compare.c does not allow
 * aborts, with what differed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../tests/reference/compare.h"
#include "fuzz_common.h"

static struct config cfg, small;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_default_config(&cfg);
    small = cfg;
    small.max_depth = 8;
    small.max_items = 3;
    small.max_string_bytes = 16;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    char report[1024];
    if (size > 0 && (ref_compare(&cfg, text, size, false, report, sizeof report) != 0 ||
                     ref_compare(&small, text, size, false, report, sizeof report) != 0)) {
        fprintf(stderr, "the one-pass validator disagrees with json-c: %s\n", report);
        abort();
    }
    free(text);
    return 0;
}
