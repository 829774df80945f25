/* Unit tests for json_tree.c when memory runs out: this program replaces
 * malloc, calloc and realloc (forwarding to glibc's) so that one chosen
 * allocation fails, and parses bodies failing each of their allocations in
 * turn. Every time the parse must end cleanly: the same tree as with
 * memory, or NULL with JSON_WHY_NO_MEMORY (never "malformed JSON"), or the
 * text's own syntax error when it is not JSON; and the body reader must
 * answer 503 unavailable with a JSON error saying so. Skipped under
 * AddressSanitizer, whose allocator cannot be replaced this way. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "capture.h"
#include "http/json_body.h"
#include "domain/workflow_input.h"

#if defined(__SANITIZE_ADDRESS__)
#define NO_INTERPOSITION 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_INTERPOSITION 1
#endif
#endif

/* Allocations to let through before failing one; -1: none fails. */
static long fail_in = -1;
/* Allocations made while armed (fail_in >= 0), the failed one included. */
static long armed_calls;

#ifndef NO_INTERPOSITION
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static bool fail_now(void)
{
    if (fail_in < 0)
        return false;
    armed_calls++;
    return fail_in-- == 0;
}

void *malloc(size_t n)
{
    return fail_now() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __libc_realloc(p, n);
}
#endif

static void skip_under_sanitizers(void)
{
#ifdef NO_INTERPOSITION
    cr_skip_test("malloc cannot be replaced under AddressSanitizer");
#endif
}

#define P_ID "5b0e7c2a-1d3f-4e6a-9b8c-7d6e5f4a3b2c"

static const char body[] =
    "{\"project_id\": \"" P_ID "\", \"name\": \"pipe\\u006cine\", \"description\": \"a long enough description\","
    " \"nodes\": [{\"name\": \"fetch\", \"type\": \"HttpNode\"}, {\"name\": \"parse\", \"x\": [1, 2.5, {}]},"
    " {\"name\": \"store\"}], \"edges\": [{\"from\": \"fetch\", \"to\": \"parse\", \"action\": \"default\"}],"
    " \"extra\": {\"k\": [true, null, \"v\"]}, \"more\": 1}";

/* Parses text with allocation number n (from 0) failing. */
static struct json_object *parse_failing(const char *text, const struct json_shape *shape, long n, const char **why)
{
    armed_calls = 0;
    fail_in = n;
    struct json_object *o = json_parse_shaped(text, strlen(text), 64, shape, why);
    fail_in = -1;
    return o;
}

TestSuite(json_oom);

Test(json_oom, each_failed_allocation_ends_in_no_memory_or_the_whole_tree)
{
    skip_under_sanitizers();
    const struct json_shape *shapes[] = {&workflow_body_shape, NULL};
    for (size_t s = 0; s < 2; s++) {
        const char *why = NULL;
        struct json_object *whole = json_parse_shaped(body, strlen(body), 64, shapes[s], &why);
        cr_assert_not_null(whole, "%s", why);
        char *want = strdup(json_object_to_json_string(whole));
        json_object_put(whole);
        long failures = 0, n;
        for (n = 0; n < 100000; n++) {
            struct json_object *o = parse_failing(body, shapes[s], n, &why);
            long calls = armed_calls;
            if (o) {
                cr_assert_str_eq(json_object_to_json_string(o), want, "allocation %ld", n);
                json_object_put(o);
                if (calls <= n)
                    break; /* all its allocations passed: the end */
                continue;  /* json-c may retry or do without one */
            }
            cr_assert_eq(why, JSON_WHY_NO_MEMORY, "allocation %ld of %ld: %s", n, calls, why ? why : "(null)");
            failures++;
        }
        cr_assert_lt(n, 100000);
        cr_assert_gt(failures, 10, "shape %zu: only %ld allocations failed the parse", s, failures);
        free(want);
    }
}

Test(json_oom, bad_json_is_said_even_when_memory_runs_out)
{
    skip_under_sanitizers();
    static const char bad[] = "{\"name\": \"x\", \"nodes\": [{\"name\": \"a\"}, {\"name\": \"b\"}], \"z\": tru}";
    const char *want = NULL;
    cr_assert_null(json_parse_shaped(bad, strlen(bad), 64, &workflow_body_shape, &want));
    cr_assert_not_null(want);
    for (long n = 0; n < 40; n++) {
        const char *why = NULL;
        cr_assert_null(parse_failing(bad, &workflow_body_shape, n, &why));
        cr_assert_str_eq(why, want, "allocation %ld", n);
    }
}

Test(json_oom, the_body_reader_answers_503_when_memory_runs_out)
{
    skip_under_sanitizers();
    size_t answered = 0;
    for (long n = 0; n < 60; n++) {
        struct capture c;
        capture_init(&c, "POST", "/api/workflows");
        c.req.body = strdup(body);
        c.req.body_len = strlen(body);
        armed_calls = 0;
        fail_in = n;
        struct json_object *o = json_body_object_or_reply(&c.req, &workflow_body_shape);
        fail_in = -1;
        if (o) {
            json_object_put(o);
        } else {
            assert_error(&c, 503, "unavailable");
            const char *msg = capture_error_field(&c, "message");
            cr_assert(msg && strstr(msg, "memory") && !strstr(msg, "malformed"), "%s", msg ? msg : "-");
            answered++;
        }
        capture_fini(&c);
    }
    cr_assert_gt(answered, 10);
}
