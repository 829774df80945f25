/* libFuzzer harness: json_tree.c, the parser of the tenancy and workflow
 * bodies. Without a shape it must build what json-c in strict mode built
 * (tests/reference/: the lexical pre-check and json-c), with the same
 * reason for what is not JSON, but for numbers beyond a double, which it
 * refuses; with the workflow body's shape, the workflow checks must answer
 * on its tree exactly as on the whole one (tests/reference/compare_tree.c).
 * Under small limits (depth 8) too. Any disagreement aborts, with what
 * differed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../tests/reference/compare.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    char report[1024];
    if (ref_compare_tree(text, size, 64, report, sizeof report) != 0 ||
        ref_compare_tree(text, size, 8, report, sizeof report) != 0 ||
        ref_compare_shaped(text, size, 64, report, sizeof report) != 0) {
        fprintf(stderr, "the body parser disagrees: %s\n", report);
        abort();
    }
    free(text);
    return 0;
}
