/* Unit tests for json_slice.c: members are cut verbatim, in the order
 * asked, the last of repeated names wins, strings holding quotes, braces,
 * brackets and backslash runs do not fool the scan, and a top-level name
 * spelled with an escape or a text that is no object is refused so the
 * caller falls back to the whole body. A randomized test checks against
 * json-c on objects it builds and prints itself. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "json/json_slice.h"

static char *slice(const char *text, const char *const *keys, int *rc)
{
    struct buf b;
    buf_init(&b);
    *rc = json_slice_members(text, strlen(text), keys, &b);
    buf_putc(&b, '\0');
    return b.data;
}

TestSuite(json_slice);

Test(json_slice, cuts_members_verbatim_in_the_order_asked)
{
    static const char *const keys[] = {"b", "a", NULL};
    int rc;
    char *got = slice(" { \"a\" : [1, {\"x\": \"}\"}] ,\"z\":null, \"b\":\"s\\\"t\" } ", keys, &rc);
    cr_assert_eq(rc, 0);
    cr_expect_str_eq(got, "{\"b\":\"s\\\"t\",\"a\":[1, {\"x\": \"}\"}]}");
    free(got);
}

Test(json_slice, absent_members_are_left_out)
{
    static const char *const keys[] = {"missing", "n", NULL};
    int rc;
    char *got = slice("{\"n\":-1.5e3}", keys, &rc);
    cr_assert_eq(rc, 0);
    cr_expect_str_eq(got, "{\"n\":-1.5e3}");
    free(got);
    got = slice("{}", keys, &rc);
    cr_assert_eq(rc, 0);
    cr_expect_str_eq(got, "{}");
    free(got);
}

Test(json_slice, the_last_of_repeated_names_wins)
{
    static const char *const keys[] = {"k", NULL};
    int rc;
    char *got = slice("{\"k\":1,\"other\":{\"k\":2},\"k\":{\"deep\":[3]}}", keys, &rc);
    cr_assert_eq(rc, 0);
    cr_expect_str_eq(got, "{\"k\":{\"deep\":[3]}}");
    free(got);
}

Test(json_slice, strings_with_decoys_and_backslash_runs)
{
    static const char *const keys[] = {"after", NULL};
    int rc;
    /* "a\\" ends at its second quote; "\\\"" holds an escaped quote. */
    char *got = slice("{\"s\":\"a\\\\\",\"t\":\"\\\\\\\"}{[\",\"after\":true}", keys, &rc);
    cr_assert_eq(rc, 0);
    cr_expect_str_eq(got, "{\"after\":true}");
    free(got);
}

Test(json_slice, refuses_escaped_top_level_names_and_non_objects)
{
    static const char *const keys[] = {"a", NULL};
    int rc;
    char *got = slice("{\"\\u0061\":1}", keys, &rc);
    cr_expect_eq(rc, -1);
    cr_expect_str_eq(got, "", "out must be unchanged on refusal");
    free(got);
    got = slice("[{\"a\":1}]", keys, &rc);
    cr_expect_eq(rc, -1);
    free(got);
    /* An escape inside a nested name or a value is fine. */
    got = slice("{\"x\":{\"\\u0061\":\"\\n\"},\"a\":2}", keys, &rc);
    cr_expect_eq(rc, 0);
    cr_expect_str_eq(got, "{\"a\":2}");
    free(got);
}

/* A random JSON value of json-c's making, with strings full of the
 * characters a naive scan trips on. */
static struct json_object *random_value(int depth)
{
    static const char alphabet[] = "ab\"\\{}[]:, \n\t/";
    int kind = depth > 3 ? rand() % 3 : rand() % 5;
    switch (kind) {
    case 0: return json_object_new_int(rand() % 2000 - 1000);
    case 1: {
        char s[12];
        int n = rand() % (int)sizeof s;
        for (int i = 0; i < n; i++)
            s[i] = alphabet[rand() % (int)(sizeof alphabet - 1)];
        return json_object_new_string_len(s, n);
    }
    case 2: return rand() % 2 ? json_object_new_boolean(rand() % 2) : NULL;
    case 3: {
        struct json_object *a = json_object_new_array();
        for (int i = rand() % 4; i > 0; i--)
            json_object_array_add(a, random_value(depth + 1));
        return a;
    }
    default: {
        struct json_object *o = json_object_new_object();
        for (int i = rand() % 4; i > 0; i--) {
            char k[4] = {(char)('a' + rand() % 3), '"', '}', '\0'};
            json_object_object_add(o, k, random_value(depth + 1));
        }
        return o;
    }
    }
}

Test(json_slice, agrees_with_json_c_on_random_objects)
{
    static const char *const keys[] = {"m1", "m2", "m3", NULL};
    srand(20261130);
    for (int round = 0; round < 3000; round++) {
        struct json_object *o = json_object_new_object();
        for (int i = rand() % 6; i > 0; i--) {
            char k[4] = {'m', (char)('0' + rand() % 5), '\0', '\0'};
            json_object_object_add(o, k, random_value(0));
        }
        const char *text = json_object_to_json_string_ext(o, round % 2 ? JSON_C_TO_STRING_PRETTY
                                                                       : JSON_C_TO_STRING_PLAIN);
        int rc;
        char *got = slice(text, keys, &rc);
        cr_assert_eq(rc, 0, "%s", text);
        struct json_object *cut = json_tokener_parse(got);
        cr_assert_not_null(cut, "not JSON: %s (from %s)", got, text);
        for (int k = 0; keys[k]; k++) {
            struct json_object *want = NULL, *have = NULL;
            bool in_o = json_object_object_get_ex(o, keys[k], &want);
            bool in_cut = json_object_object_get_ex(cut, keys[k], &have);
            cr_assert_eq(in_o, in_cut, "%s: member %s", text, keys[k]);
            if (in_o)
                cr_assert(json_object_equal(want, have), "%s: member %s: %s", text, keys[k], got);
        }
        json_object_put(cut);
        json_object_put(o);
        free(got);
    }
}
