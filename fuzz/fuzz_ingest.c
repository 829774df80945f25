/* libFuzzer harness: whole ingest bodies through the worker's own path,
 * json_parse_strict (the lexical pre-check, then json-c in strict mode with
 * the depth limit) and ingest_validate (every field rule of CONTRACT.md 4),
 * with the default limits. Properties checked besides the sanitizers':
 * a parse failure always has a reason; a validation failure always has a
 * message, and its path is valid UTF-8 without control characters (it goes
 * into the JSON error body verbatim). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ingest_validate.h"
#include "json_in.h"
#include "text.h"

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_default_config(&cfg);
    return 0;
}

static void check_text(const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
        if (n == 0 || (unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            fprintf(stderr, "error path or message is not clean UTF-8: %s\n", s);
            abort();
        }
        i += n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    const char *why = NULL;
    struct json_object *obj = json_parse_strict(text, size, cfg.max_depth, &why);
    if (!obj && !why) {
        /* Only the literal null parses to NULL without a reason. */
        size_t i = 0;
        while (i < size && strchr(" \t\r\n", text[i]))
            i++;
        if (size - i < 4 || memcmp(text + i, "null", 4) != 0)
            abort();
    }
    if (obj || !why) {
        struct ingest_summary sum;
        char path[256], msg[256];
        if (ingest_validate(&cfg, obj, &sum, path, sizeof path, msg, sizeof msg) < 0) {
            if (!msg[0])
                abort();
            check_text(path);
        } else {
            /* What the handler relies on after a success. */
            if (!sum.status || strlen(sum.workflow_id) != 36)
                abort();
        }
    }
    json_object_put(obj);
    free(text);
    return 0;
}
