/* libFuzzer harness: the state diff of the compare route (state_diff.c) on
 * two JSON texts, the input split at its first NUL (no NUL: the input
 * against itself with its last byte dropped). States reach it as jsonb
 * text, already checked at ingest, but their shape is the client's: any
 * nesting, keys that need quoting, numbers of any spelling. Properties:
 * the diff is JSON whose "equal" says whether anything differs, it agrees
 * with state_equal, equality is symmetric, a text equals itself, and the
 * entries written never pass the limit given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/state_diff.h"
#include "fuzz_common.h"

static void check_diff(const char *a, const char *b, size_t max)
{
    struct buf out;
    buf_init(&out);
    size_t budget = 7;
    size_t found = state_diff_write(a, b, max, &budget, &out);
    /* The diff nests as deep as the states: json-c's default depth (32)
     * would not do. */
    struct json_tokener *tok = json_tokener_new_ex(STATE_DIFF_PARSE_DEPTH + 8);
    if (!tok)
        abort();
    struct json_object *j = json_tokener_parse_ex(tok, out.data, (int)out.len);
    json_tokener_free(tok);
    struct json_object *eq = NULL, *changed = NULL, *added = NULL, *removed = NULL;
    if (!j || !json_object_object_get_ex(j, "equal", &eq) || !json_object_object_get_ex(j, "changed", &changed) ||
        !json_object_object_get_ex(j, "added", &added) || !json_object_object_get_ex(j, "removed", &removed)) {
        fprintf(stderr, "not the diff's JSON: %s\n", out.data);
        abort();
    }
    size_t written = json_object_array_length(changed) + json_object_array_length(added) +
                     json_object_array_length(removed);
    if (written > max || written > 7 || written + budget != 7 || written > found)
        abort();
    if ((json_object_get_boolean(eq) != 0) != (found == 0))
        abort();
    if ((found == 0) != (state_equal(a, b) == 1)) {
        fprintf(stderr, "diff found %zu, state_equal says %d\n", found, state_equal(a, b));
        abort();
    }
    json_object_put(j);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The input and a NUL after it, so both halves are C strings; room
     * after that for the copy without its last byte. */
    char *text = malloc(2 * size + 2);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    size_t len = strlen(text);
    char *b = text + len + 1;
    if (len == size) {
        b = text + size + 1;
        if (len) {
            memmove(b, text, len - 1);
            b[len - 1] = '\0';
        }
    }
    const char *a = text;
    if (state_equal(a, a) != 1 || state_equal(b, b) != 1 || state_equal(a, b) != state_equal(b, a))
        abort();
    check_diff(a, b, 3);
    check_diff(b, a, 50);
    check_diff(a, NULL, 50);
    free(text);
    return 0;
}
