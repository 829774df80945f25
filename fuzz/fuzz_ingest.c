/* libFuzzer harness: whole ingest bodies through the worker's own check,
 * ingest_validate (one pass over the text: syntax, UTF-8, depth, and every
 * field rule of CONTRACT.md 4), with the default limits. Properties checked
 * besides the sanitizers': every refusal has a message, and its path is
 * valid UTF-8 without control characters (it goes into the JSON error body
 * verbatim); a bad-JSON refusal names no path; after a success the summary
 * holds what the handler relies on, the session_id it copies out has
 * the length it announced and no NUL, and each recorded member span
 * (what ingest_store sends) lies in the body and is one whole JSON value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "domain/ingest_validate.h"
#include "json/json_scan.h"
#include "util/text.h"
#include "util/timestamp.h"

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
    struct ingest_summary sum;
    char path[256], msg[256];
    int64_t us;
    enum ingest_verdict v = ingest_validate(&cfg, text, size, &sum, path, sizeof path, msg, sizeof msg);
    if (v != INGEST_VALID) {
        if (!msg[0] || (v == INGEST_BAD_JSON && path[0]))
            abort();
        check_text(path);
    } else {
        if (!sum.status || strlen(sum.workflow_id) != 36 || sum.session_id_len == 0 ||
            sum.session_id_len > cfg.max_string_bytes ||
            ts_parse(sum.started_at, strlen(sum.started_at), &us) < 0)
            abort();
        char *sid = malloc(sum.session_id_len + 1);
        if (!sid)
            abort();
        ingest_session_id(text, &sum, sid);
        if (strlen(sid) != sum.session_id_len)
            abort();
        free(sid);
        for (int m = 0; m < IM_COUNT; m++) {
            const struct ingest_span *sp = &sum.spans[m];
            struct jscan s;
            if (sp->len == 0)
                continue;
            if (sp->at > size || sp->len > size - sp->at)
                abort();
            js_init(&s, text + sp->at, sp->len, cfg.max_depth);
            if (js_skip(&s, 1, NULL) < 0 || s.p != s.end)
                abort();
        }
    }
    free(text);
    return 0;
}
