/* Unit tests for query.c: percent-decoding and whitelisted query parameters
 * that answer 422 naming the parameter at fault. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "http/query.h"

static const char *const list_params[] = {"limit", "cursor", "status", "since", NULL};

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct decode_case {
    char in[32];
    bool refused;
    char want[32];
    char what[40];
};

/* Parses query against list_params; returns the rc, q filled on 0. */
static int parse(struct capture *c, const char *query, struct query *q)
{
    capture_init(c, "GET", "/api/executions");
    c->req.query = query;
    return query_parse_or_reply(&c->req, list_params, q);
}

TestSuite(query);

ParameterizedTestParameters(query, decode_handles_escapes_and_plus_strictly)
{
    static struct decode_case cases[] = {
        {"", false, "", "empty"},
        {"plain", false, "plain", "plain"},
        {"a+b", false, "a b", "plus is a space"},
        {"a%20b", false, "a b", "escaped space"},
        {"%2B", false, "+", "escaped plus stays a plus"},
        {"%41%42c", false, "ABc", "uppercase hex"},
        {"%6a%6B", false, "jk", "mixed-case hex"},
        {"%C3%A9", false, "\xc3\xa9", "UTF-8 bytes"},
        {"2024-11-26T12%3A00%3A00Z", false, "2024-11-26T12:00:00Z", "a timestamp"},
        {"%25", false, "%", "escaped percent"},
        {"%", true, "", "lone percent"},
        {"a%", true, "", "percent at the end"},
        {"%4", true, "", "one hex digit"},
        {"a%4", true, "", "one hex digit at the end"},
        {"%zz", true, "", "non-hex"},
        {"%4g", true, "", "second digit non-hex"},
        {"%00", true, "", "NUL"},
        {"a%00b", true, "", "NUL inside"},
    };
    return cr_make_param_array(struct decode_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct decode_case *tc, query, decode_handles_escapes_and_plus_strictly)
{
    char *out = query_decode(tc->in, strlen(tc->in));
    if (!tc->refused) {
        cr_assert_not_null(out, "%s: \"%s\" refused", tc->what, tc->in);
        cr_assert_str_eq(out, tc->want, "%s", tc->what);
    } else {
        cr_assert_null(out, "%s: \"%s\" decoded as \"%s\"", tc->what, tc->in, out ? out : "");
    }
    free(out);
}

Test(query, decode_uses_only_the_given_length)
{
    char *out = query_decode("ab%41&rest", 5);
    cr_assert_str_eq(out, "abA");
    free(out);
    out = query_decode("ab%4", 4);
    cr_assert_null(out, "an escape cut by the length is malformed");
}

Test(query, parse_reads_known_parameters_decoded)
{
    struct capture c;
    struct query q;
    cr_assert_eq(parse(&c, "limit=10&status=running&since=2024-11-26T12%3A00%3A00Z", &q), 0, "%s",
                 capture_dump(&c));
    assert_no_output(&c);
    cr_assert_eq(q.n, 3);
    cr_assert_str_eq(query_get(&q, "limit"), "10");
    cr_assert_str_eq(query_get(&q, "status"), "running");
    cr_assert_str_eq(query_get(&q, "since"), "2024-11-26T12:00:00Z");
    cr_assert_null(query_get(&q, "cursor"));
    query_free(&q);
    capture_fini(&c);
}

Test(query, parse_of_an_empty_query_has_no_parameters)
{
    struct capture c;
    struct query q;
    cr_assert_eq(parse(&c, "", &q), 0);
    cr_assert_eq(q.n, 0);
    query_free(&q);
    capture_fini(&c);
}

Test(query, parse_skips_empty_pieces_and_takes_a_bare_name_as_empty)
{
    struct capture c;
    struct query q;
    cr_assert_eq(parse(&c, "&&cursor&limit=5&", &q), 0, "%s", capture_dump(&c));
    cr_assert_eq(q.n, 2);
    cr_assert_str_eq(query_get(&q, "cursor"), "");
    cr_assert_str_eq(query_get(&q, "limit"), "5");
    query_free(&q);
    capture_fini(&c);
}

Test(query, parse_keeps_an_equals_sign_inside_a_value)
{
    struct capture c;
    struct query q;
    cr_assert_eq(parse(&c, "cursor=abc==&limit=1", &q), 0, "%s", capture_dump(&c));
    cr_assert_str_eq(query_get(&q, "cursor"), "abc==");
    query_free(&q);
    capture_fini(&c);
}

Test(query, a_plus_in_a_value_is_a_space)
{
    struct capture c;
    struct query q;
    cr_assert_eq(parse(&c, "status=a+b", &q), 0);
    cr_assert_str_eq(query_get(&q, "status"), "a b");
    query_free(&q);
    capture_fini(&c);
}

Test(query, an_unknown_parameter_is_422_naming_it)
{
    struct capture c;
    struct query q;
    cr_assert_eq(parse(&c, "limit=5&colour=red", &q), -1);
    assert_error_path(&c, 422, "validation_failed", "colour");
    cr_assert_eq(q.n, 0, "nothing is left to free");
    capture_fini(&c);
}

Test(query, a_parameter_name_differing_only_in_case_or_length_is_unknown)
{
    static const char *const bad[][2] = {
        {"LIMIT=5", "LIMIT"}, {"limits=5", "limits"}, {"limi=5", "limi"}, {"=5", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct capture c;
        struct query q;
        cr_assert_eq(parse(&c, bad[i][0], &q), -1, "%s accepted", bad[i][0]);
        assert_error_path(&c, 422, "validation_failed", bad[i][1]);
        capture_fini(&c);
    }
}

Test(query, a_repeated_parameter_is_422_naming_it)
{
    struct capture c;
    struct query q;
    cr_assert_eq(parse(&c, "limit=5&status=x&limit=6", &q), -1);
    assert_error_path(&c, 422, "validation_failed", "limit");
    capture_fini(&c);
}

Test(query, a_bad_escape_is_422_naming_the_parameter)
{
    static const char *const bad[] = {"cursor=%zz", "cursor=ab%", "cursor=%4", "cursor=a%00b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct capture c;
        struct query q;
        cr_assert_eq(parse(&c, bad[i], &q), -1, "%s accepted", bad[i]);
        cr_log_info("%s", bad[i]);
        assert_error_path(&c, 422, "validation_failed", "cursor");
        capture_fini(&c);
    }
}

Test(query, a_hostile_unknown_name_is_echoed_cleaned_and_as_valid_json)
{
    struct capture c;
    struct query q;
    cr_assert_eq(parse(&c, "ev\x01il\xff\xfe=1", &q), -1);
    assert_error_path(&c, 422, "validation_failed", "evil");
    capture_fini(&c);
}

Test(query, a_very_long_unknown_name_is_cut_in_the_answer)
{
    char query[300];
    memset(query, 'x', 250);
    strcpy(query + 250, "=1");
    struct capture c;
    struct query q;
    cr_assert_eq(parse(&c, query, &q), -1);
    assert_error(&c, 422, "validation_failed");
    cr_assert_leq(strlen(capture_error_field(&c, "path")), 63);
    capture_fini(&c);
}

Test(query, more_parameters_than_fit_are_refused)
{
    static const char *const many[] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8",
                                       "p9", "p10", "p11", "p12", "p13", "p14", "p15", "p16", NULL};
    char query[256] = "";
    for (int i = 0; many[i]; i++) {
        strcat(query, many[i]);
        strcat(query, "=1&");
    }
    struct capture c;
    struct query q;
    capture_init(&c, "GET", "/api/x");
    c.req.query = query;
    cr_assert_eq(query_parse_or_reply(&c.req, many, &q), -1);
    assert_error_path(&c, 422, "validation_failed", "p16");
    capture_fini(&c);
}
